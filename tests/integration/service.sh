#!/usr/bin/env bash
# service.sh - the running service end to end, across its parts: the
# manual-send API (admin token), a real delivery to a webhook receiver
# carrying an ack link, the link clicked over HTTP, /report behind the
# admin token, the evidence of it all verifying, and a clean SIGTERM.
# Also: a dry-run send is recorded as dry-run, never as sent.
. "$(dirname "$0")/../lib.sh"

rport=$(free_port)
hport=$(free_port)
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$rport" --log "$T/recv.log"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $rport))"
CANARY=canary$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
export HOOK="http://127.0.0.1:$rport/ok/hook/$CANARY"
cat >"$T/plan.json" <<'JSON'
{"plan": {"id": "T-SVC", "version": "7", "owner": "Ops <ops@example.org>",
          "approved_by": "CISO", "approved_on": "2026-01-01", "timezone": "Europe/London"},
 "channels": {"hook": {"type": "webhook", "url": "env:HOOK"}},
 "audiences": {"staff": {"name": "All staff", "scope": "internal", "deliver": [{"channel": "hook"}]},
               "regulator": {"scope": "external", "feed": "none", "deliver": [{"channel": "hook"}]}},
 "communications": [
   {"id": "BREACH", "topic": "Personal data breach", "audiences": ["regulator"],
    "owner": "DPO", "schedule": {"trigger": "manual"}, "acknowledge": true},
   {"id": "AWR", "topic": "Awareness", "audiences": ["staff"], "owner": "Dana",
    "schedule": {"cadence": "monthly", "start": "2026-01-15T09:30"}, "notify": []}]}
JSON
ADMIN=adm-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export HERALD_ADMIN_TOKEN=$ADMIN
base="http://127.0.0.1:$hport"
spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$hport" --base-url "$base" 2>"$T/herald.err"
pid=$LAST_PID
wait_for 15 curl -sf "$base/healthz"
check "service is up" curl -sf -o /dev/null "$base/healthz"
# A peer closing its socket raises SIGPIPE in libldap and OpenSSL writes:
# it must not end the service.
kill -PIPE "$pid"
check "SIGPIPE does not stop the service" curl -sf -o /dev/null "$base/healthz"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
api="$base/api/communications"
check "send without a token: 401" test "$(status -X POST "$api/BREACH/send")" = 401
check "send with a wrong token: 401" test "$(status -X POST -H "Authorization: Bearer x$ADMIN" "$api/BREACH/send")" = 401
# A wrong guess puts this address in a penalty window: even the right token
# waits (429 with Retry-After), while requests without a token are served.
retry=$(curl -s -o /dev/null -D - -X POST -H "Authorization: Bearer $ADMIN" "$api/BREACH/send" | tr -d '\r' | awk -F': ' 'tolower($1)=="retry-after"{print $2}')
check "right token within the penalty window: 429 with Retry-After (got '$retry')" test -n "$retry"
check "no token needed: served during the penalty" test "$(status "$base/healthz")" = 200
check "penalty window ends" wait_for 10 bash -c "test \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $ADMIN' '$api/NOPE/send')\" = 404"
check "unknown communication: 404" test "$(status -X POST -H "Authorization: Bearer $ADMIN" "$api/NOPE/send")" = 404
check "scheduled communication, not out of turn: 409" test "$(status -X POST -H "Authorization: Bearer $ADMIN" -d '{"by": "Dana"}' "$api/AWR/send")" = 409
check "no by: 400" test "$(status -X POST -H "Authorization: Bearer $ADMIN" -d '{"note": "x"}' "$api/BREACH/send")" = 400
check "unknown key: 400" test "$(status -X POST -H "Authorization: Bearer $ADMIN" -d '{"by": "Dana", "nope": 1}' "$api/BREACH/send")" = 400
check "GET on the send API is refused" test "$(status -H "Authorization: Bearer $ADMIN" "$api/BREACH/send")" != 202
code=$(curl -s -o "$T/send.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
	-H 'Content-Type: application/json' -d '{"by": "Dana Reyes", "note": "ICO notified, case 42"}' "$api/BREACH/send")
check "manual send accepted: 202 (got $code)" test "$code" = 202
check "the answer lists the deliveries, queued, and who asked" $PY - "$T/send.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
assert a["communication"] == "BREACH" and a["kind"] == "manual" and a["dry_run"] is False, a
assert a["requested_by"] == "Dana Reyes (API, 127.0.0.1)", a
[d] = a["deliveries"]
assert len(d["key"]) == 64 and d["state"] == "queued" and d["channel"] == "hook", d
assert d["audience"] == "regulator" and d["recipient"] is None, d
PY
head -c 600000 /dev/zero | tr '\0' 'x' >"$T/big"
check "oversize body: 413" test "$(status -X POST -H "Authorization: Bearer $ADMIN" --data-binary @"$T/big" "$api/BREACH/send")" = 413

