#!/usr/bin/env bash
# manpage.sh - contrib/herald.1 passes `mandoc -T lint` with nothing to
# say, renders every line (a line starting with "." would vanish), and
# documents the options and variables of `herald run`; and the operator's
# docs keep up with the code: every log event and every HERALD_ variable
# herald reads is in docs/delivery.md, and every variable on the page.
. "$(dirname "$0")/../lib.sh"
command -v mandoc >/dev/null || { echo "manpage.sh: mandoc missing (contrib/install-deps test)" >&2; exit 1; }
man="$ROOT/contrib/herald.1"
mandoc -T lint "$man" >"$T/lint" 2>&1
rc=$?
check "mandoc -T lint is clean (rc $rc: $(head -3 "$T/lint"))" test "$rc" = 0 -a ! -s "$T/lint"
mandoc -T utf8 "$man" | sed 's/.\x08//g' >"$T/page"
sed -n '/^ENVIRONMENT/,/^FILES/p' "$T/page" >"$T/env"
check "the default database ./herald.db is on the page" grep -q '\./herald\.db' "$T/page"
for w in --trust-proxy HERALD_ADMIN_TOKEN HERALD_HEADER_TIMEOUT HERALD_CONN_TIMEOUT; do
	check "the page documents $w" grep -q -- "$w" "$T/page"
done
doc="$ROOT/docs/delivery.md"
events=$(grep -ohE 'log_event(_limited)?\([^;]*' "$ROOT"/svc/*.c | grep -oE '"[a-z]+(\.[a-z-]+)?"' |
	tr -d '"' | grep -E '^(service|admin|plan|members|outbox|delivery|send|ack|evidence|database|keys|feeds|httpd|error)(\.|$)' | sort -u)
# members.* lines are written through record() with the event name as a
# later argument: take those from their calls.
events="$events $(grep -ohE '"members\.[a-z]+"' "$ROOT"/svc/*.c | tr -d '"' | sort -u)"
check "log events found in the source ($(echo $events | wc -w))" test "$(echo $events | wc -w)" -gt 30
for e in $events; do
	check "docs/delivery.md lists the log event $e" grep -q -- "\`$e\`" "$doc"
done
# Every HERALD_ name the source spells out (getenv or a helper such as
# outbox.c's env_int): the variables herald reads.
vars=$(grep -ohE '"HERALD_[A-Z_]+"' "$ROOT"/svc/*.c | tr -d '"' | sort -u)
check "HERALD_ variables found in the source ($(echo $vars | wc -w))" test "$(echo $vars | wc -w)" -gt 10
for v in $vars; do
	check "docs/delivery.md lists $v" grep -q -- "$v" "$doc"
	check "the page's ENVIRONMENT lists $v" grep -qE -- "^ *(HERALD_[A-Z_]+, )*$v(,| |$)" "$T/env"
done
finish
