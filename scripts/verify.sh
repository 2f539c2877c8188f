#!/usr/bin/env bash
# `pnpm test`: what a reviewer checks. ESLint and the type checker run first; their errors fail the
# run but do not stop it, so the tests still run and the output still ends with the summary
# reporter's `tests: N passed, N failed, N skipped` line. A failed build stops the run.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed_checks=()
pnpm lint || failed_checks+=('pnpm lint')
pnpm typecheck || failed_checks+=('pnpm typecheck')
if [ ${#failed_checks[@]} -gt 0 ]; then
  echo "FAILED: ${failed_checks[*]} (see above); running the tests anyway." >&2
fi
pnpm build || exit 1
pnpm exec vitest run
tests_status=$?
if [ ${#failed_checks[@]} -gt 0 ]; then exit 1; fi
exit "$tests_status"
