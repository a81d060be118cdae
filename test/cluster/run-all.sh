#!/usr/bin/env bash
# `npm test`: TestDelivery, and beside it the unit tests, then the other cluster tests (run.sh),
# then two paths side by side: the lab on three nodes (run-lab.sh) followed by TestRealNode on a
# node of its own, and TestBehaviours on a node of its own (run-node.sh). TestDelivery's time is
# Flux's own intervals (a minute until source-controller polls, half a minute for each layer a
# Kustomization waits on), about 23 minutes that are waiting, not computing (docs/cluster-tests.md,
# "Delivered by Flux"). So the control plane and Flux are built first and TestDelivery started,
# then the unit tests run beside it, then the rest is built and tested.
#
# `npm run test:unit`, `npm run test:cluster`, `npm run test:node` and `npm run test:lab` stay as
# they are, each on its own.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# The fetch check first (fetch_test.go): a build step that reads Go's module cache before it
# downloads fails in seconds there, not after the long builds below.
(cd "$here" && go test -count=1 -run '^TestBuildScriptsFetchFromEmptyGoCaches$' .)
LAB_TO_PROD_CLUSTER_BIN="$("$here/build.sh")"
LAB_TO_PROD_FLUX_BIN="$("$here/build-flux.sh")"
LAB_TO_PROD_KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/tools/kube/go.mod")"
export LAB_TO_PROD_CLUSTER_BIN LAB_TO_PROD_FLUX_BIN LAB_TO_PROD_KUBE_VERSION

# TestDelivery stops its control planes and Flux on SIGTERM (TestMain).
beside="$repo/.cache/cluster/delivery"
delivery_pid=""
stop_delivery() {
  if [[ -n "$delivery_pid" ]]; then
    kill -TERM "$delivery_pid" 2>/dev/null || true
  fi
}
# wait_delivery: until TestDelivery has ended (its own -test.timeout ends it in any case), then its
# log; fails if it failed.
wait_delivery() {
  local status=0
  [[ -n "$delivery_pid" ]] || return 1
  wait "$delivery_pid" || status=$?
  # A signal ends `wait` early: wait again until the test has stopped its control planes.
  while kill -0 "$delivery_pid" 2>/dev/null; do wait "$delivery_pid" || status=$?; done
  echo "--- TestDelivery (run beside everything else; its log: .cache/cluster/delivery/log) ---"
  cat "$beside/log"
  return "$status"
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
# Whatever ends this script (a failed build included), TestDelivery does not outlive it.
trap 'stop_delivery; if [[ -n "$delivery_pid" ]]; then wait "$delivery_pid" 2>/dev/null || true; fi' EXIT

# TestDelivery, from a test binary of its own (run.sh and run-node.sh link theirs while it runs),
# in the background: its log in $beside, printed once it has ended.
rm -rf "$beside"
mkdir -p "$beside"
(cd "$here" && go test -c -o "$beside/delivery.test" .)
(cd "$here" && exec "$beside/delivery.test" -test.v -test.count=1 -test.timeout=60m -test.run '^TestDelivery$') \
  </dev/null >"$beside/log" 2>&1 &
delivery_pid=$!

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

# The unit tests, beside TestDelivery; then the rest is built, and the other cluster tests run.
status=0
npm run test:unit || status=$?
if [[ $status -ne 0 ]]; then
  # A failed unit test ends the run here, as it always did (TestDelivery is stopped on the way out).
  exit "$status"
fi
node_bin="$("$here/build-node.sh")"
"$here/images/build.sh" "$node_bin/coredns" "$node_bin/metrics-server" >/dev/null
"$here/images/build-addons.sh" >/dev/null
LAB_TO_PROD_DELIVERY_ELSEWHERE=1 bash "$here/run.sh" || status=$?

# Then two paths side by side, each in namespaces of its own: TestBehaviours (the longest, about 11
# minutes) on one node, and TestLab then TestRealNode (about 6 and 4 minutes) on the other. Most of
# each is waiting on Kubernetes' own timers (probes, the autoscaler's windows, a lost node's grace
# period), so side by side they take little more than the longer path; one after the other they
# would add about ten minutes to `npm test`. At most two clusters with nodes run at once (beside
# TestDelivery's two control planes): each node's containerd and kubelet hold inotify instances,
# which the machine limits (docs/cluster-tests.md).
lab_log="$repo/.cache/cluster/lab.log"
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
  # A failed cluster test stops the run before the nodes.
  stop_delivery
fi
delivery_status=0
wait_delivery || delivery_status=$?
if [[ $status -eq 0 ]]; then
  status=$delivery_status
fi
exit "$status"
