#!/usr/bin/env bash
# bench_delivery.sh - delivery throughput with the outbox and evidence
# written durably (WAL, synchronous=FULL):
#  (a) 10,000 webhook deliveries to a local nginx answering 200, next to
#      wrk's request rate against the same nginx (target >= 2,000/s);
#  (b) 20,000 personal emails to postfix's smtp-sink, next to postfix's
#      smtp-source against the same sink (target >= 0.5x smtp-source).
. "$(dirname "$0")/../lib.sh"
NW=${BENCH_WEBHOOKS:-10000} NM=${BENCH_MAILS:-20000}
now() { date +%s.%N; }
# The first release had no --by (the baseline runs this script too).
by=(); "$HERALD" send --help 2>&1 | grep -q -- '--by' && by=(--by bench)

# ---- (a) webhooks -> nginx
port=$(free_port)
mkdir -p "$T/nginx"
cat >"$T/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $T/nginx; proxy_temp_path $T/nginx; fastcgi_temp_path $T/nginx;
  uwsgi_temp_path $T/nginx; scgi_temp_path $T/nginx;
  server { listen 127.0.0.1:$port; keepalive_requests 100000;
           location / { client_body_buffer_size 64k; return 200 "ok"; } }
}
CONF
spawn /usr/sbin/nginx -c "$T/nginx/nginx.conf" -g "daemon off;"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $port))"
$PY - "$T/hooks.json" "$port" "$NW" <<'PY'
import json, sys
out, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
nch = 100
chans = {"h%d" % i: {"type": "webhook", "url": "http://127.0.0.1:%s/h/%d" % (port, i)} for i in range(nch)}
auds = {"a%d" % k: {"name": "A%d" % k, "scope": "internal", "feed": "none",
                    "deliver": [{"channel": c} for c in chans]} for k in range(n // nch)}
json.dump({"plan": {"id": "BENCH", "title": "bench", "version": "1", "owner": "o", "timezone": "UTC"},
           "channels": chans, "audiences": auds,
           "communications": [{"id": "M", "topic": "bench", "audiences": list(auds), "owner": "o",
                               "schedule": {"trigger": "manual"}}]}, open(out, "w"))
PY
cat >"$T/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = string.rep("x", 700)
wrk.headers["Content-Type"] = "application/json"
LUA
wrk_rate=$(wrk -t2 -c32 -d5s -s "$T/post.lua" "http://127.0.0.1:$port/h/0" | awk '/Requests\/sec/ {print $2}')
t0=$(now)
"$HERALD" send "$T/hooks.json" M --db "$T/a.db" "${by[@]}" >/dev/null 2>"$T/a.err"
rc=$?
t1=$(now)
sent=$(sqlite3 "$T/a.db" "select count(*) from delivery_states where state='sent'")
rate=$(echo "$sent / ($t1 - $t0)" | bc -l)
printf '(a) webhooks: %d sent (rc %d) in %.2fs = %8.0f deliveries/s   | wrk vs same nginx: %8.0f req/s   (target >= 2000/s)\n' \
	"$sent" "$rc" "$(echo "$t1 - $t0" | bc -l)" "$rate" "$wrk_rate"
status=0
[ "$sent" -eq "$NW" ] && [ "$(printf '%.0f' "$rate")" -ge 2000 ] || status=1

# ---- (b) personal emails -> smtp-sink
sport=$(free_port)
spawn /usr/sbin/smtp-sink $( [ "$(id -u)" -eq 0 ] && echo "-u nobody" ) 127.0.0.1:$sport 512 >/dev/null
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $sport))"
{ echo "name,email"; for i in $(seq 1 "$NM"); do echo "Person $i,p$i@example.org"; done; } >"$T/people.csv"
cat >"$T/mail.json" <<JSON
{"plan": {"id": "BENCHM", "title": "bench", "version": "1", "owner": "o", "timezone": "UTC"},
 "channels": {"m": {"type": "email", "smtp": "smtp://127.0.0.1:$sport", "from": "isms@example.org",
                    "starttls": false}},
 "audiences": {"all": {"name": "All", "scope": "internal", "feed": "none", "members": "file:people.csv",
                       "deliver": [{"channel": "m", "to": "members"}]}},
 "communications": [{"id": "M", "topic": "bench", "audiences": ["all"], "owner": "o",
                     "schedule": {"trigger": "manual"}}]}
JSON
t0=$(now)
/usr/sbin/smtp-source -s 16 -m "$NM" -l 2000 -f a@example.org -t b@example.org 127.0.0.1:$sport
t1=$(now)
src_rate=$(echo "$NM / ($t1 - $t0)" | bc -l)
t0=$(now)
"$HERALD" send "$T/mail.json" M --db "$T/b.db" "${by[@]}" >/dev/null 2>"$T/b.err"
rc=$?
t1=$(now)
sent=$(sqlite3 "$T/b.db" "select count(*) from delivery_states where state='sent'")
rate=$(echo "$sent / ($t1 - $t0)" | bc -l)
printf '(b) emails:   %d sent (rc %d) in %.2fs = %8.0f messages/s     | smtp-source vs same sink: %8.0f msg/s (target >= 0.5x = %.0f)\n' \
	"$sent" "$rc" "$(echo "$t1 - $t0" | bc -l)" "$rate" "$src_rate" "$(echo "$src_rate / 2" | bc -l)"
[ "$sent" -eq "$NM" ] && [ "$(echo "$rate >= $src_rate / 2" | bc -l)" -eq 1 ] || status=1
exit $status
