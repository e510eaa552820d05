#!/usr/bin/env bash
# catchup.sh - time as the service sees it (HERALD_NOW), across a downtime:
#  run 1 (09:10): a message to two people with an ack link each; one of
#                 them acknowledges over HTTP; the service stops;
#  run 2 (11:30, one-hour grace): a delivery that fell due 30 min ago goes
#                 out marked late, one that fell due 2 h ago is recorded
#                 missed and never sent, and the reminder goes to the
#                 person who did not acknowledge only (the other's is
#                 cancelled).
. "$(dirname "$0")/../lib.sh"

sport=$(free_port) rport=$(free_port) hport=$(free_port)
spawn $PY "$ROOT/tests/peers/smtp_server.py" --port "$sport" --log "$T/mail.log"
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$rport" --log "$T/hook.log"
for p in "$sport" "$rport"; do
	wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $p))"
done
export HOOK="http://127.0.0.1:$rport/ok/ops"
cat >"$T/plan.json" <<JSON
{"plan": {"id": "T-CATCHUP", "version": "1", "owner": "Ops <ops@example.org>", "timezone": "UTC"},
 "channels": {"mail": {"type": "email", "smtp": "smtp://127.0.0.1:$sport", "from": "isms@example.org",
                       "starttls": false},
              "hook": {"type": "webhook", "url": "env:HOOK"}},
 "audiences": {"staff": {"scope": "internal", "feed": "none",
                         "members": [{"name": "Ann", "email": "ann@example.org"},
                                     {"name": "Bob", "email": "bob@example.org"}],
                         "deliver": [{"channel": "mail", "to": "members"}]},
               "ops": {"scope": "internal", "feed": "none", "deliver": [{"channel": "hook"}]}},
 "communications": [
   {"id": "POLICY", "topic": "New ISMS policy", "audiences": ["staff"], "owner": "Dana",
    "schedule": {"at": ["2027-02-01T09:10:03"]}, "acknowledge": {"remind_after": ["PT2H"]}},
   {"id": "LATE", "topic": "Late one", "audiences": ["ops"], "owner": "Dana",
    "schedule": {"at": ["2027-02-01T11:00"]}},
   {"id": "MISSED", "topic": "Missed one", "audiences": ["ops"], "owner": "Dana",
    "schedule": {"at": ["2027-02-01T09:30"]}}]}
JSON
base="http://127.0.0.1:$hport"
export HERALD_GRACE_SECONDS=3600 HERALD_ADMIN_TOKEN=catchup-admin-token-of-at-least-32-chars
run_at() { # HERALD_NOW
	HERALD_NOW=$1 spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$hport" --base-url "$base"
	PID=$LAST_PID
	wait_for 15 curl -sf "$base/healthz"
}
stop() { kill -TERM "$PID"; wait "$PID"; }
q() { evq "$T/h.db" "$1"; }
# The state of the one delivery matching a Python condition on x.
st() { q "[x['state'] for x in d if $1]"; }
mails_to() { grep '"event": "message"' "$T/mail.log" 2>/dev/null | grep -c "\"$1\""; }
# True when $1 has received exactly $2 messages (re-read at every poll).
has_mails() { [ "$(mails_to "$1")" = "$2" ]; }

# Run 1, 09:10:00: POLICY falls due three seconds later.
run_at 2027-02-01T09:10:00Z
check "POLICY reached Ann" wait_for 20 has_mails ann@example.org 1
check "POLICY reached Bob" wait_for 20 has_mails bob@example.org 1
ack=$($PY - "$T/mail.log" "$base" <<'PY'
import email, json, re, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] != "message" or "ann@example.org" not in r["rcpt"]:
        continue
    m = email.message_from_string(r["data"])
    for part in m.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()
            hit = re.search(re.escape(sys.argv[2]) + r"/ack/\S+", text)
            if hit:
                print(hit.group(0)); sys.exit(0)
PY
)
check "Ann's message carries her ack link" test -n "$ack"
check "Ann acknowledges (the page's button)" test "$(curl -s -o /dev/null -w '%{http_code}' -d confirm=read "$ack")" = 200
check "nothing of LATE or MISSED yet" bash -c "! grep -qs . '$T/hook.log'"
stop
check "run 1 stopped cleanly" test $? = 0

# Down until 11:30.  Run 2 with a one-hour grace.
run_at 2027-02-01T11:30:00Z
settled() { [ "$(q "sum(1 for x in d if x['state'] != 'pending' and (x['communication'] in ('LATE','MISSED') or x['kind'] == 'reminder'))")" -ge 4 ]; }
check "catch-up settles" wait_for 30 settled
check "LATE was sent" test "$(st "x['communication']=='LATE'")" = sent
check "LATE is marked late" test "$(q "['late' in x['flags'] for x in d if x['communication']=='LATE']")" = True
check "MISSED is recorded missed" test "$(st "x['communication']=='MISSED'")" = missed
check "MISSED never reached the receiver" bash -c "! grep -q 'Missed one' '$T/hook.log'"
check "LATE reached the receiver" grep -q "Late one" "$T/hook.log"
check "Bob got a reminder" wait_for 20 has_mails bob@example.org 2
check "Ann got no reminder" has_mails ann@example.org 1
check "Ann's reminder is cancelled" test "$(st "x['kind']=='reminder' and x['recipient']=='ann@example.org'")" = cancelled
check "Bob's reminder is sent" test "$(st "x['kind']=='reminder' and x['recipient']=='bob@example.org'")" = sent
stop
check "evidence verifies" "$HERALD" evidence verify --db "$T/h.db"
"$HERALD" evidence export --db "$T/h.db" --format csv >"$T/export.csv"
check "export shows the missed delivery" grep -q ",missed," "$T/export.csv"

# The auditor's report of this real run: counts per communication and
# audience (the cancelled reminder is no communication and not counted).
"$HERALD" report --db "$T/h.db" -o "$T/report.html"
cell() { grep -o "data-comm=\"$1\" data-aud=\"$2\" data-metric=\"$3\">[^<]*" "$T/report.html" | sed 's/.*>//'; }
check "report: POLICY recorded 3 (two messages, one reminder)" test "$(cell POLICY staff recorded)" = 3
check "report: POLICY on time 2" test "$(cell POLICY staff on-time)" = 2
check "report: POLICY late 1 (the reminder after the downtime)" test "$(cell POLICY staff late)" = 1
check "report: POLICY acknowledged 1" test "$(cell POLICY staff acknowledged)" = 1
check "report: LATE late 1" test "$(cell LATE ops late)" = 1
check "report: MISSED missed 1" test "$(cell MISSED ops missed)" = 1
check "report: nothing failed" test "$(cell MISSED ops failed)$(cell LATE ops failed)$(cell POLICY staff failed)" = 000
finish
