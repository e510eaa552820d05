#!/usr/bin/env bash
# YAML plans: plans/acme-isms.yaml is the same plan as plans/acme-isms.json,
# so agenda, ICS feeds and check give the same bytes; the YAML reader's
# refusals (billion laughs, duplicate keys, tabs) are quick and precise.
. "$(dirname "$0")/../lib.sh"
demo_env
export HERALD_NOW=2026-11-02T08:00:00Z
J=$ROOT/plans/acme-isms.json
Y=$ROOT/plans/acme-isms.yaml

same() { # description, herald arguments (PLAN is replaced by each file)
	local d=$1; shift
	"$HERALD" "${@/PLAN/$J}" >"$T/json.out" 2>"$T/json.err"
	local rj=$?
	"$HERALD" "${@/PLAN/$Y}" >"$T/yaml.out" 2>"$T/yaml.err"
	local ry=$?
	check "$d: exit codes ($rj, $ry)" [ "$rj" -eq 0 -a "$ry" -eq 0 ]
	check "$d: output not empty" [ -s "$T/json.out" ]
	check "$d: same bytes" cmp -s "$T/json.out" "$T/yaml.out"
}

same "agenda text" agenda PLAN --from 2026-01-01 --days 800
same "agenda json" agenda PLAN --from 2026-01-01 --days 800 --format json
same "agenda for the board" agenda PLAN --from 2026-01-01 --days 800 --audience board
same "ics, whole plan" ics PLAN
same "ics, a window" ics PLAN --from 2026-01-01 --to 2028-01-01
for a in all-staff incident-team leadership board customers suppliers suppliers-us public; do
	same "ics for $a" ics PLAN --audience "$a"
done

# check: the same verdict and warnings, only the file name differs.
"$HERALD" check "$J" 2>"$T/json.err" | sed "s|$J|PLAN|" >"$T/json.out"
"$HERALD" check "$Y" 2>"$T/yaml.err" | sed "s|$Y|PLAN|" >"$T/yaml.out"
sed -i "s|$J|PLAN|" "$T/json.err"
sed -i "s|$Y|PLAN|" "$T/yaml.err"
check "check: same summary" cmp -s "$T/json.out" "$T/yaml.out"
check "check: same warnings" cmp -s "$T/json.err" "$T/yaml.err"
check "check: the YAML plan is valid" grep -q "ok: plan ACME-ISMS-COMMS version 3.0, 15 communications" "$T/yaml.out"

# An error in YAML: the JSON path, then line and column.
sed 's/^  version: "3.0"$/  version: 3.0/' "$Y" >"$T/v.yaml"
cp -r "$ROOT/plans/people" "$T/"
"$HERALD" check "$T/v.yaml" >/dev/null 2>"$T/err"
check "bare 3.0 refused (exit 1)" [ $? -eq 1 ]
line=$(grep -n '^  version: ' "$Y" | cut -d: -f1)
check "path, line and column, advice to quote" \
	grep -qF "plan.version: line $line, column 3: expected a string, found a number: YAML reads the bare value 3.0 as a number; write it in quotes (\"3.0\")" "$T/err"

# .yml is YAML too.
cp "$Y" "$T/plan.yml"
cp -r "$ROOT/plans/people" "$ROOT/plans/holidays" "$T/"
"$HERALD" agenda "$T/plan.yml" --from 2026-01-01 --days 800 >"$T/yml.out" 2>/dev/null
"$HERALD" agenda "$J" --from 2026-01-01 --days 800 >"$T/json.out" 2>/dev/null
check ".yml is read as YAML" cmp -s "$T/json.out" "$T/yml.out"

# The hazards: refused within a second, with line and column.
for n in billion-laughs duplicate-key tab-indent; do
	f=$ROOT/tests/data/bad/yaml-$n.yaml
	start=$(date +%s%N)
	timeout 5 "$HERALD" check "$f" >/dev/null 2>"$T/err"
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	check "$n: refused (exit $rc)" [ "$rc" -eq 1 ]
	check "$n: within 1 s (${ms} ms)" [ "$ms" -lt 1000 ]
	check "$n: line and column" grep -qE 'line [0-9]+, column [0-9]+: ' "$T/err"
done

# A bigger billion laughs (more levels): still bounded.
{
	echo 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'
	prev=a
	for n in b c d e f g h i j k l m n o p q r s t u; do
		printf '%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n' "$n" "$n" \
			$prev $prev $prev $prev $prev $prev $prev $prev $prev $prev
		prev=$n
	done
} >"$T/laughs.yaml"
start=$(date +%s%N)
timeout 5 "$HERALD" check "$T/laughs.yaml" >/dev/null 2>"$T/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "20-level laughs refused within 1 s (exit $rc, ${ms} ms)" [ "$rc" -eq 1 -a "$ms" -lt 1000 ]
check "20-level laughs: says why" grep -q 'billion laughs' "$T/err"
finish