# The receiver gets the message; it carries the recipient's ack link.
check "message delivered" wait_for 20 grep -q '"path": "/ok/hook/' "$T/recv.log"
ack=$($PY -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    body = json.loads(r["body"])
    if body.get("ack_url"):
        print(body["ack_url"]); break
' "$T/recv.log")
check "the message carries an ack link on this service" bash -c "[[ '$ack' == $base/ack/* ]]"
check "ack page: 200" test "$(status "$ack")" = 200
check "ack button: 200" test "$(status -d confirm=read "$ack")" = 200
check "ack again: still 200" test "$(status -d confirm=read "$ack")" = 200
forged="${ack%?}$([ "${ack: -1}" = A ] && echo B || echo A)"
check "forged ack token: 404" test "$(status "$forged")" = 404
check "forged ack token, POST: 404" test "$(status -d confirm=read "$forged")" = 404
check "made-up ack token: 404" test "$(status "$base/ack/nothing-here")" = 404

# Evidence: one delivery sent, acknowledged once, requested with the note.
"$HERALD" evidence export --db "$T/h.db" --format json >"$T/export.json"
check "export names the delivery as sent and acknowledged" $PY - "$T/export.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = [r for r in d["deliveries"] if r["communication"] == "BREACH"]
assert len(rows) == 1, rows
r = rows[0]
assert r["state"] == "sent", r
assert r["acknowledged_at"], r
assert r["kind"] == "manual", r
PY
check "exactly one acknowledgement" test "$(evq "$T/h.db" "sum(1 for x in d if x['acknowledged_at'])")" = 1
check "the note is recorded" test "$(evq "$T/h.db" "[x['note'] for x in d if x['communication']=='BREACH']")" = "ICO notified, case 42"
check "the admin token is not stored in clear" bash -c "! grep -qa '$ADMIN' '$T/h.db' '$T/h.db-wal' 2>/dev/null"

check "report without a token: 401" test "$(status "$base/report")" = 401
check "report with the token: 200" test "$(status -H "Authorization: Bearer $ADMIN" "$base/report")" = 200
curl -s -H "Authorization: Bearer $ADMIN" "$base/report" >"$T/report.html"
check "report names the communication" grep -q "BREACH" "$T/report.html"
check "evidence verifies while the service runs" "$HERALD" evidence verify --db "$T/h.db"

# The webhook URL (a secret) reaches none of what herald shows or keeps.
for p in / /healthz /metrics /feeds/staff.ics; do curl -s "$base$p" >>"$T/http.out"; done
cat "$T/report.html" >>"$T/http.out"
"$HERALD" evidence export --db "$T/h.db" --format csv >"$T/export.csv"
kill -TERM "$pid"
wait "$pid"
check "SIGTERM exits 0" test $? = 0
check "the receiver saw the secret URL (the canary is live)" grep -q "$CANARY" "$T/recv.log"
for f in herald.err http.out export.json export.csv h.db; do
	check "no secret in $f" bash -c "! grep -qa '$CANARY' '$T/$f'"
done
check "no secret in the WAL" bash -c "! grep -qas '$CANARY' '$T/h.db-wal'"

# A rehearsal is recorded as such, never as sent.
HERALD_BASE_URL=$base "$HERALD" send "$T/plan.json" BREACH --db "$T/dry.db" --by "Dana Reyes" --dry-run --note rehearsal >/dev/null 2>&1
check "dry-run send exits 0" test $? = 0
check "dry-run state recorded" test "$(evq "$T/dry.db" "[x['state'] for x in d]")" = dry-run
check "nothing sent by the dry run" test "$(grep -c . "$T/recv.log")" = 1

# Without HERALD_ADMIN_TOKEN a token is made on first start: into the key
# directory (0600), never into the log, and the API takes it.
hport2=$(free_port)
base2="http://127.0.0.1:$hport2"
spawn env -u HERALD_ADMIN_TOKEN "$HERALD" run "$T/plan.json" --db "$T/gen.db" --listen "127.0.0.1:$hport2" \
	--base-url "$base2" --dry-run 2>"$T/gen.err"
pid2=$LAST_PID
wait_for 15 curl -sf "$base2/healthz"
tokfile="$T/keys/admin.token"
check "a generated token goes to the key directory" test -s "$tokfile"
check "the token file is 0600" test "$(stat -c %a "$tokfile")" = 600
gen=$(cat "$tokfile")
check "the log says where the token is" grep -q "admin token generated: it is in $tokfile" "$T/gen.err"
check "the log does not hold the token" bash -c "! grep -qF -- '$gen' '$T/gen.err'"
check "the generated token opens the report" test "$(status -H "Authorization: Bearer $gen" "$base2/report")" = 200
check "the database keeps only its hash" bash -c "! grep -qaF -- '$gen' '$T/gen.db' '$T/gen.db-wal' 2>/dev/null"
kill -TERM "$pid2"
wait "$pid2"
# Another database of the same key directory takes that token rather than
# overwriting it (the first database's operator kept it).
hport3=$(free_port)
spawn env -u HERALD_ADMIN_TOKEN "$HERALD" run "$T/plan.json" --db "$T/gen2.db" --listen "127.0.0.1:$hport3" \
	--base-url "http://127.0.0.1:$hport3" --dry-run 2>"$T/gen2.err"
pid3=$LAST_PID
wait_for 15 curl -sf "http://127.0.0.1:$hport3/healthz"
check "a second database keeps the token file" test "$(cat "$tokfile")" = "$gen"
check "and takes its token" test "$(status -H "Authorization: Bearer $gen" "http://127.0.0.1:$hport3/report")" = 200
check "saying so" grep -q "admin token taken from $tokfile" "$T/gen2.err"
kill -TERM "$pid3"
wait "$pid3"
# A token file that is a link (it could lead the token into a log) is refused.
mkdir -p "$T/k3" && chmod 700 "$T/k3"
ln -s /dev/stderr "$T/k3/admin.token"
env -u HERALD_ADMIN_TOKEN "$HERALD" run "$T/plan.json" --db "$T/gen3.db" --keys "$T/k3" \
	--listen "127.0.0.1:$(free_port)" --dry-run >/dev/null 2>"$T/gen3.err"
rc=$?
check "a linked admin.token: refused ($(tail -1 "$T/gen3.err"))" test "$rc" -ne 0
check "naming the file and HERALD_ADMIN_TOKEN" grep -q "k3/admin.token.*HERALD_ADMIN_TOKEN" "$T/gen3.err"
finish
