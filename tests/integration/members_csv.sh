#!/usr/bin/env bash
# members_csv.sh - people from CSV files as HR systems write them:
# semicolons, quoted delimiters and quotes, a BOM, CRLF, mapped
# case-insensitive columns, a filter, addresses that differ only in case
# (one person, a warning naming both rows), an empty list; bad input
# (an unknown column, a filter on a missing column, a delimiter that
# does not split) refused with its JSON path and nothing half-applied;
# and `herald run` re-reading the file when it changes: joiners and
# leavers recorded, an unreadable file keeping the last good list with
# /healthz degraded, and the next manual send reaching the people of now.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$T/people"
printf '\xef\xbb\xbfDisplay Name;E-Mail;Department;Note\r\n"Reyes; Dana";dana@acme.example;IT;"said ""hi"""\r\nAnn Lee;ann@acme.example;Security;"two\r\nlines"\r\nBo Berg;bo@acme.example;Sales;\r\nNo Mail;;IT;\r\nDANA REYES;DANA@Acme.Example;IT;dup\r\n' >"$T/people/staff.csv"
cat >"$T/plan.json" <<'JSON'
{"plan": {"id": "T-CSV", "version": "1", "owner": "Ops <ops@example.org>", "approved_by": "CISO",
          "approved_on": "2026-01-01", "next_review": "2099-01-01", "timezone": "UTC"},
 "channels": {"mail": {"type": "email", "smtp": "smtp://127.0.0.1:1", "starttls": false,
                       "from": "isms@acme.example"},
              "hook": {"type": "webhook", "url": "http://127.0.0.1:1/x"}},
 "audiences": {
   "it": {"scope": "internal", "feed": "none",
          "members": {"file": "people/staff.csv", "name": "display name", "email": "E-MAIL",
                      "delimiter": ";", "filter": {"department": ["IT", "Security"]}},
          "deliver": [{"channel": "mail", "to": "members"}, {"channel": "hook"}]},
   "old": {"scope": "external", "feed": "none", "members": "file:people/old.csv",
           "deliver": [{"channel": "mail", "to": "members"}]}},
 "communications": [{"id": "NOTE", "topic": "Notice", "audiences": ["it", "old"], "owner": "o",
                     "schedule": {"trigger": "manual"}}]}
JSON
printf 'Name,EMAIL\n"Lee, Ann",ann@acme.example\n' >"$T/people/old.csv"

"$HERALD" members "$T/plan.json" it --format csv >"$T/it.csv" 2>"$T/it.err"
check "members exits 0" test $? -eq 0
check "members --format csv: the filtered people, quoted, first of the duplicates kept" \
	test "$(cat "$T/it.csv")" = "$(printf 'name,email\r\nReyes; Dana,dana@acme.example\r\nAnn Lee,ann@acme.example\r')"
check "the duplicate warning names both rows" \
	grep -q 'W-MEMBERS-DUPLICATE: dana@acme.example (line 2) and DANA@Acme.Example (line 7)' "$T/it.err"
check "the row without an address is skipped and counted" \
	grep -q 'W-MEMBERS-SKIPPED: 1 row of people/staff.csv has no address in column "E-MAIL" and is skipped (the first at line 6)' "$T/it.err"
check "members (text): Name <address>" \
	test "$("$HERALD" members "$T/plan.json" old 2>/dev/null)" = "Lee, Ann <ann@acme.example>"
check "the string form file: still works (header in any case)" \
	grep -q 'audience old: 1 member from file people/old.csv' <("$HERALD" members "$T/plan.json" old 2>&1 >/dev/null)
"$HERALD" members "$T/plan.json" nope >/dev/null 2>&1
check "members of an unknown audience: exit 2" test $? -eq 2

"$HERALD" check "$T/plan.json" >"$T/check.out" 2>"$T/check.err"
check "check passes with warnings" test $? -eq 0
check "check warns of the duplicate at the members path" \
	grep -q '^herald: .*plan.json: audiences.it.members: warning W-MEMBERS-DUPLICATE' "$T/check.err"
printf 'Name,EMAIL\r\n' >"$T/people/old.csv"
"$HERALD" check "$T/plan.json" 2>"$T/check.err" >/dev/null
check "an empty list: W-AUDIENCE-EMPTY" \
	grep -q 'audiences.old.members: warning W-AUDIENCE-EMPTY: audience "old" has no members (file people/old.csv)' "$T/check.err"
printf 'Name,EMAIL\n"Lee, Ann",ann@acme.example\n' >"$T/people/old.csv"

# Bad input: the path of the key at fault, exit 1.
bad() { # name, python edit of plan p, expected message
	$PY - "$T/plan.json" "$T/bad.json" "$2" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(p, open(sys.argv[2], "w"))
PY
	"$HERALD" check "$T/bad.json" >/dev/null 2>"$T/bad.err"
	local rc=$?
	check "$1: exit 1 (got $rc)" test $rc -eq 1
	check "$1: says '$3'" grep -qF "$3" "$T/bad.err"
}
m="p['audiences']['it']['members']"
bad "unknown column" "$m['email'] = 'Mail'" \
	'bad.json: audiences.it.members.email: people/staff.csv has no column "Mail" for the email (its columns: "Display Name", "E-Mail", "Department", "Note")'
bad "filter on a missing column" "$m['filter'] = {'Dept': 'IT'}" \
	'bad.json: audiences.it.members.filter.Dept: the filter'"'"'s column "Dept" is not in people/staff.csv'
