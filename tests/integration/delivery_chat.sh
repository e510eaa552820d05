#!/usr/bin/env bash
# delivery_chat.sh - Microsoft Teams, Google Chat and Mattermost deliveries
# against the loopback receiver, which checks every payload as the product
# would (tests/peers/chat_payloads.py): for each type success, 429 with
# Retry-After, 500 then success, 400 and 404 permanent, a hang past the
# timeout and a dropped connection, with attempts recorded == requests
# seen.  Every Teams card is parsed by Microsoft's Adaptive Cards library
# with zero validation errors; Google Chat threads by thread_key and paces
# per space; topics, descriptions and notes that try to mention people or
# disguise links reach Slack, Teams, Google Chat and Mattermost escaped.
. "$(dirname "$0")/../lib.sh"

npm_deps adaptivecards ||
	{ echo "delivery_chat: npm ci --prefix tests failed (adaptivecards missing)" >&2; exit 1; }
port=$(free_port)
C=canary$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
base="http://127.0.0.1:$port"
# Each case is a webhook of its own: PREFIX/CASE/...  Google Chat URLs
# name a space (paced per space) and carry key and token.
gurl() { echo "$base/g/$1/v1/spaces/S$1$C/messages?key=k$C&token=t$C"; }
cases="ok rate flaky bad gone hang drop"
{
	echo '{'
	for p in t g m; do
		for c in $cases; do
			case $c in
			ok) a='["200"]' ;; rate) a='["429:1", "200"]' ;; flaky) a='["500", "200"]' ;;
			bad) a='["400"]' ;; gone) a='["404"]' ;; hang) a='["hang", "200"]' ;;
			drop) a='["drop", "200"]' ;;
			esac
			if [ $p = g ]; then path=/g/$c/v1/spaces/S$c$C/messages; else path=/$p/$c/$C; fi
			printf '"%s": %s,\n' "$path" "$a"
		done
	done
	for c in thread1 thread2; do
		printf '"/g/%s/v1/spaces/SHARED%s/messages": ["200"],\n' $c "$C"
	done
	echo '"/s/inject/'$C'": ["ok"]}'
} >"$T/script.json"
spawn $PY "$ROOT/tests/peers/http_receiver.py" --port "$port" --log "$T/recv.log" \
	--script "$T/script.json" --validate /t/=teams --validate /g/=googlechat --validate /m/=mattermost
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $port))"

chans= deliver=
for c in $cases; do
	export "T_${c^^}=$base/t/$c/$C" "M_${c^^}=$base/m/$c/$C" "G_${c^^}=$(gurl $c)"
	chans+="\"t-$c\": {\"type\": \"teams\", \"webhook\": \"env:T_${c^^}\"},"
	chans+="\"m-$c\": {\"type\": \"mattermost\", \"webhook\": \"env:M_${c^^}\"},"
	chans+="\"g-$c\": {\"type\": \"googlechat\", \"webhook\": \"env:G_${c^^}\"},"
	deliver+="{\"channel\": \"t-$c\"}, {\"channel\": \"m-$c\"}, {\"channel\": \"g-$c\"},"
done
# Two Google Chat webhooks in one space, threaded; and Slack, for the
# injection checks.
export G_THREAD1="$base/g/thread1/v1/spaces/SHARED$C/messages?key=k$C&token=t$C"
export G_THREAD2="$base/g/thread2/v1/spaces/SHARED$C/messages?key=k$C&token=t$C"
export S_INJECT="$base/s/inject/$C"
INJECT='<!channel> @here <@U123> <https://evil|click> [x](https://evil)'
cat >"$T/plan.json" <<JSON
{"plan": {"id": "T-CHAT", "title": "Chat test plan", "version": "4", "owner": "Ops <ops@example.org>",
          "timezone": "Europe/London"},
 "channels": { $chans
   "g-thread1": {"type": "googlechat", "webhook": "env:G_THREAD1", "thread_key": "{{communication}}-{{audience}}"},
   "g-thread2": {"type": "googlechat", "webhook": "env:G_THREAD2", "thread_key": "{{communication}}-{{audience}}"},
   "s-inject": {"type": "slack", "webhook": "env:S_INJECT"}},
 "audiences": {
   "staff": {"name": "All staff", "scope": "internal", "deliver": [ $deliver
             {"channel": "g-thread1"}, {"channel": "g-thread2"}, {"channel": "s-inject"}]},
   "board": {"name": "Board", "scope": "internal",
             "deliver": [{"channel": "t-ok"}, {"channel": "m-ok"}, {"channel": "g-ok"},
                         {"channel": "g-thread1"}, {"channel": "g-thread2"}]}},
 "communications": [
   {"id": "INCIDENT", "topic": "Incident $INJECT", "description": "Details $INJECT",
    "message": "{{topic}}\n{{description}}\nNote: {{note}}\nAck: {{ack_url}}",
    "audiences": ["staff", "board"], "owner": "Morgan $INJECT", "schedule": {"trigger": "manual"},
    "acknowledge": true}]}
