#!/usr/bin/env bash
# acks.sh - acknowledgements only a person gives, against `herald run` and
# Debian's aiosmtpd, with time as the service sees it (HERALD_NOW):
#  run 1: POLICY goes to Ann, Bob and Cara at two notify offsets, one ack
#         link each (both messages carry it; {{name}} is theirs; the link
#         is added to a message that lacks {{ack_url}}).  Scanners (GET,
#         HEAD, a Safe Links user agent, link-preview headers) record
#         nothing; bad POSTs (other site, too big, wrong method, trailing
#         garbage) record nothing; Ann presses the button with curl, Bob in
#         headless Chromium (screenshots kept in the test's temp dir; a
#         file:// page that auto-submits his form is refused as another
#         site); the register shows Cara outstanding;
#  run 2, a day later: the reminders go to Cara only; a reload replaces
#         Cara by Dan: Dan gets the occurrence he missed (onboarding, with
#         his own link), Cara's pending reminders are cancelled "left the
#         audience".
. "$(dirname "$0")/../lib.sh"
CHROME=${CHROME:-/usr/bin/chromium}

sport=$(free_port) hport=$(free_port)
spawn $PY "$ROOT/tests/peers/smtp_server.py" --port "$sport" --log "$T/mail.log"
wait_for 15 $PY -c "import socket; socket.create_connection(('127.0.0.1', $sport))"
base="http://127.0.0.1:$hport"
plan() { # members as JSON list items
	cat >"$T/plan.json.new" <<JSON
{"plan": {"id": "T-ACKS", "version": "$1", "owner": "Ops <ops@example.org>", "timezone": "Europe/London"},
 "channels": {"mail": {"type": "email", "smtp": "smtp://127.0.0.1:$sport", "from": "isms@example.org",
                       "starttls": false}},
 "audiences": {"staff": {"name": "All staff", "scope": "internal", "feed": "none",
                         "members": [$2],
                         "deliver": [{"channel": "mail", "to": "members"}]}},
 "communications": [
   {"id": "POLICY", "topic": "New ISMS policy", "audiences": ["staff"], "owner": "Dana Reyes",
    "description": "The information security policy, version 4.",
    "notify": ["PT2S", "PT0S"], "message": "Dear {{name}}, {{topic}} is out: please read it.",
    "schedule": {"at": ["2027-03-01T09:00:00"]}, "acknowledge": {"remind_after": ["P1D", "P2D"]}}]}
JSON
	mv "$T/plan.json.new" "$T/plan.json"
}
ANN='{"name": "Ann Ávila", "email": "ann@example.org"}'
BOB='{"name": "Bob", "email": "bob@example.org"}'
CARA='{"name": "Cara", "email": "cara@example.org"}'
DAN='{"name": "Dan", "email": "dan@example.org"}'
plan 1 "$ANN, $BOB, $CARA"

