#!/usr/bin/env bash
# plan_history.sh - the plan's versions in the evidence, across reloads of
# `herald run`: each version stored whole (the YAML file with its
# comments, a literal secret redacted), `plan history` and `plan diff`
# over three reloads (a new communication; a changed schedule; a content
# change under the same version), that change flagged everywhere (an
# evidence event, a log warning, /healthz, the report's badge, check --db
# W-VERSION-UNCHANGED) and, in a second service, refused under
# strict_approval with the running version kept.  GET /plan behind the
# admin token, opened in headless Chromium (one DOM row per communication).
. "$(dirname "$0")/../lib.sh"
BUILD_DIR=${HERALD_BUILD:-$(dirname "$HERALD")}
ART=$BUILD_DIR/artifacts
mkdir -p "$ART"
ADMIN=adm-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export HERALD_ADMIN_TOKEN=$ADMIN

cat >"$T/plan.yaml" <<'YAML'
# Rationale: staff hear about security every quarter (decision ISMS-R1).
plan:
  id: T-HIST
  version: "1.0"
  owner: Dana Reyes <isms@example.org>
  approved_by: CISO
  approved_on: 2026-01-05
  timezone: Europe/London
channels:
  # Pasted by mistake: the evidence must not keep it.
  slack: {type: slack, webhook: "https://hooks.example/T000/B000/literal-canary-8812"}
  hook: {type: webhook, url: env:HIST_HOOK}
audiences:
  staff: {name: All staff, scope: internal, deliver: [{channel: slack}]}
  partners: {name: Partners, scope: external, feed: none, deliver: [{channel: hook}]}
communications:
  - id: AWR
    topic: Quarterly awareness
    audiences: [staff]
    owner: Dana Reyes
    schedule: {cadence: quarterly, start: "2026-01-15T09:30"}
    notify: [P7D, PT0S]
  - id: BREACH
    topic: Breach notice
    audiences: [partners]
    owner: DPO
    schedule: {trigger: manual}
YAML
# edit FILE PYTHON-EXPR-ON-s: rewrites the plan text.
edit() { $PY -c 'import sys; p=sys.argv[1]; s=open(p).read(); s=eval(sys.argv[2]); open(p,"w").write(s)' "$@"; }
rows() { sqlite3 "$1" "SELECT count(*) FROM plan_versions WHERE event IN ('loaded','reloaded')" 2>/dev/null || echo 0; }
db_is() { [ "$(sqlite3 "$1" "$2" 2>/dev/null)" = "$3" ]; }
quiet() { "$@" >/dev/null; }

hport=$(free_port)
base="http://127.0.0.1:$hport"
spawn "$HERALD" run "$T/plan.yaml" --db "$T/h.db" --listen "127.0.0.1:$hport" --dry-run 2>"$T/herald.err"
pid=$LAST_PID
check "service is up" wait_for 15 curl -sf -o /dev/null "$base/healthz"
cp "$T/plan.yaml" "$T/v1.yaml"
health() { curl -sf "$base/healthz" | $PY -c 'import json,sys; p=json.load(sys.stdin)["plan"]; print(eval(sys.argv[1]))' "$1"; }
check "healthz: approved at start" test "$(health 'p["approval"]')" = approved

# Reload 1: a new communication, under a new approved version.
edit "$T/plan.yaml" '(s.replace("version: \"1.0\"", "version: \"1.1\"").replace("approved_on: 2026-01-05", "approved_on: 2026-02-01")
 + "  - id: RISK\n    topic: Risk update to the board\n    audiences: [staff]\n    owner: CISO\n    schedule: {cadence: monthly, start: \"2026-02-10T15:00\"}\n")'
kill -HUP "$pid"
check "reload 1 recorded" wait_for 15 db_is "$T/h.db" "SELECT count(*) FROM plan_versions WHERE version='1.1'" 1
# Reload 2: a changed schedule (quarterly to monthly), version 1.2.
edit "$T/plan.yaml" 's.replace("version: \"1.1\"", "version: \"1.2\"").replace("approved_on: 2026-02-01", "approved_on: 2026-03-01").replace("cadence: quarterly", "cadence: monthly")'
kill -HUP "$pid"
check "reload 2 recorded" wait_for 15 db_is "$T/h.db" "SELECT count(*) FROM plan_versions WHERE version='1.2'" 1
cp "$T/plan.yaml" "$T/v12.yaml"
# Reload 3: new content, same version 1.2 and approval date.
edit "$T/plan.yaml" 's.replace("topic: Breach notice", "topic: Personal data breach notice")'
kill -HUP "$pid"
check "reload 3 recorded" wait_for 15 db_is "$T/h.db" "SELECT count(*) FROM plan_versions WHERE version='1.2'" 2

