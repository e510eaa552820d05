#!/usr/bin/env bash
# bench_agenda.sh - `herald agenda --format json` over one year of a generated
# 10,000-communication plan, side by side with a Python dateutil + zoneinfo
# peer doing the same expansion (agenda_peer.py).  Prints both times, the
# ratio, herald's peak memory, and checks that both outputs are identical.
# Target: herald at least 10x faster.
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

# Best of three for herald (it is short; noise matters), one run of the peer.
# The ratio is of CPU time (user + system): the machine is shared, and wall
# time swings with the neighbours; both are printed.
best=
for _ in 1 2 3; do
	/usr/bin/time -f '%e %U %S %M' -o "$T/time" "$HERALD" agenda "$T/plan.json" \
	    --from $FROM --to $TO --format json >"$T/herald.json" || { echo "herald failed"; exit 1; }
	read -r wall u s kb <"$T/time"
	secs=$(awk "BEGIN{print $u + $s}")
	if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs bwall=$wall mem=$kb; fi
done
/usr/bin/time -f '%e %U %S %M' -o "$T/ptime" "$PY" "$here/agenda_peer.py" "$T/plan.json" $FROM $TO \
    >"$T/peer.json" || { echo "peer failed"; exit 1; }
read -r pwall u s pkb <"$T/ptime"
psecs=$(awk "BEGIN{print $u + $s}")
occ=$(grep -c '"communication"' "$T/herald.json")
same=identical
cmp -s "$T/herald.json" "$T/peer.json" || same=DIFFERENT
ratio=$(awk "BEGIN{ printf \"%.1f\", $psecs / ($best > 0 ? $best : 0.001) }")
printf '%s communications, %s occurrences in [%s, %s)\n' "$N" "$occ" $FROM $TO
printf 'herald agenda --format json: %6.2f s CPU (%s s wall)  peak %d KiB\n' "$best" "$bwall" "$mem"
printf 'python dateutil peer:        %6.2f s CPU (%s s wall)  peak %d KiB\n' "$psecs" "$pwall" "$pkb"
printf 'ratio (CPU): %sx (target >= 10x); outputs %s\n' "$ratio" "$same"
if [ "$same" != identical ]; then
	diff "$T/herald.json" "$T/peer.json" | head -5
	exit 1
fi
awk "BEGIN{exit !($ratio >= 10)}" || { echo "below target"; exit 1; }
