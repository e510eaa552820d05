#!/usr/bin/env bash
# evidence_mutation.sh - `herald evidence verify` catches every tampering.
#
# A database with a realistic mix (retries, failures, missed, dry-run,
# manual sends, acks, plan versions, events), then at least 200 random
# edits, deletions, swaps and insertions across every evidence table, each
# on a fresh copy with the append-only triggers dropped first: verify must
# exit 1 naming a row every time.  The untouched copy verifies; checkpoints
# prove the log only grew, and catch a cut-back log whose head record was
# rewritten (which plain verify cannot see).
. "$(dirname "$0")/../lib.sh"
GEN=${HERALD_BUILD:-$(dirname "$HERALD")}/tests/test_evidence
N=${MUTATIONS:-240}

# Database 1: from a real run of the service.  Manual sends through the
# API to a real HTTP receiver (success, retries, a permanent refusal), the
# ack buttons pressed, a reload and a refused reload, a clean stop.
# True when the first number an SQL query prints is at least $3.
db_at_least() { [ "$(sqlite3 "$1" "$2" 2>/dev/null || echo 0)" -ge "$3" ]; }
real_run() {
	local rport hport base ADMIN
	rport=$(free_port) hport=$(free_port)
	printf '{"/ok/a": ["200"], "/flaky/b": ["500", "503", "200"], "/gone/c": ["410"]}' >"$T/script.json"
	spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$rport" --log "$T/recv.log" --script "$T/script.json"
	wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $rport))" || return 1
	export HA="http://127.0.0.1:$rport/ok/a" HB="http://127.0.0.1:$rport/flaky/b" HC="http://127.0.0.1:$rport/gone/c"
	sed 's/"version": "1"/"version": "1"/' >"$T/real.json" <<'JSON'
{"plan": {"id": "T-REAL", "version": "1", "owner": "Ops <ops@example.org>", "approved_by": "CISO",
          "approved_on": "2026-01-01", "timezone": "Europe/London"},
 "channels": {"a": {"type": "webhook", "url": "env:HA"}, "b": {"type": "webhook", "url": "env:HB"},
              "c": {"type": "slack", "webhook": "env:HC"}},
 "audiences": {"staff": {"scope": "internal", "deliver": [{"channel": "a"}, {"channel": "b"}]},
               "partners": {"scope": "external", "deliver": [{"channel": "a"}, {"channel": "c"}]}},
 "communications": [
   {"id": "INC", "topic": "Incident notice", "audiences": ["staff", "partners"], "owner": "CISO",
    "schedule": {"trigger": "manual"}, "acknowledge": true}]}
JSON
	ADMIN=adm-$(od -An -N16 -tx1 /dev/urandom | tr -d " \n")
	base="http://127.0.0.1:$hport"
	HERALD_ADMIN_TOKEN=$ADMIN HERALD_RETRY_BASE_MS=200 HERALD_CONN_TIMEOUT=5 \
		spawn "$HERALD" run "$T/real.json" --db "$T/live.db" --listen "127.0.0.1:$hport" --base-url "$base"
	local pid=$LAST_PID
	wait_for 15 curl -sf "$base/healthz" || { echo "real_run: service did not start"; return 1; }
	for note in first second third; do
		curl -sf -o /dev/null -X POST -H "Authorization: Bearer $ADMIN" -d "{\"by\": \"Dana Reyes\", \"note\": \"$note\"}" \
			"$base/api/communications/INC/send" || { echo "real_run: send refused"; return 1; }
	done
	# 3 sends x 4 deliveries, each ends sent or failed.
	wait_for 60 db_at_least "$T/live.db" 'SELECT count(DISTINCT delivery) FROM delivery_states' 12 || { echo "real_run: deliveries did not finish"; return 1; }
	$PY -c '
import json, sys
for line in open(sys.argv[1]):
    b = json.loads(json.loads(line)["body"] or "{}") if line.startswith("{") else {}
    if isinstance(b, dict) and b.get("ack_url"): print(b["ack_url"])
