#!/usr/bin/env bash
# The command line: exit codes, usage errors, help, check output format.
. "$(dirname "$0")/../lib.sh"
demo_env
# Plans written to $T keep the realistic plan's files beside them.
cp -r "$ROOT/plans/people" "$ROOT/plans/holidays" "$T/"
code() { "$@" >/dev/null 2>&1; echo $?; }

check "--version prints the version" bash -c '"$HERALD" --version | grep -q "^herald [0-9]"'
check "--help lists commands" bash -c '"$HERALD" --help | grep -q "check"'
# Every line of the command list is a command or a summary's continuation
# in the summaries' column: nothing starts at the margin between them.
check "--help keeps long summaries in their column" bash -c \
	'"$HERALD" --help | sed -n "/^commands:/,/^\$/p" | sed "1d;\$d" | grep -vqE "^  [a-z]+ +[^ ]|^ {13}[^ ]" && exit 1 || exit 0'
check "a mistyped command: did you mean" bash -c \
	'"$HERALD" chek 2>&1 | grep -q "unknown command \"chek\" (did you mean \"check\"?)"'
check "a stray argument is named" bash -c \
	'"$HERALD" ics "$ROOT/plans/acme-isms.json" all-staff 2>&1 | grep -q "unexpected argument all-staff"'
check "no command is a usage error" test "$(code "$HERALD")" = 2
check "unknown command is a usage error" test "$(code "$HERALD" frobnicate)" = 2
check "check --help exits 0" test "$(code "$HERALD" check --help)" = 0
check "check without a plan is a usage error" test "$(code "$HERALD" check)" = 2
check "check with an unknown option is a usage error" test "$(code "$HERALD" check --strictt "$ROOT/plans/acme-isms.json")" = 2
check "realistic plan is valid" test "$(code "$HERALD" check "$ROOT/plans/acme-isms.json")" = 0
check "missing file is a runtime error" test "$(code "$HERALD" check "$T/nope.json")" = 3
check "a directory is a runtime error" test "$(code "$HERALD" check "$T")" = 3

# The realistic plan: no warnings at all, a summary on stdout.
"$HERALD" check "$ROOT/plans/acme-isms.json" >"$T/out" 2>"$T/err"
check "realistic plan has no warnings" test ! -s "$T/err"
check "summary line" grep -q "ok: plan ACME-ISMS-COMMS" "$T/out"

# Errors: herald: PLAN: PATH: message, on stderr; the worst exit wins.
sed '0,/"version": *"[^"]*",/s///' "$ROOT/plans/acme-isms.json" >"$T/bad.json"
"$HERALD" check "$ROOT/plans/acme-isms.json" "$T/bad.json" >"$T/out" 2>"$T/err"
check "bad plan among good exits 1" test $? = 1
check "error names plan and path" grep -q "^herald: $T/bad.json: plan.version: required key" "$T/err"
check "good plan still reported" grep -q "ACME-ISMS-COMMS" "$T/out"

# A warning carries a stable code and one line of advice.
sed 's/"approved_by": *"[^"]*",//' "$ROOT/plans/acme-isms.json" >"$T/unapproved.json"
mkdir -p "$T/people" && cp "$ROOT/plans/people/"* "$T/people/"
"$HERALD" check "$T/unapproved.json" >/dev/null 2>"$T/err"
check "warnings keep exit 0" test $? = 0
check "warning code" grep -q "plan: warning W-NOT-APPROVED:" "$T/err"
check "advice line" grep -q "^    advice: " "$T/err"

