#!/usr/bin/env bash
# `npm test` after the unit tests: the cluster tests (run.sh) and the real node (run-node.sh), with
# TestDelivery beside both. TestDelivery's time is Flux's own intervals (a minute until
# source-controller polls, half a minute for each layer a Kustomization waits on), not the
# machine's: run after the others it would add about 20 minutes, run beside them almost nothing
# (docs/cluster-tests.md, "Delivered by Flux"). Everything is built first, so that no long build
# runs beside it.
#
# `npm run test:cluster` and `npm run test:node` stay as they are, each on its own.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# The fetch check first (fetch_test.go): a build step that reads Go's module cache before it
# downloads fails in seconds there, not after the long builds below.
(cd "$here" && go test -count=1 -run '^TestBuildScriptsFetchFromEmptyGoCaches$' .)
"$here/build.sh" >/dev/null
"$here/build-flux.sh" >/dev/null
node_bin="$("$here/build-node.sh")"
"$here/images/build.sh" "$node_bin/coredns" "$node_bin/metrics-server" >/dev/null

# run.sh starts TestDelivery in the background with its log, process id and exit status in this
# folder, and returns once the other cluster tests have ended.
beside="$repo/.cache/cluster/delivery"
rm -rf "$beside"
mkdir -p "$beside"

stop_delivery() {
  if [[ -s "$beside/pid" ]]; then
    kill -TERM "$(cat "$beside/pid")" 2>/dev/null || true
  fi
}
# TestDelivery stops its control planes and Flux on SIGTERM (TestMain); wait for that, boundedly:
# its own -test.timeout ends it in any case.
wait_delivery() {
  if [[ -s "$beside/pid" ]]; then
    local pid
    pid="$(cat "$beside/pid")"
    while kill -0 "$pid" 2>/dev/null; do sleep 2; done
  fi
  echo "--- TestDelivery (run beside the cluster and node tests; its log: .cache/cluster/delivery/log) ---"
  cat "$beside/log" 2>/dev/null || true
  [[ "$(cat "$beside/status" 2>/dev/null)" == 0 ]]
}
trap 'stop_delivery; wait_delivery || true; exit 130' INT TERM

status=0
LAB_TO_PROD_DELIVERY_BESIDE="$beside" bash "$here/run.sh" || status=$?
if [[ $status -eq 0 ]]; then
  bash "$here/run-node.sh" || status=$?
else
  # As `npm test` always did: a failed cluster test stops the run before the real node.
  stop_delivery
fi
delivery_status=0
wait_delivery || delivery_status=$?
if [[ $status -eq 0 ]]; then
  status=$delivery_status
fi
exit "$status"