' "$T/recv.log" | head -n 5 | while read -r u; do curl -sf -o /dev/null -d confirm=read "$u"; done
	sed -i 's/"version": "1"/"version": "2"/' "$T/real.json"
	kill -HUP "$pid"
	wait_for 15 db_at_least "$T/live.db" "SELECT count(*) FROM plan_versions WHERE version='2'" 1 || { echo "real_run: reload not recorded"; return 1; }
	printf '{"plan": ' >"$T/real.json"
	kill -HUP "$pid"
	wait_for 15 db_at_least "$T/live.db" "SELECT count(*) FROM plan_versions WHERE event='refused'" 1 || { echo "real_run: refused reload not recorded"; return 1; }
	kill -TERM "$pid"
	wait "$pid"
}
check "a real run of the service" real_run
for t in plan_versions deliveries attempts delivery_states acks events; do
	check "the real run wrote $t" test "$(sqlite3 "$T/live.db" "SELECT count(*) FROM $t")" -gt 0
done
mkdir -p "$T/real" "$T/gen"
# A pristine single-file copy to mutate (also exercises backup).
check "backup of the real run's db" "$HERALD" evidence backup "$T/real/pristine.db" --db "$T/live.db"
check "untouched real copy verifies" "$HERALD" evidence verify --db "$T/real/pristine.db"
# Plan versions are stored whole: each loaded/reloaded row points at its
# text (a texts row).  Mutations aimed at those rows are caught too.
check "the real run stored each plan version's text" test "$(sqlite3 "$T/real/pristine.db" \
	"SELECT count(*) FROM plan_versions p JOIN texts t ON t.sha256=p.text WHERE t.body LIKE '%T-REAL%'")" -ge 2
check "plan text mutations caught" $PY - "$T/real/pristine.db" "$HERALD" <<'PY'
import re, shutil, sqlite3, subprocess, sys, tempfile, os
src, herald = sys.argv[1], sys.argv[2]
def run(name, sqls):
    d = tempfile.mkdtemp(); p = os.path.join(d, "m.db"); shutil.copyfile(src, p)
    c = sqlite3.connect(p, isolation_level=None)
    for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        c.execute(f"DROP TRIGGER {t}")
    for q in sqls: c.execute(q)
    c.close()
    r = subprocess.run([herald, "evidence", "verify", "--db", p], capture_output=True, text=True)
    shutil.rmtree(d)
    ok = r.returncode == 1 and re.search(r"seq \d+", r.stderr)
    if not ok: print(f"NOT CAUGHT: {name}: exit {r.returncode}: {r.stderr.strip()}", file=sys.stderr)
    return ok
plan_text = "(SELECT text FROM plan_versions WHERE text IS NOT NULL ORDER BY seq LIMIT 1)"
other_text = "(SELECT text FROM plan_versions WHERE text IS NOT NULL ORDER BY seq DESC LIMIT 1)"
cases = {
    "edit a plan text's body": [f"UPDATE texts SET body=replace(body, 'T-REAL', 'T-FAKE') WHERE sha256={plan_text}"],
    "null a version's text": ["UPDATE plan_versions SET text=NULL WHERE seq=(SELECT min(seq) FROM plan_versions WHERE text IS NOT NULL)"],
    "point a version at another text": [f"UPDATE plan_versions SET text={other_text} WHERE seq=(SELECT min(seq) FROM plan_versions WHERE text IS NOT NULL)"],
    "delete a plan text": [f"DELETE FROM texts WHERE sha256={plan_text}"],
}
c = sqlite3.connect(src)
distinct = c.execute("SELECT count(DISTINCT text) FROM plan_versions WHERE text IS NOT NULL").fetchone()[0]
c.close()
if distinct < 2: del cases["point a version at another text"]; print("only one plan text", file=sys.stderr); sys.exit(1)
sys.exit(0 if all(run(n, q) for n, q in cases.items()) else 1)
PY

# Database 2: generated through db_append, for the states a short real run
# cannot reach (late, missed, dry-run, duplicates).
"$GEN" --generate "$T/gen.db" 300 42 >/dev/null || { echo "generator failed"; exit 3; }
check "backup of the generated db" "$HERALD" evidence backup "$T/gen/pristine.db" --db "$T/gen.db"
check "untouched generated copy verifies" "$HERALD" evidence verify --db "$T/gen/pristine.db"
cp "$T/gen/pristine.db" "$T/pristine.db"

