#!/usr/bin/env bash
# soak.sh - `make soak`: herald run under delivery load for SOAK_SECONDS
# (default 600), killed with SIGKILL every few seconds and restarted, with
# disk-full episodes on a small tmpfs when run as root.  At the end it
# prints: deliveries due, delivered, duplicates (and whether every extra
# copy was flagged), lost (must be 0); exit 1 if nothing was sent,
# anything was lost, an extra copy went unflagged, or the evidence does not
# verify.
. "$(dirname "$0")/../lib.sh"
SECS=${SOAK_SECONDS:-600}
rport=$(free_port) hport=$(free_port)
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$rport" --log "$T/recv.log"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $rport))"
export HERALD_ADMIN_TOKEN=soak-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export HERALD_RETRY_BASE_MS=300 HERALD_CONN_TIMEOUT=5
base="http://127.0.0.1:$hport"
$PY - "$T/plan.json" "$rport" <<'PY'
import json, sys
port = sys.argv[2]
kinds = ["ok", "slow", "ok", "slow"]
ch = {f"h{i}": {"type": "webhook", "url": f"http://127.0.0.1:{port}/{kinds[i]}/h{i}"} for i in range(4)}
json.dump({"plan": {"id": "T-SOAK", "version": "1", "owner": "Ops <ops@example.org>", "timezone": "UTC"},
           "channels": ch,
           "audiences": {"ops": {"scope": "internal", "feed": "public", "deliver": [{"channel": c} for c in ch]},
                         "ext": {"scope": "external", "feed": "none", "deliver": [{"channel": "h0"}]}},
           "communications": [{"id": "INC", "topic": "Incident", "audiences": ["ops"], "owner": "CISO",
                               "schedule": {"trigger": "manual"}}]},
          open(sys.argv[1], "w"))
PY
dir=$T/db
disk=false
if mkdir -p "$dir" && [ -z "${SOAK_NO_DISK:-}" ] && [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64m tmpfs "$dir" 2>/dev/null; then
	disk=true
	trap 'umount "$dir" 2>/dev/null; cleanup' EXIT
fi
start() {
	spawn "$HERALD" run "$T/plan.json" --db "$dir/h.db" --listen "127.0.0.1:$hport" --base-url "$base" 2>>"$T/herald.err"
	PID=$LAST_PID
	wait_for 20 curl -sf "$base/healthz"
	[ -n "${SOAK_DEBUG:-}" ] && echo "started $PID at $(date +%s.%N): $(pgrep -f "herald run $T" | tr '\n' ' ')" >>"$T/kills.log"
}
sends=0 kills=0 fulls=0
end=$((SECONDS + SECS))
start
while [ $SECONDS -lt $end ]; do
	phase=$((SECONDS + 2 + RANDOM % 5))
	while [ $SECONDS -lt $phase ]; do
		curl -sf -o /dev/null -m 2 -X POST -H "Authorization: Bearer $HERALD_ADMIN_TOKEN" \
			-d '{"by": "soak", "note": "soak"}' "$base/api/communications/INC/send" &&
			sends=$((sends + 1))
	done
	if $disk && [ $((RANDOM % 4)) = 0 ]; then
		dd if=/dev/zero of="$dir/fill" bs=256k 2>/dev/null
		fulls=$((fulls + 1))
		sleep 3   # an episode of this length, by design
		rm -f "$dir/fill"
	fi
	[ -n "${SOAK_DEBUG:-}" ] && echo "killing $PID at $(date +%s.%N)" >>"$T/kills.log"
	kill -9 "$PID" 2>/dev/null && kills=$((kills + 1))
	wait "$PID" 2>/dev/null
	start
done
# Let the last run finish everything.
pending() { [ "$(evq "$dir/h.db" "sum(1 for x in d if x['state'] == 'pending')")" = 0 ]; }
wait_for 300 pending
kill -TERM "$PID"; wait "$PID"
[ -n "${SOAK_DEBUG:-}" ] && cp "$dir/h.db" /tmp/soak-debug.db && cp "$T/recv.log" /tmp/soak-recv.log && cp "$T/herald.err" /tmp/soak-herald.err
verified=true
"$HERALD" evidence verify --db "$dir/h.db" >/dev/null || verified=false
"$HERALD" evidence export --db "$dir/h.db" --format json >"$T/export.json"
SOAK_DB="$dir/h.db" $PY - "$T/recv.log" "$T/export.json" "$sends" "$kills" "$fulls" "$verified" <<'PY'
import collections, json, sys
seen = collections.defaultdict(list)
for l in open(sys.argv[1]):
    r = json.loads(l)
    k = r["headers"].get("x-herald-delivery")
    if k:
        seen[k].append(json.loads(r["body"])["possible_duplicate"])
d = json.load(open(sys.argv[2]))["deliveries"]
due = len(d)
delivered = sum(1 for x in d if seen.get(x["delivery"]))
extra = sum(len(seen[x["delivery"]]) - 1 for x in d if seen.get(x["delivery"]))
# Only a delivery's first send may go unflagged.  The receiver's order is
# not the send order: a request written just before a kill can be read
# after the re-send that followed it.
unflagged = sum(1 for x in d if sum(1 for f in seen.get(x["delivery"], []) if not f) > 1)
import os
if unflagged and os.environ.get("SOAK_DEBUG"):
    for x in d:
        v = seen.get(x["delivery"], [])
        if sum(1 for f in v if not f) > 1:
            print("unflagged:", x["delivery"][:12], v, x["attempts"], x["flags"], file=sys.stderr)
            for l in open(sys.argv[1]):
                if x["delivery"] in l:
                    r = json.loads(l); print("   ", r["t"], r["path"], json.loads(r["body"])["possible_duplicate"], file=sys.stderr)
            import sqlite3
            c = sqlite3.connect(os.environ["SOAK_DB"])
            for row in c.execute("SELECT a.seq, a.n, a.started_at, a.finished_at, a.outcome, a.possible_duplicate FROM attempts a JOIN deliveries d ON d.seq=a.delivery WHERE lower(hex(d.key))=?", (x["delivery"],)):
                print("    attempt", row, file=sys.stderr)
            for row in c.execute("SELECT seq, kind, at, detail FROM events ORDER BY seq"):
                print("    event", row, file=sys.stderr)
            break
lost = sum(1 for x in d if not seen.get(x["delivery"]) and x["state"] != "failed")
failed = sum(1 for x in d if x["state"] == "failed")
print(f"soak: {sys.argv[3]} sends accepted, {sys.argv[4]} kills (SIGKILL), {sys.argv[5]} disk-full episodes")
print(f"deliveries due: {due}")
print(f"delivered:      {delivered}")
print(f"duplicates:     {extra} extra copies ({'all flagged' if not unflagged else f'{unflagged} NOT flagged'})")
print(f"failed:         {failed}")
print(f"lost:           {lost}")
print(f"evidence:       {'verifies' if sys.argv[6] == 'true' else 'DOES NOT VERIFY'}")
# A soak that sent nothing proved nothing (its requests were refused).
if due == 0:
    print("soak: NOTHING WAS SENT: the send API refused every request", file=sys.stderr)
sys.exit(0 if due > 0 and lost == 0 and unflagged == 0 and sys.argv[6] == "true" else 1)
PY
