#!/usr/bin/env bash
# `npm run test:node`: the cluster tests on a real node (docs/cluster-tests.md, "The real node").
# Builds (or finds cached) the control plane, the node and the stand-in images, then runs
# TestRealNode and TestBehaviours, each on a fresh node inside namespaces of its own: a network namespace (all traffic stays in it), a mount
# namespace (the node's mounts and its private /etc, /var/lib, /var/log, /run) and a PID namespace
# (when the test ends, pass, fail or signal, the kernel ends every process it started). Afterwards
# it removes the run's cgroups and folder. The machine's settings are never changed.
#
#   npm run test:node                               the whole real-node test
#   npm run test:node -- -test.run 'TestRealNode/security'   (any go test flag)
#   LAB_TO_PROD_NODE_TESTS=TestBehaviours npm run test:node     one test, on a node of its own
#
# Needs root (a node's kubelet and containerd do), Go and Node.js; kubectl is the one build.sh builds.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [[ "$(id -u)" != 0 ]]; then
  echo "run-node.sh: the real node needs root (containerd, the kubelet and the network namespace do)" >&2
  exit 1
fi

cluster_bin="$("$here/build.sh")"
node_bin="$("$here/build-node.sh")"
# LAB_TO_PROD_IMAGES names a folder images/build.sh made, to skip the build while working on the images.
images="${LAB_TO_PROD_IMAGES:-$("$here/images/build.sh" "$node_bin/coredns" "$node_bin/metrics-server")}"

# A run of named tests (LAB_TO_PROD_NODE_TESTS, below) has a test binary of its own: `npm test` runs
# two such runs at once (run-all.sh), and neither may relink the file the other is running.
test_binary="$repo/.cache/cluster/cluster.test"
if [[ -n "${LAB_TO_PROD_NODE_TESTS:-}" ]]; then
  test_binary="$repo/.cache/cluster/node-${LAB_TO_PROD_NODE_TESTS// /-}.test"
fi
(cd "$here" && go test -c -o "$test_binary" .)

# Each test gets a node of its own, in namespaces of its own: nothing one leaves behind (pods,
# iptables rules, volumes) can change what the next one sees. LAB_TO_PROD_NODE_TESTS=TestBehaviours
# runs only the tests named.
read -r -a node_tests <<<"${LAB_TO_PROD_NODE_TESTS:-TestRealNode TestBehaviours}"

export LAB_TO_PROD_CLUSTER_BIN="$cluster_bin" LAB_TO_PROD_NODE_BIN="$node_bin" LAB_TO_PROD_IMAGES="$images"
export LAB_TO_PROD_TEST_DIR="$here" LAB_TO_PROD_KUBE_VERSION
LAB_TO_PROD_KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/tools/kube/go.mod")"
# containerd finds its shims, and gVisor's shim finds runsc, on the PATH.
export PATH="$node_bin:$PATH"

state=""
cgroup_root=""
namespace=""

# shellcheck source=node-run-common.sh
. "$here/node-run-common.sh"

# remove_run: the run's cgroups, then its folder (node-run-common.sh).
remove_run() {
  local status=$1
  [[ -n "$state" ]] || return 0
  remove_cgroup_roots "$cgroup_root"
  remove_state "real node" "$status"
}

trap stop_namespace TERM INT
trap 'status=$?; remove_run "$status"; exit "$status"' EXIT

# run_test <name> [go test flags]: one test on a fresh node.
run_test() {
  local name=$1 status=0
  shift
  state="$(mktemp -d -t lab-to-prod-node.XXXXXX)"
  cgroup_root="lab-to-prod-node-$$-$name"
  make_cgroup_roots "$cgroup_root"
  # --kill-child: should this script be killed, the namespace's first process is too, and with
  # it everything in the namespace.
  LAB_TO_PROD_NODE_STATE="$state" LAB_TO_PROD_CGROUP_ROOT="$cgroup_root" \
    unshare --fork --pid --mount-proc --net --mount --propagation private --kill-child -- \
    "$here/node-namespace.sh" "$state" -- \
    "$test_binary" -test.v -test.count=1 -test.timeout=40m -test.run "^$name\$" "$@" &
  namespace=$!
  wait "$namespace" || status=$?
  while kill -0 "$namespace" 2>/dev/null; do wait "$namespace" || status=$?; done
  namespace=""
  remove_run "$status"
  return "$status"
}

failed=0
for name in "${node_tests[@]}"; do
  run_test "$name" "$@" || failed=1
done
exit "$failed"
