#!/usr/bin/env bash
# breach.sh - incident and breach notices (issue 11) against real SMTP and
# HTTP receivers on loopback:
#   - a real send reaches the audience, a drill of the same communication
#     only the drill recipients ([DRILL], kind drill); both carry the note,
#     escaped for each channel; both are recorded with kind, note and the
#     person who asked;
#   - the API and the CLI send the same communication with the same
#     result, and refuse the same things;
#   - a live send whose ack links would point at loopback, to an external
#     recipient, is refused with exit 1 and nothing is queued;
#   - the report shows the last drill and the last real send;
#   - the CSV export opens with Python's csv and sqlite3 .import;
#   - an export or a register filtered on an unknown id warns on stderr
#     (exit 0, the result unchanged);
#   - bad input gives a clear error and records nothing.
. "$(dirname "$0")/../lib.sh"

sport=$(free_port)
rport=$(free_port)
hport=$(free_port)
spawn $PY "$ROOT/tests/peers/smtp_server.py" --port "$sport" --log "$T/mail.log"
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$rport" --log "$T/hook.log"
for p in $sport $rport; do
	wait_for 15 $PY -c "import socket; socket.create_connection(('127.0.0.1', $p))"
done
export SLACK_STAFF="http://127.0.0.1:$rport/ok/slack-staff" SLACK_DRILL="http://127.0.0.1:$rport/ok/slack-drill"
export HERALD_RETRY_BASE_MS=200
unset HERALD_BASE_URL
cat >"$T/plan.json" <<JSON
{"plan": {"id": "T-BREACH", "title": "Breach test plan", "version": "1", "owner": "Dana Reyes",
          "approved_by": "CISO", "approved_on": "2026-01-01", "timezone": "Europe/London",
          "base_url": "https://herald.acme.example/",
          "drill": {"to": ["isms-drill@acme.example"], "channels": ["mail", "slack-drill"]}},
 "channels": {
   "mail": {"type": "email", "smtp": "smtp://127.0.0.1:$sport", "from": "ISMS <isms@acme.example>",
            "starttls": false},
   "slack-staff": {"type": "slack", "webhook": "env:SLACK_STAFF"},
   "slack-drill": {"type": "slack", "webhook": "env:SLACK_DRILL"}},
 "audiences": {
   "regulator": {"name": "Supervisory authority", "scope": "external", "feed": "none",
                 "deliver": [{"channel": "mail", "to": ["dpo@regulator.example"]}]},
   "customers": {"name": "Customers", "scope": "external",
                 "members": [{"name": "Pat Customer", "email": "pat@customer.example"},
                             {"name": "Lee Client", "email": "lee@client.example"}],
                 "deliver": [{"channel": "mail", "to": "members"}]},
   "staff": {"name": "All staff", "scope": "internal", "deliver": [{"channel": "slack-staff"}]}},
 "communications": [
   {"id": "BREACH-NOTICE", "topic": "Personal data breach notification",
    "description": "Notice under GDPR Art. 33 and 34.",
    "audiences": ["regulator", "customers", "staff"], "owner": "Morgan Lee",
    "schedule": {"trigger": "manual"}, "acknowledge": true},
   {"id": "STAFF-ONLY", "topic": "Staff incident notice", "audiences": ["staff"],
    "owner": "Morgan Lee", "schedule": {"trigger": "manual"},
    "drill": {"to": ["isms-drill@acme.example"]}},
   {"id": "AWR", "topic": "Awareness", "audiences": ["staff"], "owner": "Dana Reyes",
    "schedule": {"cadence": "monthly", "start": "2026-01-15T09:30"}, "notify": []}]}
JSON
NOTE='ICO case 42: <b>names</b> & e-mails of 1,200 customers (<!channel>)
Contained at 09:40; next update within 24 hours.'
printf '%s\n' "$NOTE" >"$T/note.txt"
q() { evq "$1" "$2"; }
count() { q "$1" "len(d)"; }
mails() { $PY -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("event") == "message"))' "$T/mail.log"; }
hooks() { grep -c "\"path\": \"/ok/$1\"" "$T/hook.log"; }

