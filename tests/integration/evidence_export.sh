#!/usr/bin/env bash
# evidence_export.sh - `herald evidence export`: CSV that Python's csv
# module and `sqlite3 .import` read with no stray row (RFC 4180, formula
# cells defused, the chain head on stderr and in --head FILE, not in the
# file), JSON that json parses with the head inline; --from/--to,
# --communication, --audience, --kind; backup while a writer appends;
# usage errors exit 2.
. "$(dirname "$0")/../lib.sh"
GEN=${HERALD_BUILD:-$(dirname "$HERALD")}/tests/test_evidence
"$GEN" --generate "$T/e.db" 500 3 >/dev/null || { echo "generator failed"; exit 3; }
head=$("$HERALD" evidence verify --db "$T/e.db" | sed -n 's/.*sha256 \([0-9a-f]*\)$/\1/p')
check "verify prints the head" test ${#head} -eq 64

"$HERALD" evidence export --db "$T/e.db" --head "$T/e.head" >"$T/e.csv" 2>"$T/e.err"
check "export csv exits 0" test $? -eq 0
check "csv parses: the header and 500 rows, nothing else" $PY - "$T/e.csv" "$head" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
hdr, body = rows[0], rows[1:]
assert hdr[:5] == ["delivery", "due", "sent", "state", "flags"], hdr
assert len(body) == 500, len(body)
assert all(len(r) == len(hdr) for r in body)
assert not any("chain head" in c for r in rows for c in r)
topics = {r[hdr.index("topic")] for r in body}
assert any(t.startswith("'=HYPERLINK") for t in topics), topics   # defused formula
assert not any(t[:1] in "=+-@" for r in body for t in r if t), "formula cell"
assert 'Supplier security requirements, "v2"' in topics
notes = [r for r in body if r[hdr.index("kind")] == "manual"]
assert notes and all(r[hdr.index("requested_by")] == "dana" for r in notes)
states = {r[hdr.index("state")] for r in body}
assert {"sent", "failed", "missed", "dry-run", "pending"} <= states, states
assert any("late" in r[hdr.index("flags")] for r in body)
PY

seq=$("$HERALD" evidence verify --db "$T/e.db" | sed -n 's/.*chain head seq \([0-9]*\) .*/\1/p')
check "the chain head goes to stderr" grep -qx "herald: evidence export: chain head seq $seq sha256 $head" "$T/e.err"
check "and to --head FILE" grep -qx "chain head seq $seq sha256 $head" "$T/e.head"
# sqlite3 .import reads the header as the column names, then every row.
sqlite3 "$T/imp.db" ".import --csv $T/e.csv t" 2>"$T/imp.err"
check "sqlite3 .import reads it without complaint" test ! -s "$T/imp.err"
check "sqlite3 .import: 500 rows, no stray one" test "$(sqlite3 "$T/imp.db" 'select count(*) from t')" = 500
check "sqlite3 .import: every row a delivery" test "$(sqlite3 "$T/imp.db" "select count(*) from t where length(delivery) = 64")" = 500
check "multi-line cells survive the import" test "$(sqlite3 "$T/imp.db" "select count(*) from t where note like 'breach, %see ticket'")" -gt 0

# Filters: the rows of one communication, one audience, one kind.
n_manual=$(evq "$T/e.db" "sum(1 for x in d if x['kind']=='manual')")
"$HERALD" evidence export --db "$T/e.db" --kind manual >"$T/k.csv" 2>/dev/null
check "--kind manual keeps the $n_manual manual rows" $PY - "$T/k.csv" "$n_manual" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
assert len(rows) == int(sys.argv[2]) > 0, len(rows)
assert {r["kind"] for r in rows} == {"manual"}
PY
comm=$(evq "$T/e.db" "d[0]['communication']")
aud=$(evq "$T/e.db" "d[0]['audience']")
n_both=$(evq "$T/e.db" "sum(1 for x in d if x['communication']=='$comm' and x['audience']=='$aud')")
"$HERALD" evidence export --db "$T/e.db" --format json --communication "$comm" --audience "$aud" >"$T/ca.json"
check "--communication and --audience keep the $n_both rows of both" $PY - "$T/ca.json" "$comm" "$aud" "$n_both" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["count"] == len(d["deliveries"]) == int(sys.argv[4]) > 0, d["count"]
assert all(x["communication"] == sys.argv[2] and x["audience"] == sys.argv[3] for x in d["deliveries"])
PY
"$HERALD" evidence export --db "$T/e.db" --kind nonsense >"$T/bad.out" 2>"$T/bad.err"
check "unknown --kind: exit 2" test $? -eq 2
check "unknown --kind: the error lists the kinds" grep -q -- "--kind is scheduled, reminder, manual, drill or onboarding" "$T/bad.err"
check "unknown --kind: no output" test ! -s "$T/bad.out"

"$HERALD" evidence export --db "$T/e.db" --format json --from 2026-01-01T01:00:00Z --to 2026-01-01T02:00:00Z >"$T/e.json"
check "json parses, window of 60 deliveries, head present" $PY - "$T/e.json" "$head" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["chain_head"]["sha256"] == sys.argv[2]
assert d["count"] == len(d["deliveries"]) == 60, d["count"]
assert all("2026-01-01T01:" in x["due"] for x in d["deliveries"])
assert all(isinstance(x["attempts"], int) and isinstance(x["flags"], list) for x in d["deliveries"])
PY
# The rendered messages are exported (what was said to whom), but an ack
# link is a capability: it stays the placeholder.
check "messages exported with the ack link as a placeholder" $PY - "$T/e.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["deliveries"]
assert all("{{ack_url}}" in x["message"] for x in d), d[0]
assert not any("/ack/" in x["message"] for x in d)
PY
check "no ack ids exported" bash -c "! grep -q 'ack_id' '$T/e.csv' '$T/e.json'"
"$HERALD" evidence export --db "$T/e.db" --format xml >/dev/null 2>&1
check "bad format: exit 2" test $? -eq 2
"$HERALD" evidence export --db "$T/missing.db" >/dev/null 2>&1
check "missing db: exit 3" test $? -eq 3

# Online backup while a writer appends.
spawn "$GEN" --append "$T/e.db" 20000 5
check "backup during writes" "$HERALD" evidence backup "$T/b.db" --db "$T/e.db"
wait "$LAST_PID"
check "backup verifies on its own" "$HERALD" evidence verify --db "$T/b.db"
check "live db verifies after the writer" "$HERALD" evidence verify --db "$T/e.db"
"$HERALD" evidence backup "$T/e.db" --db "$T/e.db" >/dev/null 2>&1
check "backup onto itself refused" test $? -eq 2
finish
