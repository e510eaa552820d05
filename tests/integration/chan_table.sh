#!/usr/bin/env bash
# chan_table.sh - the table of channel types is the only place a type is
# known.  (1) A throwaway type, "carrier", added in the test tree only
# (tests/chan_carrier.c plus one line of svc/chan_types.c's list, built as
# build/tests/herald-extra) is loaded with its paths, linted for literal
# secrets, masked, paced by its own rule, sent and recorded as evidence,
# while herald itself does not know it.  (2) Every type of the table has
# its section in docs/channels.md, a branch in contrib/plan.schema.json,
# and a mention in the README and the man page.
. "$(dirname "$0")/../lib.sh"

EXTRA=${HERALD_BUILD:-$ROOT/build}/tests/herald-extra
check "the test build exists (make builds $EXTRA)" [ -x "$EXTRA" ]

port=$(free_port)
CANARY=loftcanary$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
cat >"$T/script.json" <<JSON
{"/north/$CANARY": ["200"], "/south/$CANARY": ["echo:400"]}
JSON
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$port" --log "$T/recv.log" --script "$T/script.json"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $port))"
export NORTH="http://127.0.0.1:$port/north/$CANARY" SOUTH="http://127.0.0.1:$port/south/$CANARY"

plan() { # $1: the channels object
	cat <<JSON
{"plan": {"id": "T-TABLE", "version": "1", "owner": "Ops <ops@example.org>", "timezone": "UTC",
          "approved_by": "CISO", "approved_on": "2026-01-01", "next_review": "2099-01-01"},
 "channels": $1,
 "audiences": {
   "a": {"name": "A", "scope": "internal", "deliver": [{"channel": "n1"}, {"channel": "n2"}]},
   "b": {"name": "B", "scope": "external", "deliver": [{"channel": "n1"}, {"channel": "s"}]}},
 "communications": [
   {"id": "NOTICE", "topic": "Notice", "audiences": ["a", "b"], "owner": "Ops",
    "schedule": {"trigger": "manual"}}]}
JSON
}
plan '{"n1": {"type": "carrier", "loft": "north", "url": "env:NORTH"},
       "n2": {"type": "carrier", "loft": "north", "url": "env:NORTH"},
       "s": {"type": "carrier", "loft": "south", "url": "env:SOUTH"}}' >"$T/plan.json"

# (1) The type is in the extra build only, and only through the table.
"$HERALD" check "$T/plan.json" >"$T/out" 2>&1
check "herald does not know carrier" grep -q 'channels.n1.type: unknown channel type "carrier" (slack, email, webhook, teams, googlechat or mattermost)' "$T/out"
"$EXTRA" check "$T/plan.json" >"$T/out" 2>&1
check "herald-extra loads carrier (rc=$?)" grep -q "ok: plan T-TABLE" "$T/out"
plan '{"n1": {"type": "fax"}}' >"$T/fax.json"
"$EXTRA" check "$T/fax.json" >"$T/out" 2>&1
check "its error lists the types from the table" grep -q '(slack, email, webhook, teams, googlechat, mattermost or carrier)' "$T/out"
plan '{"n1": {"type": "carrier", "url": "https://loft.example/x", "lfot": 1},
       "n2": {"type": "carrier", "loft": "north", "url": "ftp://x"},
       "s": {"type": "carrier", "loft": "south", "url": "env:SOUTH"}}' >"$T/bad.json"
"$EXTRA" check "$T/bad.json" >"$T/out" 2>&1
rc=$?
check "its loader's errors name their paths (rc=$rc)" [ "$rc" -eq 1 ]
check "unknown key with its path" grep -q 'channels.n1.lfot: unknown key' "$T/out"
check "missing key with its path" grep -q 'channels.n1.loft' "$T/out"
check "bad URL with its path" grep -q 'channels.n2.url: not an http(s) URL' "$T/out"
plan '{"n1": {"type": "carrier", "loft": "north", "url": "https://loft.example/literal"},
       "n2": {"type": "carrier", "loft": "north", "url": "env:NORTH"},
       "s": {"type": "carrier", "loft": "south", "url": "env:SOUTH"}}' >"$T/lit.json"
