# lib.sh - shared helpers for tests/integration/*.sh (source it).
#   HERALD  path of the herald binary (set by tests/run-tests)
#   PY      Debian's python3 (has the test modules)
# Every test makes its own temp dir ($T), cleaned by the trap, and counts
# its checks with ok/fail; `finish` prints "N passed, M failed".
set -u
: "${HERALD:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/herald}"
: "${PY:=/usr/bin/python3}"
export HERALD PY
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$TESTS_DIR/.." && pwd)
T=$(mktemp -d)
_pids=()
_passed=0 _failed=0
cleanup() {
	for p in "${_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${_pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
ok() { _passed=$((_passed + 1)); }
fail() { _failed=$((_failed + 1)); echo "FAIL: $*" >&2; }
check() { # description, command...
	local d=$1; shift
	if "$@"; then ok; else fail "$d"; fi
}
finish() {
	echo "$_passed passed, $_failed failed"
	[ "$_failed" -eq 0 ]
}
# A free TCP port on loopback.
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# Polls a command until it succeeds, at most $1 seconds.
wait_for() {
	local limit=$1; shift
	local end=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}
# Starts a background process, remembered for cleanup; sets LAST_PID.
spawn() {
	"$@" &
	LAST_PID=$!
	_pids+=("$LAST_PID")
}
# Environment with demo values for the realistic plan's env: secrets.
demo_env() {
	set -a
	# shellcheck disable=SC1091
	. "$ROOT/plans/demo.env"
	set +a
}
# evq DB EXPR: evaluates a Python expression over the deliveries of DB as
# `herald evidence export --format json` gives them (a list d of dicts)
# and prints it: what the tests know of deliveries, they know through
# herald, not the database's tables.
evq() {
	"$HERALD" evidence export --db "$1" --format json 2>/dev/null |
		$PY -c 'import json, sys
d = json.load(sys.stdin)["deliveries"]
r = eval(sys.argv[1])
print(",".join(map(str, r)) if isinstance(r, (list, tuple)) else r)' "$2"
}
# sqv2 DB SQL: a query on the evidence schema itself (docs/store.md), for
# what the export does not show (attempt by attempt).
sqv2() { sqlite3 "$1" "$2"; }
# Installs tests/package.json's Node modules once (npm ci, lock-stepped
# with package-lock.json) unless module $1 is already there; suites run in
# parallel, so one installs while the others wait on the lock.
npm_deps() {
	[ -d "$TESTS_DIR/node_modules/$1" ] && return 0
	flock "$TESTS_DIR/.npm-lock" bash -c '[ -d "$1/node_modules/$2" ] ||
		npm ci --prefix "$1" --no-audit --no-fund >/dev/null 2>&1' _ "$TESTS_DIR" "$1"
}
