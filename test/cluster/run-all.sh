#!/usr/bin/env bash
# `npm test` after the unit tests: the cluster tests (run.sh), then two paths side by side: the lab
# on three nodes (run-lab.sh) followed by TestRealNode on a node of its own, and TestBehaviours on a
# node of its own (run-node.sh), with TestDelivery beside them all. TestDelivery's time is Flux's
# own intervals (a minute until source-controller polls, half a minute for each layer a
# Kustomization waits on), not the machine's: run after the others it would add about 20 minutes,
# run beside them almost nothing (docs/cluster-tests.md, "Delivered by Flux"). Everything is built
# first, so that no long build runs beside it.
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
# run-lab.sh and run-node.sh pass the signal on to their test, which stops its nodes in order.
stop_lab() {
  if [[ -n "$lab_pid" ]]; then
    kill -TERM "$lab_pid" 2>/dev/null || true
    wait "$lab_pid" 2>/dev/null || true
  fi
}
trap 'stop_lab; stop_delivery; wait_delivery || true; exit 130' INT TERM

# lab_then_real_node: TestLab (run-lab.sh), then TestRealNode on a node of its own (run-node.sh),
# whatever the first one's result; fails if either failed. A TERM is passed on to the one running.
lab_then_real_node() {
  local child="" lab=0 node=0
  trap 'if [[ -n "$child" ]]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi; exit 130' TERM
  bash "$here/run-lab.sh" &
  child=$!
  wait "$child" || lab=$?
  LAB_TO_PROD_NODE_TESTS=TestRealNode bash "$here/run-node.sh" &
  child=$!
  wait "$child" || node=$?
  if [[ $lab -ne 0 ]]; then return "$lab"; fi
  return "$node"
}

# Two paths side by side, each in namespaces of its own: TestBehaviours (the longest, about 11
# minutes) on one node, and TestLab then TestRealNode (about 6 and 4 minutes) on the other. Most of
# each is waiting on Kubernetes' own timers (probes, the autoscaler's windows, a lost node's grace
# period), so side by side they take little more than the longer path; one after the other they
# would add about ten minutes to `npm test`. At most two clusters with nodes run at once: each
# node's containerd and kubelet hold inotify instances, which the machine limits
# (docs/cluster-tests.md).
lab_log="$repo/.cache/cluster/lab.log"
mkdir -p "$(dirname "$lab_log")"
status=0
LAB_TO_PROD_DELIVERY_BESIDE="$beside" bash "$here/run.sh" || status=$?
if [[ $status -eq 0 ]]; then
  lab_then_real_node >"$lab_log" 2>&1 &
  lab_pid=$!
  LAB_TO_PROD_NODE_TESTS=TestBehaviours bash "$here/run-node.sh" || status=$?
  lab_status=0
  wait "$lab_pid" || lab_status=$?
  echo "--- TestLab, then TestRealNode (run beside TestBehaviours; their log: .cache/cluster/lab.log) ---"
  cat "$lab_log"
  if [[ $status -eq 0 ]]; then
    status=$lab_status
  fi
else
  # As `npm test` always did: a failed cluster test stops the run before the nodes.
  stop_delivery
fi
delivery_status=0
wait_delivery || delivery_status=$?
if [[ $status -eq 0 ]]; then
  status=$delivery_status
fi
exit "$status"
