#!/usr/bin/env bash
# keys.sh - evidence that survives its own operator (issue 9):
#  - the key directory beside the database (modes), nothing private in the
#    database or a backup (0600); a link forged from the backup's contents
#    is refused by the running service;
#  - rotations while the service runs: an old ack link works within its
#    grace, old private feed URLs answer 404 after a feed rotation;
#  - automatic checkpoints into a directory (and at SIGTERM), checked with
#    the auditor's public key; a cut tail and a forged re-signing caught;
#  - a first-release database served: its keys move out, its old ack
#    links keep working.
. "$(dirname "$0")/../lib.sh"

rport=$(free_port) hport=$(free_port)
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$rport" --log "$T/recv.log"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $rport))"
export HOOK="http://127.0.0.1:$rport/ok/hook"
cat >"$T/plan.json" <<'JSON'
{"plan": {"id": "T-KEYS", "version": "1", "owner": "Ops <ops@example.org>", "timezone": "UTC"},
 "channels": {"hook": {"type": "webhook", "url": "env:HOOK"}},
 "audiences": {"staff": {"scope": "internal", "feed": "private", "deliver": [{"channel": "hook"}]},
               "partners": {"scope": "external", "feed": "public", "deliver": [{"channel": "hook"}]}},
 "communications": [
   {"id": "INC", "topic": "Incident", "audiences": ["staff"], "owner": "CISO",
    "schedule": {"trigger": "manual"}, "acknowledge": true},
   {"id": "AWR", "topic": "Awareness", "audiences": ["staff", "partners"], "owner": "Dana",
    "schedule": {"cadence": "monthly", "start": "2026-01-15T09:30"}, "notify": []}]}
