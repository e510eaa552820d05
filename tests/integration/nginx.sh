#!/usr/bin/env bash
# nginx.sh - herald behind a local nginx configured as
# contrib/nginx-herald.conf shows (TLS with a throw-away certificate, the
# documented locations and headers; only ports and paths changed), run
# with --trust-proxy 127.0.0.1 as the README says.  A slowloris from one
# client (127.0.0.2) leaves other clients (127.0.0.3) served; herald's
# ETag revalidation survives the proxy; and herald tells the proxy's
# clients apart: a wrong admin token slows its sender only.
. "$(dirname "$0")/../lib.sh"

command -v nginx >/dev/null || { echo "nginx.sh: nginx missing (contrib/install-deps test)" >&2; exit 1; }
hport=$(free_port)
p80=$(free_port)
p443=$(free_port)
host=calendar.example.org
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 2 -subj "/CN=$host" >/dev/null 2>&1
sed -e "s#server 127.0.0.1:8080;#server 127.0.0.1:$hport;#" \
	-e "s#listen 80;#listen 127.0.0.1:$p80;#" \
	-e "s#listen 443 ssl http2;#listen 127.0.0.1:$p443 ssl http2;#" \
	-e '/listen \[::\]/d' \
	-e "s#^\([[:space:]]*\)ssl_certificate[[:space:]].*#\1ssl_certificate $T/cert.pem;#" \
	-e "s#^\([[:space:]]*\)ssl_certificate_key[[:space:]].*#\1ssl_certificate_key $T/key.pem;#" \
	"$ROOT/contrib/nginx-herald.conf" >"$T/site.conf"
check "the documented config was adapted (ports, certificate)" \
	test "$(grep -c "127.0.0.1:$hport;\|127.0.0.1:$p443 ssl\|$T/cert.pem\|$T/key.pem" "$T/site.conf")" = 4
mkdir -p "$T/ng"
cat >"$T/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
pid $T/nginx.pid;
error_log $T/nginx-error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/ng/body;
	proxy_temp_path $T/ng/proxy;
	fastcgi_temp_path $T/ng/fastcgi;
	uwsgi_temp_path $T/ng/uwsgi;
	scgi_temp_path $T/ng/scgi;
	include $T/site.conf;
}
EOF
check "nginx accepts the config" nginx -t -q -p "$T" -c "$T/nginx.conf"
spawn nginx -p "$T" -c "$T/nginx.conf"

cp "$ROOT/plans/acme-isms.json" "$T/plan.json"
cp -r "$ROOT/plans/people" "$T/people"
cp -r "$ROOT/plans/holidays" "$T/holidays"
ADMIN=adm-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
HERALD_ADMIN_TOKEN=$ADMIN spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" \
	--listen "127.0.0.1:$hport" --base-url "https://$host" --trust-proxy 127.0.0.1 \
	--dry-run 2>"$T/log"
pid=$LAST_PID
url="https://$host:$p443"
c() { # source address, curl args...: the status code
	local src=$1; shift
	curl -sk -m 5 --interface "$src" --resolve "$host:$p443:127.0.0.1" -o /dev/null \
		-w '%{http_code}' "$@"
}
healthy() { [ "$(c 127.0.0.3 "$url/healthz")" = 200 ]; }
check "herald answers through nginx" wait_for 20 healthy
check "plain HTTP redirects to https" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p80/")" = 301
etag=$(curl -sk --resolve "$host:$p443:127.0.0.1" -D - -o /dev/null "$url/feeds/public.ics" |
	tr -d '\r' | awk 'tolower($1)=="etag:"{print $2}')
check "the feed's ETag passes the proxy" test -n "$etag"
check "revalidation through the proxy: 304" test "$(c 127.0.0.3 -H "If-None-Match: $etag" "$url/feeds/public.ics")" = 304

# The slowloris: 150 TLS connections from 127.0.0.2, never finishing
# their headers.
$PY "$ROOT/tests/peers/slowloris.py" --port "$p443" --tls "$host" --source 127.0.0.2 \
	--count 150 --interval 0.5 --duration 8 --ready "$T/ready" >"$T/slow.json" &
slow=$!
check "slowloris connected" wait_for 30 test -f "$T/ready"
served=0
for i in 1 2 3 4 5; do
	[ "$(c 127.0.0.3 "$url/feeds/public.ics")" = 200 ] && [ "$(c 127.0.0.3 "$url/healthz")" = 200 ] &&
		served=$((served + 1))
done
check "other clients are served during the slowloris ($served of 5)" test "$served" = 5
wait "$slow"
check "slowloris ran ($(cat "$T/slow.json"))" \
	$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["opened"] >= 100, j' "$T/slow.json"

# Behind the proxy, herald tells its clients apart by X-Forwarded-For.
api="$url/api/communications/NOPE/send"
check "wrong token from 127.0.0.2: 401" test "$(c 127.0.0.2 -X POST -H "Authorization: Bearer x$ADMIN" "$api")" = 401
check "127.0.0.2 now waits: 429" test "$(c 127.0.0.2 -X POST -H "Authorization: Bearer $ADMIN" "$api")" = 429
check "127.0.0.3 is not slowed by it: 404" test "$(c 127.0.0.3 -X POST -H "Authorization: Bearer $ADMIN" "$api")" = 404
check "herald logged the client, not the proxy" grep -q 'wrong admin token from 127.0.0.2' "$T/log"

kill -TERM "$pid"
check "SIGTERM exits 0" wait "$pid"
finish
