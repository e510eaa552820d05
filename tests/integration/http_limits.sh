#!/usr/bin/env bash
# http_limits.sh - the HTTP server's limits against hostile clients, on
# loopback addresses of their own (127.0.0.2 the attacker, 127.0.0.3 a
# bystander): a slowloris is cut off by the header timeout although it
# keeps the idle timer busy, and holds no more than the per-address limit
# while the bystander is served; refusals are logged once per interval
# with a count; behind --trust-proxy the last X-Forwarded-For hop is the
# client (wrong-token penalties land on it, not on the proxy, and the
# proxy itself is not held to the per-address limit), and a spoofed
# header from anyone else changes nothing.  Also: a FIFO as the plan file
# does not hang reloads, and a refused file's text is never quoted.
. "$(dirname "$0")/../lib.sh"

port=$(free_port)
base="http://127.0.0.1:$port"
cp "$ROOT/plans/acme-isms.json" "$T/plan.json"
cp -r "$ROOT/plans/people" "$T/people"
cp -r "$ROOT/plans/holidays" "$T/holidays"
ADMIN=adm-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
HERALD_ADMIN_TOKEN=$ADMIN HERALD_HEADER_TIMEOUT=2 HERALD_CONN_TIMEOUT=30 \
	spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$port" \
	--trust-proxy 127.0.0.1 --dry-run 2>"$T/log"
pid=$LAST_PID
check "service answers /healthz" wait_for 20 curl -sf "$base/healthz"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
refused() { curl -s "$base/metrics" | awk -v r="$1" '$1=="herald_http_refused_total{reason=\""r"\"}"{print $2}'; }

# A slowloris from 127.0.0.2: more connections than the per-address limit
# (64), each dribbling a header byte every 0.5 s, so the idle timeout (30 s)
# never fires.
$PY "$ROOT/tests/peers/slowloris.py" --port "$port" --source 127.0.0.2 --count 90 \
	--interval 0.5 --duration 9 --ready "$T/ready" >"$T/slow.json" &
slow=$!
check "slowloris connected" wait_for 20 test -f "$T/ready"
check "a bystander is served during the slowloris" \
	test "$(code --interface 127.0.0.3 "$base/feeds/public.ics")" = 200
check "the proxy's clients are served during the slowloris" \
	test "$(code -H 'X-Forwarded-For: 192.0.2.7' "$base/healthz")" = 200
check "the attacker's next connection is refused" \
	test "$(code --interface 127.0.0.2 "$base/healthz")" = 000
wait "$slow"
check "slowloris report" test -s "$T/slow.json"
check "every slow connection was closed by the header timeout, none lasted 6 s ($(cat "$T/slow.json"))" \
	$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["still_open"]==0 and j["closed_by_server"]==j["opened"] and j["longest_open"]<6, j' "$T/slow.json"
n=$(refused per-address)
check "refusals counted in /metrics (got $n)" test "${n:-0}" -ge 20
lines=$(grep -c 'httpd.limit' "$T/log")
check "refusals logged at most once per interval ($lines lines for $n refusals)" test "$lines" -le 2
check "a refusal line carries a count" bash -c "grep 'httpd.limit' '$T/log' | tail -1 | grep -q 'refused' "
check "slow connections logged, rate-limited" test "$(grep -c 'httpd.slow' "$T/log")" -le 3

# Wrong tokens: the penalty lands on the client the proxy names.
api="$base/api/communications/NOPE/send"
check "wrong token via the proxy for 192.0.2.10: 401" \
	test "$(code -X POST -H 'X-Forwarded-For: 198.51.100.1, 192.0.2.10' -H "Authorization: Bearer x$ADMIN" "$api")" = 401
check "192.0.2.10 then waits, even with the right token: 429" \
	test "$(code -X POST -H 'X-Forwarded-For: 192.0.2.10' -H "Authorization: Bearer $ADMIN" "$api")" = 429
check "another client of the proxy is not slowed: 404" \
	test "$(code -X POST -H 'X-Forwarded-For: 192.0.2.11' -H "Authorization: Bearer $ADMIN" "$api")" = 404
check "a client not behind the proxy cannot pose as 192.0.2.11" \
	test "$(code --interface 127.0.0.2 -X POST -H 'X-Forwarded-For: 192.0.2.11' -H "Authorization: Bearer x$ADMIN" "$api")" = 401
check "so 192.0.2.11 is still not slowed" \
	test "$(code -X POST -H 'X-Forwarded-For: 192.0.2.11' -H "Authorization: Bearer $ADMIN" "$api")" = 404
check "and the poser is: 429" \
	test "$(code --interface 127.0.0.2 -X POST -H "Authorization: Bearer $ADMIN" "$api")" = 429
check "penalties counted" test "$(refused auth-penalty)" -ge 2

# The proxy holds many keep-alive connections (one per client it serves):
# more than the per-address limit, and it is still served.
$PY - "$port" >"$T/keep.out" 2>&1 <<'PYEOF'
import socket, sys
port = int(sys.argv[1])
held = []
for i in range(80):
    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.1", 0))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.%d\r\n\r\n" % (i + 1))
    d = s.recv(65536)
    if not d.startswith(b"HTTP/1.1 200"):
        print("connection %d: %r" % (i, d[:40])); sys.exit(1)
    held.append(s)
print("80 keep-alive connections from the proxy, all served")
PYEOF
check "the trusted proxy is not held to the per-address limit: $(cat "$T/keep.out")" \
	grep -q 'all served' "$T/keep.out"

# A FIFO as the plan file: the reload is refused at once, nothing hangs.
mv "$T/plan.json" "$T/good.json"
mkfifo "$T/plan.json"
kill -HUP "$pid"
check "a FIFO plan is refused" wait_for 10 grep -q 'refused: .*not a regular file' "$T/log"
# Still serving (the feeds answer), degraded until a plan file loads.
check "still serving after the FIFO" test "$(code "$base/feeds/public.ics")" = 200
check "healthz degraded by the refused file" test "$(code "$base/healthz")" = 503
check "... healthz says so" bash -c 'curl -s "$0/healthz" | grep -q "still serving version"' "$base"
rm "$T/plan.json"
# A file that is not a plan (think /etc/shadow behind a symlink): refused,
# and none of its text reaches the log or the evidence.
printf 'root:$6$SECRETHASHCANARY$abc:19000:0:99999:7:::\n' >"$T/shadow"
ln -s "$T/shadow" "$T/plan.json"
kill -HUP "$pid"
check "a non-plan is refused" wait_for 10 bash -c "grep -c 'refused' '$T/log' | grep -q '^[2-9]'"
check "its text is not in the log" bash -c "! grep -q 'SECRETHASHCANARY\|root:' '$T/log'"
check "its text is not in the evidence" bash -c "! grep -qa 'SECRETHASHCANARY' '$T/h.db' '$T/h.db-wal' 2>/dev/null"
check "the refusal is recorded" test "$(sqlite3 "$T/h.db" "select count(*) from plan_versions where event like '%refused%'")" -ge 2

kill -TERM "$pid"
check "SIGTERM exits 0" wait "$pid"
finish