# Flagged everywhere.
check "evidence event for the change" db_is "$T/h.db" \
	"SELECT count(*) FROM events WHERE kind='plan-changed-without-approval' AND detail LIKE '%version 1.2%'" 1
check "log warning" grep -q 'warn plan.unapproved: plan T-HIST version 1.2: content [0-9a-f]\{12\} is not' "$T/herald.err"
check "healthz: changed since approval" test "$(health 'p["approval"]')" = "changed since approval"
check "healthz: changed_since_approval true" test "$(health 'p["changed_since_approval"]')" = True
"$HERALD" plan history --db "$T/h.db" --format json >"$T/hist.json"
check "history: four versions, the last changed without approval" "$PY" - "$T/hist.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
assert [e["version"] for e in h] == ["1.0", "1.1", "1.2", "1.2"], h
assert [e["changed_without_approval"] for e in h] == [False, False, False, True], h
assert h[3]["approved_content_sha256"] == h[2]["content_sha256"], h
assert all(e["text_stored"] and e["loads"] == 1 for e in h), h
PY
approved=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[2]["content_sha256"])' "$T/hist.json")
check "healthz names the approved content" test "$(health 'p["approved_content_sha256"]')" = "$approved"
sum1=$("$HERALD" plan show "$T/v1.yaml" --format json | sha256sum | cut -d' ' -f1)
check "history's SHA-256 is plan show's content SHA-256" \
	test "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["content_sha256"])' "$T/hist.json")" = "$sum1"
"$HERALD" plan history --db "$T/h.db" >"$T/hist.txt"
check "history text: the flag in words" grep -q "^1\.2 .*yes: not the content approved as version 1\.2 (${approved:0:12})" "$T/hist.txt"
check "history text: the approval columns" grep -q "^1\.1 .* CISO  *2026-02-01  *no$" "$T/hist.txt"
"$HERALD" report --db "$T/h.db" -o "$T/report.html" 2>"$T/report.err" || cat "$T/report.err" >&2
check "report badge: changed since approval" grep -q 'id="approval" class="badge bad">Changed since approval<' "$T/report.html"
# Two hashes, named apart: the file's (sha256sum) and the content's (plan
# history's), so an auditor matching the report against either finds it.
file1=$(sha256sum "$T/v1.yaml" | cut -d' ' -f1)
check "report versions: File SHA-256 is sha256sum's, Content SHA-256 plan history's" \
	"$PY" - "$T/report.html" "$T/hist.json" "$file1" <<'PY'
import re, sys
page, hist, file1 = open(sys.argv[1]).read(), __import__("json").load(open(sys.argv[2])), sys.argv[3]
t = page[page.index('<table id="versions"'):]
t = t[:t.index("</table>")]
heads = re.findall(r'<th scope="col">([^<]*)</th>', t)
assert heads[5:7] == ["File SHA-256", "Content SHA-256"], heads
rows = [re.findall(r"<td[^>]*>(?:<code>)?([^<]*)", r) for r in re.findall(r"<tr><td.*?</tr>", t)]
loaded = [r for r in rows if r[2] in ("loaded", "reloaded")][::-1]   # oldest first
assert [r[4] for r in loaded] == [e["version"] for e in hist], loaded
assert [r[6] for r in loaded] == [e["content_sha256"] for e in hist], (loaded, hist)
assert loaded[0][5] == file1 and file1 != loaded[0][6], loaded[0]
PY
curl -sf "$base/metrics" -o "$T/metrics.txt"
now=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[3]["content_sha256"])' "$T/hist.json")
check "metrics: sha256 the file's, content_sha256 the content's" grep -q \
	"^herald_plan_info{id=\"T-HIST\",version=\"1.2\",sha256=\"$(sha256sum "$T/plan.yaml" | cut -d' ' -f1)\",content_sha256=\"$now\"} 1$" "$T/metrics.txt"
check "log: service.start names the file sha256" \
	grep -q "info service.start: serving .*plan T-HIST version 1.0, file sha256 ${file1:0:12})" "$T/herald.err"
check "log: plan.reloaded names the file sha256" \
	grep -q "info plan.reloaded: reloaded ([^)]*) .*version 1.2 (was 1.2), file sha256 $(sha256sum "$T/plan.yaml" | cut -c1-12)$" "$T/herald.err"
