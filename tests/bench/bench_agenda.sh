#!/usr/bin/env bash
# bench_agenda.sh - `herald agenda --format json` over one year of a generated
# 10,000-communication plan (the rule shapes once refused included), side
# by side with a Python dateutil + zoneinfo peer doing the same expansion
# (agenda_peer.py): whole processes as a user runs them, plan loading
# included, timed by the wall clock.  Prints both, the ratio, the peak
# memory, and checks that both outputs are identical.  Target: herald at
# least 10x faster.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${HERALD:=$here/../../build/herald}"
: "${PY:=/usr/bin/python3}"
N=${BENCH_COMMS:-10000}
FROM=2026-01-01T00:00:00Z
TO=2027-01-01T00:00:00Z
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -x /usr/bin/time ] || { echo "bench_agenda: /usr/bin/time missing (contrib/install-deps bench)"; exit 1; }
"$PY" "$here/gen_plan.py" "$N" 1 >"$T/plan.json" || exit 1

# run NAME RUNS CMD...: the best wall time of RUNS runs (the machine is
# shared: the best run is the one least disturbed by the neighbours), with
# that run's CPU time and peak memory, into NAME_wall NAME_cpu NAME_kb.
run() {
	local name=$1 runs=$2 best= i wall u s kb
	shift 2
	for ((i = 0; i < runs; i++)); do
		/usr/bin/time -f '%e %U %S %M' -o "$T/time" "$@" >"$T/$name.json" ||
			{ echo "$name failed"; exit 1; }
		read -r wall u s kb <"$T/time"
		if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then
			best=$wall
			printf -v "${name}_wall" %s "$wall"
			printf -v "${name}_cpu" %s "$(awk "BEGIN{print $u + $s}")"
			printf -v "${name}_kb" %s "$kb"
		fi
	done
}
run herald 5 "$HERALD" agenda "$T/plan.json" --from $FROM --to $TO --format json
run peer 3 "$PY" "$here/agenda_peer.py" "$T/plan.json" $FROM $TO
occ=$(grep -c '"communication"' "$T/herald.json")
same=identical
cmp -s "$T/herald.json" "$T/peer.json" || same=DIFFERENT
ratio=$(awk "BEGIN{ printf \"%.1f\", $peer_wall / ($herald_wall > 0 ? $herald_wall : 0.01) }")
printf '%s communications, %s occurrences in [%s, %s)\n' "$N" "$occ" $FROM $TO
printf '%-28s %8s %8s %10s\n' "whole process" "wall" "CPU" "peak"
printf '%-28s %6.2f s %6.2f s %6d KiB\n' "herald agenda --format json" "$herald_wall" "$herald_cpu" "$herald_kb"
printf '%-28s %6.2f s %6.2f s %6d KiB\n' "python dateutil peer" "$peer_wall" "$peer_cpu" "$peer_kb"
printf 'ratio (wall clock): %sx (target >= 10x); outputs %s\n' "$ratio" "$same"
if [ "$same" != identical ]; then
	diff "$T/herald.json" "$T/peer.json" | head -5
	exit 1
fi
awk "BEGIN{exit !($ratio >= 10)}" || { echo "below target"; exit 1; }
