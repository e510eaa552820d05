#!/usr/bin/env bash
# `herald plan show`: the controlled document.  Text and Markdown match the
# goldens in tests/data/plan-show/ for every example plan (HERALD_UPDATE_GOLDEN=1
# rewrites them); the YAML plan gives the JSON plan's document byte for byte;
# the HTML page is self-contained, opened in headless Chromium with one DOM
# row per communication, and its screenshots are kept under
# build/artifacts/ to look at; no secret ever appears.
. "$(dirname "$0")/../lib.sh"
BUILD_DIR=${HERALD_BUILD:-$(dirname "$HERALD")}
ART=$BUILD_DIR/artifacts
mkdir -p "$ART"
GOLD=$ROOT/tests/data/plan-show
NOW=2026-11-02T08:00:00Z
show() { env -i PATH="$PATH" HERALD_NOW=$NOW "$HERALD" plan show "$@"; }

for plan in "$ROOT"/plans/acme-isms.json "$ROOT"/plans/examples/*.json; do
	n=$(basename "$plan" .json)
	for fmt in text md; do
		ext=$fmt
		[ "$fmt" = text ] && ext=txt
		show "$plan" --format "$fmt" >"$T/$n.$ext" 2>"$T/err"
		check "$n $fmt: exit 0" [ $? -eq 0 ]
		[ "${HERALD_UPDATE_GOLDEN:-}" = 1 ] && cp "$T/$n.$ext" "$GOLD/$n.$ext"
		check "$n $fmt: matches the golden" cmp -s "$T/$n.$ext" "$GOLD/$n.$ext"
	done
done
check "text is the default" bash -c 'cmp -s <(env -i PATH="$PATH" HERALD_NOW='$NOW' "$HERALD" plan show "$0") "$1"' \
	"$ROOT/plans/acme-isms.json" "$GOLD/acme-isms.txt"

# The YAML twin: the same document, in every format.
for fmt in text md html json; do
	show "$ROOT/plans/acme-isms.json" --format $fmt >"$T/j.$fmt"
	show "$ROOT/plans/acme-isms.yaml" --format $fmt >"$T/y.$fmt"
	check "YAML plan, $fmt: same bytes as the JSON plan" cmp -s "$T/j.$fmt" "$T/y.$fmt"
done
# The content SHA-256 is that of the canonical JSON.
sum=$(sha256sum <"$T/j.json" | cut -d' ' -f1)
check "content SHA-256 is the canonical JSON's" grep -q "Content SHA-256  $sum" "$T/j.text"
check "canonical JSON is the plan" "$PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(a != b)' \
	"$T/j.json" "$ROOT/plans/acme-isms.json"

# Words an ISMS manager reads.
check "schedule in words" grep -q "every 3 months from 14 Jan 2026, 10:00 Europe/London, for 15" "$GOLD/acme-isms.md"
check "notify in words" grep -q "notified 7 days before and at the start" "$GOLD/acme-isms.md"
check "manual in words" grep -q "on demand (sent with herald send)" "$GOLD/acme-isms.md"
check "audience size" grep -q "Security incident response team: internal, 4 people" "$GOLD/acme-isms.md"
check "board size from its CSV" grep -q "Board of directors: internal, 5 people" "$GOLD/acme-isms.md"

# -o writes the file; bad input is refused like check refuses it.
show "$ROOT/plans/acme-isms.json" --format html -o "$T/plan.html"
check "-o writes the page" test -s "$T/plan.html"
check "-o writes nothing else" bash -c '[ "$(ls "$0" | grep -c "plan.html")" -eq 1 ]' "$T"
show "$ROOT/tests/data/bad/local-feb-30.json" >/dev/null 2>"$T/err"
check "a bad plan: exit 1" [ $? -eq 1 ]
check "a bad plan: the path and the reason" grep -q 'schedule.start: .*February 2026 has 28 days' "$T/err"
show "$ROOT/plans/acme-isms.json" --format pdf >/dev/null 2>&1
check "unknown format: usage error" [ $? -eq 2 ]
env -i PATH="$PATH" "$HERALD" plan >/dev/null 2>&1
check "no subcommand: usage error" [ $? -eq 2 ]
check "plan show --help" bash -c '"$0" plan show --help | grep -q -- "--format"' "$HERALD"

# Never a secret: values from the environment nor literal ones.
cat >"$T/secret.json" <<'JSON'
{"plan": {"id": "S", "version": "1", "owner": "O <o@example.org>", "timezone": "UTC"},
 "channels": {"s": {"type": "slack", "webhook": "https://hooks.example/literal-canary-5512"},
              "m": {"type": "email", "smtp": "smtps://relay.example", "from": "o@example.org",
                    "username": "relay-user", "password": "pw-canary-7781"},
              "h": {"type": "webhook", "url": "env:S_HOOK", "secret": "whsec_Y2FuYXJ5LTk5MjE=",
                    "headers": {"X-Token": "hdr-canary-4410"}}},
 "audiences": {"a": {"scope": "external", "deliver": [{"channel": "s"}, {"channel": "h"},
               {"channel": "m", "to": ["x@example.org"]}]}},
 "communications": [{"id": "C", "topic": "t", "audiences": ["a"], "owner": "o",
                     "schedule": {"trigger": "manual"}}]}
JSON
for fmt in text md html json; do
	env -i PATH="$PATH" S_HOOK=https://env-canary-3003.example/x "$HERALD" plan show "$T/secret.json" \
		--format $fmt >"$T/s.$fmt" 2>&1
	check "secrets, $fmt: exit 0" [ $? -eq 0 ]
	check "secrets, $fmt: none shown" bash -c '! grep -qE "canary|Y2FuYXJ5" "$0"' "$T/s.$fmt"
done
check "literal secrets redacted in the JSON" [ "$(grep -c '"\[redacted\]"' "$T/s.json")" -eq 4 ]
check "env: names kept in the JSON" grep -q '"env:S_HOOK"' "$T/s.json"
check "literal secrets are warned about" grep -q "W-LITERAL-SECRET" "$T/s.text"

# The page: self-contained, printable, one row per communication.
check "no scripts" bash -c "! grep -qi '<script' '$T/plan.html'"
check "no external resources" bash -c "! grep -Eqi '(src|href)=\"?(https?:)?//' '$T/plan.html'"
check "print stylesheet" grep -q '@media print' "$T/plan.html"
CHROME=${CHROME:-/usr/bin/chromium}
chrome() {
	timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --disable-default-apps \
		--user-data-dir="$T/chrome" --hide-scrollbars "$@" 2>>"$T/chrome.log"
}
if [ -x "$CHROME" ]; then
	chrome --dump-dom "file://$T/plan.html" >"$T/dom.html"
	check "chromium rendered the DOM" grep -q 'data-communication' "$T/dom.html"
	chrome --window-size=1280,4200 --screenshot="$T/plan-show.png" "file://$T/plan.html" >/dev/null
	chrome --window-size=390,3000 --screenshot="$T/plan-show-phone.png" "file://$T/plan.html" >/dev/null
	check "screenshot taken" test -s "$T/plan-show.png"
	check "phone screenshot taken" test -s "$T/plan-show-phone.png"
	cp "$T/plan-show.png" "$T/plan-show-phone.png" "$ART/" 2>/dev/null
	"$PY" - "$T/dom.html" "$T/j.json" <<'PY' && ok || fail "DOM rows"
import json, sys
from html.parser import HTMLParser
plan = json.load(open(sys.argv[2]))
want = [c["id"] for c in plan["communications"]]
class P(HTMLParser):
    rows, auds, chans, control = [], 0, 0, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-communication" in a:
            self.rows.append(a["data-communication"])
        if tag == "tr" and "data-audience" in a:
            self.auds += 1
        if tag == "tr" and "data-channel" in a:
            self.chans += 1
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
assert p.rows == want, (p.rows, want)
assert p.auds == len(plan["audiences"]), p.auds
assert p.chans == len(plan["channels"]), p.chans
PY
else
	echo "no chromium at $CHROME: the DOM check is skipped" >&2
fi
finish
