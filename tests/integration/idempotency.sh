#!/usr/bin/env bash
# idempotency.sh - the send API's Idempotency-Key (issue 9): a retried POST
# sends once.
#  - the same key again answers the first answer (Idempotent-Replayed),
#    after a restart too, and the receiver gets each message once;
#  - the same key with another request: 422; a malformed key: 400;
#  - a retry whose first request never got its answer stored (a crash in
#    between) lists the same deliveries and makes none;
#  - a refused send is not kept: once fixed (the plan, or the request
#    itself) it goes through under its key;
#  - a scheduled communication sent out of turn, retried after the
#    occurrence it spoke of, makes no new deliveries;
#  - a day later the key is new again.
. "$(dirname "$0")/../lib.sh"

rport=$(free_port) hport=$(free_port)
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$rport" --log "$T/recv.log"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $rport))"
export HOOK="http://127.0.0.1:$rport/ok/hook" HOOK2="http://127.0.0.1:$rport/ok/hook2"
cat >"$T/plan.json" <<'JSON'
{"plan": {"id": "T-IDEM", "version": "1", "owner": "Ops <ops@example.org>", "timezone": "UTC"},
 "channels": {"hook": {"type": "webhook", "url": "env:HOOK"},
              "hook2": {"type": "webhook", "url": "env:HOOK2"}},
 "audiences": {"staff": {"scope": "internal", "feed": "public",
                         "deliver": [{"channel": "hook"}, {"channel": "hook2"}]}},
 "communications": [
   {"id": "INC", "topic": "Incident", "audiences": ["staff"], "owner": "CISO",
    "schedule": {"trigger": "manual"}},
   {"id": "AWR", "topic": "Awareness", "audiences": ["staff"], "owner": "Dana",
    "schedule": {"cadence": "monthly", "start": "2026-01-15T09:30"}, "notify": []}]}
