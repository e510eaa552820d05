#!/usr/bin/env bash
# The malformed-plan corpus: exit code and message fragment per plan.
exec "$(dirname "$0")/../run_bad_plans.sh" "$HERALD"
