#!/usr/bin/env bash
# report.sh - `herald report` opened in headless Chromium: the DOM holds the
# expected counts for a scripted mix of sent, late, failed, missed, pending
# and acknowledged deliveries (tests/evidence_gen.h, gen_scenario); the
# page is self-contained; screenshots (desktop and phone) are kept under
# build/artifacts/ to look at.
. "$(dirname "$0")/../lib.sh"
BUILD_DIR=${HERALD_BUILD:-$(dirname "$HERALD")}
GEN=$BUILD_DIR/tests/test_evidence
ART=$BUILD_DIR/artifacts
mkdir -p "$ART"
CHROME=${CHROME:-/usr/bin/chromium}
chrome() {
	timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update \
		--disable-sync --no-first-run --disable-default-apps \
		--user-data-dir="$T/chrome" --hide-scrollbars "$@" 2>>"$T/chrome.log"
}

"$GEN" --scenario "$T/sc.db" >/dev/null || { echo "generator failed"; exit 3; }
check "report exits 0" "$HERALD" report --db "$T/sc.db" -o "$T/report.html"
check "no scripts" bash -c "! grep -qi '<script' '$T/report.html'"
check "no external resources" bash -c "! grep -Eqi '(src|href)=\"?(https?:)?//' '$T/report.html'"
check "print stylesheet" grep -q '@media print' "$T/report.html"
check "phone viewport" grep -q 'name="viewport"' "$T/report.html"

if [ -x "$CHROME" ]; then
	chrome --dump-dom "file://$T/report.html" >"$T/dom.html"
	check "chromium rendered the DOM" grep -q 'data-metric' "$T/dom.html"
	chrome --window-size=1280,2000 --screenshot="$ART/report.png" "file://$T/report.html" >/dev/null
	chrome --window-size=390,2400 --screenshot="$ART/report-phone.png" "file://$T/report.html" >/dev/null
	check "screenshot kept" test -s "$ART/report.png"
	check "phone screenshot kept" test -s "$ART/report-phone.png"
	$PY - "$T/dom.html" <<'PY' && ok || fail "DOM counts"
import sys
from html.parser import HTMLParser
want = {
  ("AWR-Q", "all-staff"): dict(recorded=10, **{"on-time": 5}, late=2, failed=1, missed=2, pending=0, acknowledged=4),
  ("AWR-Q", "board"): dict(recorded=4, **{"on-time": 3}, late=0, failed=1, missed=0, pending=0, acknowledged=2),
  ("INC-NOTICE", "customers"): dict(recorded=2, **{"on-time": 1}, late=1, failed=0, missed=0, pending=0, acknowledged=0),
  ("BRD-REVIEW", "board"): dict(recorded=3, **{"on-time": 1}, late=0, failed=0, missed=1, pending=1, acknowledged=1),
  ("_total", "_total"): dict(recorded=19, **{"on-time": 10}, late=3, failed=2, missed=3, pending=1, acknowledged=7),
}
# Acknowledgement rates count people asked (here each delivery is its own
# link): 4 of 10, whatever happened to the messages.
rates = {("AWR-Q", "all-staff", "on-time-rate"): "50%", ("AWR-Q", "all-staff", "ack-rate"): "40%",
         ("AWR-Q", "board", "ack-rate"): "50%", ("_total", "_total", "ack-rate"): "37%",
         ("_total", "_total", "on-time-rate"): "53%"}
class P(HTMLParser):
    def __init__(s):
        super().__init__(); s.cur = None; s.got = {}; s.ids = {}; s.cid = None
    def handle_starttag(s, tag, attrs):
        a = dict(attrs)
        if "data-metric" in a: s.cur = (a["data-comm"], a.get("data-aud", a.get("data-occ")), a["data-metric"]); s.got[s.cur] = ""
        if a.get("id") in ("chain-head-seq", "verify"): s.cid = a["id"]; s.ids[s.cid] = a
    def handle_endtag(s, tag):
        if tag == "td": s.cur = None
        if tag in ("code", "p"): s.cid = None
    def handle_data(s, d):
        if s.cur: s.got[s.cur] += d
        if s.cid == "chain-head-seq": s.ids["seq"] = d
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
bad = 0
for (c, a), m in want.items():
    for k, v in m.items():
        g = p.got.get((c, a, k))
        if g is None or int(g) != v:
            print(f"{c}/{a} {k}: want {v}, got {g}"); bad += 1
for key, v in rates.items():
    if p.got.get(key) != v: print(f"{key}: want {v}, got {p.got.get(key)}"); bad += 1
if p.ids.get("verify", {}).get("data-ok") != "true": print("verify not ok in report"); bad += 1
if not p.ids.get("seq", "").isdigit(): print("no chain head seq"); bad += 1
sys.exit(1 if bad else 0)
PY
else
	echo "SKIP: no $CHROME"
fi

# A period narrows the figures.
"$HERALD" report --db "$T/sc.db" --from 2026-03-01 --to 2026-03-02 -o "$T/day.html"
check "period: 2 deliveries" grep -q 'data-comm="_total" data-aud="_total" data-metric="recorded">2<' "$T/day.html"

# With the plan: planned counts, check warnings, and no secret in the page.
if [ -f "$ROOT/plans/acme-isms.json" ]; then
	demo_env
	"$HERALD" report --db "$T/sc.db" --plan "$ROOT/plans/acme-isms.json" -o "$T/plan.html" 2>"$T/err"
	check "report --plan exits 0" test $? -eq 0
	check "warnings section evaluated" grep -q 'id="warnings" data-count="[0-9]' "$T/plan.html"
	leaks=0
	while IFS='=' read -r name value; do
		case "$name" in ''|\#*) continue ;; esac
		[ ${#value} -ge 6 ] || continue
		if grep -qF -- "$value" "$T/plan.html"; then leaks=1; echo "secret $name in report" >&2; fi
	done <"$ROOT/plans/demo.env"
	check "no secret values in the report" test $leaks -eq 0
fi

# A tampered log: the report says so and exits 1.
cp "$T/sc.db" "$T/bad.db"
$PY - "$T/bad.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("DROP TRIGGER ev2_delivery_states_no_update")
c.execute("UPDATE delivery_states SET late=0 WHERE late=1")
PY
"$HERALD" report --db "$T/bad.db" -o "$T/bad.html" 2>/dev/null
check "tampered: exit 1" test $? -eq 1
check "tampered: report says FAILED" grep -q 'data-ok="false"' "$T/bad.html"
finish
