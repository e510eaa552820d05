#!/usr/bin/env bash
# report_acks.sh - the report's acknowledgement figures, read from the DOM
# headless Chromium builds, for the scripted mix of tests/evidence_gen.h
# (gen_ack_scenario): two notify offsets and reminders per person count
# once; the rate is acknowledged ÷ people asked; a communication that asks
# for no acknowledgement shows "—"; the names of those outstanding are
# listed (short lists open, long ones folded in <details>).  The register
# (`herald evidence acks`) says the same.  Screenshot: build/artifacts/.
. "$(dirname "$0")/../lib.sh"
BUILD_DIR=${HERALD_BUILD:-$(dirname "$HERALD")}
GEN=$BUILD_DIR/tests/test_evidence
ART=$BUILD_DIR/artifacts
mkdir -p "$ART"
CHROME=${CHROME:-/usr/bin/chromium}

"$GEN" --ack-scenario "$T/a.db" >/dev/null || { echo "generator failed"; exit 3; }
check "report exits 0" "$HERALD" report --db "$T/a.db" -o "$T/report.html"
check "no scripts" bash -c "! grep -qi '<script' '$T/report.html'"

if [ -x "$CHROME" ]; then
	timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome" --dump-dom "file://$T/report.html" \
		>"$T/dom.html" 2>>"$T/chrome.log"
	timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome" --hide-scrollbars --window-size=1280,2400 \
		--screenshot="$ART/report-acks.png" "file://$T/report.html" >/dev/null 2>>"$T/chrome.log"
	check "screenshot kept" test -s "$ART/report-acks.png"
	DOM=$T/dom.html
else
	echo "SKIP: no $CHROME (reading the file itself)"
	DOM=$T/report.html
fi
check "acknowledgement figures in the DOM" $PY - "$DOM" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.cur = None; s.got = {}; s.lists = {}; s.li = None; s.open = {}
        s.details_open = False
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        if tag == "details": s.details_open = "open" in a
        if "data-metric" in a:
            s.cur = (a["data-comm"], a.get("data-aud") or a.get("data-occ"), a["data-metric"])
            s.got[s.cur] = ""
        if tag == "ul" and a.get("class") == "names":
            s.li = (a["data-comm"], a["data-occ"]); s.lists[s.li] = []; s.open[s.li] = s.details_open
        if tag == "li" and s.li: s.lists[s.li].append("")
    def handle_endtag(s, tag):
        if tag == "td": s.cur = None
        if tag == "ul": s.li = None
    def handle_data(s, d):
        if s.cur: s.got[s.cur] += d
        if s.li and s.lists[s.li]: s.lists[s.li][-1] += d
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
o1, o2, alert = "2026-06-10T09:00:00Z", "2026-09-10T09:00:00Z", "2026-06-11T09:00:00Z"
want = {
  # 40 notices and 5 reminders went to 20 people: 15 of 20, not 15 of 45.
  ("POL", o1, "asked"): "20", ("POL", o1, "acknowledged"): "15",
  ("POL", o1, "outstanding"): "5", ("POL", o1, "ack-rate"): "75%",
  ("POL", o2, "asked"): "20", ("POL", o2, "acknowledged"): "4",
  ("POL", o2, "outstanding"): "16", ("POL", o2, "ack-rate"): "20%",
  ("ALERT", alert, "asked"): "1", ("ALERT", alert, "ack-rate"): "0%",
  # The communications table: people, not deliveries, and — where none is asked.
  ("POL", "staff", "acknowledged"): "19", ("POL", "staff", "ack-rate"): "48%",
  ("POL", "staff", "recorded"): "101",  # 80 notices, 21 reminders sent
  ("NEWS", "staff", "acknowledged"): "—", ("NEWS", "staff", "ack-rate"): "—",
  ("NEWS", "staff", "recorded"): "1",
}
bad = 0
for k, v in want.items():
    if p.got.get(k) != v:
        print(f"{k}: want {v!r}, got {p.got.get(k)!r}"); bad += 1
names = lambda occ: [n.split(" <")[0] for n in p.lists.get(("POL", occ), [])]
if names(o1) != [f"Person {i:02d}" for i in range(16, 21)]:
    print("outstanding at o1:", names(o1)); bad += 1
if names(o2) != [f"Person {i:02d}" for i in range(5, 21)]:
    print("outstanding at o2:", names(o2)); bad += 1
if not p.open.get(("POL", o1)) or p.open.get(("POL", o2)):
    print("five names open, sixteen folded:", p.open); bad += 1
if not any("channel" in n for n in p.lists.get(("ALERT", alert), [])):
    print("the shared channel is named", p.lists.get(("ALERT", alert))); bad += 1
if ("NEWS", o1, "asked") in p.got:
    print("NEWS asks for no acknowledgement"); bad += 1
sys.exit(1 if bad else 0)
PY

# The register agrees, row by row.
reg() { "$HERALD" evidence acks --db "$T/a.db" "$@"; }
check "register: 41 rows" test "$(reg --format json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 41
check "register: 22 outstanding" test "$(reg --outstanding --format json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 22
check "register: CSV header as design.md" test "$(reg --format csv | head -1 | tr -d '\r')" = \
	"communication,occurrence,audience,name,email,first_sent,reminders,acknowledged_at"
check "register: one reminder for each outstanding person, none for the others" $PY - <<PY
import json, subprocess
rows = json.loads(subprocess.check_output(["$HERALD", "evidence", "acks", "--db", "$T/a.db",
                                           "--communication", "POL", "--format", "json"]))
assert len(rows) == 40, len(rows)
for r in rows:
    assert r["reminders"] == (0 if r["acknowledged_at"] else 1), r
    assert r["first_sent"] and r["email"].endswith("@acme.example"), r
PY
check "register: --from/--to keep one occurrence" test \
	"$(reg --from 2026-09-01 --to 2026-10-01 --format csv | tail -n +2 | wc -l)" = 20
check "register: --audience" test "$(reg --audience ops --format csv | tail -n +2 | wc -l)" = 1
check "register: text ends with the totals and the head" \
	bash -c "'$HERALD' evidence acks --db '$T/a.db' | tail -1 | grep -q '^41 asked, 19 acknowledged, 22 outstanding; chain head seq [0-9]* sha256 [0-9a-f]\{64\}$'"
check "register: a bad --format is a usage error" bash -c "'$HERALD' evidence acks --db '$T/a.db' --format xml 2>/dev/null; [ \$? -eq 2 ]"
finish