# The copy in circulation says it too (Clause 7.5), naming the approval.
curl -sf -H "Authorization: Bearer $ADMIN" "$base/plan" -o "$T/plan-changed.html"
check "GET /plan: changed since approval, above document control" "$PY" - "$T/plan-changed.html" "${approved:0:12}" <<'PY'
import sys
h = open(sys.argv[1]).read()
n = h.index('id="approval-notice"')
assert n < h.index("<h2>Document control</h2>"), "notice after the control block"
note = h[n:h.index("</p>", n)]
assert "Changed since approval." in note and "same version" in note, note
assert "version 1.2" in note and "2026-03-01" in note and sys.argv[2] in note, note
PY
check "report embeds the plan document (3 communications)" \
	test "$(grep -o 'data-communication="' "$T/report.html" | wc -l)" -eq 3
"$HERALD" check --db "$T/h.db" "$T/plan.yaml" >/dev/null 2>"$T/check.err"
check "check --db: exit 0 (a warning)" test $? -eq 0
check "check --db: W-VERSION-UNCHANGED" grep -q "plan.version: warning W-VERSION-UNCHANGED: content .* under version 1.2 approved on 2026-03-01, yet it keeps the same version" "$T/check.err"
"$HERALD" check --db "$T/h.db" "$T/v12.yaml" >/dev/null 2>"$T/check2.err"
check "check --db on the approved content: no W-VERSION-UNCHANGED" bash -c '! grep -q W-VERSION-UNCHANGED "$0"' "$T/check2.err"
"$HERALD" check "$T/plan.yaml" >/dev/null 2>"$T/check3.err"
check "check without --db: no W-VERSION-UNCHANGED" bash -c '! grep -q W-VERSION-UNCHANGED "$0"' "$T/check3.err"

# Stored whole: the YAML with its comments, the literal secret redacted.
text10=$(sqlite3 "$T/h.db" "SELECT t.body FROM plan_versions p JOIN texts t ON t.sha256=p.text WHERE p.version='1.0'")
check "stored text keeps the comments" grep -q "^# Rationale: staff hear about security every quarter" <<<"$text10"
check "stored text redacts the literal secret in place" grep -q '^  slack: {type: slack, webhook: "\[redacted\]"}$' <<<"$text10"
check "no secret anywhere in the database" bash -c '! sqlite3 "$0" .dump | grep -q literal-canary' "$T/h.db"
check "evidence verifies" quiet "$HERALD" evidence verify --db "$T/h.db"

# Diffs in words: versions, SHA-256 prefixes, files.
d() { "$HERALD" plan diff --db "$T/h.db" "$@" 2>&1; }
check "diff 1.0 1.1: the new communication" grep -q "^  added RISK (Risk update to the board)$" <<<"$(d 1.0 1.1)"
check "diff 1.0 1.1: its schedule in words" grep -q "^    when: every month from 10 Feb 2026, 15:00 Europe/London" <<<"$(d 1.0 1.1)"
out=$(d 1.1 "${approved:0:8}")
check "diff 1.1 1.2: the schedule, was and now" bash -c 'grep -q "^  changed AWR (Quarterly awareness)$" <<<"$0" &&
	grep -q "^      was: every 3 months from 15 Jan 2026, 09:30 Europe/London" <<<"$0" &&
	grep -q "^      now: every month from 15 Jan 2026, 09:30 Europe/London" <<<"$0"' "$out"
last=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))[3]["content_sha256"])' "$T/hist.json")
check "diff of the unapproved change: the topic" grep -q '^    what: was "Breach notice", now "Personal data breach notice"$' <<<"$(d "${approved:0:6}" "${last:0:6}")"
check "diff a version and a file" grep -q "^No change in content\.$" <<<"$(d "${last:0:10}" "$T/plan.yaml")"
check "diff two files, no database" grep -q "^  added RISK" <<<"$("$HERALD" plan diff --db "$T/none.db" "$T/v1.yaml" "$T/v12.yaml")"
"$HERALD" plan diff --db "$T/h.db" 1.2 1.0 >/dev/null 2>"$T/amb"
check "an ambiguous version: exit 2, naming both" bash -c '[ $0 -eq 2 ] && grep -q "1.2 names 2 versions" "$1"' $? "$T/amb"
"$HERALD" plan diff --db "$T/h.db" 9.9 1.0 >/dev/null 2>&1
check "an unknown version: exit 2" test $? -eq 2
check "diffs never show the secret" bash -c '! "$0" plan diff --db "$1" 1.0 1.1 | grep -q canary' "$HERALD" "$T/h.db"

# Going back to the approved content clears the flag.
cp "$T/v12.yaml" "$T/plan.yaml"
kill -HUP "$pid"
check "revert recorded" wait_for 15 db_is "$T/h.db" "SELECT count(*) FROM plan_versions WHERE version='1.2'" 3
check "healthz: approved again after the revert" test "$(health 'p["approval"]')" = approved

