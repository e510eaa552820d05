#!/usr/bin/env bash
# delivery_http.sh - Slack and webhook deliveries against a real HTTP
# receiver on loopback: success, 429 with Retry-After, 500 then success,
# 400/410 permanent, a hang past the timeout, a dropped connection, the
# Standard Webhooks signature, Slack's 1 message/s, and attempts recorded
# == requests the receiver saw.  Secret canaries in URLs and headers never
# reach herald's output or database.
. "$(dirname "$0")/../lib.sh"

port=$(free_port)
CANARY=canary$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
HCANARY=hdr$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
cat >"$T/script.json" <<JSON
{"/s/ok/$CANARY": ["ok"],
 "/s/gone/$CANARY": ["410"],
 "/w/ok/$CANARY": ["200"],
 "/w/rate/$CANARY": ["429:1", "200"],
 "/w/flaky/$CANARY": ["500", "503", "200"],
 "/w/bad/$CANARY": ["400"],
 "/w/hang/$CANARY": ["hang", "200"],
 "/w/drop/$CANARY": ["drop", "200"]}
JSON
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$port" --log "$T/recv.log" --script "$T/script.json"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $port))"

base="http://127.0.0.1:$port"
export S_OK="$base/s/ok/$CANARY" S_GONE="$base/s/gone/$CANARY"
export W_OK="$base/w/ok/$CANARY" W_RATE="$base/w/rate/$CANARY" W_FLAKY="$base/w/flaky/$CANARY"
export W_BAD="$base/w/bad/$CANARY" W_HANG="$base/w/hang/$CANARY" W_DROP="$base/w/drop/$CANARY"
export W_AUTH="Bearer $HCANARY" W_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
cat >"$T/plan.json" <<'JSON'
{"plan": {"id": "T-HTTP", "title": "HTTP test plan", "version": "3", "owner": "Ops <ops@example.org>",
          "timezone": "Europe/London"},
 "channels": {
   "s-ok": {"type": "slack", "webhook": "env:S_OK"},
   "s-gone": {"type": "slack", "webhook": "env:S_GONE"},
   "w-ok": {"type": "webhook", "url": "env:W_OK", "headers": {"Authorization": "env:W_AUTH"},
            "secret": "env:W_SECRET"},
   "w-rate": {"type": "webhook", "url": "env:W_RATE"},
   "w-flaky": {"type": "webhook", "url": "env:W_FLAKY"},
   "w-bad": {"type": "webhook", "url": "env:W_BAD"},
   "w-hang": {"type": "webhook", "url": "env:W_HANG"},
   "w-drop": {"type": "webhook", "url": "env:W_DROP"}},
 "audiences": {
   "staff": {"name": "All staff", "scope": "internal",
             "deliver": [{"channel": "s-ok"}, {"channel": "s-gone"}, {"channel": "w-ok"},
                         {"channel": "w-rate"}, {"channel": "w-flaky"}, {"channel": "w-bad"},
                         {"channel": "w-hang"}, {"channel": "w-drop"}]},
   "board": {"name": "Board", "scope": "internal", "deliver": [{"channel": "s-ok"}]}},
 "communications": [
   {"id": "INCIDENT", "topic": "Security incident <notice> & update", "audiences": ["staff", "board"],
    "owner": "Morgan Lee", "schedule": {"trigger": "manual"}, "acknowledge": true}]}
JSON
export HERALD_RETRY_BASE_MS=300 HERALD_SEND_TIMEOUT_MS=1500 HERALD_BASE_URL=https://herald.example
start=$SECONDS
"$HERALD" send "$T/plan.json" INCIDENT --db "$T/h.db" --by "Morgan Lee" --note "drill" >"$T/out" 2>"$T/err"
rc=$?
check "send exits 3 when some deliveries failed (rc=$rc)" [ "$rc" -eq 3 ]
check "send finished in bounded time" [ $((SECONDS - start)) -lt 60 ]

