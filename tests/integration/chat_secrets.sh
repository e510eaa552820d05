#!/usr/bin/env bash
# chat_secrets.sh - secret canaries in the URL of every new channel type
# (Teams, Google Chat's key and token, Mattermost) and in a webhook with
# ten secret headers never reach herald's log, database, exports, report
# or HTTP responses, even from receivers that answer with everything they
# were sent (path, query and headers echoed in the error body, first as a
# temporary failure, then as a permanent one).  Runs the service: the
# sends go through the API, the answers are read over HTTP.
. "$(dirname "$0")/../lib.sh"

rport=$(free_port) hport=$(free_port)
C=sec$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
cat >"$T/script.json" <<JSON
{"/t/$C": ["echo:503", "echo:400"],
 "/m/$C": ["echo:503", "echo:400"],
 "/v1/spaces/space-$C/messages": ["echo:503", "echo:400"],
 "/w/$C": ["echo:503", "echo:400"],
 "/ok/$C": ["200"]}
JSON
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$rport" --log "$T/recv.log" --script "$T/script.json"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $rport))"
r="http://127.0.0.1:$rport"
export TEAMS_URL="$r/t/$C" MM_URL="$r/m/$C" OK_URL="$r/ok/$C"
export GCHAT_URL="$r/v1/spaces/space-$C/messages?key=key-$C&token=tok-$C"
export HOOK_URL="$r/w/$C"
headers=
for i in 0 1 2 3 4 5 6 7 8 9; do
	export "H$i=hv$i-$C"
	headers+="\"X-Secret-$i\": \"env:H$i\""
	[ "$i" -lt 9 ] && headers+=", "
done
cat >"$T/plan.json" <<JSON
{"plan": {"id": "T-SECRETS", "version": "1", "owner": "Ops <ops@example.org>",
          "approved_by": "CISO", "approved_on": "2026-01-01", "timezone": "Europe/London"},
 "channels": {
   "teams": {"type": "teams", "webhook": "env:TEAMS_URL"},
   "gchat": {"type": "googlechat", "webhook": "env:GCHAT_URL", "thread_key": "{{communication}}"},
   "mm": {"type": "mattermost", "webhook": "env:MM_URL"},
   "hook": {"type": "webhook", "url": "env:HOOK_URL", "headers": { $headers }},
   "ok": {"type": "mattermost", "webhook": "env:OK_URL"}},
 "audiences": {"staff": {"name": "All staff", "scope": "internal", "feed": "public",
   "deliver": [{"channel": "teams"}, {"channel": "gchat"}, {"channel": "mm"}, {"channel": "hook"},
               {"channel": "ok"}]}},
 "communications": [
   {"id": "BREACH", "topic": "Personal data breach", "audiences": ["staff"], "owner": "DPO",
    "schedule": {"trigger": "manual"}, "acknowledge": true},
   {"id": "AWR", "topic": "Awareness", "audiences": ["staff"], "owner": "Dana",
    "schedule": {"cadence": "monthly", "start": "2026-01-15T09:30"}, "notify": []}]}
JSON
ADMIN=adm-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export HERALD_ADMIN_TOKEN=$ADMIN HERALD_RETRY_BASE_MS=200 HERALD_SEND_TIMEOUT_MS=2000
base="http://127.0.0.1:$hport"
spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$hport" --base-url "$base" \
	2>"$T/herald.err"
wait_for 15 curl -sf "$base/healthz"
curl -s -o "$T/send.resp" -D "$T/send.hdr" -X POST -H "Authorization: Bearer $ADMIN" \
	-H 'Content-Type: application/json' -d '{"by": "Dana Reyes", "note": "case 42"}' "$base/api/communications/BREACH/send"
check "send accepted" grep -q "^HTTP/1.1 202" "$T/send.hdr"
done_all() {
	[ "$(evq "$T/h.db" "sorted(x['channel_id']+'/'+x['state'] for x in d)")" = \
		"gchat/failed,hook/failed,mm/failed,ok/sent,teams/failed" ]
}
check "every delivery ended (the echoing ones failed after 2 attempts)" wait_for 30 done_all
check "each echoing receiver was asked twice" [ "$(grep -c '"action": "echo:' "$T/recv.log")" -eq 8 ]
check "the receivers got the secrets (so they could echo them)" \
	[ "$(grep -c "hv9-$C" "$T/recv.log")" -ge 2 ]

# Everything herald tells anyone.
n=0
get() { n=$((n + 1)); curl -s -D "$T/resp$n.hdr" -o "$T/resp$n.body" "$@"; }
get "$base/"
get "$base/healthz"
get "$base/metrics"
get "$base/feeds/staff.ics"
get -H "Authorization: Bearer $ADMIN" "$base/report"
get -X POST -H "Authorization: Bearer $ADMIN" "$base/api/communications/NOPE/send"
"$HERALD" evidence export --db "$T/h.db" --format json >"$T/export.json" 2>"$T/export.err"
"$HERALD" evidence export --db "$T/h.db" --format csv >"$T/export.csv" 2>>"$T/export.err"
"$HERALD" evidence acks --db "$T/h.db" --format json >"$T/acks.json" 2>>"$T/export.err"
"$HERALD" report --db "$T/h.db" --plan "$T/plan.json" -o "$T/report.html" 2>>"$T/export.err"
"$HERALD" check "$T/plan.json" >"$T/check.out" 2>&1
check "the export holds the echoed errors, masked" grep -q '<secret>' "$T/export.json"
check "the report is written" [ -s "$T/report.html" ]
for f in "$T"/herald.err "$T"/send.* "$T"/resp* "$T"/export.* "$T"/acks.json "$T"/report.html \
	"$T"/check.out "$T"/h.db*; do
	check "no canary in $(basename "$f")" bash -c "! grep -aq '$C' '$f'"
done
finish
