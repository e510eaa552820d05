#!/usr/bin/env bash
# Runs `herald check` on every malformed plan in tests/data/bad/ (JSON, YAML
# twins NAME.yaml of JSON cases, and YAML-only cases yaml-*.yaml) and checks
# the exit code and the error messages against NAME.expect (for YAML,
# NAME.yaml.expect):
#   line 1: expected exit code
#   line 2: fragment that must appear in stderr (fixed string)
#   then, optionally, lines of these forms:
#     also: FRAGMENT   another fragment that must appear
#     args: ARGS       extra arguments for check (e.g. --strict)
#     errors: N        exactly N error messages (lines "herald: PLAN: …"
#                      other than warnings and the "N errors" summary)
#     within: S        check must finish within S seconds
# Usage: tests/run_bad_plans.sh path/to/herald
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 path/to/herald" >&2
	exit 2
fi
herald=$1
if [ ! -x "$herald" ]; then
	echo "$0: $herald: not an executable" >&2
	exit 2
fi

dir=$(cd "$(dirname "$0")" && pwd)/data/bad

# Harmless values for the env: variables the bad plans use legitimately.
export TEST_SLACK_WEBHOOK=http://127.0.0.1:9/test/slack
export TEST_SMTP_USER=test-user
export TEST_SMTP_PASS=test-password-not-a-secret
export TEST_HOOK_URL=http://127.0.0.1:9/test/hook
export TEST_HOOK_AUTH=test-token-not-a-secret
export TEST_HOOK_SECRET=whsec_dGVzdC1zZWNyZXQtbm90LWEtc2VjcmV0
# The missing-env-var case relies on this one being absent.
unset HERALD_TEST_MISSING_VAR_XYZ

errfile=$(mktemp)
trap 'rm -f "$errfile"' EXIT

passed=0
failed=0
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

shopt -s nullglob
plans=("$dir"/*.json "$dir"/*.yaml)
if [ ${#plans[@]} -eq 0 ]; then
	echo "no plans found in $dir" >&2
	exit 2
fi

for plan in "${plans[@]}"; do
	name=$(basename "$plan")
	# A YAML twin has its own NAME.yaml.expect (line and column too).
	expect=$plan.expect
	[ -f "$expect" ] || expect=${plan%.*}.expect
	if [ ! -f "$expect" ]; then
		fail "$name" "missing $name.expect"
		continue
	fi
	want_rc=$(sed -n 1p "$expect")
	want_frag=$(sed -n 2p "$expect")
	args=$(sed -n 's/^args: //p' "$expect")
	want_errors=$(sed -n 's/^errors: //p' "$expect")
	within=$(sed -n 's/^within: //p' "$expect")

	start=$(date +%s%N)
	# shellcheck disable=SC2086
	timeout 10 "$herald" check $args "$plan" >/dev/null 2>"$errfile" </dev/null
	rc=$?
	took_ms=$((($(date +%s%N) - start) / 1000000))

	if [ "$rc" -ge 124 ]; then
		if [ "$rc" -eq 124 ]; then
			fail "$name" "timed out after 10 s"
		else
			fail "$name" "killed by a signal or could not run (exit $rc)"
		fi
		continue
	fi
	if [ "$rc" != "$want_rc" ]; then
		fail "$name" "exit $rc, want $want_rc; stderr: $(head -c 300 "$errfile" | head -n 3 | tr '\n' ' ')"
		continue
	fi
	ok=1
	while IFS= read -r frag; do
		if ! grep -qF -- "$frag" "$errfile"; then
			fail "$name" "stderr lacks \"$frag\"; stderr: $(head -c 300 "$errfile" | head -n 3 | tr '\n' ' ')"
			ok=
			break
		fi
	done < <(printf '%s\n' "$want_frag"; sed -n 's/^also: //p' "$expect")
	[ -n "$ok" ] || continue
	if [ -n "$want_errors" ]; then
		n=$(grep '^herald: ' "$errfile" | grep -v ': warning W-' | grep -cEv ': [0-9]+ errors')
		if [ "$n" != "$want_errors" ]; then
			fail "$name" "$n error messages, want $want_errors: $(head -c 600 "$errfile" | tr '\n' ' ')"
			continue
		fi
	fi
	if [ -n "$within" ] && [ "$took_ms" -gt $((within * 1000)) ]; then
		fail "$name" "took ${took_ms} ms, want at most ${within} s"
		continue
	fi
	passed=$((passed + 1))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