JSON
export HERALD_RETRY_BASE_MS=300 HERALD_SEND_TIMEOUT_MS=1500 HERALD_BASE_URL=https://herald.example
start=$SECONDS
"$HERALD" send "$T/plan.json" INCIDENT --by "Test Operator" --db "$T/h.db" --note "note $INJECT" >"$T/out" 2>"$T/err"
rc=$?
check "send exits 3 when some deliveries failed (rc=$rc)" [ "$rc" -eq 3 ]
check "send finished in bounded time" [ $((SECONDS - start)) -lt 90 ]

q() { evq "$T/h.db" "$1"; }
seen() { $PY -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["path"].startswith(sys.argv[2])))' "$T/recv.log" "$1"; }
attempts() { q "sum(x['attempts'] for x in d if x['channel_id']=='$1')"; }
state() { q "'/'.join(x['state'] for x in d if x['channel_id']=='$1')"; }
for p in t m g; do
	for c in $cases; do
		ch=$p-$c
		check "$ch: attempts recorded ($(attempts $ch)) == requests seen ($(seen /$p/$c/))" \
			[ "$(attempts $ch)" -eq "$(seen /$p/$c/)" ]
	done
	check "$p: success" [ "$(state $p-ok)/$(attempts $p-ok)" = "sent/sent/2" ]
	check "$p: 429 then success" [ "$(state $p-rate)/$(attempts $p-rate)" = "sent/2" ]
	check "$p: 500 then success" [ "$(state $p-flaky)/$(attempts $p-flaky)" = "sent/2" ]
	check "$p: 400 is permanent" [ "$(state $p-bad)/$(attempts $p-bad)" = "failed/1" ]
	check "$p: 404 is permanent" [ "$(state $p-gone)/$(attempts $p-gone)" = "failed/1" ]
	check "$p: a hang past the timeout is retried" [ "$(state $p-hang)/$(attempts $p-hang)" = "sent/2" ]
	check "$p: a dropped connection is retried" [ "$(state $p-drop)/$(attempts $p-drop)" = "sent/2" ]
	check "$p: Retry-After honoured, then paced 1/s" $PY - "$T/recv.log" "/$p/rate/" "/$p/ok/" <<'PY'
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
# Arrivals, not starts: under load the first may lag its start a little.
for prefix, least in zip(sys.argv[2:], (0.95, 0.8)):
    t = [r["t"] for r in rs if r["path"].startswith(prefix)]
    assert len(t) == 2 and t[1] - t[0] >= least, (prefix, t)
PY
done
check "the 404 attempt recorded status and outcome" \
	[ "$(sqv2 "$T/h.db" "select a.status||'/'||a.outcome from attempts a join deliveries d on d.seq=a.delivery join messages m on m.seq=d.message where m.channel_id='t-gone'")" = "404/permanent" ]

for c in thread1 thread2; do
	check "g-$c: attempts recorded == requests seen" [ "$(attempts g-$c)" -eq "$(seen /g/$c/)" ]
