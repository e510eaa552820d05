#!/usr/bin/env bash
# contrib/plan.schema.json validates every plan and agrees with check.
cd "$(dirname "$0")/../.." && exec "${PY:-/usr/bin/python3}" tests/schema_test.py "$HERALD"
