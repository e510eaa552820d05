#!/usr/bin/env bash
# evidence_export.sh - `herald evidence export`: CSV that Python's csv
# module parses (RFC 4180, formula cells defused, trailing chain-head
# comment), JSON that json parses with the head; --from/--to; backup while
# a writer appends; usage errors exit 2.
. "$(dirname "$0")/../lib.sh"
GEN=${HERALD_BUILD:-$(dirname "$HERALD")}/tests/test_evidence
"$GEN" --generate "$T/e.db" 500 3 >/dev/null || { echo "generator failed"; exit 3; }
head=$("$HERALD" evidence verify --db "$T/e.db" | sed -n 's/.*sha256 \([0-9a-f]*\)$/\1/p')
check "verify prints the head" test ${#head} -eq 64

"$HERALD" evidence export --db "$T/e.db" >"$T/e.csv"
check "export csv exits 0" test $? -eq 0
check "csv parses" $PY - "$T/e.csv" "$head" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8")))
hdr, body, tail = rows[0], rows[1:-1], rows[-1]
assert hdr[:5] == ["delivery", "due", "sent", "state", "flags"], hdr
assert len(body) == 500, len(body)
assert all(len(r) == len(hdr) for r in body)
assert tail == [f"# chain head: seq {tail[0].split()[4]} sha256 {sys.argv[2]}"], tail
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
