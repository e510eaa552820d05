#!/usr/bin/env bash
# delivery_email.sh - email over SMTP against Debian's aiosmtpd on
# loopback: STARTTLS with a throwaway certificate herald must verify
# (HERALD_CA_BUNDLE) and AUTH; plain SMTP when the channel says
# "starttls": false, refused when it does not; a recipient refused with 550
# (permanent), a 451 then success (same Message-ID); one transaction per
# recipient; the MIME structure; the SMTP password never leaks.
. "$(dirname "$0")/../lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
PASS=pw$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
ptls=$(free_port)
pplain=$(free_port)
spawn $PY "$ROOT/tests/peers/smtp_server.py" --port "$ptls" --log "$T/tls.log" \
	--tls "$T/cert.pem" "$T/key.pem" --user mailer --password "$PASS"
spawn $PY "$ROOT/tests/peers/smtp_server.py" --port "$pplain" --log "$T/plain.log"
for p in $ptls $pplain; do
	wait_for 15 $PY -c "import socket; socket.create_connection(('127.0.0.1', $p))"
done
export SMTP_USER=mailer SMTP_PASS=$PASS HERALD_CA_BUNDLE=$T/cert.pem
export HERALD_RETRY_BASE_MS=300 HERALD_BASE_URL=https://herald.example
cat >"$T/plan.json" <<JSON
{"plan": {"id": "T-MAIL", "title": "Mail test plan", "version": "1.2", "owner": "Ops <ops@example.org>",
          "timezone": "Europe/London"},
 "channels": {
   "mail-tls": {"type": "email", "smtp": "smtp://127.0.0.1:$ptls", "from": "ISMS Büro <isms@example.org>",
                "username": "env:SMTP_USER", "password": "env:SMTP_PASS"},
   "mail-plain": {"type": "email", "smtp": "smtp://127.0.0.1:$pplain", "from": "isms@example.org",
                  "starttls": false},
   "mail-notls": {"type": "email", "smtp": "smtp://127.0.0.1:$pplain", "from": "isms@example.org"}},
 "audiences": {
   "staff": {"name": "All staff", "scope": "internal",
             "members": [{"name": "Zoë Ångström", "email": "zoe@example.org"},
                         {"name": "Refused Person", "email": "refused@example.org"},
                         {"name": "Flaky Person", "email": "flaky@example.org"}],
             "deliver": [{"channel": "mail-tls", "to": "members"},
                         {"channel": "mail-plain", "to": ["list@example.org"]},
                         {"channel": "mail-notls", "to": ["never@example.org"]}]}},
 "communications": [
   {"id": "TRAINING", "topic": "Sicherheitsschulung – jährlich ✓", "audiences": ["staff"],
    "owner": "Dana Reyes", "description": "Annual training; bring a laptop.",
    "schedule": {"cadence": "annually", "start": "2026-01-15T10:00"},
    "notify": ["P7D"], "acknowledge": {"remind_after": ["P3D"]}}]}
JSON
"$HERALD" send "$T/plan.json" TRAINING --db "$T/h.db" --by "Dana Reyes" --out-of-turn --note "test" >"$T/out" 2>"$T/err"
rc=$?
check "send exits 3 (one refused, one without STARTTLS) rc=$rc" [ "$rc" -eq 3 ]
q() { evq "$T/h.db" "$1"; }
st() { q "[x['state'] for x in d if x['recipient']=='$1' and x['kind']=='manual']"; }
na() { q "sum(x['attempts'] for x in d if x['recipient']=='$1')"; }
check "zoe sent over STARTTLS+AUTH" [ "$(st zoe@example.org)/$(na zoe@example.org)" = "sent/1" ]
check "550 is permanent" [ "$(st refused@example.org)/$(na refused@example.org)" = "failed/1" ]
check "550 recorded as the reply status" \
	[ "$(sqv2 "$T/h.db" "select a.status from attempts a join deliveries d on d.seq=a.delivery where d.recipient='refused@example.org'")" = 550 ]