# ------------------------------------------------------------- the real send
"$HERALD" send "$T/plan.json" BREACH-NOTICE --db "$T/a.db" --by "Dana Reyes" \
	--note-file "$T/note.txt" >"$T/real.out" 2>"$T/real.err"
check "real send exits 0" test $? -eq 0
check "real send: 4 sent" grep -qx "BREACH-NOTICE: 4 sent, 0 failed" "$T/real.out"
check "real send: one line per delivery, key and state" \
	test "$(grep -Ec '^[0-9a-f]{64}	sent	' "$T/real.out")" -eq 4
check "real send reached the audience by email, and nobody else" $PY - "$T/mail.log" <<'PY'
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])]
rc = sorted(x["rcpt"][0] for x in m if x.get("event") == "message")
assert rc == ["dpo@regulator.example", "lee@client.example", "pat@customer.example"], rc
PY
check "real send reached staff on Slack, not the drill channel" \
	test "$(hooks slack-staff)/$(hooks slack-drill)" = "1/0"
check "every email carries the note, escaped as HTML, and a link that reaches people" \
	$PY - "$T/mail.log" "$NOTE" <<'PY'
import email, email.policy, json, sys
note = sys.argv[2]
for l in open(sys.argv[1]):
    x = json.loads(l)
    if x.get("event") != "message":
        continue
    msg = email.message_from_string(x["data"], policy=email.policy.default)
    assert str(msg["Subject"]) == "Personal data breach notification", msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("Personal data breach notification\n\n" + note), text[:300]
    assert "Sent by: Dana Reyes\n" in text, text
    assert "https://herald.acme.example/ack/" in text and "{{" not in text, text
    html = msg.get_body(("html",)).get_content()
    assert "<strong>ICO case 42: &lt;b&gt;names&lt;/b&gt; &amp; e-mails" in html, html
    assert "<b>names" not in html
PY
check "the Slack message carries the note, mrkdwn-escaped" $PY - "$T/hook.log" <<'PY'
import json, sys
[b] = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1]) if "/ok/slack-staff" in l]
s = json.dumps(b)
assert "&lt;b&gt;names&lt;/b&gt; &amp; e-mails" in s and "&lt;!channel&gt;" in s, s
assert "<!channel>" not in s
assert b["blocks"][0]["text"]["text"] == "Personal data breach notification"
PY
check "recorded: kind manual, the note, the person" $PY - "$T/a.db" "$NOTE" <<'PY'
import json, os, subprocess, sys
d = json.loads(subprocess.run([os.environ["HERALD"], "evidence", "export", "--db", sys.argv[1],
                               "--format", "json"], capture_output=True, check=True).stdout)["deliveries"]
assert len(d) == 4, len(d)
for x in d:
    assert x["kind"] == "manual" and x["state"] == "sent", x
    assert x["note"] == sys.argv[2], x["note"]
    assert x["requested_by"].startswith("Dana Reyes (CLI, user "), x["requested_by"]
    assert sys.argv[2] in x["message"] and "{{note}}" not in x["message"], x["message"]
PY