# Database 3: the first release's fixture, migrated and grown: format-1
# rows (v1_* tables) and format-2 rows in one chain.
mkdir -p "$T/mig"
cp "$ROOT/tests/data/fixtures/v1.db" "$T/mig.db"
"$GEN" --append "$T/mig.db" 200 11 >/dev/null || { echo "append to the fixture failed"; exit 3; }
check "backup of the migrated fixture" "$HERALD" evidence backup "$T/mig/pristine.db" --db "$T/mig.db"
check "untouched migrated copy verifies" "$HERALD" evidence verify --db "$T/mig/pristine.db"

for db in real gen mig; do
check "every mutation caught ($db)" $PY - "$T/$db" "$HERALD" "$N" <<'PY'
import os, random, re, shutil, sqlite3, struct, subprocess, sys
T, herald, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(int(os.environ.get("SEED", "7")))

def evidence_tables(c):
    """Every chained table (it has a hash column), of every format."""
    names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return [t for t in names if any(r[1] == "hash" for r in c.execute(f"PRAGMA table_info({t})"))]

def fresh():
    p = os.path.join(T, "m.db")
    for s in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(p + s): os.unlink(p + s)
    shutil.copyfile(os.path.join(T, "pristine.db"), p)
    c = sqlite3.connect(p, isolation_level=None)
    for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        c.execute(f"DROP TRIGGER {name}")
    return p, c

def unique_cols(c, t):
    out = []
    for idx in c.execute(f"PRAGMA index_list({t})").fetchall():
        if idx[2]:
            out += [r[2] for r in c.execute(f"PRAGMA index_info({idx[1]})")]
    return out

def forge(v):
    if isinstance(v, bytes): return v[:-1] + bytes([v[-1] ^ 0xff])
    if isinstance(v, str): return v + "-forged"
    if isinstance(v, int): return v + 10**9
    return v

def forged_row(c, t, src, seq):
    """A copy of row src at seq, its unique values changed so it fits."""
    cs = cols(c, t); row = list(src); row[0] = seq
    for u in unique_cols(c, t):
        if u in cs and u != "seq":
            row[cs.index(u)] = forge(row[cs.index(u)])
    return cs, row

def cols(c, t):
    return [r[1] for r in c.execute(f"PRAGMA table_info({t})")]

def pick(c, t):
    return c.execute(f"SELECT seq FROM {t} ORDER BY random() LIMIT 1").fetchone()[0]

def other_value(v):
    if v is None: return "x"
    if isinstance(v, int): return v + rnd.choice([1, -1, 1000])
    if isinstance(v, bytes): return bytes([v[0] ^ 1]) + v[1:]
    if v == "": return " "
    i = rnd.randrange(len(v))
    ch = "Z" if v[i] != "Z" else "Y"
    return v[:i] + ch + v[i+1:]

def renumber_from(c, k, d):
    """Shifts every seq > k by d across all tables (a middle insertion/removal)."""
    for t in evidence_tables(c):
        c.execute(f"UPDATE {t} SET seq=-(seq+?) WHERE seq>?", (d, k))
        c.execute(f"UPDATE {t} SET seq=-seq WHERE seq<0")

def edit(c, t):
    cs = [x for x in cols(c, t) if x != "seq"]
    col = rnd.choice(cs); s = pick(c, t)
    old = c.execute(f'SELECT "{col}" FROM {t} WHERE seq=?', (s,)).fetchone()[0]
    new = other_value(old)
    try:
        c.execute(f'UPDATE {t} SET "{col}"=? WHERE seq=?', (new, s))
    except sqlite3.IntegrityError:
        # A unique column (a delivery's one final state, a key): a value
        # no other row has.
        c.execute(f'UPDATE {t} SET "{col}"=? WHERE seq=?', (forge(old), s))
    return f"edit {t} seq {s} {col}"

def edit_null(c, t):
    cs = [x for x in cols(c, t) if x not in ("seq", "prev", "hash")]
    for col in rnd.sample(cs, len(cs)):
        s = c.execute(f'SELECT seq FROM {t} WHERE "{col}" IS NOT NULL ORDER BY random() LIMIT 1').fetchone()
        if s:
            try:
                c.execute(f'UPDATE {t} SET "{col}"=NULL WHERE seq=?', (s[0],))
                return f"null {t} seq {s[0]} {col}"
            except sqlite3.IntegrityError:
                continue
    return edit(c, t)

