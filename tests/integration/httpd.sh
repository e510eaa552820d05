#!/usr/bin/env bash
# httpd.sh - `herald run --dry-run` on a loopback port, checked with curl:
# statuses, gzip, HEAD, ETag and If-Modified-Since revalidation, the idle
# timeout, private feeds, and reloads (SIGHUP, file change, refused plan).
. "$(dirname "$0")/../lib.sh"

port=$(free_port)
base="http://127.0.0.1:$port"
cp "$ROOT/plans/acme-isms.json" "$T/plan.json"
cp -r "$ROOT/plans/people" "$T/people"
cp -r "$ROOT/plans/holidays" "$T/holidays"
HERALD_CONN_TIMEOUT=2 spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" \
	--listen "127.0.0.1:$port" --dry-run 2>"$T/log"
pid=$LAST_PID
check "service answers /healthz" wait_for 20 curl -sf "$base/healthz"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
hdr() { # url, header name, curl args...: prints the header's value
	local u=$1 h=$2; shift 2
	curl -s -D - -o /dev/null "$@" "$u" | tr -d '\r' | awk -v h="$h" 'BEGIN{IGNORECASE=1} index(tolower($0), tolower(h) ":")==1 {sub(/^[^:]*: */, ""); print}'
}
"$HERALD" feeds "$T/plan.json" --db "$T/h.db" --base-url "$base" >"$T/feeds.txt"
priv=$(awk -F'\t' '$1=="all-staff"{print $3}' "$T/feeds.txt")
tok=$(echo "$priv" | sed -E 's#.*/feeds/([^/]+)/all-staff\.ics#\1#')
check "feeds prints a webcal URL" grep -q "webcal://127.0.0.1:$port/feeds/$tok/all-staff.ics" "$T/feeds.txt"
# Every URL `herald feeds` prints answers 200 on the running service.
n=0
while IFS=$'\t' read -r aud kind https webcal; do
	[ "$kind" = none ] && continue
	n=$((n + 1))
	check "feeds: $aud https URL 200" [ "$(code "$https")" = 200 ]
	check "feeds: $aud webcal URL 200 over http" [ "$(code "http://${webcal#webcal://}")" = 200 ]
done < <(grep -v '^#' "$T/feeds.txt")
check "feeds printed the plan's 8 feeds ($n)" [ "$n" -eq 8 ]
# Without the service's database it says so, and makes none (a new
# database would mean a new key: URLs that answer 404).
(cd "$T" && "$HERALD" feeds "$T/plan.json" >"$T/nofeeds.out" 2>"$T/nofeeds.err")
check "feeds without the database exits 3" [ $? -eq 3 ]
check "feeds says the database does not exist ($(head -c 300 "$T/nofeeds.err"))" grep -q "database herald.db: does not exist" "$T/nofeeds.err"
check "feeds created no database" [ ! -e "$T/herald.db" ]
check "feeds printed no URL" [ ! -s "$T/nofeeds.out" ]

# Statuses.
check "index 200" [ "$(code "$base/")" = 200 ]
check "index shows the plan version" bash -c "curl -s '$base/' | grep -q 'version 3.0'"
curl -s "$base/" >"$T/index.html"
check "index: health as a sentence" grep -q 'The service is running normally: plan version 3.0 is loaded' "$T/index.html"
check "index: no raw JSON, no internal counts" bash -c "! grep -qiE '\\{\"|pending|uptime_seconds|sha256' '$T/index.html'"
check "index: the owner without an email address" bash -c "grep -q 'Owner: Dana Reyes\\.' '$T/index.html' && ! grep -q '@' '$T/index.html'"
check "public feed 200" [ "$(code "$base/feeds/public.ics")" = 200 ]
check "private feed with token 200" [ "$(code "$priv")" = 200 ]
check "private feed without token 404" [ "$(code "$base/feeds/all-staff.ics")" = 404 ]
# One character changed (never to itself).
case "$tok" in *A) wrong=${tok%?}B ;; *) wrong=${tok%?}A ;; esac
check "private feed with a wrong token 404" [ "$(code "$base/feeds/$wrong/all-staff.ics")" = 404 ]
check "another audience's token 404" [ "$(code "$base/feeds/$tok/leadership.ics")" = 404 ]
check "feed:none audience 404" [ "$(code "$base/feeds/regulators.ics")" = 404 ]
check "unknown audience 404" [ "$(code "$base/feeds/nobody.ics")" = 404 ]
a=$(curl -s -D - "$base/feeds/nobody.ics" | tr -d '\r' | grep -iv '^date:')
b=$(curl -s -D - "$base/feeds/$tok/leadership.ics" | tr -d '\r' | grep -iv '^date:')
c=$(curl -s -D - "$base/feeds/regulators.ics" | tr -d '\r' | grep -iv '^date:')
check "404s are indistinguishable" [ "$a" = "$b" -a "$b" = "$c" ]
check "unknown path 404" [ "$(code "$base/nope")" = 404 ]
check "POST to a feed 405" [ "$(code -X POST "$base/feeds/public.ics")" = 405 ]
check "POST with a body to a feed 405" [ "$(code -X POST --data-binary 'x=1' "$base/feeds/public.ics")" = 405 ]
check "DELETE / 405" [ "$(code -X DELETE "$base/")" = 405 ]
check "oversize headers 431" [ "$(code -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)" "$base/feeds/public.ics")" = 431 ]
head -c 300000 /dev/zero >"$T/big.bin"
check "oversize body 413" [ "$(code -X POST --data-binary @"$T/big.bin" "$base/")" = 413 ]
# Routes match exactly; the query is not part of the match.
check "a page's path with more after it 404" [ "$(code "$base/healthz/x")" = 404 ]
check "/report/anything 404" [ "$(code "$base/report/anything")" = 404 ]
check "/metricsx 404" [ "$(code "$base/metricsx")" = 404 ]
check "a query does not change the route" [ "$(code "$base/healthz?x=1")" = 200 ]
check "a feed with a query 200" [ "$(code "$base/feeds/public.ics?v=2")" = 200 ]
check "bad query on /report 400" [ "$(code "$base/report?from=yesterday")" = 400 ]
check "unknown query on /report 400" [ "$(code "$base/report?limit=5")" = 400 ]
check "duplicate query on /report 400" [ "$(code "$base/report?from=2026-01-01&from=2026-02-01")" = 400 ]
check "a good query reaches /report (401: no token)" [ "$(code "$base/report?from=2026-01-01&to=2026-02-01T00:00:00Z")" = 401 ]
check "OPTIONS 405" [ "$(code -X OPTIONS "$base/feeds/public.ics")" = 405 ]
check "OPTIONS says what is allowed" [ "$(hdr "$base/feeds/public.ics" Allow -X OPTIONS)" = "GET, HEAD" ]
check "POST to a page 405 with Allow" [ "$(hdr "$base/healthz" Allow -X POST)" = "GET, HEAD" ]
raw() { # request bytes: the status line of the answer
	$PY -c 'import socket,sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.settimeout(5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin1"))
print(s.recv(200).split(b"\r\n")[0].decode())' "$port" "$1"
}
check "CONNECT 405" bash -c "[[ '$(raw 'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n')' == 'HTTP/1.1 405'* ]]"
check "two Content-Length 400" bash -c "[[ '$(raw 'POST /api/communications/X/send HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc')' == 'HTTP/1.1 400'* ]]"
check "Content-Length with Transfer-Encoding 400" bash -c "[[ '$(raw 'POST /api/communications/X/send HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')' == 'HTTP/1.1 400'* ]]"
check "two Transfer-Encoding 400" bash -c "[[ '$(raw 'POST /api/communications/X/send HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')' == 'HTTP/1.1 400'* ]]"
csp=$(hdr "$base/" Content-Security-Policy)
check "HTML has a Content-Security-Policy ($csp)" [ "${csp%%;*}" = "default-src 'none'" ]
check "HTML has nosniff" [ "$(hdr "$base/" X-Content-Type-Options)" = nosniff ]
check "404 has nosniff" [ "$(hdr "$base/nope" X-Content-Type-Options)" = nosniff ]
check "healthz 200 JSON" bash -c "curl -s '$base/healthz' | $PY -c 'import json,sys; j=json.load(sys.stdin); assert j[\"plan\"][\"version\"]==\"3.0\" and j[\"database\"]==\"ok\" and \"uptime_seconds\" in j'"
check "content type" [ "$(hdr "$base/feeds/public.ics" Content-Type)" = "text/calendar; charset=utf-8" ]
check "cache-control" [ -n "$(hdr "$base/feeds/public.ics" Cache-Control)" ]