JSON
export HERALD_ADMIN_TOKEN=keys-admin-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export HERALD_CHECKPOINT_ROWS=4 HERALD_CHECKPOINT_SECONDS=3600
base="http://127.0.0.1:$hport"
mkdir -p "$T/ckpt"
start() {
	spawn "$HERALD" run "$T/plan.json" --db "$T/h.db" --listen "127.0.0.1:$hport" \
		--base-url "$base" --checkpoint-to "$T/ckpt" 2>>"$T/herald.err"
	PID=$LAST_PID
	wait_for 15 curl -sf "$base/healthz"
}
stop() { kill -TERM "$PID"; wait "$PID"; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
send() { curl -sf -o /dev/null -X POST -H "Authorization: Bearer $HERALD_ADMIN_TOKEN" \
	-d "{\"by\": \"Dana\", \"note\": \"$1\"}" "$base/api/communications/INC/send"; }
acks() { grep -o "$base/ack/[A-Za-z0-9_.-]*" "$T/recv.log"; }
start
check "service is up" curl -sf -o /dev/null "$base/healthz"

# --- the key directory
mode() { stat -c %a "$1"; }
check "keys/ made beside the database, 0700" test "$(mode "$T/keys")" = 700
for f in feeds.key acks.keys signing.key signing.pub; do
	check "keys/$f is 0600" test "$(mode "$T/keys/$f")" = 600
done
check "signing.pub is a PEM public key" grep -q "BEGIN PUBLIC KEY" "$T/keys/signing.pub"
check "no private key in the database" test -z "$(sqlite3 "$T/h.db" "SELECT key FROM internal_meta WHERE key IN ('server_key','checkpoint_key')")"

# --- a backup holds no key, and a link forged from it is refused
send first
wait_for 20 eval '[ "$(acks | wc -l)" -ge 1 ]'
link=$(acks | head -n 1)
check "the real link works" test "$(status "$link")" = 200
"$HERALD" evidence backup "$T/b.db" --db "$T/h.db" >/dev/null
check "the backup is 0600" test "$(mode "$T/b.db")" = 600
check "no key material in the backup" test -z "$(sqlite3 "$T/b.db" "SELECT key FROM internal_meta WHERE key LIKE '%key%' AND key NOT LIKE 'keys_%'")"
forged=$($PY - "$T/b.db" "${link##*/ack/}" <<'PY'
import base64, hashlib, hmac, sqlite3, sys
db, token = sys.argv[1], sys.argv[2]
ackid = token.split(".")[0]
c = sqlite3.connect(db)
# Every value in the copy, of any length, tried as the HMAC key.
for (v,) in c.execute("SELECT value FROM internal_meta"):
    v = v if isinstance(v, bytes) else str(v).encode()
    mac = hmac.new(v, b"ack\0" + ackid.encode(), hashlib.sha256).digest()[:24]
    print(ackid + "." + base64.urlsafe_b64encode(mac).decode().rstrip("="))
PY
)
bad=0
for t in $forged; do
	[ "$(status "$base/ack/$t")" = 404 ] || bad=1
done
check "links forged from every value in the backup: 404" test $bad -eq 0

# --- rotations while the service runs
feed_url=$("$HERALD" feeds "$T/plan.json" --db "$T/h.db" --base-url "$base" | awk '$1 == "staff" {print $3}')
check "private feed answers before rotation" test "$(status "$feed_url")" = 200
"$HERALD" keys rotate --acks --grace P1D --db "$T/h.db" >/dev/null
check "ack rotation recorded" test "$(sqlite3 "$T/h.db" "SELECT count(*) FROM events WHERE kind='keys' AND detail LIKE 'rotated the ack key%'")" = 1
send second
wait_for 20 eval '[ "$(acks | sort -u | wc -l)" -ge 2 ]'
new_link=$(acks | tail -n 1)
check "the new link is made with the new key" test "${new_link##*.}" != "${link##*.}"
check "an old link within its grace still works" test "$(status "$link")" = 200
check "the new link works" test "$(status "$new_link")" = 200
"$HERALD" keys rotate --feeds --db "$T/h.db" >/dev/null
gone() { [ "$(status "$feed_url")" = 404 ]; }
check "old private feed URL: 404 after a feed rotation" wait_for 10 gone
new_feed=$("$HERALD" feeds "$T/plan.json" --db "$T/h.db" --base-url "$base" | awk '$1 == "staff" {print $3}')
check "the new private feed URL answers" test "$(status "$new_feed")" = 200
check "public feeds are not affected" test "$(status "$base/feeds/partners.ics")" = 200
"$HERALD" keys rotate --db "$T/h.db" >/dev/null 2>&1
check "rotate without a kind: usage error" test $? -eq 2

# --- automatic checkpoints
for n in 3 4 5; do send "n$n"; done
wait_for 20 eval '[ "$(ls "$T/ckpt" | wc -l)" -ge 1 ]'
check "automatic checkpoints are written" test "$(ls "$T/ckpt" | wc -l)" -ge 1
stop
check "SIGTERM exits 0" test $? -eq 0
last=$(ls "$T/ckpt" | sort | tail -n 1)
head_seq=$(sed -n 's/^head-seq: //p' "$T/ckpt/$last")
db_seq=$("$HERALD" evidence verify --db "$T/h.db" | sed -n 's/.*chain head seq \([0-9]*\).*/\1/p')
check "the stop is covered by a last checkpoint" test "$head_seq" = "$db_seq"
PUB="$T/keys/signing.pub"
cp "$PUB" "$T/auditor.pub"    # what the auditor keeps
check "verify through every checkpoint" "$HERALD" evidence verify --db "$T/h.db" --checkpoint "$T/ckpt" --pubkey "$T/auditor.pub"
# A forger with the database and its backup re-signs with a key of their
# own (the signing key rotated away stands in for "another key").
cp "$T/h.db" "$T/forged.db"
"$HERALD" keys rotate --signing --db "$T/h.db" >/dev/null
mkdir -p "$T/fc"
"$HERALD" evidence checkpoint --db "$T/h.db" >"$T/fc/checkpoint.txt"
"$HERALD" evidence verify --db "$T/h.db" --checkpoint "$T/fc" --pubkey "$T/auditor.pub" >/dev/null 2>"$T/err"
check "a statement signed by another key fails against the auditor's key (exit 1)" test $? -eq 1
check "and says so" grep -q "another key" "$T/err"
check "the old public key is kept beside the new one" test -n "$(ls "$T/keys" | grep '^signing-.*\.pub$')"
# Cut the tail: rows after the last checkpoint's predecessor, head record
# rewritten, witness removed (a careful forger).
cp "$T/forged.db" "$T/cut.db"
$PY - "$T/cut.db" "$((head_seq - 3))" <<'PY'
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
check "the cut log passes plain verify" "$HERALD" evidence verify --db "$T/cut.db"
"$HERALD" evidence verify --db "$T/cut.db" --checkpoint "$T/ckpt" --pubkey "$T/auditor.pub" >/dev/null 2>"$T/err"
check "the checkpoints catch the cut tail (exit 1)" test $? -eq 1
check "naming the checkpointed row that is gone" grep -q "the checkpointed row is gone" "$T/err"
# verify also wants the append-only triggers there
sqlite3 "$T/forged.db" "DROP TRIGGER ev2_events_no_update"
"$HERALD" evidence verify --db "$T/forged.db" >/dev/null 2>"$T/err"
check "a missing append-only trigger fails verify" test $? -eq 1
check "naming it" grep -q "ev2_events_no_update" "$T/err"

# --- automatic checkpoints to a URL: Standard-Webhooks signed JSON
mkdir -p "$T/u" "$T/uck"
export HERALD_CHECKPOINT_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
spawn "$HERALD" run "$T/plan.json" --db "$T/u/u.db" --listen "127.0.0.1:$hport" \
	--base-url "$base" --checkpoint-to "http://127.0.0.1:$rport/ok/ckpt" 2>>"$T/herald.err"
PID=$LAST_PID
wait_for 15 curl -sf "$base/healthz"
for n in 1 2 3; do send "u$n"; done
posted() { [ "$(grep -c '"/ok/ckpt"' "$T/recv.log")" -ge 1 ]; }
check "a checkpoint is posted to the URL" wait_for 20 posted
stop
check "the service stops (0)" test $? -eq 0
check "signed, and the statements verify with the auditor's key" $PY - "$T/recv.log" "$T/uck" \
	"$HERALD_CHECKPOINT_SECRET" <<'PY'
import base64, hashlib, hmac, json, sys
key = base64.b64decode(sys.argv[3][len("whsec_"):])
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["path"] != "/ok/ckpt":
        continue
    h = r["headers"]
    msg = "%s.%s.%s" % (h["webhook-id"], h["webhook-timestamp"], r["body"])
    sig = base64.b64encode(hmac.new(key, msg.encode(), hashlib.sha256).digest()).decode()
    assert h["webhook-signature"] == "v1," + sig, h
    assert h["content-type"] == "application/json", h
    b = json.loads(r["body"])
    assert b["type"] == "herald.checkpoint", b
    assert "head-seq: %d" % b["head_seq"] in b["statement"], b
    assert b["head_sha256"] in b["statement"], b
    n += 1
    open("%s/%012d.txt" % (sys.argv[2], b["head_seq"]), "w").write(b["statement"])
assert n >= 2, n   # at least one on the way and the last at SIGTERM
PY
check "verify through the posted checkpoints" "$HERALD" evidence verify --db "$T/u/u.db" \
	--checkpoint "$T/uck" --pubkey "$T/u/keys/signing.pub"
check "the secret is in no log" test -z "$(grep -l MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw "$T/herald.err" "$T/u/u.db")"
unset HERALD_CHECKPOINT_SECRET

# --- the first release's database, served
mkdir -p "$T/v1"
cp "$ROOT/tests/data/fixtures/v1.db" "$T/v1/v1.db"
oldkey=$(sqlite3 "$T/v1/v1.db" "SELECT hex(value) FROM internal_meta WHERE key='server_key'")
oldlink=$($PY - "$T/v1/v1.db" "$oldkey" "$base" <<'PY'
import base64, hashlib, hmac, sqlite3, sys
c = sqlite3.connect(sys.argv[1]); key = bytes.fromhex(sys.argv[2])
(ackid,) = c.execute("SELECT ack_id FROM deliveries WHERE ack_id IS NOT NULL AND key NOT IN"
                     " (SELECT delivery FROM acks) ORDER BY seq LIMIT 1").fetchone()
mac = hmac.new(key, b"ack\0" + ackid.encode(), hashlib.sha256).digest()[:24]
print(sys.argv[3] + "/ack/" + ackid + "." + base64.urlsafe_b64encode(mac).decode().rstrip("="))
PY
)
cat >"$T/v1plan.json" <<'JSON'
{"plan": {"id": "T-FIXTURE", "version": "2", "owner": "Ops <ops@example.org>", "timezone": "Europe/London"},
 "channels": {"hook": {"type": "webhook", "url": "env:HOOK"}},
 "audiences": {"ops": {"scope": "internal", "feed": "public", "deliver": [{"channel": "hook"}]},
               "partners": {"scope": "external", "feed": "none", "deliver": [{"channel": "hook"}]}},
 "communications": [{"id": "INC", "topic": "Incident notice", "audiences": ["partners"], "owner": "CISO",
    "schedule": {"trigger": "manual"}, "acknowledge": true}]}
JSON
spawn "$HERALD" run "$T/v1plan.json" --db "$T/v1/v1.db" --listen "127.0.0.1:$hport" --base-url "$base" 2>>"$T/herald.err"
PID=$LAST_PID
check "a first-release database is served" wait_for 15 curl -sf "$base/healthz"
check "its keys left the database" test -z "$(sqlite3 "$T/v1/v1.db" "SELECT key FROM internal_meta WHERE key IN ('server_key','checkpoint_key')")"
check "into its key directory" test -s "$T/v1/keys/feeds.key"
check "a link the first release sent still works" test "$(status "$oldlink")" = 200
stop
check "the old checkpoint still checks with the moved key" "$HERALD" evidence verify --db "$T/v1/v1.db" --checkpoint "$ROOT/tests/data/fixtures/v1.checkpoint" --pubkey "$T/v1/keys/signing.pub"
finish