done
check "every payload is what its product documents" $PY - "$T/recv.log" <<'PY'
import json, sys
bad = [(r["path"], r["problems"]) for r in map(json.loads, open(sys.argv[1])) if r.get("problems")]
rs = [json.loads(l) for l in open(sys.argv[1])]
chat = [r for r in rs if r["path"][:3] in ("/t/", "/g/", "/m/")]
# 12 per product, 4 threaded; each one validated
assert len(chat) >= 40 and all("problems" in r for r in chat) and not bad, (len(chat), bad[:3])
PY
node "$TESTS_DIR/clients/adaptive_cards.cjs" "$T/recv.log" /t/ >"$T/cards.out" 2>&1
check "Microsoft's Adaptive Cards library: zero validation errors ($(tail -1 "$T/cards.out"))" \
	grep -q "^[1-9][0-9]* cards, 0 problems$" "$T/cards.out"
check "Teams card: header, text, facts, Acknowledge" $PY - "$T/recv.log" <<'PY'
import json, sys
for r in map(json.loads, open(sys.argv[1])):
    if not r["path"].startswith("/t/ok/"):
        continue
    c = json.loads(r["body"])["attachments"][0]["content"]
    body = c["body"]
    assert body[0]["type"] == "TextBlock" and body[0]["text"].startswith("Incident"), body[0]
    facts = {f["title"]: f["value"] for b in body if b["type"] == "FactSet" for f in b["facts"]}
    assert facts["Plan"] == "Chat test plan" and facts["Version"] == "4", facts
    assert facts["Owner"].startswith("Morgan") and facts["When"], facts
    a = c["actions"][0]
    assert a["title"] == "Acknowledge" and a["url"].startswith("https://herald.example/ack/"), a
PY
check "Google Chat: one thread per key, in the shared space's pace" $PY - "$T/recv.log" <<'PY'
import json, sys
rs = [r for r in map(json.loads, open(sys.argv[1])) if r["path"].startswith("/g/thread")]
assert len(rs) >= 4, len(rs)
keys = sorted(json.loads(r["body"])["thread"]["threadKey"] for r in rs)
assert set(keys) == {"INCIDENT-board", "INCIDENT-staff"}, keys
assert all("messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" in r["query"] for r in rs)
# Four messages, two webhooks, one space: paced together they take 3 s
# (arrivals, so allow for a slow first one).
t = sorted(r["t"] for r in rs)
assert t[-1] - t[0] >= 2.5, ("two webhooks of one space not paced together", t)
PY
check "Google Chat: no thread without thread_key" $PY - "$T/recv.log" <<'PY'
import json, sys
for r in map(json.loads, open(sys.argv[1])):
    if r["path"].startswith("/g/ok/"):
        assert "thread" not in json.loads(r["body"]) and "messageReplyOption" not in r["query"]
PY

# Mention and link injection: what each product would parse never
# arrives raw (a zero-width space or an entity breaks it).
check "injection: escaped for every chat product" $PY - "$T/recv.log" <<'PY'
import json, re, sys
Z = "\u200b"
def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)
seen = set()
for r in map(json.loads, open(sys.argv[1])):
    p, b = r["path"], json.loads(r["body"])
    if p.startswith("/s/"):
        kind = "slack"
        b["blocks"] = b["blocks"][1:]            # the header is plain_text
        raw = ["<!channel>", "<@U123>", "<https://evil|"]
    elif p.startswith("/t/"):
        kind = "teams"
        raw = ["](https://evil"]
    elif p.startswith("/g/"):
        kind = "googlechat"
        b["cardsV2"][0]["card"].pop("header")    # plain text
        raw = ["<!channel>", "<@U123>", "<https://evil", "](https://evil"]
    else:
        kind = "mattermost"
        raw = ["<!channel>", "<@U123>", "<https://evil", "](https://evil"]
        assert re.search("(^|[^\\w.+-])@here", b["text"]) is None, b["text"]
    for s in strings(b):
        for x in raw:
            assert x not in s, (kind, x, s[:300])
        if kind == "googlechat" and s is b.get("text"):
            assert re.search("<(?!" + Z + ")", s) is None, s[:300]
    text = json.dumps(b, ensure_ascii=False)
    assert "note " in text and "Details" in text, (kind, "the note and description arrived")
    seen.add(kind)
assert seen == {"slack", "teams", "googlechat", "mattermost"}, seen
PY
for f in "$T/out" "$T/err" "$T"/h.db*; do
	check "no URL canary in $(basename "$f")" bash -c "! grep -aq '$C' '$f'"
done
[ -n "${KEEP:-}" ] && cp -r "$T" /tmp/keep_chat
finish