# gzip round trip, HEAD.
curl -s "$base/feeds/public.ics" -o "$T/plain.ics"
curl -s -H 'Accept-Encoding: gzip' "$base/feeds/public.ics" -o "$T/gz.bin"
check "gzip body decompresses to the plain body" bash -c "gzip -dc '$T/gz.bin' | cmp -s - '$T/plain.ics'"
check "gzip Content-Encoding" [ "$(hdr "$base/feeds/public.ics" Content-Encoding -H 'Accept-Encoding: gzip')" = gzip ]
check "no gzip when q=0" [ -z "$(hdr "$base/feeds/public.ics" Content-Encoding -H 'Accept-Encoding: gzip;q=0')" ]
check "feed is a VCALENDAR" grep -q '^BEGIN:VCALENDAR' "$T/plain.ics"
check "HEAD 200 without body" [ "$(curl -s -I "$base/feeds/public.ics" -o /dev/null -w '%{http_code} %{size_download}')" = "200 0" ]
check "HEAD has Content-Length" [ "$(hdr "$base/feeds/public.ics" Content-Length -I)" = "$(stat -c %s "$T/plain.ics")" ]

# Revalidation.
etag=$(hdr "$base/feeds/public.ics" ETag)
lm=$(hdr "$base/feeds/public.ics" Last-Modified)
check "ETag present" [ -n "$etag" ]
check "If-None-Match 304" [ "$(code -H "If-None-Match: $etag" "$base/feeds/public.ics")" = 304 ]
check "If-None-Match other 200" [ "$(code -H 'If-None-Match: "nope"' "$base/feeds/public.ics")" = 200 ]
check "If-Modified-Since 304" [ "$(code -H "If-Modified-Since: $lm" "$base/feeds/public.ics")" = 304 ]
check "If-Modified-Since old 200" [ "$(code -H 'If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT' "$base/feeds/public.ics")" = 200 ]
check "private ETag 304" [ "$(code -H "If-None-Match: $(hdr "$priv" ETag)" "$priv")" = 304 ]

