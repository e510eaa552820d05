#!/usr/bin/env bash
# members_ldap.sh - people from a real OpenLDAP directory (slapd on
# loopback ports, a throwaway CA, tests/peers/slapd.sh) holding 1,500
# people in two groups, searches limited to 500 entries unless paged:
# both groups resolved (ldaps:// and StartTLS, paged), entries without an
# address skipped and counted, a duplicate named by both DNs; check
# contacting nothing without --resolve; plain ldap:// off loopback, an
# unknown CA and a wrong password refused; bad URL, filter and refresh
# refused with their paths; then `herald run` seeing people join and
# leave at the next refresh, keeping the last list while slapd is down
# (/healthz degraded, the failure recorded, sends still reaching
# everyone), recovering when it is back; and the bind password in none
# of the outputs.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/peers/slapd.sh"

slapd_setup
S=$LDAP_SUFFIX
{
	people_ldif 1 1500
	for i in 1 2 3; do
		printf 'dn: uid=nomail%d,ou=people,%s\nobjectClass: inetOrgPerson\nuid: nomail%d\ncn: No Mail %d\nsn: x\n\n' \
			"$i" "$S" "$i" "$i"
	done
	printf 'dn: uid=dup1,ou=people,%s\nobjectClass: inetOrgPerson\nuid: dup1\ncn: Dup\nsn: x\nmail: P1001@ACME.example\n\n' "$S"
} >"$T/people.ldif"
slapd_load "$T/people.ldif"
slapd_start
check "slapd is up" _slapd_up
group() { # name, member uids...
	local g=$1
	shift
	printf 'dn: cn=%s,ou=groups,%s\nobjectClass: groupOfNames\ncn: %s\n' "$g" "$S" "$g"
	for u in "$@"; do printf 'member: uid=%s,ou=people,%s\n' "$u" "$S"; done
	echo
}
{
	group staff $(seq -f 'p%g' 1 1000) nomail1 nomail2 nomail3
	group contractors $(seq -f 'p%g' 1001 1500) dup1
} >"$T/groups.ldif"
ldap_admin ldapadd -f "$T/groups.ldif" >/dev/null
FSTAFF="(&(objectClass=inetOrgPerson)(memberOf=cn=staff,ou=groups,$S))"
FCON="(&(objectClass=inetOrgPerson)(memberOf=cn=contractors,ou=groups,$S))"
as_herald() { LDAPTLS_CACERT=$LDAP_CA ldapsearch -x -LLL -H "ldaps://127.0.0.1:$LDAPS_PORT" \
	-D "$LDAP_BIND_DN" -w "$LDAP_PASSWORD" -b "ou=people,$S" "$@"; }
as_herald "$FSTAFF" mail >/dev/null 2>&1
check "the directory refuses an unpaged search of staff (size limit)" test $? -eq 4
check "paged, staff has 1,003 entries" test "$(as_herald -E pr=500/noprompt "$FSTAFF" dn | grep -c '^dn:')" = 1003

