#!/usr/bin/env bash
# bench_evidence.sh - verify and export of a log of 1,000,000 deliveries
# (~3.3 million chained rows), rows/s next to the sqlite3 shell reading the
# same rows: for verify every evidence table, for export the tables it
# joins (and, as before, the deliveries table alone).  Targets: verify >=
# 500,000 rows/s; export >= 0.5x the shell reading the same rows.
#   BENCH_DELIVERIES=N to change the size; BENCH_DB=FILE to keep the db.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${HERALD:=$root/build/herald}"
build=$(dirname "$HERALD")
GEN=$build/tests/test_evidence
N=${BENCH_DELIVERIES:-1000000}
[ -x "$GEN" ] || make -s -C "$root" BUILD="$build" "$build/tests/test_evidence" >/dev/null
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
DB=${BENCH_DB:-$T/bench.db}
now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" -v e="$3" 'BEGIN { d = e - s; printf "%10.2f s %12.0f rows/s", d, n / d }'; }

if [ ! -s "$DB" ]; then
	s=$(now)
	"$GEN" --generate "$DB" "$N" 1 >/dev/null || exit 3
	e=$(now)
	printf 'generate %d deliveries (one transaction): %s\n' "$N" "$(rate "$N" "$s" "$e")"
fi
# Every chained table (it has a hash column), whatever the format.
tables=$(sqlite3 "$DB" "SELECT name FROM sqlite_master WHERE type='table' AND sql LIKE '%hash BLOB%'")
count_of() { local q="SELECT 0"; for t in "$@"; do q="$q+(SELECT count(*) FROM $t)"; done; sqlite3 "$DB" "$q"; }
select_all() { local q=""; for t in "$@"; do q="$q SELECT * FROM $t;"; done; echo "$q"; }
rows=$(count_of $tables)
dels=$(sqlite3 "$DB" "SELECT count(*) FROM deliveries")
# What an export reads: deliveries and, in format 2, what they join.
joined=
for t in deliveries messages texts delivery_states acks; do
	echo "$tables" | grep -qx "$t" && joined="$joined $t"
done
jrows=$(count_of $joined)
echo "database: $dels deliveries, $rows evidence rows, $(du -h "$DB" | cut -f1)"
# Warm the page cache so both sides read from memory.
cat "$DB" "$DB-wal" >/dev/null 2>&1

s=$(now)
sqlite3 "$DB" "$(select_all $tables)" >/dev/null
e=$(now)
printf '%-40s %s\n' "sqlite3 shell, SELECT * of every table" "$(rate "$rows" "$s" "$e")"

s=$(now)
"$HERALD" evidence verify --db "$DB" >/dev/null || { echo "verify FAILED"; exit 1; }
e=$(now)
vline=$(rate "$rows" "$s" "$e")
printf '%-40s %s\n' "herald evidence verify" "$vline"

s=$(now)
sqlite3 "$DB" "SELECT * FROM deliveries" >/dev/null
e=$(now)
dshell=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
printf '%-40s %s\n' "sqlite3 shell, SELECT * FROM deliveries" "$(rate "$dels" "$s" "$e")"
s=$(now)
sqlite3 -csv "$DB" "$(select_all $joined)" >/dev/null
e=$(now)
jshell=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
printf '%-40s %s\n' "sqlite3 shell -csv, the tables export reads" "$(rate "$jrows" "$s" "$e")"

s=$(now)
"$HERALD" evidence export --db "$DB" >/dev/null || { echo "export FAILED"; exit 1; }
e=$(now)
xcsv=$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')
printf '%-40s %s\n' "herald evidence export (csv)" "$(rate "$dels" "$s" "$e")"
s=$(now)
"$HERALD" evidence export --db "$DB" --format json >/dev/null || { echo "export FAILED"; exit 1; }
e=$(now)
printf '%-40s %s\n' "herald evidence export (json)" "$(rate "$dels" "$s" "$e")"

awk -v j="$jshell" -v d="$dshell" -v x="$xcsv" 'BEGIN {
	printf "export (csv) next to the shell: %.2fx the same rows, %.2fx the deliveries table alone\n", j / x, d / x }'
v=$(echo "$vline" | awk '{print $3}')
if [ "${v%.*}" -ge 500000 ]; then
	echo "verify target (>= 500000 rows/s): met"
else
	echo "verify target (>= 500000 rows/s): NOT met"
	exit 1
fi
