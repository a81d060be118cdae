#!/usr/bin/env bash
# `npm run test:lab`: the lab on three real nodes (TestLab; docs/cluster-tests.md). Builds (or finds
# cached) the control plane, the node, the stand-in images and the add-ons' stand-in images, then
# runs TestLab inside namespaces of its own, as run-node.sh runs the single node: a network
# namespace (lab-cp-1's, where the control plane runs), a mount namespace and a PID namespace (when
# the test ends, pass, fail or signal, the kernel ends every process it started, every node's
# included). The test makes the LAN and the other machines' namespaces inside those (lab.go).
# Afterwards it removes the run's cgroups and folder. The machine's settings are never changed.
#
#   npm run test:lab                                 the whole test
#   npm run test:lab -- -test.run 'TestLab/nodes'    (any go test flag)
#
# LAB_TO_PROD_RUN_TAG, if set, is added to the run's folder and cgroup names (to tell runs apart).
# Needs root (the nodes' kubelets and containerd do), Go and Node.js.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [[ "$(id -u)" != 0 ]]; then
  echo "run-lab.sh: the lab's nodes need root (containerd, the kubelets and the network namespaces do)" >&2
  exit 1
fi

cluster_bin="$("$here/build.sh")"
node_bin="$("$here/build-node.sh")"
# LAB_TO_PROD_IMAGES and LAB_TO_PROD_ADDON_IMAGES name folders the image builds made, to skip them.
images="${LAB_TO_PROD_IMAGES:-$("$here/images/build.sh" "$node_bin/coredns" "$node_bin/metrics-server")}"
addon_images="${LAB_TO_PROD_ADDON_IMAGES:-$("$here/images/build-addons.sh")}"

test_binary="$repo/.cache/cluster/lab.test"
(cd "$here" && go test -c -o "$test_binary" .)

tag="${LAB_TO_PROD_RUN_TAG:+-$LAB_TO_PROD_RUN_TAG}"
export LAB_TO_PROD_CLUSTER_BIN="$cluster_bin" LAB_TO_PROD_NODE_BIN="$node_bin" LAB_TO_PROD_IMAGES="$images"
export LAB_TO_PROD_ADDON_IMAGES="$addon_images" LAB_TO_PROD_TEST_DIR="$here" LAB_TO_PROD_KUBE_VERSION
LAB_TO_PROD_KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/tools/kube/go.mod")"
# containerd finds its shims, and gVisor's shim finds runsc, on the PATH.
export PATH="$node_bin:$PATH"

# The lab's machines (lab.go: labMachines); each node's kubelet gets a cgroup root of its own.
nodes=(lab-cp-1 lab-worker-1 lab-worker-2)
state="$(mktemp -d -t "lab-to-prod-lab$tag.XXXXXX")"
cgroup_root="lab-to-prod-lab$tag-$$"
namespace=""

# shellcheck source=node-run-common.sh
. "$here/node-run-common.sh"
cgroup_roots=()
for node in "${nodes[@]}"; do cgroup_roots+=("$cgroup_root-$node"); done

# remove_run: the run's cgroups, then its folder (node-run-common.sh).
remove_run() {
  local status=$1
  [[ -n "$state" ]] || return 0
  remove_cgroup_roots "${cgroup_roots[@]}"
  remove_state lab "$status"
}

trap stop_namespace TERM INT
trap 'status=$?; remove_run "$status"; exit "$status"' EXIT

# Each node's kubelet puts its pods under its own root.
make_cgroup_roots "${cgroup_roots[@]}"

status=0
LAB_TO_PROD_NODE_STATE="$state" LAB_TO_PROD_CGROUP_ROOT="$cgroup_root" LAB_TO_PROD_LAB_NAMESPACE_SH="$here/lab-namespace.sh" \
  unshare --fork --pid --mount-proc --net --mount --propagation private --kill-child -- \
  "$here/lab-namespace.sh" "$state" same-network -- \
  "$test_binary" -test.v -test.count=1 -test.timeout=60m -test.run '^TestLab$' "$@" &
namespace=$!
wait "$namespace" || status=$?
while kill -0 "$namespace" 2>/dev/null; do wait "$namespace" || status=$?; done
namespace=""
exit "$status"
