#!/usr/bin/env bash
# baseline: no   (needs the directory members of this tree)
# bench_members.sh - 100,000 members (BENCH_MEMBERS), from a CSV file and
# from a local slapd over ldaps (paged, 500 a page), each:
#  resolve      `herald members` (read, check, de-duplicate, print CSV)
#  materialise  `herald send --dry-run` up to the deliveries being queued
#               (one personal delivery per member, in the outbox), and to
#               the end (each recorded through the null channel)
# with seconds and peak memory, next to `ldapsearch` fetching the same
# entries (same page size, same TLS).  Targets: resolving from the
# directory within 3x ldapsearch's time, peak memory under 1 KiB a member.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/peers/slapd.sh"
N=${BENCH_MEMBERS:-100000}
status=0

# run-timed LABEL CMD...: seconds to "send.queued" (if logged), seconds in
# all and peak RSS, as "queued total kib"; the command's stdout is dropped.
run_timed() {
	$PY - "$@" <<'PY'
import os, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
queued = None
for line in p.stderr:
    if queued is None and "send.queued" in line:
        queued = time.monotonic() - t0
_, status, ru = os.wait4(p.pid, 0)
total = time.monotonic() - t0
if os.waitstatus_to_exitcode(status) != 0:
    print("%s: exit %d" % (sys.argv[1], os.waitstatus_to_exitcode(status)), file=sys.stderr)
print("%.2f %.2f %d" % (queued if queued is not None else -1, total, ru.ru_maxrss))
PY
}
row() { # label, queued, total, kib
	if [ "$(echo "$2 < 0" | bc -l)" -eq 1 ]; then
		printf '  %-38s %8.2fs                  peak %7.1f MiB\n' "$1" "$3" "$(echo "$4 / 1024" | bc -l)"
	else
		printf '  %-38s %8.2fs (queued %6.2fs) peak %7.1f MiB\n' "$1" "$3" "$2" "$(echo "$4 / 1024" | bc -l)"
	fi
}
plan() { # file, members JSON
	cat >"$1" <<JSON
{"plan": {"id": "BENCH-M", "version": "1", "owner": "o", "timezone": "UTC"},
 "channels": {"m": {"type": "email", "smtp": "smtp://127.0.0.1:1", "starttls": false,
                    "from": "isms@example.org"}},
 "audiences": {"all": {"scope": "internal", "feed": "none", "members": $2,
                       "deliver": [{"channel": "m", "to": "members"}]}},
 "communications": [{"id": "M", "topic": "bench", "audiences": ["all"], "owner": "o",
                     "schedule": {"trigger": "manual"}}]}
JSON
}

# ---- CSV
$PY - "$T/people.csv" "$N" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("\ufeffDisplay Name;E-Mail;Department\r\n")
    for n in range(1, int(sys.argv[2]) + 1):
        f.write('"Person %d, Acme";p%d@acme.example;%s\r\n' % (n, n, "IT" if n % 2 else "Sales"))
PY
plan "$T/csv.json" '{"file": "people.csv", "name": "Display Name", "email": "E-Mail", "delimiter": ";"}'
echo "CSV, $N people ($(du -h "$T/people.csv" | cut -f1)):"
read -r q t k < <(run_timed csv-resolve "$HERALD" members "$T/csv.json" all --format csv)
row "resolve (herald members)" "$q" "$t" "$k"
csv_kib=$k
read -r q t k < <(run_timed csv-send "$HERALD" send --dry-run --by bench --db "$T/csv.db" "$T/csv.json" M)
row "materialise + record (send --dry-run)" "$q" "$t" "$k"
made=$(sqlite3 "$T/csv.db" "select count(*) from deliveries")
[ "$made" -eq "$N" ] || { echo "  expected $N deliveries, found $made"; status=1; }

# ---- LDAP
slapd_setup
people_ldif 1 "$N" >"$T/people.ldif"
t0=$(date +%s.%N)
slapd_load "$T/people.ldif"
slapd_start
printf 'LDAP (slapd over ldaps, paged), %d people (slapadd %.1fs):\n' "$N" "$(echo "$(date +%s.%N) - $t0" | bc -l)"
export LDAP_BIND_DN LDAP_PASSWORD HERALD_CA_BUNDLE=$LDAP_CA LDAPTLS_CACERT=$LDAP_CA
plan "$T/ldap.json" "{\"ldap\": \"ldaps://127.0.0.1:$LDAPS_PORT\", \"base\": \"ou=people,$LDAP_SUFFIX\",
  \"filter\": \"(objectClass=inetOrgPerson)\", \"bind_dn\": \"env:LDAP_BIND_DN\", \"password\": \"env:LDAP_PASSWORD\"}"
read -r q t k < <(run_timed ldapsearch ldapsearch -x -LLL -H "ldaps://127.0.0.1:$LDAPS_PORT" \
	-D "$LDAP_BIND_DN" -w "$LDAP_PASSWORD" -E pr=500/noprompt -b "ou=people,$LDAP_SUFFIX" \
	"(objectClass=inetOrgPerson)" mail displayName cn)
row "ldapsearch (same entries, reference)" "$q" "$t" "$k"
ref=$t
read -r q t k < <(run_timed ldap-resolve "$HERALD" members "$T/ldap.json" all --format csv)
row "resolve (herald members)" "$q" "$t" "$k"
[ "$(echo "$t <= 3 * $ref + 1" | bc -l)" -eq 1 ] || { echo "  resolving is slower than 3x ldapsearch"; status=1; }
[ "$k" -le $((N + 65536)) ] || { echo "  more than 1 KiB a member"; status=1; }
read -r q t k < <(run_timed ldap-send "$HERALD" send --dry-run --by bench --db "$T/ldap.db" "$T/ldap.json" M)
row "materialise + record (send --dry-run)" "$q" "$t" "$k"
made=$(sqlite3 "$T/ldap.db" "select count(*) from deliveries")
[ "$made" -eq "$N" ] || { echo "  expected $N deliveries, found $made"; status=1; }
[ "$csv_kib" -le $((N + 65536)) ] || { echo "  CSV: more than 1 KiB a member"; status=1; }
slapd_stop
exit $status
