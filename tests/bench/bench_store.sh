#!/usr/bin/env bash
# baseline: self
# bench_store.sh - evidence that stays small (issue 8): one personal policy
# message (about 1 KB of text, with acknowledgement) to 5,000 members,
# recorded in dry-run; bytes of database per delivery.  Goal: <= 600.
# With HERALD_BASELINE (run-bench builds it) the same workload on that
# build is printed beside.
#   BENCH_MEMBERS=N to change the size.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${HERALD:=$root/build/herald}"
N=${BENCH_MEMBERS:-5000}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T" "$N" <<'PY'
import json, sys
t, n = sys.argv[1], int(sys.argv[2])
with open(f"{t}/people.csv", "w") as f:
    f.write("name,email\n")
    for i in range(n):
        f.write(f"Person {i:05d},person{i:05d}@staff.acme.example\n")
text = ("Our information security policy was revised. It covers acceptable use, "
        "passwords, reporting incidents and handling customer data. ") * 7
json.dump({"plan": {"id": "BENCH-STORE", "version": "1", "owner": "ISMS <isms@acme.example>",
                    "approved_by": "CISO", "approved_on": "2026-01-12", "timezone": "Europe/London"},
           "channels": {"mail": {"type": "email", "smtp": "smtp://127.0.0.1:9",
                                 "from": "ISMS <isms@acme.example>", "starttls": False}},
           "audiences": {"staff": {"name": "All staff", "scope": "internal",
                                   "members": "file:people.csv",
                                   "deliver": [{"channel": "mail", "to": "members"}]},
                         "ext": {"scope": "external", "feed": "none", "deliver": [{"channel": "mail", "to": ["x@example.org"]}]}},
           "communications": [{"id": "POLICY", "topic": "Revised information security policy",
                               "description": text[:1000], "audiences": ["staff"], "owner": "Dana Reyes",
                               "schedule": {"trigger": "manual"}, "acknowledge": True}]},
          open(f"{t}/plan.json", "w"))
PY
# Bytes of database per delivery after a dry-run send to every member:
# the file once its WAL is folded in, without free pages.
measure() { # HERALD DIR
	mkdir -p "$2"
	"$1" send "$T/plan.json" POLICY --db "$2/h.db" --dry-run --note bench >/dev/null 2>&1 ||
		"$1" send "$T/plan.json" POLICY --db "$2/h.db" --dry-run --by bench --note bench >/dev/null 2>&1 ||
		{ echo "send failed"; return 1; }
	sqlite3 "$2/h.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	local pages free size n
	pages=$(sqlite3 "$2/h.db" "PRAGMA page_count")
	free=$(sqlite3 "$2/h.db" "PRAGMA freelist_count")
	size=$(sqlite3 "$2/h.db" "PRAGMA page_size")
	n=$(sqlite3 "$2/h.db" "SELECT count(*) FROM deliveries")
	awk -v p="$pages" -v f="$free" -v s="$size" -v n="$n" \
		'BEGIN { printf "%d deliveries, %.0f bytes of database, %.0f bytes per delivery\n", n, (p - f) * s, (p - f) * s / n }'
}
if [ -n "${HERALD_BASELINE:-}" ]; then
	printf '%-12s %s\n' "baseline" "$(measure "$HERALD_BASELINE" "$T/base")"
fi
line=$(measure "$HERALD" "$T/now")
printf '%-12s %s\n' "this tree" "$line"
per=$(echo "$line" | sed -n 's/.* \([0-9]*\) bytes per delivery/\1/p')
if [ -n "$per" ] && [ "$per" -le 600 ]; then
	echo "goal (<= 600 bytes per delivery): met"
else
	echo "goal (<= 600 bytes per delivery): NOT met"
	exit 1
fi