# agenda usage errors.
P="$ROOT/plans/acme-isms.json"
check "agenda bad --from" test "$(code "$HERALD" agenda "$P" --from yesterday)" = 2
check "agenda --to and --days" test "$(code "$HERALD" agenda "$P" --to 2027-01-01 --days 3)" = 2
check "agenda bad --format" test "$(code "$HERALD" agenda "$P" --format xml)" = 2
check "agenda unknown audience" test "$(code "$HERALD" agenda "$P" --audience nobody)" = 2
check "agenda --days 0" test "$(code "$HERALD" agenda "$P" --days 0)" = 2
check "agenda json parses" bash -c '"$HERALD" agenda "$0" --from 2027-01-01 --days 60 --format json | "$PY" -c "import json,sys; d=json.load(sys.stdin); assert len(d) > 0"' "$P"
check "agenda text groups by day" bash -c '"$HERALD" agenda "$0" --from 2027-01-01 --days 60 | grep -Eq "^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) 2027-"' "$P"
# --log-format json: the log lines of send and run are JSON objects.
"$HERALD" send "$P" INC-ALERT --db "$T/send.db" --by "Riley Chen" --dry-run --log-format json >"$T/out" 2>"$T/err"
check "send --log-format json exits 0" test $? = 0
check "send logs JSON lines" "$PY" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert any(l["event"] == "send.queued" and l["level"] == "info" and l["ts"] for l in lines), lines
' "$T/err"
"$HERALD" send "$P" INC-ALERT --db "$T/send.db" --by "Riley Chen" --dry-run >/dev/null 2>"$T/err"
check "send logs text by default" grep -q "^herald: .* info send.queued: " "$T/err"
# The realistic plan's env: secrets are unset: the demo values' line is
# JSON too, like every other.
(unset $(sed -n 's/.*"env:\([A-Z_]*\)".*/\1/p' "$ROOT/plans/acme-isms.json")
 "$HERALD" run "$ROOT/plans/acme-isms.json" --db "$T/run.db" --dry-run --listen nohostport \
	--log-format json >/dev/null 2>"$T/err")
check "run with a bad --listen fails" test $? != 0
check "run logs JSON lines, the demo values' line too" "$PY" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
events = [l["event"] for l in lines]
assert "service.dry-run" in events and "plan.demo-values" in events, events
demo = next(l for l in lines if l["event"] == "plan.demo-values")
assert "SLACK_STAFF" in demo["msg"], demo
' "$T/err"
# send makes a database only when named: the default, from another
# directory, made a second evidence log the service never sees.
mkdir -p "$T/elsewhere"
(cd "$T/elsewhere" && "$HERALD" send "$P" INC-ALERT --by "Riley Chen" --dry-run >/dev/null 2>"$T/nodb.err")
check "send without --db and no ./herald.db: exit 3" test $? -eq 3
check "saying how to name it" grep -q "database herald.db does not exist here: give the database .herald run. uses (--db FILE)" "$T/nodb.err"
check "and making none" test ! -e "$T/elsewhere/herald.db"
(cd "$T/elsewhere" && "$HERALD" send "$P" INC-ALERT --by "Riley Chen" --dry-run --db herald.db >/dev/null 2>&1)
check "send --db herald.db makes it" test $? -eq 0 -a -s "$T/elsewhere/herald.db"
# A variable standing in two places is named once, a longer one apart.
cat >"$T/dup.json" <<'JSON'
{"plan": {"id": "D", "version": "1", "owner": "O <o@example.org>", "timezone": "UTC"},
 "channels": {"a": {"type": "webhook", "url": "env:HOOK"},
              "b": {"type": "webhook", "url": "env:HOOK", "secret": "env:HOOK_SECRET"}},
 "audiences": {"s": {"scope": "internal", "deliver": [{"channel": "a"}, {"channel": "b"}]}},
 "communications": [{"id": "I", "topic": "T", "audiences": ["s"], "owner": "O",
                     "schedule": {"trigger": "manual"}}]}
JSON
(unset HOOK HOOK_SECRET; "$HERALD" send "$T/dup.json" I --by X --dry-run --db "$T/dup.db" >/dev/null 2>"$T/dup.err")
check "demo values: each variable once" grep -q "unset env: variables HOOK, HOOK_SECRET$" "$T/dup.err"
check "run --log-format xml is a usage error" test "$(code "$HERALD" run "$P" --log-format xml)" = 2
finish