def delete(c, t):
    s = pick(c, t); c.execute(f"DELETE FROM {t} WHERE seq=?", (s,))
    return f"delete {t} seq {s}"

def delete_renumber(c, t):
    # Delete a row and close the gap, as a careful forger would.
    s = pick(c, t); c.execute(f"DELETE FROM {t} WHERE seq=?", (s,))
    renumber_from(c, s, -1)
    return f"delete+renumber {t} seq {s}"

def delete_tail(c, t):
    tables = evidence_tables(c)
    m = max(c.execute(f"SELECT max(seq) FROM {x}").fetchone()[0] or 0 for x in tables)
    for x in tables: c.execute(f"DELETE FROM {x} WHERE seq=?", (m,))
    return f"delete tail seq {m}"

def swap_seq(c, t):
    a, b = [r[0] for r in c.execute(f"SELECT seq FROM {t} ORDER BY random() LIMIT 2")]
    c.execute(f"UPDATE {t} SET seq=-seq WHERE seq IN (?,?)", (a, b))
    c.execute(f"UPDATE {t} SET seq=? WHERE seq=?", (b, -a))
    c.execute(f"UPDATE {t} SET seq=? WHERE seq=?", (a, -b))
    return f"swap seq {t} {a} {b}"

def swap_contents(c, t):
    cs = [x for x in cols(c, t) if x != "seq"]
    ra, rb = c.execute(f"SELECT * FROM {t} ORDER BY random() LIMIT 2").fetchall()
    q = ",".join(f'"{x}"=?' for x in cs)
    for u in unique_cols(c, t):   # unique: park b's values first
        c.execute(f'UPDATE {t} SET "{u}"=? WHERE seq=?', (forge(rb[cols(c, t).index(u)]), rb[0]))
    c.execute(f"UPDATE {t} SET {q} WHERE seq=?", (*rb[1:], ra[0]))
    c.execute(f"UPDATE {t} SET {q} WHERE seq=?", (*ra[1:], rb[0]))
    return f"swap contents {t} {ra[0]} {rb[0]}"

def insert_dup_seq(c, t):
    s = pick(c, rnd.choice([x for x in evidence_tables(c) if x != t]))
    src = c.execute(f"SELECT * FROM {t} ORDER BY random() LIMIT 1").fetchone()
    cs, row = forged_row(c, t, src, s)
    c.execute(f"INSERT INTO {t} VALUES ({','.join('?' * len(cs))})", row)
    return f"insert {t} with seq {s} (used elsewhere)"

def insert_middle(c, t):
    src = c.execute(f"SELECT * FROM {t} ORDER BY random() LIMIT 1").fetchone()
    k = src[0]
    renumber_from(c, k, 1)
    cs, row = forged_row(c, t, src, k + 1)
    c.execute(f"INSERT INTO {t} VALUES ({','.join('?' * len(cs))})", row)
    return f"insert {t} at seq {k + 1} (renumbered after)"

def insert_tail(c, t):
    m = max(c.execute(f"SELECT max(seq) FROM {x}").fetchone()[0] or 0 for x in evidence_tables(c))
    src = c.execute(f"SELECT * FROM {t} ORDER BY random() LIMIT 1").fetchone()
    cs, row = forged_row(c, t, src, m + 1)
    c.execute(f"INSERT INTO {t} VALUES ({','.join('?' * len(cs))})", row)
    return f"insert {t} at seq {m + 1} (after the head)"

kinds = [edit, edit, edit, edit_null, delete, delete_renumber, delete_tail,
         swap_seq, swap_contents, insert_dup_seq, insert_middle, insert_tail]
