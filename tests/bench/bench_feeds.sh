#!/usr/bin/env bash
# bench_feeds.sh - requests/s for a ~100 KB feed from `herald run`, full
# responses and 304 revalidations, next to nginx serving the same bytes as
# a static file, in the same run (wrk, 32 connections, keep-alive).
# Target: herald >= 0.8x nginx on both.  BENCH_SECONDS sets each run's length.
. "$(dirname "$0")/../lib.sh"
secs=${BENCH_SECONDS:-5}
for tool in wrk nginx; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
		{ echo "bench_feeds: $tool missing (make deps-bench)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# A plan whose public feed is about 100 KB: one-off events in the window.
$PY - "$T/plan.json" <<'PYEOF'
import json, sys, datetime as d
comms = []
for i in range(55):
    at = [(d.date(2026, 12, 1) + d.timedelta(days=7 * k + i)).isoformat() + "T10:00" for k in range(3)]
    comms.append({"id": f"C{i:03d}", "topic": f"Bench communication {i}: supplier security review",
                  "description": "A realistic description of what is communicated, to whom and why. " * 2,
                  "audiences": ["public"], "owner": "Bench Owner",
                  "schedule": {"at": at, "duration": "PT1H"}})
plan = {"plan": {"id": "BENCH", "title": "Bench plan", "version": "1", "owner": "Bench <b@example.org>",
                 "approved_on": "2026-10-01", "timezone": "Europe/London"},
        "channels": {"hook": {"type": "webhook", "url": "env:BENCH_HOOK"}},
        "audiences": {"public": {"name": "Public", "scope": "external", "feed": "public",
                                 "deliver": [{"channel": "hook"}]}},
        "communications": comms}
json.dump(plan, open(sys.argv[1], "w"), indent=1)
PYEOF
hp=$(free_port)
HERALD_NOW=2026-11-22T10:00:00Z spawn "$HERALD" run "$T/plan.json" --db "$T/b.db" \
	--listen "127.0.0.1:$hp" --dry-run 2>"$T/herald.log"
wait_for 20 curl -sf "http://127.0.0.1:$hp/healthz" || { echo "herald did not start" >&2; cat "$T/herald.log" >&2; exit 1; }
mkdir -p "$T/www/feeds" "$T/ngx"
chmod 755 "$T"   # nginx workers (nobody when run as root) read the file
curl -s "http://127.0.0.1:$hp/feeds/public.ics" -o "$T/www/feeds/public.ics"
size=$(stat -c %s "$T/www/feeds/public.ics")

np=$(free_port)
cat >"$T/nginx.conf" <<NGX
worker_processes auto;
pid $T/ngx/nginx.pid;
error_log $T/ngx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on; tcp_nopush on; keepalive_requests 1000000;
	client_body_temp_path $T/ngx/body; proxy_temp_path $T/ngx/proxy;
	fastcgi_temp_path $T/ngx/fcgi; uwsgi_temp_path $T/ngx/uwsgi; scgi_temp_path $T/ngx/scgi;
	types { text/calendar ics; }
	server { listen 127.0.0.1:$np; root $T/www; }
}
NGX
"$NGINX" -p "$T/ngx" -c "$T/nginx.conf" -e "$T/ngx/error.log" 2>>"$T/ngx/error.log" ||
	{ echo "nginx did not start" >&2; cat "$T/ngx/error.log" >&2; exit 1; }
stop_nginx() { local p; p=$(cat "$T/ngx/nginx.pid" 2>/dev/null) && kill "$p" 2>/dev/null; rm -f "$T/ngx/nginx.pid"; }
trap 'stop_nginx; cleanup' EXIT
wait_for 10 curl -sf "http://127.0.0.1:$np/feeds/public.ics" -o /dev/null || { echo "nginx not answering" >&2; cat "$T/ngx/error.log" >&2; ls -la "$T/www/feeds" >&2; exit 1; }

etag() { curl -s -D - -o /dev/null "$1" | tr -d '\r' | awk 'tolower($1)=="etag:"{print $2}'; }
rps() { # url, extra wrk args...
	local u=$1; shift
	wrk -t2 -c32 -d"${secs}s" "$@" "$u" 2>/dev/null | awk '/^Requests\/sec:/{printf "%d", $2}'
}
hurl="http://127.0.0.1:$hp/feeds/public.ics" nurl="http://127.0.0.1:$np/feeds/public.ics"
he=$(etag "$hurl") ne=$(etag "$nurl")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $he" "$hurl")" = 304 ] || { echo "herald: no 304" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ne" "$nurl")" = 304 ] || { echo "nginx: no 304" >&2; exit 1; }

echo "feed: $size bytes; wrk -t2 -c32 -d${secs}s, keep-alive"
n_full=$(rps "$nurl"); h_full=$(rps "$hurl")
n_304=$(rps "$nurl" -H "If-None-Match: $ne"); h_304=$(rps "$hurl" -H "If-None-Match: $he")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "0" }'; }
rf=$(ratio "$h_full" "$n_full") r3=$(ratio "$h_304" "$n_304")
printf '%-14s %12s %12s %7s\n' "" herald nginx ratio
printf '%-14s %12s %12s %7s\n' "full 200/s" "$h_full" "$n_full" "$rf"
printf '%-14s %12s %12s %7s\n' "304/s" "$h_304" "$n_304" "$r3"
echo "target: ratio >= 0.80 on both (reference here: nginx ~18,700 full, ~64,600 304/s)"
stop_nginx
awk -v a="$rf" -v b="$r3" 'BEGIN{ exit !(a >= 0.8 && b >= 0.8) }'