q() { evq "$T/h.db" "$1"; }
seen() { grep -c "\"path\": \"$1/$CANARY\"" "$T/recv.log"; }
attempts() { q "sum(x['attempts'] for x in d if x['channel_id']=='$1')"; }
state() { q "[x['state'] for x in d if x['channel_id']=='$1']"; }
for c in s-ok:/s/ok s-gone:/s/gone w-ok:/w/ok w-rate:/w/rate w-flaky:/w/flaky w-bad:/w/bad w-hang:/w/hang w-drop:/w/drop; do
	ch=${c%%:*} path=${c#*:}
	check "$ch: attempts recorded ($(attempts "$ch")) == requests seen ($(seen "$path"))" \
		[ "$(attempts "$ch")" -eq "$(seen "$path")" ]
done
check "slack ok: two deliveries sent" [ "$(state s-ok)" = "sent,sent" ]
check "slack 410 is permanent after 1 attempt" [ "$(state s-gone)/$(attempts s-gone)" = "failed/1" ]
check "webhook 200 sent once" [ "$(state w-ok)/$(attempts w-ok)" = "sent/1" ]
check "429 then success" [ "$(state w-rate)/$(attempts w-rate)" = "sent/2" ]
check "500, 503 then success" [ "$(state w-flaky)/$(attempts w-flaky)" = "sent/3" ]
check "400 is permanent" [ "$(state w-bad)/$(attempts w-bad)" = "failed/1" ]
check "a hang past the timeout is retried" [ "$(state w-hang)/$(attempts w-hang)" = "sent/2" ]
check "a dropped connection is retried" [ "$(state w-drop)/$(attempts w-drop)" = "sent/2" ]
check "the 429 attempt recorded status and outcome" \
	[ "$(sqv2 "$T/h.db" "select a.status||'/'||a.outcome from attempts a join deliveries d on d.seq=a.delivery join messages m on m.seq=d.message where m.channel_id='w-rate' and a.n=1")" = "429/temporary" ]
check "who and why recorded" \
	[ "$(q "sum(1 for x in d if x['note']=='drill' and x['requested_by'].startswith('Morgan Lee (CLI, user '))")" -eq 9 ]

# Retry-After honoured: the second request to /w/rate came >= 1 s later.
check "Retry-After honoured" $PY - "$T/recv.log" "$CANARY" <<'PY'
import json, sys
t = [json.loads(l)["t"] for l in open(sys.argv[1]) if "/w/rate/" in l]
sys.exit(0 if len(t) == 2 and t[1] - t[0] >= 0.95 else 1)
PY
# Slack: at most one message per second per webhook.
check "Slack webhook paced at 1 message/s" $PY - "$T/recv.log" <<'PY'
import json, sys
t = [json.loads(l)["t"] for l in open(sys.argv[1]) if "/s/ok/" in l]
sys.exit(0 if len(t) == 2 and t[1] - t[0] >= 0.95 else 1)
PY
# Block Kit and the ack button; webhook payload, custom header and signature.
check "Slack Block Kit message" $PY - "$T/recv.log" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "/s/ok/" not in r["path"]:
        continue
    b = json.loads(r["body"])
    types = [x["type"] for x in b["blocks"]]
    assert types[0] == "header" and "section" in types and "context" in types, types
    assert types[-1] == "actions", types
    btn = b["blocks"][-1]["elements"][0]
    assert btn["text"]["text"] == "Acknowledge" and btn["url"].startswith("https://herald.example/ack/")
    sec = [x for x in b["blocks"] if x["type"] == "section"][0]["text"]["text"]
    assert "&lt;notice&gt; &amp;" in sec, sec
    assert "Morgan Lee" in json.dumps(b["blocks"][-2]) and "version 3" in json.dumps(b["blocks"][-2])
    assert len(b["text"]) <= 40000 and "https://herald.example/ack/" in b["text"]
PY
check "webhook payload, header and Standard Webhooks signature" $PY - "$T/recv.log" "$HCANARY" <<'PY'
import base64, hashlib, hmac, json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "/w/ok/" not in r["path"]:
        continue
    h = r["headers"]
    assert h["authorization"] == "Bearer " + sys.argv[2]
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    msg = "%s.%s.%s" % (h["webhook-id"], h["webhook-timestamp"], r["body"])
    sig = base64.b64encode(hmac.new(key, msg.encode(), hashlib.sha256).digest()).decode()
    assert h["webhook-signature"] == "v1," + sig, (h["webhook-signature"], sig)
    b = json.loads(r["body"])
    assert b["type"] == "herald.communication" and b["kind"] == "manual"
    assert b["communication"]["id"] == "INCIDENT" and b["plan"]["version"] == "3"
    assert b["delivery"] == h["webhook-id"] and b["ack_url"].startswith("https://herald.example/ack/")
    assert b["possible_duplicate"] is False
PY
check "a failed delivery is logged" grep -q "error delivery.failed: INCIDENT.*channel=w-bad" "$T/err"
# Canaries: never in herald's output or database (file, WAL, shm).
for f in "$T/out" "$T/err" "$T"/h.db*; do
	check "no URL canary in $(basename "$f")" bash -c "! grep -aq '$CANARY' '$f'"
	check "no header canary in $(basename "$f")" bash -c "! grep -aq '$HCANARY' '$f'"
	check "no signing secret in $(basename "$f")" bash -c "! grep -aq 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' '$f'"
done
[ -n "${KEEP:-}" ] && cp -r "$T" /tmp/keep_http
finish
