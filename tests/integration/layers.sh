#!/usr/bin/env bash
# layers.sh - contrib/check-layers passes on this tree, and catches what it
# is for: in a copy of the tree, a low module including a high one fails,
# naming the file, the line and the include; a module in no layer fails;
# SQLite outside the store backend fails.
. "$(dirname "$0")/../lib.sh"
check "the tree's includes all point down" "$ROOT/contrib/check-layers" "$ROOT"
mkdir -p "$T/tree"
cp -r "$ROOT/contrib" "$ROOT/svc" "$ROOT/include" "$T/tree/"
# util (base) reaching up into the service.
sed -i '0,/#include "herald\/util.h"/s//#include "herald\/util.h"\n#include "herald\/service.h"/' "$T/tree/svc/util.c"
"$ROOT/contrib/check-layers" "$T/tree" >"$T/out" 2>&1
rc=$?
check "an upward include fails" test "$rc" -ne 0
line=$(grep -n 'herald/service.h' "$T/tree/svc/util.c" | cut -d: -f1)
check "the failure names file, line and include ($(head -1 "$T/out"))" \
	grep -q "^svc/util.c:$line: includes herald/service.h (layer service) from layer base" "$T/out"
cp "$ROOT/svc/util.c" "$T/tree/svc/util.c"
echo '#include "herald/util.h"' >"$T/tree/svc/stray.c"
"$ROOT/contrib/check-layers" "$T/tree" >"$T/out2" 2>&1
check "a module in no layer fails" grep -q "svc/stray.c: module stray is in no layer" "$T/out2"
rm "$T/tree/svc/stray.c"
sed -i '0,/#include <string.h>/s//#include <string.h>\n#include <sqlite3.h>/' "$T/tree/svc/report.c"
"$ROOT/contrib/check-layers" "$T/tree" >"$T/out3" 2>&1
check "sqlite3.h outside store_sqlite* fails ($(head -1 "$T/out3"))" \
	grep -q "^svc/report.c:[0-9]*: only the store backend" "$T/out3"
finish
