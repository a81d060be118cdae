#!/usr/bin/env bash
# `npm test` after the unit tests: the cluster tests (run.sh), then the real node (run-node.sh) and
# the lab on three nodes (run-lab.sh) side by side, with TestDelivery beside them all. TestDelivery's time is Flux's own intervals (a minute until
# source-controller polls, half a minute for each layer a Kustomization waits on), not the
# machine's: run after the others it would add about 20 minutes, run beside them almost nothing
# (docs/cluster-tests.md, "Delivered by Flux"). Everything is built first, so that no long build
# runs beside it.
#
# `npm run test:cluster`, `npm run test:node` and `npm run test:lab` stay as they are, each on its own.
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
"$here/images/build-addons.sh" >/dev/null

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
lab_pid=""
# run-lab.sh passes the signal on to its test, which stops its nodes in order (as run-node.sh does).
stop_lab() {
  if [[ -n "$lab_pid" ]]; then
    kill -TERM "$lab_pid" 2>/dev/null || true
    wait "$lab_pid" 2>/dev/null || true
  fi
}
trap 'stop_lab; stop_delivery; wait_delivery || true; exit 130' INT TERM

# The lab on three nodes (run-lab.sh) runs beside the single real node (run-node.sh): each in
# namespaces of its own, and most of both is waiting on Kubernetes' own timers (probes, the
# autoscaler's windows, a lost node's grace period), so side by side they take little more than the
# longer of the two, where one after the other would add TestLab's whole time to `npm test`.
lab_log="$repo/.cache/cluster/lab.log"
mkdir -p "$(dirname "$lab_log")"
status=0
LAB_TO_PROD_DELIVERY_BESIDE="$beside" bash "$here/run.sh" || status=$?
if [[ $status -eq 0 ]]; then
  bash "$here/run-lab.sh" >"$lab_log" 2>&1 &
  lab_pid=$!
  bash "$here/run-node.sh" || status=$?
  lab_status=0
  wait "$lab_pid" || lab_status=$?
  echo "--- TestLab (run beside the real node; its log: .cache/cluster/lab.log) ---"
  cat "$lab_log"
  if [[ $status -eq 0 ]]; then
    status=$lab_status
  fi
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