# GET /plan: the document of the plan in force, admin only.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "GET /plan without a token: 401" test "$(code "$base/plan")" = 401
check "GET /plan/x: 404" test "$(code -H "Authorization: Bearer $ADMIN" "$base/plan/x")" = 404
curl -sf -D "$T/plan.hdr" -H "Authorization: Bearer $ADMIN" "$base/plan" -o "$T/plan.html"
check "GET /plan with the token: the document" grep -q '<h2>Document control</h2>' "$T/plan.html"
check "GET /plan of the approved content: no notice" bash -c '! grep -q approval-notice "$0"' "$T/plan.html"
check "GET /plan: no-store, CSP" bash -c 'grep -qi "^cache-control: no-store" "$0" && grep -qi "^content-security-policy: default-src .none." "$0"' "$T/plan.hdr"
check "GET /plan: no secret" bash -c '! grep -q canary "$0"' "$T/plan.html"
CHROME=${CHROME:-/usr/bin/chromium}
if [ -x "$CHROME" ]; then
	chrome() {
		timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu \
			--disable-background-networking --disable-component-update \
			--disable-sync --no-first-run --disable-default-apps \
			--user-data-dir="$T/chrome" --hide-scrollbars "$@" 2>>"$T/chrome.log"
	}
	chrome --dump-dom "file://$T/plan.html" >"$T/dom.html"
	check "GET /plan in Chromium: one DOM row per communication" \
		test "$(grep -o '<tr data-communication="[A-Z]*"' "$T/dom.html" | tr '\n' ' ')" = \
		'<tr data-communication="AWR" <tr data-communication="BREACH" <tr data-communication="RISK" '
	chrome --window-size=1280,2000 --screenshot="$T/plan-web.png" "file://$T/plan.html" >/dev/null
	check "GET /plan screenshot taken" test -s "$T/plan-web.png"
	cp "$T/plan-web.png" "$ART/" 2>/dev/null
else
	echo "no chromium at $CHROME: the DOM check is skipped" >&2
fi
kill -TERM "$pid"
wait "$pid"

# strict_approval: the same change is refused and the running version kept.
cp "$T/v1.yaml" "$T/strict.yaml"
edit "$T/strict.yaml" 's.replace("  timezone: Europe/London", "  timezone: Europe/London\n  strict_approval: true")'
sport=$(free_port)
sbase="http://127.0.0.1:$sport"
spawn "$HERALD" run "$T/strict.yaml" --db "$T/s.db" --listen "127.0.0.1:$sport" --dry-run 2>"$T/strict.err"
spid=$LAST_PID
check "strict service is up" wait_for 15 curl -sf -o /dev/null "$sbase/healthz"
sha0=$(curl -sf "$sbase/healthz" | $PY -c 'import json,sys; print(json.load(sys.stdin)["plan"]["content_sha256"])')
edit "$T/strict.yaml" 's.replace("topic: Breach notice", "topic: Personal data breach notice")'
kill -HUP "$spid"
check "strict: the reload is refused" wait_for 15 db_is "$T/s.db" \
	"SELECT count(*) FROM plan_versions WHERE event='refused' AND detail LIKE 'changed without approval (plan.strict_approval)%'" 1
check "strict: refused in the log, running version kept" grep -q 'warn plan.refused: .*strict_approval.*still serving version 1.0' "$T/strict.err"
# Degraded (503) by the refused file since a02356c, the body still names
# the plan served.
check "strict: healthz degraded by the refused file" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "$sbase/healthz")" = 503
check "strict: healthz serves the approved content" test \
	"$(curl -s "$sbase/healthz" | $PY -c 'import json,sys; print(json.load(sys.stdin)["plan"]["content_sha256"])')" = "$sha0"
check "strict: no version recorded for the refused content" test "$(rows "$T/s.db")" -eq 1
check "strict: no change event" db_is "$T/s.db" "SELECT count(*) FROM events WHERE kind='plan-changed-without-approval'" 0
edit "$T/strict.yaml" 's.replace("version: \"1.0\"", "version: \"1.1\"").replace("approved_on: 2026-01-05", "approved_on: 2026-04-01")'
kill -HUP "$spid"
check "strict: a new approved version is taken" wait_for 15 db_is "$T/s.db" "SELECT count(*) FROM plan_versions WHERE version='1.1'" 1
check "strict: healthz approved" test "$(curl -sf "$sbase/healthz" | $PY -c 'import json,sys; print(json.load(sys.stdin)["plan"]["approval"])')" = approved
kill -TERM "$spid"
wait "$spid"
check "strict evidence verifies" quiet "$HERALD" evidence verify --db "$T/s.db"
finish