JSON
export HERALD_ADMIN_TOKEN=idem-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
base="http://127.0.0.1:$hport"
start() {
	spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$hport" \
		--base-url "$base" 2>>"$T/herald.err"
	PID=$LAST_PID
	wait_for 15 curl -sf "$base/healthz"
}
stop() { kill -TERM "$PID"; wait "$PID"; }
n=0
# post KEY BODY [COMM]: the answer's status in $STATUS, its body in
# $T/r$n.body, its headers in $T/r$n.hdr
post() {
	n=$((n + 1))
	local key=(); [ -n "$1" ] && key=(-H "Idempotency-Key: $1")
	STATUS=$(curl -s -o "$T/r$n.body" -D "$T/r$n.hdr" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $HERALD_ADMIN_TOKEN" "${key[@]}" -d "$2" \
		"$base/api/communications/${3:-INC}/send")
}
body() { cat "$T/r$1.body"; }
keys_of() { $PY -c 'import json,sys; print(",".join(sorted(d["key"] for d in json.load(open(sys.argv[1]))["deliveries"])))' "$T/r$1.body"; }
posts() { grep -c "\"/ok/$1\"" "$T/recv.log" 2>/dev/null || true; }
deliveries() { evq "$T/h.db" "sum(1 for x in d if x['communication'] == 'INC')"; }
settled() { [ "$(evq "$T/h.db" "sum(1 for x in d if x['state'] == 'pending')")" = 0 ]; }

start
K1="retry-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
post "$K1" '{"by": "Dana", "note": "case 1"}'
check "first request: 202" test "$STATUS" = 202
first=$n
check "its answer is not a replay" bash -c "! grep -qi '^Idempotent-Replayed' '$T/r$first.hdr'"
post "$K1" '{"by": "Dana", "note": "case 1"}'
check "the same key again: 202" test "$STATUS" = 202
check "the same answer" test "$(body $n)" = "$(body $first)"
check "marked as a replay" grep -qi '^Idempotent-Replayed: true' "$T/r$n.hdr"
check "no more deliveries than one request makes" test "$(deliveries)" = 2
check "the first request's deliveries settle" wait_for 20 settled
check "each receiver got the message once" test "$(posts hook)" = 1 -a "$(posts hook2)" = 1

post "$K1" '{"by": "Dana", "note": "case 2"}'
check "the same key, another note: 422" test "$STATUS" = 422
check "saying why" grep -q "another request" "$T/r$n.body"
post "$K1" '{"by": "Dana", "note": "case 1", "out_of_turn": true}' AWR
check "the same key, another communication: 422" test "$STATUS" = 422
long=$(printf 'k%.0s' $(seq 300))
post "$long" '{"by": "Dana"}'
check "a key of 300 characters: 400" test "$STATUS" = 400
check "naming the header" grep -q "Idempotency-Key" "$T/r$n.body"
post "" '{"by": "Dana", "note": "no key"}'
check "without a key, each request sends" test "$STATUS" = 202
check "(two more deliveries)" test "$(deliveries)" = 4

# A refusal is not kept: a drill of INC, which has no drill recipients, is
# refused (409); once the plan gives it some, the same request under the
# same key goes through.
K2="refused-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
post "$K2" '{"by": "Dana", "drill": true}'
check "a drill without drill recipients: 409" test "$STATUS" = 409
post "$K2" '{"by": "Dana", "drill": true}'
check "the same key, the same request: refused again, not replayed" test "$STATUS" = 409
check "no Idempotent-Replayed on a refusal" bash -c "! grep -qi '^Idempotent-Replayed' '$T/r$n.hdr'"
sed -i 's|"schedule": {"trigger": "manual"}}|"schedule": {"trigger": "manual"}, "drill": {"channels": ["hook2"]}}|' "$T/plan.json"
kill -HUP "$PID"
accepted() { post "$K2" '{"by": "Dana", "drill": true}'; [ "$STATUS" = 202 ]; }
check "the plan fixed, the same key and request: 202" wait_for 15 accepted
check "a drill through hook2" test "$(evq "$T/h.db" "sum(1 for x in d if x['kind'] == 'drill')")" = 1
stop
check "the service stops (0)" test $? -eq 0

# After a restart the key still answers the first answer.
start
post "$K1" '{"by": "Dana", "note": "case 1"}'
check "after a restart, the first key: 202" test "$STATUS" = 202
check "the first answer" test "$(body $n)" = "$(body $first)"
check "replayed" grep -qi '^Idempotent-Replayed: true' "$T/r$n.hdr"
stop

# A crash between the deliveries and the stored answer: the entry has no
# answer.  The retry lists the same deliveries and makes none.
sqlite3 "$T/h.db" "UPDATE internal_idempotency SET status=0, body=NULL"
start
post "$K1" '{"by": "Dana", "note": "case 1"}'
check "the retry of an unanswered key: 202" test "$STATUS" = 202
check "the same deliveries" test "$(keys_of $n)" = "$(keys_of $first)"
check "not a replay (it ran again)" bash -c "! grep -qi '^Idempotent-Replayed' '$T/r$n.hdr'"
check "no new deliveries" test "$(deliveries)" = 5
check "the queue settles" wait_for 20 settled
check "still each receiver got case 1 once" test "$(grep '"/ok/hook"' "$T/recv.log" | grep -c 'case 1')" = 1
stop

# A day and an hour on, the key is new again.
later=$($PY -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=25)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
HERALD_NOW=$later start
post "$K1" '{"by": "Dana", "note": "case 1"}'
check "25 h later the key makes a new send" test "$STATUS" = 202
check "with new deliveries" test "$(keys_of $n)" != "$(keys_of $first)"
check "(two more)" test "$(deliveries)" = 7
check "the old entries are forgotten" test "$(sqlite3 "$T/h.db" "SELECT count(*) FROM internal_idempotency")" = 1
# A request refused for what it says (400) gives its key back: the
# corrected request goes through under it.
K3="fixed-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
post "$K3" '{"note": "case 3"}'
check "no by: 400" test "$STATUS" = 400
post "$K3" '{"by": "Dana", "note": "case 3"}'
check "the corrected request under the same key: 202 (got $STATUS)" test "$STATUS" = 202
check "(two more)" test "$(deliveries)" = 9
stop

# A scheduled communication out of turn speaks of its next occurrence; a
# retry of the same request made after that occurrence has passed (its
# answer lost in a crash) still makes no new deliveries.
read -r before_occ after_occ < <($PY -c '
import datetime as d
t = d.datetime.now(d.timezone.utc) + d.timedelta(days=3)
o = t.replace(day=15, hour=9, minute=30, second=0, microsecond=0)
while o <= t:
    o = (o.replace(day=1) + d.timedelta(days=32)).replace(day=15)
f = "%Y-%m-%dT%H:%M:%SZ"
print((o - d.timedelta(minutes=1)).strftime(f), (o + d.timedelta(minutes=1)).strftime(f))')
awr() { evq "$T/h.db" "sum(1 for x in d if x['communication'] == 'AWR')"; }
K4="turn-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
HERALD_NOW=$before_occ start
post "$K4" '{"by": "Dana", "note": "moved forward", "out_of_turn": true}' AWR
check "out of turn before the occurrence: 202" test "$STATUS" = 202
turn=$n
check "(two deliveries)" test "$(awr)" = 2
stop
sqlite3 "$T/h.db" "UPDATE internal_idempotency SET status=0, body=NULL"
HERALD_NOW=$after_occ start
post "$K4" '{"by": "Dana", "note": "moved forward", "out_of_turn": true}' AWR
check "its retry after the occurrence: 202" test "$STATUS" = 202
check "the same deliveries" test "$(keys_of $n)" = "$(keys_of $turn)"
check "none new" test "$(awr)" = 2
stop
check "no client key in the database" bash -c "! grep -q '$K1' '$T/h.db' '$T/herald.err'"
check "evidence verifies" "$HERALD" evidence verify --db "$T/h.db"
finish