# Idle connection closed by the timeout, while a normal client is served.
$PY - "$port" >"$T/idle.out" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /feeds/public.ics HTTP/1.1\r\nHost: x\r\n")   # never finished
s.settimeout(10)
t = time.time()
try:
    d = s.recv(100)
except socket.timeout:
    print("still open"); sys.exit(1)
print("closed after %.1fs" % (time.time() - t))
PYEOF
idle=$!
sleep 0.3
check "normal client served while a connection idles" [ "$(code "$base/feeds/public.ics")" = 200 ]
if wait "$idle"; then ok; else fail "idle connection not closed: $(cat "$T/idle.out")"; fi

# Metrics.
m=$(curl -s "$base/metrics")
check "metrics count feed 200s" grep -q 'herald_http_requests_total{class="feed",status="200"}' <<<"$m"
check "metrics count 404s" grep -q 'status="404"' <<<"$m"
check "metrics plan info" grep -q 'herald_plan_info{id="ACME-ISMS-COMMS",version="3.0"' <<<"$m"
check "metrics bytes" grep -q '^herald_http_response_bytes_total [1-9]' <<<"$m"

# SIGHUP reload with a changed plan: new ETag, new content.
sed -i 's/"version": "3.0"/"version": "3.1"/; s/Trust centre/Trust center/g; s/"start": "2026-06-01T12:00"/"start": "2026-06-02T12:00"/' "$T/plan.json"
kill -HUP "$pid"
check "reload visible in healthz" wait_for 10 bash -c "curl -s '$base/healthz' | grep -q '\"version\":\"3.1\"'"
etag2=$(hdr "$base/feeds/public.ics" ETag)
check "new ETag after reload" [ -n "$etag2" -a "$etag2" != "$etag" ]
check "old ETag now 200" [ "$(code -H "If-None-Match: $etag" "$base/feeds/public.ics")" = 200 ]
curl -s "$base/feeds/public.ics" -o "$T/plain2.ics"
check "new content after reload" grep -q 'version 3.1' "$T/plain2.ics"
# The file poller may reload first; the SIGHUP reload is logged all the same.
check "reload logged" wait_for 10 grep -q 'reloaded (SIGHUP)' "$T/log"

# A bad plan is refused; the old one keeps serving.
cp "$T/plan.json" "$T/good.json"
echo '{ "plan": { "id": "broken" }' >"$T/plan.json"
check "bad plan refused (file change)" wait_for 10 grep -q 'refused' "$T/log"
check "still serving 3.1" bash -c "curl -s '$base/healthz' | grep -q '\"version\":\"3.1\"'"
check "same ETag after refused reload" [ "$(hdr "$base/feeds/public.ics" ETag)" = "$etag2" ]
check "refusal recorded as evidence" bash -c "sqlite3 '$T/h.db' \"select count(*) from plan_versions where event like '%refused%'\" | grep -q '^[1-9]'"
# Monitoring hears of it: the next start would refuse this file.
check "healthz degraded (503) by the refused plan" bash -c 'test "$(curl -s -o /dev/null -w "%{http_code}" "$0/healthz")" = 503' "$base"
curl -s "$base/healthz" >"$T/health.json"
check "healthz names the refused plan" "$PY" -c '
import json, sys
h = json.load(open(sys.argv[1]))
assert h["status"] == "degraded", h["status"]
d = [c for c in h["degraded"] if c["what"] == "plan"]
assert d and "still serving version 3.1" in d[0]["reason"] and "refused" in d[0]["reason"], h["degraded"]
' "$T/health.json"
cp "$T/good.json" "$T/plan.json"
kill -HUP "$pid"
check "a good reload clears it" wait_for 10 bash -c 'test "$(curl -s -o /dev/null -w "%{http_code}" "$0/healthz")" = 200' "$base"
check "no secrets in the log" bash -c "! grep -qi 'demo-secret\|password=' '$T/log'"
# The demo values themselves (demo-NAME) stand in for secrets: not logged.
for v in $(grep -o 'env:[A-Z_]*' "$T/good.json" | sort -u | sed 's/env:/demo-/'); do
	check "no demo value $v in the log" bash -c "! grep -qF -- '$v' '$T/log'"
done

kill -TERM "$pid"
check "SIGTERM exits 0" wait "$pid"
finish