bad "a delimiter that does not split" "del $m['delimiter']" \
	'audiences.it.members.name: people/staff.csv has no column "display name" for the name (its columns: "Display Name;E-Mail;Department;Note")'
bad "a bad delimiter" "$m['delimiter'] = ';;'" 'audiences.it.members.delimiter: the delimiter is one of'
bad "refresh is for directories" "$m['refresh'] = 'PT1H'" 'audiences.it.members.refresh: unknown key "refresh"'
bad "a missing file" "p['audiences']['old']['members'] = 'file:people/gone.csv'" \
	'audiences.old.members: cannot read members file people/gone.csv'

# ---- kept current by herald run
hport=$(free_port)
base="http://127.0.0.1:$hport"
ADMIN=adm-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export HERALD_ADMIN_TOKEN=$ADMIN
spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$hport" --dry-run 2>"$T/run.err"
wait_for 15 curl -sf "$base/healthz"
check "service is up" curl -sf -o /dev/null "$base/healthz"
ev() { sqlite3 "$T/h.db" "select detail from events where kind='$1' order by seq"; }
has_event() { ev "$1" | grep -q -- "$2"; } # kind, pattern
check "the start records each file source: count and digest" \
	grep -q '^audience it: 2 members from file people/staff.csv; addresses sha256 [0-9a-f]\{64\}$' <(ev members-loaded)
health() { curl -s "$base/healthz"; }
hq() { health | $PY -c 'import json, sys; h = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
check "healthz: members ok, 2 in it" test "$(hq "h['status'], h['members']['status'], [s['members'] for s in h['members']['sources'] if s['audience'] == 'it'][0]")" = "('ok', 'ok', 2)"

# Ann leaves, Cy joins (from another department filter value), Bo moves to IT.
printf 'Display Name;E-Mail;Department;Note\nDana Reyes;dana@acme.example;IT;\nBo Berg;bo@acme.example;IT;\nCy Chen;cy@acme.example;Security;\n' >"$T/people/staff.csv"
check "the changed file is read: joiners and leavers recorded" wait_for 20 has_event members-changed \
	'^audience it (file people/staff.csv): 2 joined, 1 left, 3 members now; joined: bo@acme.example, cy@acme.example; left: ann@acme.example$'
check "no plan version is recorded for a member refresh" \
	test "$(sqlite3 "$T/h.db" "select count(*) from plan_versions where event='reloaded'")" = 0
check "healthz counts 3" test "$(hq "[s['members'] for s in h['members']['sources'] if s['audience'] == 'it'][0]")" = 3

# A manual send now reaches the people of now.
send() {
	curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
		-H 'Content-Type: application/json' -d '{"by": "test"}' "$base/api/communications/NOTE/send"
}
check "manual send accepted" test "$(send)" = 202
recipients() { test "$(evq "$T/h.db" "sorted(x['recipient'] for x in d if x['recipient'] and x['state'] != 'pending')")" = "$1"; }
check "it reaches the three of now and old's one" wait_for 20 recipients \
	ann@acme.example,bo@acme.example,cy@acme.example,dana@acme.example

# A file that turns bad keeps the last good list; healthz says why.
printf 'Display Name;Mail\nX;x@acme.example\n' >"$T/people/staff.csv"
check "the failure is recorded, the last list kept" wait_for 20 has_event members-failed \
	'^audience it: file people/staff.csv: people/staff.csv has no column "E-MAIL" .*keeping the last good list of 3 members'

check "healthz: degraded, with the reason" test "$(hq "h['status'], h['members']['status'], [(s['status'], 'no column' in s['reason'], s['members']) for s in h['members']['sources'] if s['audience'] == 'it'][0]")" = "('degraded', 'degraded', ('failing', True, 3))"
check "healthz answers 503 while degraded" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")" = 503
check "the failure is logged" grep -q 'members.failed.*audience it' "$T/run.err"
rm "$T/people/staff.csv"
check "a deleted file: still the last good list" wait_for 20 has_event members-failed \
	'cannot read members file people/staff.csv: No such file'

check "still 3 members" test "$(hq "[s['members'] for s in h['members']['sources'] if s['audience'] == 'it'][0]")" = 3
printf 'Display Name;E-Mail;Department\nDana Reyes;dana@acme.example;IT\n' >"$T/people/staff.csv"
check "the file back: recovered and recorded" wait_for 20 has_event members-recovered \
	'^audience it: file people/staff.csv read again: 1 member$'
check "healthz ok again" wait_for 10 curl -sf -o /dev/null "$base/healthz"
check "the leavers of the recovery are recorded" \
	grep -q 'left: bo@acme.example, cy@acme.example' <(ev members-changed)

# Nothing half-applied: a plan edit naming a missing column is refused whole.
$PY - "$T/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["plan"]["version"] = "2"
p["audiences"]["it"]["members"]["email"] = "Mail"
json.dump(p, open(sys.argv[1], "w"))
PY
refusals() { test "$(sqlite3 "$T/h.db" "select count(*) from plan_versions where event='refused'")" = 1; }
check "the bad reload is refused" wait_for 20 refusals
check "version 1 still serves" test "$(hq "h['plan']['version']")" = 1
check "the evidence verifies" "$HERALD" evidence verify --db "$T/h.db"
finish
