#!/usr/bin/env bash
# `check` lints where production secrets are not (issue 15): with no env:
# variable set, every plan in plans/ passes with one W-ENV-UNSET warning
# per variable, and `check --strict` fails naming each, as run and send do.
. "$(dirname "$0")/../lib.sh"

mapfile -t plans < <(find "$ROOT/plans" -name '*.json' -o -name '*.yaml' -o -name '*.yml' | sort)
check "plans found" [ "${#plans[@]}" -ge 5 ]
for plan in "${plans[@]}"; do
	rel=${plan#"$ROOT"/}
	# The variables the plan names (comments aside).
	mapfile -t vars < <(grep -v '^[[:space:]]*#' "$plan" | grep -oE 'env:[A-Za-z_][A-Za-z0-9_]*' |
		sed 's/^env://' | sort -u)
	env -i PATH="$PATH" HERALD_NOW=2026-11-01T00:00:00Z "$HERALD" check "$plan" >"$T/out" 2>"$T/err"
	rc=$?
	check "$rel: exit 0 without secrets (rc=$rc)" [ "$rc" -eq 0 ]
	check "$rel: summary on stdout" grep -q ": ok: plan " "$T/out"
	for v in "${vars[@]}"; do
		check "$rel: W-ENV-UNSET names $v" grep -q "warning W-ENV-UNSET: environment variable $v is not set" "$T/err"
	done
	n=$(grep -c "warning W-ENV-UNSET" "$T/err")
	check "$rel: one W-ENV-UNSET per variable ($n for ${#vars[@]})" [ "$n" -ge "${#vars[@]}" ]

	env -i PATH="$PATH" HERALD_NOW=2026-11-01T00:00:00Z "$HERALD" check --strict "$plan" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "${#vars[@]}" -gt 0 ]; then
		check "$rel: --strict exits 1 (rc=$rc)" [ "$rc" -eq 1 ]
		for v in "${vars[@]}"; do
			check "$rel: --strict names $v" grep -q "environment variable $v is not set" "$T/err"
		done
		check "$rel: --strict gives errors, not warnings" bash -c '! grep -q W-ENV-UNSET "$0"' "$T/err"
	else
		check "$rel: --strict exits 0 without env: names (rc=$rc)" [ "$rc" -eq 0 ]
	fi
done

# With the variables set, --strict passes and nothing is unset.
demo_env
"$HERALD" check --strict "$ROOT/plans/acme-isms.json" "$ROOT/plans/acme-isms.yaml" >"$T/out" 2>"$T/err"
check "--strict passes with every variable set" [ $? -eq 0 ]
check "no W-ENV-UNSET then" bash -c '! grep -q W-ENV-UNSET "$0"' "$T/err"
check "both plans summarised" [ "$(grep -c ': ok: plan ACME-ISMS-COMMS' "$T/out")" -eq 2 ]

# run and send still refuse a missing variable (--by once send takes it).
by=()
"$HERALD" send --help 2>/dev/null | grep -q -- '--by' && by=(--by test)
env -i PATH="$PATH" "$HERALD" send "$ROOT/plans/acme-isms.json" BREACH-NOTICE "${by[@]}" \
	--db "$T/h.db" >"$T/out" 2>"$T/err"
check "send fails on an unset variable (exit 1)" [ $? -eq 1 ]
check "send names the variable" grep -q "environment variable SLACK_STAFF is not set\|environment variable SMTP_USER is not set" "$T/err"
finish