export LDAP_BIND_DN LDAP_PASSWORD HERALD_CA_BUNDLE=$LDAP_CA
plan() { # file, staff URL, contractors URL, [extra python edit]
	$PY - "$@" <<'PY'
import json, sys
out, staff, con = sys.argv[1:4]
def src(url, flt, refresh):
    return {"ldap": url, "base": "ou=people,dc=acme,dc=example", "filter": flt,
            "bind_dn": "env:LDAP_BIND_DN", "password": "env:LDAP_PASSWORD", "refresh": refresh}
p = {"plan": {"id": "T-LDAP", "version": "1", "owner": "Ops <ops@example.org>", "approved_by": "CISO",
              "approved_on": "2026-01-01", "next_review": "2099-01-01", "timezone": "UTC"},
     "channels": {"mail": {"type": "email", "smtp": "smtp://127.0.0.1:1", "starttls": False,
                           "from": "isms@acme.example"},
                  "hook": {"type": "webhook", "url": "http://127.0.0.1:1/x"}},
     "audiences": {
       "staff": {"scope": "internal", "feed": "none",
                 "members": src(staff, "(&(objectClass=inetOrgPerson)(memberOf=cn=staff,ou=groups,dc=acme,dc=example))", "PT1M"),
                 "deliver": [{"channel": "mail", "to": "members"}, {"channel": "hook"}]},
       "contractors": {"scope": "external", "feed": "none",
                       "members": src(con, "(&(objectClass=inetOrgPerson)(memberOf=cn=contractors,ou=groups,dc=acme,dc=example))", "PT1H"),
                       "deliver": [{"channel": "mail", "to": "members"}]}},
     "communications": [{"id": "NOTE", "topic": "Notice", "audiences": ["staff", "contractors"],
                         "owner": "o", "schedule": {"trigger": "manual"}}]}
if len(sys.argv) > 4:
    exec(sys.argv[4])
json.dump(p, open(out, "w"))
PY
}
LDAPS="ldaps://127.0.0.1:$LDAPS_PORT" LDAP="ldap://127.0.0.1:$LDAP_PORT"
plan "$T/plan.json" "$LDAPS" "$LDAP"

# ---- resolving
"$HERALD" members "$T/plan.json" staff >"$T/staff.out" 2>"$T/staff.err"
check "members staff (ldaps, paged): exit 0" test $? -eq 0
check "staff: 1,000 people" test "$(wc -l <"$T/staff.out")" = 1000
check "staff: Name <address>" grep -qx 'Person 777 <p777@acme.example>' "$T/staff.out"
check "entries without an address are skipped and counted" \
	grep -q 'warning W-MEMBERS-SKIPPED: 3 of 1003 entries have no mail and are skipped (the first: uid=nomail' "$T/staff.err"
"$HERALD" members "$T/plan.json" contractors --format csv >"$T/con.out" 2>"$T/con.err"
check "members contractors (StartTLS): exit 0" test $? -eq 0
check "contractors: header and 500 people" test "$(sed -n '1p;$=' "$T/con.out" | tr -d '\r' | paste -sd' ')" = "name,email 501"
check "the duplicate names both DNs" \
	grep -q 'W-MEMBERS-DUPLICATE: p1001@acme.example (uid=p1001,ou=people,dc=acme,dc=example) and P1001@ACME.example (uid=dup1,ou=people,dc=acme,dc=example)' "$T/con.err"
"$HERALD" check --resolve "$T/plan.json" >"$T/check.out" 2>"$T/check.err"
check "check --resolve: exit 0" test $? -eq 0
check "check --resolve warns about the skipped entries at the path" \
	grep -q 'audiences.staff.members: warning W-MEMBERS-SKIPPED' "$T/check.err"

# check contacts nothing without --resolve: a dead directory is fine.
dead=$(free_port)
plan "$T/dead.json" "ldaps://127.0.0.1:$dead" "ldap://127.0.0.1:$dead"
"$HERALD" check "$T/dead.json" >"$T/dead.out" 2>"$T/dead.err"
check "check without --resolve: a directory nobody answers is not contacted (exit 0)" test $? -eq 0
"$HERALD" check --resolve "$T/dead.json" >"$T/dead.out" 2>"$T/dead.err"
check "check --resolve: the dead directory is a runtime failure (exit 3)" test $? -eq 3
check "... naming the audience and the server" \
	grep -q "audiences.staff.members: ldaps://127.0.0.1:$dead: bind failed: Can't contact LDAP server" "$T/dead.err"

