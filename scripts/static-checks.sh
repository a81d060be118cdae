#!/bin/sh
# The checks of `npm run test:unit` that read the code without running it: the type check
# (npm run typecheck), the linter (npm run lint) and the formatter's check (npm run format:check).
# They run side by side: each is one process on one core, and typescript-eslint builds a TypeScript
# program of its own, so together they take about as long as the linter alone. Each one's output is
# printed as it comes; the exit status is 1 if any of them failed.
set -u

npm run -s typecheck &
typecheck=$!
npm run -s lint &
lint=$!
npm run -s format:check &
format=$!

status=0
wait "$typecheck" || { echo 'static checks: the type check failed (npm run typecheck)' >&2; status=1; }
wait "$lint" || { echo 'static checks: the linter failed (npm run lint)' >&2; status=1; }
wait "$format" || { echo 'static checks: files are not formatted (npm run format)' >&2; status=1; }
exit "$status"
