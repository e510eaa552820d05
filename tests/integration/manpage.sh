#!/usr/bin/env bash
# manpage.sh - contrib/herald.1 passes `mandoc -T lint` with nothing to
# say, renders every line (a line starting with "." would vanish), and
# documents the options and variables of `herald run`.
. "$(dirname "$0")/../lib.sh"
command -v mandoc >/dev/null || { echo "manpage.sh: mandoc missing (contrib/install-deps test)" >&2; exit 1; }
man="$ROOT/contrib/herald.1"
mandoc -T lint "$man" >"$T/lint" 2>&1
rc=$?
check "mandoc -T lint is clean (rc $rc: $(head -3 "$T/lint"))" test "$rc" = 0 -a ! -s "$T/lint"
mandoc -T utf8 "$man" | sed 's/.\x08//g' >"$T/page"
check "the default database ./herald.db is on the page" grep -q '\./herald\.db' "$T/page"
for w in --trust-proxy HERALD_ADMIN_TOKEN HERALD_HEADER_TIMEOUT HERALD_CONN_TIMEOUT; do
	check "the page documents $w" grep -q -- "$w" "$T/page"
done
finish