check "451 then success" [ "$(st flaky@example.org)/$(na flaky@example.org)" = "sent/2" ]
check "plain SMTP when starttls is false" [ "$(st list@example.org)/$(na list@example.org)" = "sent/1" ]
check "no STARTTLS offered: refused, nothing sent in clear" [ "$(st never@example.org)" = failed ]
check "nothing reached the server for never@" bash -c "! grep -q never@ '$T/plain.log' || ! grep -q '\"message\".*never@' '$T/plain.log'"
check "one message per recipient, over TLS and authenticated" $PY - "$T/tls.log" <<'PY'
import json, sys
m = [json.loads(l) for l in open(sys.argv[1])]
m = [x for x in m if x["event"] == "message"]
rc = sorted(x["rcpt"][0] for x in m)
assert rc == ["flaky@example.org", "zoe@example.org"], rc
assert all(len(x["rcpt"]) == 1 and x["tls"] and x["auth"] for x in m)
PY
mid=$(q "[x['message_id'] for x in d if x['recipient']=='flaky@example.org' and x['kind']=='manual']")
check "MIME message: headers encoded, alternatives, calendar, stable Message-ID" \
	$PY - "$T/tls.log" "$mid" <<'PY'
import email, email.policy, json, sys
for l in open(sys.argv[1]):
    x = json.loads(l)
    if x["event"] != "message":
        continue
    raw = x["data"]
    head = raw.split("\n\n", 1)[0]
    assert all(ord(c) < 128 for c in head), "8-bit header"
    msg = email.message_from_string(raw, policy=email.policy.default)
    assert str(msg["Subject"]) == "Sicherheitsschulung – jährlich ✓", msg["Subject"]
    assert msg["Date"] and msg["Message-ID"].startswith("<")
    assert "Büro" in str(msg["From"])
    if x["rcpt"][0] == "zoe@example.org":
        assert msg["To"].addresses[0].display_name == "Zoë Ångström"
    else:
        assert msg["Message-ID"] == sys.argv[2], (msg["Message-ID"], sys.argv[2])
    types = [p.get_content_type() for p in msg.walk()]
    assert types[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html"], types
    assert "text/calendar" in types
    text = [p for p in msg.walk() if p.get_content_type() == "text/plain"][0].get_content()
    assert "https://herald.example/ack/" in text and "{{" not in text, text
    cal = [p for p in msg.walk() if p.get_content_type() == "text/calendar"][0].get_content()
    assert "BEGIN:VEVENT" in cal and "DTSTART;TZID=Europe/London:" in cal
PY
"$HERALD" ics "$T/plan.json" --audience staff -o "$T/staff.ics"
check "the attachment is the feed's event: same UID, RECURRENCE-ID, SEQUENCE" $PY - "$T/tls.log" "$T/staff.ics" <<'PY'
import email, email.policy, json, sys
feed = open(sys.argv[2], encoding="utf-8", newline="").read().replace("\r\n ", "").split("\r\n")
for l in open(sys.argv[1]):
    x = json.loads(l)
    if x["event"] != "message":
        continue
    msg = email.message_from_string(x["data"], policy=email.policy.default)
    cal = [p for p in msg.walk() if p.get_content_type() == "text/calendar"][0].get_content()
    lines = cal.replace("\r\n ", "").split("\r\n")
    uid = [l for l in lines if l.startswith("UID:")]
    assert uid == ["UID:TRAINING/staff@T-MAIL"], uid
    assert uid[0] in feed, uid
    seq = [l for l in lines if l.startswith("SEQUENCE:")]
    assert seq and seq[0] in feed, seq
    rid = [l for l in lines if l.startswith("RECURRENCE-ID;TZID=Europe/London:")]
    start = [l for l in lines if l.startswith("DTSTART;")]
    assert rid and start and rid[0][len("RECURRENCE-ID"):] == start[0][len("DTSTART"):], (rid, start)
PY
check "each person has an own ack link" $PY - "$T/tls.log" <<'PY'
import email, email.policy, json, re, sys
links = set()
for l in open(sys.argv[1]):
    x = json.loads(l)
    if x["event"] == "message":
        m = email.message_from_string(x["data"], policy=email.policy.default)
        t = [p for p in m.walk() if p.get_content_type() == "text/plain"][0].get_content()
        links.add(re.search(r"https://herald.example/ack/\S+", t).group(0))
assert len(links) == 2, links
PY
check "reminders queued for people who may not acknowledge" \
	[ "$(q "sum(1 for x in d if x['kind']=='reminder')")" -eq 5 ]
check "evidence keeps the ack placeholder, not the link" \
	[ "$(q "sum(1 for x in d if 'herald.example/ack/' in x['message'])")" -eq 0 ]
for f in "$T/out" "$T/err" "$T"/h.db*; do
	check "SMTP password not in $(basename "$f")" bash -c "! grep -aq '$PASS' '$f'"
done
finish