# TLS and credentials.
env -u HERALD_CA_BUNDLE LDAPTLS_CACERT=/nonexistent "$HERALD" members "$T/plan.json" staff >/dev/null 2>"$T/ca.err"
check "an unknown CA: refused (exit 3)" test $? -eq 3
LDAP_PASSWORD=wrong-$LDAP_PASSWORD "$HERALD" members "$T/plan.json" staff >/dev/null 2>"$T/pw.err"
check "a wrong password: exit 3" test $? -eq 3
check "... says the bind failed" grep -q 'bind failed: Invalid credentials' "$T/pw.err"
plan "$T/plain.json" "$LDAPS" "ldap://dc1.acme.example" "p['audiences']['contractors']['members']['starttls'] = False"
"$HERALD" check "$T/plain.json" >/dev/null 2>"$T/plain.err"
check "plain ldap:// on a non-loopback name: refused (exit 1)" test $? -eq 1
check "... at the starttls key" grep -q 'audiences.contractors.members.starttls: plain LDAP to ldap://dc1.acme.example would carry the password' "$T/plain.err"
plan "$T/lo.json" "$LDAPS" "$LDAP" "p['audiences']['contractors']['members']['starttls'] = False"
check "plain ldap:// to loopback is allowed" test "$("$HERALD" members "$T/lo.json" contractors 2>/dev/null | wc -l)" = 500

# Bad input: the path of the key, exit 1, nothing contacted.
bad() { # name, python edit, expected text
	plan "$T/bad.json" "$LDAPS" "$LDAP" "$2"
	"$HERALD" check --resolve "$T/bad.json" >/dev/null 2>"$T/bad.err"
	local rc=$?
	check "$1: exit 1 (got $rc)" test $rc -eq 1
	check "$1: says '$3'" grep -qF "$3" "$T/bad.err"
}
s="p['audiences']['staff']['members']"
bad "a bad LDAP URL" "$s['ldap'] = 'ldaps//dc1.acme.example'" \
	'audiences.staff.members.ldap: "ldaps//dc1.acme.example" is not an LDAP URL'
bad "a URL with a search part" "$s['ldap'] = '$LDAPS/ou=people,dc=acme,dc=example'" \
	'audiences.staff.members.ldap: give the server only'
bad "an LDAP filter syntax error" "$s['filter'] = '(&(objectClass=person)(memberOf=cn=staff)'" \
	'audiences.staff.members.filter: LDAP filter syntax error at character 42: the filter ends too soon'
bad "an unescaped star in ~=" "$s['filter'] = '(cn~=a*)'" \
	'audiences.staff.members.filter: LDAP filter syntax error at character 7: * is allowed only with ='
bad "refresh under PT1M" "$s['refresh'] = 'PT59S'" \
	'audiences.staff.members.refresh: PT59S is too often'
bad "a bad base DN" "$s['base'] = 'people'" 'audiences.staff.members.base: "people" is not a DN'
bad "a typo in a key" "$s['emial_attr'] = 'mail'" 'audiences.staff.members.emial_attr: unknown key "emial_attr"'

# ---- kept current by herald run
hport=$(free_port)
base="http://127.0.0.1:$hport"
ADMIN=adm-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export HERALD_ADMIN_TOKEN=$ADMIN HERALD_REFRESH_SECONDS=1
spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$hport" --dry-run 2>"$T/run.err"
hpid=$LAST_PID
wait_for 20 curl -sf "$base/healthz"
check "service is up" curl -sf -o /dev/null "$base/healthz"
ev() { sqlite3 "$T/h.db" "select detail from events where kind='$1' order by seq"; }
has_event() { ev "$1" | grep -q -- "$2"; }
check "the start records each directory: count and digest" \
	has_event members-loaded "^audience staff: 1000 members from ldaps://127.0.0.1:$LDAPS_PORT (ou=people,dc=acme,dc=example); addresses sha256 "
hq() { curl -s "$base/healthz" | $PY -c 'import json, sys; h = json.load(sys.stdin); s = {x["audience"]: x for x in h["members"]["sources"]}; print(eval(sys.argv[1]))' "$1"; }
check "healthz: ok with 1000 and 500" test "$(hq "h['status'], s['staff']['members'], s['contractors']['members']")" = "('ok', 1000, 500)"