caught = missed = 0
counts = {}
for i in range(n):
    p, c = fresh()
    k = kinds[i % len(kinds)]
    t = rnd.choice([x for x in evidence_tables(c)
                    if c.execute(f"SELECT count(*) FROM {x}").fetchone()[0] >= 2])
    what = k(c, t)
    c.close()
    r = subprocess.run([herald, "evidence", "verify", "--db", p], capture_output=True, text=True)
    counts[k.__name__] = counts.get(k.__name__, 0) + 1
    if r.returncode == 1 and re.search(r"seq \d+", r.stderr):
        caught += 1
    else:
        missed += 1
        print(f"NOT CAUGHT: {what}: exit {r.returncode}: {r.stderr.strip()}", file=sys.stderr)
print(f"mutations: {caught} caught, {missed} missed of {n}: {counts}")
sys.exit(0 if missed == 0 and caught >= 200 else 1)
PY
done

# Checkpoints.
cp "$T/pristine.db" "$T/c.db"
# The key directory the real run made; a database never run has none, and
# checkpoint refuses to make one.
"$HERALD" evidence checkpoint --db "$T/c.db" --keys "$T/none" >/dev/null 2>"$T/err"
check "no key directory: checkpoint refuses (exit 3)" test $? -eq 3
check "and makes no keys" test ! -e "$T/none"
"$HERALD" evidence checkpoint --db "$T/c.db" --keys "$T/keys" >"$T/ck.txt" 2>"$T/err" || fail "checkpoint: $(cat "$T/err")"
PUB="$T/keys/signing.pub"
"$HERALD" evidence verify --db "$T/c.db" --checkpoint "$T/ck.txt" >/dev/null 2>&1
check "verify --checkpoint without --pubkey: usage error" test $? -eq 2
check "statement is signed" grep -q '^signature: [0-9a-f]\{128\}$' "$T/ck.txt"
check "verify --checkpoint right away" "$HERALD" evidence verify --db "$T/c.db" --checkpoint "$T/ck.txt" --pubkey "$PUB"
"$GEN" --append "$T/c.db" 20 9 >/dev/null
check "log grew: verify --checkpoint ok" "$HERALD" evidence verify --db "$T/c.db" --checkpoint "$T/ck.txt" --pubkey "$PUB"
# An altered statement fails.
sed 's/^time: ./time: 1/' "$T/ck.txt" >"$T/ck-alt.txt"
"$HERALD" evidence verify --db "$T/c.db" --checkpoint "$T/ck-alt.txt" --pubkey "$PUB" >/dev/null 2>&1
check "altered statement refused (exit 1)" test $? -eq 1
# Cut the log back to before the checkpoint and rewrite the head record:
# plain verify cannot tell, the checkpoint can.
seq=$(sed -n 's/^head-seq: //p' "$T/ck.txt")
$PY - "$T/c.db" "$((seq - 5))" <<'PY'
import sqlite3, struct, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None); k = int(sys.argv[2])
names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")]
tables = [t for t in names if any(r[1] == "hash" for r in c.execute(f"PRAGMA table_info({t})"))]
# The guards are put back afterwards, as a careful forger would.
guards = c.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'").fetchall()
for name, _ in guards:
    c.execute(f"DROP TRIGGER {name}")
for t in tables:
    c.execute(f"DELETE FROM {t} WHERE seq>?", (k,))
h = next(r[0] for t in tables for r in c.execute(f"SELECT hash FROM {t} WHERE seq=?", (k,)))
c.execute("UPDATE internal_meta SET value=? WHERE key='head'", (struct.pack(">q", k) + h,))
for _, sql in guards:
    c.execute(sql)
PY
"$HERALD" evidence verify --db "$T/c.db" >/dev/null 2>"$T/err"
check "cut-back log: its witness refuses it (exit 3)" test $? -eq 3
check "the witness names what is missing" grep -q "5 evidence rows are missing" "$T/err"
# A forger who also removes the witness: plain verify cannot tell, the
# checkpoint kept elsewhere can.
rm -f "$T/c.db.witness"
check "cut-back log with rewritten head and no witness passes plain verify" "$HERALD" evidence verify --db "$T/c.db"
"$HERALD" evidence verify --db "$T/c.db" --checkpoint "$T/ck.txt" --pubkey "$PUB" >/dev/null 2>"$T/err"
check "cut-back log fails verify --checkpoint (exit 1)" test $? -eq 1
check "names the checkpointed seq" grep -q "seq $seq" "$T/err"
finish
