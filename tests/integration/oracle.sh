#!/usr/bin/env bash
# oracle.sh - herald agenda against python-dateutil + zoneinfo (tests/oracle.py)
# over DST gaps and overlaps in London, New York, Lord Howe and Sydney, plus
# seeded random rules.  ORACLE_RANDOM / ORACLE_SEED change the random part.
. "$(dirname "$0")/../lib.sh"
# Not exec: the shell must live on for its trap to remove $T.
"$PY" "$TESTS_DIR/oracle.py" "$HERALD" "$T"
