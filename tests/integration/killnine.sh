#!/usr/bin/env bash
# killnine.sh - `herald run` killed with SIGKILL at random moments while
# deliveries fall due, restarted each time (KILLS cycles, default 50).
# By the receiver's own log: every delivery arrives, no delivery gets more
# than one extra copy per kill, each extra copy says possible_duplicate and
# its delivery is flagged duplicate in the evidence.  One receiver answers
# slowly, so kills land while sends are in flight and the duplicate path is
# really taken (the test fails if it never is).
. "$(dirname "$0")/../lib.sh"
KILLS=${KILLS:-50}
if ! "$HERALD" run --help >/dev/null 2>&1; then
	fail "herald run --help fails ($HERALD): nothing could be checked"
	finish
	exit 1
fi
rport=$(free_port)
hport=$(free_port)
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$rport" --log "$T/recv.log"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $rport))"
for i in 1 2 3 4 5; do export "HOOK$i=http://127.0.0.1:$rport/ok/h$i"; done
export HOOK1="http://127.0.0.1:$rport/slow/h1"
# 60 occurrences, one every second from 5 s from now, 5 webhooks each.
$PY - "$T/plan.json" <<'PY'
import datetime, json, sys
t0 = datetime.datetime.utcnow().replace(microsecond=0) + datetime.timedelta(seconds=5)
at = [(t0 + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%S") for i in range(60)]
ch = {"h%d" % i: {"type": "webhook", "url": "env:HOOK%d" % i} for i in range(1, 6)}
json.dump({"plan": {"id": "KILL", "title": "kill -9", "version": "1", "owner": "o",
                    "timezone": "UTC"},
           "channels": ch,
           "audiences": {"all": {"name": "All", "scope": "internal", "feed": "none",
                                 "deliver": [{"channel": c} for c in ch]}},
           "communications": [{"id": "TICK", "topic": "tick", "audiences": ["all"], "owner": "o",
                               "schedule": {"at": at, "duration": "PT1M"}}]},
          open(sys.argv[1], "w"))
PY
export HERALD_ADMIN_TOKEN=test-admin-token-of-at-least-32-chars HERALD_RETRY_BASE_MS=200
start_herald() {
	"$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$hport" 2>>"$T/err" &
	HPID=$!
}
kills=0
for i in $(seq 1 "$KILLS"); do
	start_herald
	sleep "0.$(( (RANDOM % 9) + 1 ))$(( RANDOM % 10 ))"   # a random moment, 0.10-0.99 s
	kill -9 "$HPID" 2>/dev/null && kills=$((kills + 1))
	wait "$HPID" 2>/dev/null
done
# Let the last run finish everything, then stop it cleanly.
start_herald
done_all() { [ "$(evq "$T/h.db" "sum(1 for x in d if x['state']=='sent')")" -ge 300 ]; }
wait_for 120 done_all
check "all 300 deliveries recorded sent" done_all
kill -TERM "$HPID"; wait "$HPID"
check "SIGTERM exits 0" [ $? -eq 0 ]
evq "$T/h.db" "'\\n'.join(x['delivery'] + '|' + ('1' if 'duplicate' in x['flags'] else '0') for x in d if x['state'] != 'pending')" >"$T/states"
check "every delivery arrived; at most one extra copy per kill each; every extra copy flagged" \
	$PY - "$T/recv.log" "$T/states" "$kills" <<'PY'
import collections, json, sys
copies = collections.defaultdict(list)
for l in open(sys.argv[1]):
    r = json.loads(l)
    copies[r["headers"]["x-herald-delivery"]].append(json.loads(r["body"])["possible_duplicate"])
dup = dict(l.strip().split("|") for l in open(sys.argv[2]))
kills = int(sys.argv[3])
missing = [k for k in dup if k not in copies]
assert not missing, "never arrived: %d" % len(missing)
extra = sum(len(v) - 1 for v in copies.values())
for k, v in copies.items():
    assert len(v) - 1 <= kills, "%s arrived %d times" % (k, len(v))
    if len(v) > 1:
        # Only the first send may be unflagged; the receiver may read a
        # request written just before a kill after the re-send that followed.
        assert sum(1 for f in v if not f) <= 1, "unflagged extra copy of %s" % k
        assert dup[k] == "1", "delivery %s not flagged duplicate" % k
# A kill during a send must have happened, or the flags above were never
# put to the test.
assert extra >= 1, "no kill landed while a send was in flight"
print("deliveries %d, extra copies %d (all flagged), kills %d" % (len(copies), extra, kills))
PY
grep -c "will be sent again" "$T/err" | sed "s/^/restarts that found claims in flight: /"
check "evidence chain verifies" "$HERALD" evidence verify --db "$T/h.db"
finish