acks() { "$HERALD" evidence acks --db "$T/a.db" --format json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
nacks=$(acks)
check "the real send asked people to acknowledge ($nacks)" test "$nacks" -gt 0

# ------------------------------------------------------------------ a drill
"$HERALD" send "$T/plan.json" BREACH-NOTICE --db "$T/a.db" --drill --by "Riley Chen" \
	--note "$NOTE" >"$T/drill.out" 2>"$T/drill.err"
check "drill exits 0" test $? -eq 0
check "drill: 6 sent (3 audiences x the drill mailbox and the drill channel)" \
	grep -qx "BREACH-NOTICE (drill): 6 sent, 0 failed" "$T/drill.out"
check "the drill reached only the drill recipients" $PY - "$T/mail.log" "$NOTE" <<'PY'
import email, email.policy, json, sys
m = [json.loads(l) for l in open(sys.argv[1])]
m = [x for x in m if x.get("event") == "message"][3:]
assert sorted(x["rcpt"][0] for x in m) == ["isms-drill@acme.example"] * 3, [x["rcpt"] for x in m]
for x in m:
    msg = email.message_from_string(x["data"], policy=email.policy.default)
    assert str(msg["Subject"]) == "[DRILL] Personal data breach notification", msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("[DRILL] Personal data breach notification\n\n" + sys.argv[2]), text[:200]
    assert "Sent by: Riley Chen" in text
PY
check "the drill went to the drill channel, not to staff" \
	test "$(hooks slack-staff)/$(hooks slack-drill)" = "1/3"
check "drill Slack messages are marked and carry the note" $PY - "$T/hook.log" <<'PY'
import json, sys
bs = [json.loads(json.loads(l)["body"]) for l in open(sys.argv[1]) if "/ok/slack-drill" in l]
assert len(bs) == 3
for b in bs:
    assert b["blocks"][0]["text"]["text"] == "[DRILL] Personal data breach notification", b["blocks"][0]
    assert "&lt;b&gt;names&lt;/b&gt;" in json.dumps(b)
PY
check "drill recorded: kind drill, note, person" \
	test "$(q "$T/a.db" "sum(1 for x in d if x['kind']=='drill' and x['note'].startswith('ICO case 42') and x['requested_by'].startswith('Riley Chen (CLI, ') and x['state']=='sent')")" = 6
check "no reminders or other deliveries came with the drill" test "$(count "$T/a.db")" = 10
check "the people register leaves the drill recipients out" \
	bash -c "test \"\$(\"\$0\" evidence acks --db \"\$1\" --format json | grep -c isms-drill)\" = 0" "$HERALD" "$T/a.db"
check "... and counts the same people as before the drill" test "$(acks)" = "$nacks"

# ------------------------------------------------------------ the report
"$HERALD" report --db "$T/a.db" --plan "$T/plan.json" -o "$T/report.html" 2>/dev/null
check "report: last drill and last real send per manual communication" $PY - "$T/report.html" <<'PY'
import sys
from html.parser import HTMLParser
cells = {}
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and a.get("data-run") in ("last-drill", "last-send"):
            cells[(a["data-comm"], a["data-run"])] = a
P().feed(open(sys.argv[1]).read())
d, r = cells[("BREACH-NOTICE", "last-drill")], cells[("BREACH-NOTICE", "last-send")]
assert d["data-at"] and d["data-sent"] == "6" and d["data-failed"] == "0", d
assert r["data-at"] and r["data-sent"] == "4", r
assert cells[("STAFF-ONLY", "last-drill")]["data-at"] == "", cells
page = open(sys.argv[1]).read()
assert "by Riley Chen (CLI, user" in page and "by Dana Reyes (CLI, user" in page
PY
check "report counts leave drills out of the audience's figures" \
	grep -q 'data-comm="BREACH-NOTICE" data-aud="regulator" data-metric="recorded">1<' "$T/report.html"

# ------------------------------------- a dry run next to the real send
# docs/delivery.md: a dry run is never counted as sent to anyone.  On a
# copy of the log, a dry-run send and a dry-run drill after the real ones:
# the register and the report keep the real ones and ignore the dry runs.
"$HERALD" evidence backup "$T/d.db" --db "$T/a.db" >/dev/null 2>&1
"$HERALD" send "$T/plan.json" BREACH-NOTICE --db "$T/d.db" --by "Sam Dry" --note x \
	--dry-run >/dev/null 2>&1
check "dry-run send next to the real one: exit 0" test $? -eq 0
"$HERALD" send "$T/plan.json" BREACH-NOTICE --db "$T/d.db" --by "Sam Dry" --note x \
	--drill --dry-run >/dev/null 2>&1
check "dry-run drill: exit 0" test $? -eq 0
check "both dry runs are recorded" test "$(q "$T/d.db" "sum(1 for x in d if x['state']=='dry-run')")" = 10
dacks() { "$HERALD" evidence acks --db "$T/d.db" "$@"; }
# Exactly the register of the copy taken before the dry runs (the real
# send's people and times; its messages may straddle a second, so the
# times are compared, not counted).
check "register (JSON): the people of the real send only" \
	test "$(dacks --format json)" = "$("$HERALD" evidence acks --db "$T/a.db" --format json)"
check "register (CSV): the same rows as before the dry runs" \
	test "$(dacks --format csv | tail -n +2 | wc -l)" = "$nacks"
check "register (text): the dry runs asked no one" \
	bash -c "'$HERALD' evidence acks --db '$T/d.db' | tail -1 | grep -q '^$nacks asked, 0 acknowledged, $nacks outstanding;'"
check "register --outstanding: the same" test "$(dacks --outstanding --format csv | tail -n +2 | wc -l)" = "$nacks"
"$HERALD" report --db "$T/d.db" --plan "$T/plan.json" -o "$T/dreport.html" 2>/dev/null
check "report: the last real send and drill are the real ones, the dry runs neither" \
	$PY - "$T/report.html" "$T/dreport.html" <<'PY'
import sys
from html.parser import HTMLParser
ACKS = ("asked", "acknowledged", "outstanding", "ack-rate")
def read(path):
    x = {"runs": {}, "acks": {}, "names": {}}
    class P(HTMLParser):
        cur = None
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "td" and a.get("data-run"):
                x["runs"][(a["data-comm"], a["data-run"])] = a
            if a.get("data-comm") == "BREACH-NOTICE" and a.get("data-metric") in ACKS:
                self.cur = ("acks", (a.get("data-occ") or a.get("data-aud"), a["data-metric"]))
            if tag == "ul" and a.get("class") == "names":
                self.cur = ("names", a["data-occ"])
        def handle_endtag(self, tag):
            if tag in ("td", "ul"):
                self.cur = None
        def handle_data(self, d):
            if self.cur:
                x[self.cur[0]][self.cur[1]] = x[self.cur[0]].get(self.cur[1], "") + d
    page = open(path).read()
    P().feed(page)
    return x, page
real, _ = read(sys.argv[1])
dry, page = read(sys.argv[2])
for k in ("last-send", "last-drill"):
    assert dry["runs"][("BREACH-NOTICE", k)] == real["runs"][("BREACH-NOTICE", k)], (k, dry, real)
assert dry["runs"][("BREACH-NOTICE", "last-send")]["data-sent"] == "4", dry
assert "by Sam Dry" not in page, "a dry run shown as a send or a drill"
# One occurrence asked (the real send), the same people outstanding, the
# same rates per audience: the dry runs add no one.
assert dry["acks"] == real["acks"], (dry["acks"], real["acks"])
assert sum(1 for (o, m) in real["acks"] if m == "asked") == 1, real["acks"]
assert dry["names"] == real["names"] and len(real["names"]) == 1, (dry["names"], real["names"])
PY

# ------------------------------------------------------------ CSV export
"$HERALD" evidence export --db "$T/a.db" >"$T/a.csv" 2>"$T/a.err"
check "CSV: csv module reads 10 rows and the note" $PY - "$T/a.csv" "$NOTE" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
assert len(rows) == 10, len(rows)
assert all(r["note"] == sys.argv[2] for r in rows)
assert {r["kind"] for r in rows} == {"manual", "drill"}
assert all(sys.argv[2] in r["message"] for r in rows)
PY
sqlite3 "$T/imp.db" ".import --csv $T/a.csv t" 2>"$T/imp.err"
check "CSV: sqlite3 .import, no stray row" \
	test "$(sqlite3 "$T/imp.db" 'select count(*) from t')/$(sqlite3 "$T/imp.db" "select count(*) from t where kind in ('manual','drill')")/$(wc -c <"$T/imp.err")" = "10/10/0"
check "CSV: the chain head went to stderr" grep -q "^herald: evidence export: chain head seq [0-9]* sha256 [0-9a-f]\{64\}$" "$T/a.err"
check "--kind drill exports the drill only" \
	test "$("$HERALD" evidence export --db "$T/a.db" --kind drill --format json | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])')" = 6

# ------------------------------------------------------------ filter typos
# A filter on an id no delivery carries looks like a quiet period: the
# result stands (exit 0) and stderr names the id and the ids there are.
"$HERALD" evidence export --db "$T/a.db" --communication BREACH-NOTICEE >"$T/typo.csv" 2>"$T/typo.err"
check "export, unknown --communication: exit 0" test $? -eq 0
check "... the header only" test "$(wc -l <"$T/typo.csv")" = 1
check "... and a warning with the ids known" grep -qx 'herald: evidence export: no delivery in the evidence is of communication "BREACH-NOTICEE" (known: BREACH-NOTICE)' "$T/typo.err"
"$HERALD" evidence export --db "$T/a.db" --communication BREACH-NOTICE --audience staff >"$T/real.csv" 2>"$T/real.err"
check "export, real ids: exit 0, rows, no warning" \
	test "$?/$(($(wc -l <"$T/real.csv") > 1))/$(grep -c 'no delivery' "$T/real.err")" = "0/1/0"
"$HERALD" evidence acks --db "$T/a.db" --audience staf >"$T/typo.out" 2>"$T/typo.err"
check "acks, unknown --audience: exit 0" test $? -eq 0
check "... nobody asked" grep -q '^0 asked, ' "$T/typo.out"
check "... and a warning with the ids known" grep -qx 'herald: evidence acks: no delivery in the evidence is to audience "staf" (known: customers, regulator, staff)' "$T/typo.err"
"$HERALD" evidence acks --db "$T/a.db" --communication BREACH-NOTICE --audience staff >"$T/real.out" 2>"$T/real.err"
check "acks, real ids: exit 0, people asked, no warning" \
	test "$?/$(grep -c '^0 asked' "$T/real.out")/$(wc -c <"$T/real.err")" = "0/0/0"

# ------------------------------------------------- links that reach people
before=$(count "$T/a.db")
nmail=$(mails)
"$HERALD" send "$T/plan.json" BREACH-NOTICE --db "$T/a.db" --by "Dana Reyes" --note x \
	--base-url http://127.0.0.1:8080 >"$T/lo.out" 2>"$T/lo.err"
check "loopback base URL to external recipients: exit 1" test $? -eq 1
check "the refusal says how to set the base" \
	grep -q 'refusing to send: .* would point at http://127.0.0.1:8080.*set "base_url" in the plan' "$T/lo.err"
HERALD_BASE_URL=http://localhost:9 "$HERALD" send "$T/plan.json" BREACH-NOTICE --db "$T/a.db" \
	--by "Dana Reyes" --note x >/dev/null 2>&1
check "HERALD_BASE_URL on loopback: exit 1" test $? -eq 1
sed 's|"base_url": "https://herald.acme.example/",||' "$T/plan.json" >"$T/nobase.json"
"$HERALD" send "$T/nobase.json" BREACH-NOTICE --db "$T/nb.db" --by "Dana Reyes" --note x \
	>/dev/null 2>"$T/nb.err"
check "no base URL at all: exit 1" test $? -eq 1
check "... saying there is none" grep -q "would have no base URL" "$T/nb.err"
check "nothing queued, nothing sent" test "$(count "$T/a.db")/$(mails)/$([ -e "$T/nb.db" ] && echo db)" = "$before/$nmail/"
"$HERALD" send "$T/nobase.json" BREACH-NOTICE --db "$T/nb.db" --by "Dana Reyes" --note x \
	--dry-run >"$T/dry.out" 2>/dev/null
check "the check does not apply under --dry-run" test $? -eq 0
check "dry-run output says recorded (dry-run), never sent" \
	bash -c "grep -qx 'BREACH-NOTICE: 4 recorded (dry-run), 0 failed' '$T/dry.out' && ! grep -qw sent '$T/dry.out'"
check "STAFF-ONLY has no links: a loopback base is fine there" \
	bash -c '"$0" send "$1" STAFF-ONLY --db "$2" --by "Dana Reyes" >/dev/null 2>&1' "$HERALD" "$T/nobase.json" "$T/nb.db"

# ------------------------------------------------------------ bad input
head -c 65537 /dev/zero | tr '\0' 'n' >"$T/big.txt"
bad() { # description, expected exit, args...
	local d=$1 want=$2; shift 2
	"$HERALD" send "$T/plan.json" "$@" --db "$T/bad.db" >"$T/bad.out" 2>"$T/bad.err"
	local rc=$?
	check "$d: exit $want (got $rc: $(head -c 300 "$T/bad.err"))" test "$rc" -eq "$want"
	check "$d: nothing recorded" test ! -e "$T/bad.db"
}
bad "note over 64 KiB" 2 BREACH-NOTICE --by Dana --note-file "$T/big.txt"
check "... says so" grep -q "more than the 65536 bytes (64 KiB)" "$T/bad.err"
bad "--note over 64 KiB" 2 BREACH-NOTICE --by Dana --note "$(cat "$T/big.txt")"
bad "--by missing" 2 BREACH-NOTICE --note x
check "... says who must be named" grep -q -- "--by NAME is required" "$T/bad.err"
bad "drill without drill recipients" 1 STAFF-ONLY --by Dana --drill
check "... names the communication and the fix" \
	grep -q 'communication STAFF-ONLY has no drill recipients: add "drill"' "$T/bad.err"
bad "scheduled without --out-of-turn" 1 AWR --by Dana --note "why"
bad "--out-of-turn without a reason" 2 AWR --by Dana --out-of-turn
bad "--note and --note-file" 2 BREACH-NOTICE --by Dana --note x --note-file "$T/note.txt"
"$HERALD" evidence export --db "$T/a.db" --kind drills >"$T/bad.out" 2>"$T/bad.err"
check "unknown --kind: exit 2" test $? -eq 2
check "unknown --kind: the error names the kinds, nothing is written" \
	bash -c "grep -q -- '--kind is scheduled, reminder, manual, drill or onboarding' '$T/bad.err' && test ! -s '$T/bad.out'"
check "out of turn, with a reason: sent and recorded" \
	bash -c '"$0" send "$1" AWR --db "$2" --by Dana --out-of-turn --note "policy changed today" >/dev/null 2>&1' "$HERALD" "$T/plan.json" "$T/a.db"

# ---------------------------------------------- the API: same rules, same result
ADMIN=adm-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export HERALD_ADMIN_TOKEN=$ADMIN
base="http://127.0.0.1:$hport"
spawn "$HERALD" run "$T/plan.json" --db "$T/b.db" --listen "127.0.0.1:$hport" 2>"$T/run.err"
pid=$LAST_PID
wait_for 15 curl -sf "$base/healthz"
check "service is up" curl -sf -o /dev/null "$base/healthz"
api() { # BODY COMM -> status, answer in $T/api.json
	$PY -c 'import json,sys; sys.stdout.write(sys.argv[1])' "$1" >"$T/body.json"
	curl -s -o "$T/api.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
		-H 'Content-Type: application/json' --data-binary @"$T/body.json" \
		"$base/api/communications/$2/send"
}
body=$($PY -c 'import json,sys; print(json.dumps({"by": "Dana Reyes", "note": sys.argv[1]}))' "$NOTE")
check "API real send: 202" test "$(api "$body" BREACH-NOTICE)" = 202
check "API answer: the delivery keys, queued" $PY - "$T/api.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["kind"] == "manual" and a["requested_by"] == "Dana Reyes (API, 127.0.0.1)", a
assert len(a["deliveries"]) == 4 and all(d["state"] == "queued" for d in a["deliveries"]), a
PY
cp "$T/api.json" "$T/api-real.json"
body=$($PY -c 'import json,sys; print(json.dumps({"by": "Riley Chen", "note": sys.argv[1], "drill": True}))' "$NOTE")
check "API drill: 202" test "$(api "$body" BREACH-NOTICE)" = 202
check "API drill answer: 6 deliveries, kind drill" \
	$PY -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a["kind"]=="drill" and len(a["deliveries"])==6' "$T/api.json"
check "API out of turn, with a reason: 202" \
	test "$(api '{"by": "Dana", "out_of_turn": true, "note": "policy changed today"}' AWR)" = 202
all_sent() { test "$(q "$T/b.db" "sum(1 for x in d if x['state']=='sent')")" = 11; }
check "service deliveries all end sent" wait_for 30 all_sent
check "the keys answered are the deliveries recorded" $PY - "$T/api-real.json" "$T/b.db" <<'PY'
import json, os, subprocess, sys
a = {d["key"] for d in json.load(open(sys.argv[1]))["deliveries"]}
d = json.loads(subprocess.run([os.environ["HERALD"], "evidence", "export", "--db", sys.argv[2],
                               "--format", "json", "--kind", "manual"], capture_output=True).stdout)
assert a <= {x["delivery"] for x in d["deliveries"]}, a
PY
check "CLI and API: the same deliveries, messages, notes and people" $PY - "$T/a.db" "$T/b.db" <<'PY'
import json, os, subprocess, sys
def rows(db):
    d = json.loads(subprocess.run([os.environ["HERALD"], "evidence", "export", "--db", db,
                                   "--format", "json"], capture_output=True).stdout)["deliveries"]
    return sorted((x["communication"], x["kind"], x["audience"], x["channel_id"], x["recipient"] or "",
                   x["state"], x["note"], x["requested_by"].split(" (")[0],
                   x["requested_by"].split(" (")[1].split(",")[0], x["message"]) for x in d)
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert len(a) == len(b) == 11, (len(a), len(b))
for x, y in zip(a, b):
    assert x[:8] == y[:8], (x, y)
    assert (x[8], y[8]) == ("CLI", "API"), (x[8], y[8])
    assert x[9] == y[9], (x[9], y[9])
PY
# The same refusals.
n=$(count "$T/b.db")
check "API: by missing: 400" test "$(api '{"note": "x"}' BREACH-NOTICE)" = 400
check "API: ... naming the key" grep -q '"by: ' "$T/api.json"
big=$($PY -c 'import json; print(json.dumps({"by": "Dana", "note": "n" * 65537}))')
check "API: note over 64 KiB: 400" test "$(api "$big" BREACH-NOTICE)" = 400
check "API: ... naming the key" grep -q '"note: 65537 bytes is more than' "$T/api.json"
check "API: drill without drill recipients: 409" test "$(api '{"by": "Dana", "drill": true}' STAFF-ONLY)" = 409
check "API: scheduled without out_of_turn: 409" test "$(api '{"by": "Dana", "note": "x"}' AWR)" = 409
check "API: drill must be true or false: 400" test "$(api '{"by": "Dana", "drill": "yes"}' BREACH-NOTICE)" = 400
check "API: nothing recorded by refused requests" test "$(count "$T/b.db")" = "$n"
kill -TERM "$pid"
wait "$pid"
# Without a base URL, a service on loopback refuses to send links outside.
spawn "$HERALD" run "$T/nobase.json" --db "$T/c.db" --listen "127.0.0.1:$hport" 2>"$T/run2.err"
pid=$LAST_PID
wait_for 15 curl -sf "$base/healthz"
check "API: loopback links to external recipients: 409" \
	test "$(api '{"by": "Dana", "note": "x"}' BREACH-NOTICE)" = 409
check "API: ... saying how to set it" grep -q 'set \\"base_url\\" in the plan' "$T/api.json"
check "API: nothing queued" test "$(count "$T/c.db")" = 0
kill -TERM "$pid"
wait "$pid"

# ------------------------------------------------------------ feeds
# From the database of the service that ran above (feeds never makes one).
"$HERALD" feeds "$T/plan.json" --db "$T/b.db" >"$T/feeds.txt"
check "feeds use the plan's base_url" grep -q "	https://herald.acme.example/feeds/.*/customers.ics	webcal://herald.acme.example/feeds/" "$T/feeds.txt"
"$HERALD" feeds "$T/plan.json" --db "$T/b.db" --base-url https://cal.example >"$T/feeds.txt"
check "--base-url overrides it" grep -q "	https://cal.example/feeds/" "$T/feeds.txt"
finish