"$EXTRA" check "$T/lit.json" >"$T/out" 2>&1
check "lint reads its secret field (kept in its own settings)" \
	grep -q 'channels.n1.url: warning W-LITERAL-SECRET' "$T/out"
check "and only that one" [ "$(grep -c W-LITERAL-SECRET "$T/out")" -eq 1 ]

# Sending: three deliveries through the north loft (n1 twice, n2 once),
# one through the south loft, which answers 400 echoing the URL it got.
export HERALD_RETRY_BASE_MS=200 HERALD_SEND_TIMEOUT_MS=2000
"$EXTRA" send "$T/plan.json" NOTICE --by "Test Operator" --note table --db "$T/h.db" >"$T/send.out" 2>"$T/send.err"
rc=$?
check "send ends with a permanent failure (rc=$rc)" [ "$rc" -eq 3 ]
q() { HERALD=$EXTRA evq "$T/h.db" "$1"; }
check "evidence: carrier deliveries by channel type" \
	[ "$(q "sorted(x['channel_id']+'/'+x['state'] for x in d if x['channel_type']=='carrier')")" = "n1/sent,n1/sent,n2/sent,s/failed" ]
seen() { grep -c "\"path\": \"/$1/$CANARY\"" "$T/recv.log"; }
check "attempts recorded == requests seen" \
	[ "$(q "sum(x['attempts'] for x in d)")" -eq $(( $(seen north) + $(seen south) )) ]
check "its payload went out (loft, message)" $PY - "$T/recv.log" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if "/north/" in l]
b = [json.loads(x["body"]) for x in r]
assert len(b) == 3 and all(x["loft"] == "north" and "Notice" in x["message"] for x in b), b
PY
check "paced by its rule: 600 ms per loft, not per channel" $PY - "$T/recv.log" <<'PY'
import json, sys
t = sorted(json.loads(l)["t"] for l in open(sys.argv[1]) if "/north/" in l)
assert len(t) == 3 and all(b - a >= 0.55 for a, b in zip(t, t[1:])), t
PY
check "the failure is recorded with the receiver's reply" \
	[ "$(q "[x['attempts'] for x in d if x['channel_id']=='s']")" = "1" ]
"$EXTRA" evidence export --db "$T/h.db" --format json >"$T/export.json" 2>>"$T/export.err"
for f in "$T/send.out" "$T/send.err" "$T/export.json" "$T/export.err" "$T"/h.db*; do
	check "its secret is masked: no canary in $(basename "$f")" bash -c "! grep -aq '$CANARY' '$f'"
done
check "the echoed reply reached the evidence masked" grep -q '<secret>\|<url>' "$T/export.json"

# (2) Docs, schema, README and man page read the table: every type herald
# lists has its place in each.
types=$(sed -n 's/.*unknown channel type "fax" (\(.*\)).*/\1/p' <("$HERALD" check "$T/fax.json" 2>&1) |
	sed 's/, / /g; s/ or / /')
check "herald lists six types ($types)" [ "$(echo $types | wc -w)" -eq 6 ]
for t in $types; do
	check "docs/channels.md has a section for $t" grep -q "^## .*\`$t\`" "$ROOT/docs/channels.md"
	check "the README names $t" grep -q "\`$t\`" "$ROOT/README.md"
	check "the man page names $t" grep -q "$t" "$ROOT/contrib/herald.1"
done
check "the schema's types are the table's" $PY - "$ROOT/contrib/plan.schema.json" $types <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
ch = s["$defs"]["channel"]
enum = ch["properties"]["type"]["enum"]
branches = [b["properties"]["type"]["const"] for b in ch["oneOf"]]
assert enum == sys.argv[2:] and branches == sys.argv[2:], (enum, branches)
PY
finish