export HERALD_ADMIN_TOKEN=acks-admin-token-of-at-least-32-characters
run_at() { # HERALD_NOW
	HERALD_NOW=$1 spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$hport" \
		--base-url "$base" 2>>"$T/herald.log"
	PID=$LAST_PID
	wait_for 15 curl -sf "$base/healthz"
}
stop() { kill -TERM "$PID"; wait "$PID"; }
q() { evq "$T/h.db" "$1"; }
mails_to() { grep '"event": "message"' "$T/mail.log" 2>/dev/null | grep -c "\"$1\""; }
has_mails() { [ "$(mails_to "$1")" = "$2" ]; }
acks() { sqv2 "$T/h.db" "SELECT count(*) FROM acks"; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# The text/plain (or text/html) parts of the messages to $1, as JSON.
parts() {
	$PY - "$T/mail.log" "$1" "$2" <<'PY'
import email, email.policy, json, sys
out = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "message" and sys.argv[2] in r["rcpt"]:
        m = email.message_from_string(r["data"], policy=email.policy.default)
        out += [p.get_content() for p in m.walk() if p.get_content_type() == sys.argv[3]]
print(json.dumps(out))
PY
}
link_of() { parts "$1" text/plain | $PY -c 'import json, re, sys
t = json.load(sys.stdin); print(re.search(r"http://\S+/ack/\S+", t[0]).group(0))'; }

# ---------------------------------------------------------------- run 1
run_at 2027-03-01T08:59:56Z
for who in ann bob cara; do
	check "both notices reached $who" wait_for 20 has_mails "$who@example.org" 2
done
ann_text=$(parts ann@example.org text/plain)
ann_html=$(parts ann@example.org text/html)
check "one link per person, in both notices, in text and HTML alike" $PY - "$ann_text" "$ann_html" \
	"$(parts bob@example.org text/plain)" <<'PY'
import json, re, sys
text, html, bob = (json.loads(a) for a in sys.argv[1:4])
assert len(text) == 2 and len(html) == 2, (len(text), len(html))
links = {re.search(r"http://\S+/ack/\S+", t).group(0) for t in text}
assert len(links) == 1, links
link = links.pop()
assert all(f'href="{link}"' in h for h in html), "the HTML button is the same link"
assert link not in "".join(bob), "Bob has his own link"
# {{name}} is the member; the custom message lacked {{ack_url}}: added.
assert all(t.startswith("Dear Ann Ávila, New ISMS policy is out") for t in text), text[0]
assert all("Please acknowledge that you have read this: " + link in t for t in text), text[0]
PY
ANN_LINK=$(link_of ann@example.org)
BOB_LINK=$(link_of bob@example.org)
CARA_LINK=$(link_of cara@example.org)
check "the links are on this service" bash -c "[[ '$ANN_LINK' == $base/ack/* ]]"

# Scanners and previews fetch the link: nothing is recorded.
curl -s "$ANN_LINK" >"$T/page.html"
check "GET: the confirmation page" grep -q '>I have read this</button>' "$T/page.html"
check "GET: the page says what, from whom, when, to whom" bash -c "grep -q 'New ISMS policy' '$T/page.html' &&
	grep -q 'version 4' '$T/page.html' && grep -q 'Dana Reyes' '$T/page.html' &&
	grep -q 'T-ACKS, version 1' '$T/page.html' && grep -q 'ann@example.org' '$T/page.html' &&
	grep -q 'Monday 1 March 2027 at 09:00 (Europe/London, UTC+00:00)' '$T/page.html'"
check "GET: the page shows the message as sent (chat cards link here for the rest)" \
	bash -c "grep -q '<div class=\"message\" id=\"message\">Dear Ann Ávila, New ISMS policy is out: please read it.' '$T/page.html'"
check "GET: no placeholder on the page" bash -c "! grep -q '{{' '$T/page.html'"
check "GET: no script" bash -c "! grep -qi '<script' '$T/page.html'"
check "HEAD: 200" test "$(curl -s -I -o /dev/null -w '%{http_code}' "$ANN_LINK")" = 200
check "Safe Links user agent: 200" test "$(status -A 'Mozilla/5.0 (compatible; Microsoft SafeLinks)' "$ANN_LINK")" = 200
check "Slack unfurler: 200" test "$(status -A 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' "$ANN_LINK")" = 200
check "prefetch and preview headers: 200" test "$(status -H 'Purpose: prefetch' -H 'Sec-Purpose: prefetch;prerender' \
	-H 'X-Purpose: preview' -H 'Sec-Fetch-Mode: no-cors' "$ANN_LINK")" = 200
check "a scanner that follows every link of the page too" bash -c "for u in \$(grep -o 'action=\"[^\"]*\"' '$T/page.html' | cut -d'\"' -f2); do curl -s -o /dev/null '$base'\$u; done; true"
check "nothing recorded by scanners" test "$(acks)" = 0

# Requests the button never makes: clear statuses, nothing recorded.
check "POST from another site (Origin): 403" test "$(status -H 'Origin: https://evil.example' -d confirm=read "$ANN_LINK")" = 403
check "POST from another site (Sec-Fetch-Site): 403" test "$(status -H 'Sec-Fetch-Site: cross-site' -d confirm=read "$ANN_LINK")" = 403
head -c 2048 /dev/zero | tr '\0' 'x' | sed 's/^/confirm=read\&pad=/' >"$T/big"
check "POST over 1 KiB: 413" test "$(status --data-binary @"$T/big" "$ANN_LINK")" = 413
check "POST without the form's field: 400" test "$(status -X POST "$ANN_LINK")" = 400
check "PUT: 405 allowing GET, HEAD, POST" bash -c "curl -s -o /dev/null -D - -X PUT -d confirm=read '$ANN_LINK' | tr -d '\r' |
	grep -qx 'Allow: GET, HEAD, POST'"
check "DELETE: 405" test "$(status -X DELETE "$ANN_LINK")" = 405
check "token with trailing garbage: 404" test "$(status -d confirm=read "${ANN_LINK}x")" = 404
check "token with a trailing path: 404" test "$(status -d confirm=read "$ANN_LINK/")" = 404
forged="${ANN_LINK%?}$([ "${ANN_LINK: -1}" = A ] && echo B || echo A)"
check "forged token, GET and POST: 404" test "$(status "$forged")$(status -d confirm=read "$forged")" = 404404
check "nothing recorded by bad requests" test "$(acks)" = 0

# The register: everyone asked, no one yet.
reg() { "$HERALD" evidence acks --db "$T/h.db" "$@"; }
check "register: three outstanding" test "$(HERALD_NOW=2027-03-01T09:01:00Z reg --outstanding --format csv | tail -n +2 | wc -l)" = 3

# Ann presses the button (curl, as the form does).
curl -s -d confirm=read -H "Origin: $base" -H 'Sec-Fetch-Site: same-origin' "$ANN_LINK" >"$T/done.html"
check "POST: thank you" grep -q 'Thank you: acknowledged' "$T/done.html"
check "POST: recorded once" test "$(acks)" = 1
check "POST again: harmless" bash -c "curl -s -d confirm=read '$ANN_LINK' | grep -q 'already acknowledged' && test \"\$(sqlite3 '$T/h.db' 'SELECT count(*) FROM acks')\" = 1"
check "GET now says so" bash -c "curl -s '$ANN_LINK' | grep -q 'You already acknowledged this on'"

# Bob, in a real browser.
if [ -x "$CHROME" ]; then
	# A page of another site that submits his form by itself: refused.
	cat >"$T/evil.html" <<HTML
<!DOCTYPE html><html><body><form id="f" method="post" action="$BOB_LINK">
<input type="hidden" name="confirm" value="read"></form>
<script>document.getElementById("f").submit()</script></body></html>
HTML
	timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome-evil" --virtual-time-budget=5000 --dump-dom \
		"file://$T/evil.html" >"$T/evil-dom.html" 2>>"$T/chrome.log"
	check "a real browser's cross-site submit: refused" grep -q 'came from another site' "$T/evil-dom.html"
	check "… and nothing recorded" test "$(acks)" = 1
	ACK_BROWSER_LOG=$T/chrome.log timeout 120 $PY "$ROOT/tests/clients/ack_browser.py" "$CHROME" "$BOB_LINK" "$T/ack-page.png" \
		"$T/ack-done.png" >"$T/browser.json" 2>>"$T/chrome.log"
	check "Chromium drove the page" test -s "$T/browser.json"
	check "the page: one button, a POST to itself, no script; the answer: recorded" \
		$PY - "$T/browser.json" "$BOB_LINK" <<'PY'
import json, sys, urllib.parse
r = json.load(open(sys.argv[1]))
assert r["label"] == "I have read this", r["label"]
assert r["form"]["method"] == "post", r["form"]
assert r["form"]["action"] == urllib.parse.urlparse(sys.argv[2]).path, r["form"]
assert r["scripts"] == 0
assert "New ISMS policy" in r["before"] and "Bob" in r["before"], r["before"]
assert "Thank you: acknowledged" in r["after"] and "was recorded on" in r["after"], r["after"]
PY
	check "screenshots kept" test -s "$T/ack-page.png" -a -s "$T/ack-done.png"
	[ -n "${HERALD_KEEP_SHOTS:-}" ] && cp "$T"/ack-page.png "$T"/ack-done.png "$HERALD_KEEP_SHOTS/"
	check "Bob's acknowledgement recorded" test "$(acks)" = 2
else
	echo "SKIP: no $CHROME; Bob presses the button with curl"
	curl -s -o /dev/null -d confirm=read "$BOB_LINK"
fi
check "register: Cara alone outstanding" test "$(HERALD_NOW=2027-03-01T09:02:00Z reg --outstanding --format json |
	$PY -c 'import json,sys; print(",".join(r["email"] for r in json.load(sys.stdin)))')" = cara@example.org
stop
check "run 1 stopped cleanly" test $? = 0

# ---------------------------------------------------------------- run 2
run_at 2027-03-02T09:00:10Z
reminded() { [ "$(q "sum(1 for x in d if x['kind']=='reminder' and x['state']!='pending')")" -ge 3 ]; }
check "the first reminders settle" wait_for 30 reminded
check "a reminder reached Cara (one, after the last notice)" wait_for 20 has_mails cara@example.org 3
check "no reminder to Ann" has_mails ann@example.org 2
check "no reminder to Bob" has_mails bob@example.org 2
check "their first reminders are cancelled: acknowledged" test \
	"$(q "sorted(set(x['detail'] for x in d if x['kind']=='reminder' and x['state']=='cancelled'))")" = \
	"acknowledged before the reminder"

# Cara leaves, Dan joins.
plan 2 "$ANN, $BOB, $DAN"
kill -HUP "$PID"
check "Dan gets the occurrence he missed" wait_for 20 has_mails dan@example.org 1
left() { [ "$(q "sum(1 for x in d if x['recipient']=='cara@example.org' and x['detail']=='left the audience')")" = 1 ]; }
check "Cara's pending reminder: cancelled, left the audience" wait_for 10 left
check "Dan's is an onboarding delivery with its own reminders" test \
	"$(q "sorted((x['kind'], x['state']) for x in d if x['recipient']=='dan@example.org')")" = \
	"('onboarding', 'sent'),('reminder', 'pending'),('reminder', 'pending')"
check "no one else was onboarded" test "$(q "sum(1 for x in d if x['kind']=='onboarding')")" = 1
check "Dan's message: welcome, his name, his own link" $PY - "$(parts dan@example.org text/plain)" \
	"$ANN_LINK" "$BOB_LINK" "$CARA_LINK" <<'PY'
import json, re, sys
t = json.loads(sys.argv[1])[0]
assert t.startswith("Welcome to All staff."), t
assert "Dear Dan, New ISMS policy is out" in t, t
link = re.search(r"http://\S+/ack/\S+", t).group(0)
assert link not in sys.argv[2:], "Dan has his own link"
PY
DAN_LINK=$(link_of dan@example.org)
check "Dan's link opens his page" bash -c "curl -s '$DAN_LINK' | grep -q 'dan@example.org'"
check "register: Cara and Dan outstanding, Cara reminded once" test \
	"$(reg --outstanding --format json | $PY -c 'import json,sys
print(";".join("%s:%s:%s" % (r["email"], r["reminders"], bool(r["first_sent"])) for r in json.load(sys.stdin)))')" = \
	"cara@example.org:1:True;dan@example.org:0:True"
check "the reload is in the log" grep -q 'plan.members.*1 joined, 1 left' "$T/herald.log"
stop
check "evidence verifies" "$HERALD" evidence verify --db "$T/h.db"
finish