# Two join staff, one leaves.
people_ldif 2001 2 >"$T/new.ldif"
ldap_admin ldapadd -f "$T/new.ldif" >/dev/null
printf 'dn: cn=staff,ou=groups,%s\nchangetype: modify\nadd: member\nmember: uid=p2001,ou=people,%s\nmember: uid=p2002,ou=people,%s\n' "$S" "$S" "$S" >"$T/join.ldif"
ldap_admin ldapmodify -f "$T/join.ldif" >/dev/null
ldap_admin ldapdelete "uid=p5,ou=people,$S"
check "the next refresh records the joiners and the leaver" wait_for 30 has_event members-changed \
	"^audience staff (ldaps://127.0.0.1:$LDAPS_PORT (ou=people,dc=acme,dc=example)): 2 joined, 1 left, 1001 members now; joined: p2001@acme.example, p2002@acme.example; left: p5@acme.example$"
check "healthz: 1001" test "$(hq "s['staff']['members']")" = 1001

send() {
	curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
		-H 'Content-Type: application/json' -d '{"by": "test"}' "$base/api/communications/NOTE/send"
}
personal() { test "$(evq "$T/h.db" "sum(1 for x in d if x['recipient'] and x['state'] != 'pending')")" = "$1"; }
check "manual send accepted" test "$(send)" = 202
check "it reaches the 1,001 of staff and the 500 contractors" wait_for 60 personal 1501
check "the leaver is not among them, the joiners are" test "$(evq "$T/h.db" \
	"(sum(1 for x in d if x['recipient'] == 'p5@acme.example'), sum(1 for x in d if x['recipient'] == 'p2002@acme.example'))")" = "0,1"

# The directory goes away: the last list stays.
slapd_stop
check "the failure is recorded, the last good list kept" wait_for 30 has_event members-failed \
	"^audience staff: ldaps://127.0.0.1:$LDAPS_PORT (ou=people,dc=acme,dc=example): ldaps://127.0.0.1:$LDAPS_PORT: bind failed: Can't contact LDAP server; keeping the last good list of 1001 members"
check "healthz: degraded (503) with the reason" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz")" = 503
check "healthz names the failing source and keeps the count" \
	test "$(hq "h['status'], s['staff']['status'], 'contact LDAP server' in s['staff']['reason'], s['staff']['members']")" = "('degraded', 'failing', True, 1001)"
check "the failure is logged" grep -q "warn members.failed: audience staff" "$T/run.err"
kill -HUP "$hpid"
reloads() { test "$(sqlite3 "$T/h.db" "select count(*) from plan_versions where event='reloaded'")" = 1; }
check "SIGHUP during the outage: the plan reloads with the last lists" wait_for 20 reloads
check "SIGHUP read the contractors' directory too: its failure recorded" wait_for 20 has_event members-failed \
	"^audience contractors: .*keeping the last good list of 500 members"
check "manual send during the outage accepted" test "$(send)" = 202
check "it still reaches all 1,501 (an outage never empties an audience)" wait_for 60 personal 3002

slapd_start
check "the directory back: recovery recorded" wait_for 30 has_event members-recovered \
	"^audience staff: ldaps://127.0.0.1:$LDAPS_PORT (ou=people,dc=acme,dc=example) read again: 1001 members$"
check "healthz ok again" wait_for 10 curl -sf -o /dev/null "$base/healthz"
check "no membership change was recorded for the outage" test "$(ev members-changed | wc -l)" = 1

kill -TERM "$hpid"
wait "$hpid" 2>/dev/null
check "the evidence verifies" "$HERALD" evidence verify --db "$T/h.db"

# The bind password is in no output, log or evidence.
"$HERALD" evidence export --db "$T/h.db" --format json >"$T/export.json" 2>&1
sqlite3 "$T/h.db" .dump >"$T/dump.sql"
leaks=$(grep -lF -- "$LDAP_PASSWORD" "$T"/*.out "$T"/*.err "$T/export.json" "$T/dump.sql" 2>/dev/null)
check "the bind password is in none of the outputs (found in: ${leaks:-none})" test -z "$leaks"
check "the outputs were there to search" test -s "$T/run.err" -a -s "$T/export.json" -a -s "$T/dump.sql"
finish
