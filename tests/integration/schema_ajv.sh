#!/usr/bin/env bash
# schema_ajv.sh - contrib/plan.schema.json compiles with ajv (npm, in
# tests/node_modules) in JSON Schema 2020-12 mode, whose Unicode regular
# expressions refuse escapes Python's re lets pass; every plan in plans/
# validates; the email pattern still refuses quotes and spaces.
. "$(dirname "$0")/../lib.sh"
npm_deps ajv || { echo "schema_ajv: npm ci --prefix tests failed (ajv missing)" >&2; exit 1; }
mapfile -t plans < <(find "$ROOT/plans" -name '*.json' | sort)
check "at least the realistic plan is there" test -f "$ROOT/plans/acme-isms.json"
check "ajv compiles the schema and validates ${#plans[@]} plans" \
	node "$TESTS_DIR/clients/ajv_schema.mjs" "$ROOT/contrib/plan.schema.json" \
	"$ROOT/plans/acme-isms.json" "${plans[@]}"
# The check itself works: the schema as it was (an escaped quote in a
# character class) is refused.
sed 's/,;\\"\]/,;\\\\\\"]/g' "$ROOT/contrib/plan.schema.json" >"$T/old.json"
check "the old pattern is really different" bash -c "! cmp -s '$T/old.json' '$ROOT/contrib/plan.schema.json'"
check "ajv refuses the old pattern" bash -c "! node '$TESTS_DIR/clients/ajv_schema.mjs' '$T/old.json' '$ROOT/plans/acme-isms.json' 2>/dev/null"
finish
