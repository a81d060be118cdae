#!/usr/bin/env bash
# Builds the control plane of the cluster tests from published Go modules and
# caches the binaries in <repo>/.cache/cluster/<version>-<key>/bin (git-ignored;
# LAB_TO_PROD_CLUSTER_CACHE names another folder).
#
#   kube-apiserver, kube-controller-manager, kube-scheduler  k8s.io/kubernetes (tools/kube/go.mod)
#   kubectl                                                  the same release: the tests' client, within the
#                                                            one-minor skew kubectl supports (a machine's own
#                                                            kubectl may be older than the newest release)
#   etcd                                                     go.etcd.io/etcd/server/v3, the version that release pins
#   kwok                                                     sigs.k8s.io/kwok (tools/kwok/go.mod)
#
# The key is a hash of the two tool modules (go.mod + go.sum), the Go version
# and this script, so a warm run finds its binaries and builds nothing; bumping
# a version makes a new key. Go's own module and build caches (go env
# GOMODCACHE, GOCACHE) are left at their defaults so rebuilds reuse them.
#
# Prints the bin folder on stdout; progress goes to stderr. With --fetch-only it builds nothing and
# only downloads and checks what the build reads from Go's module cache (build-common.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=build-common.sh
. "$here/build-common.sh"
repo="$(cd "$here/../.." && pwd)"
read_fetch_only_flag "$@"

# The Kubernetes version is the one tools/kube/go.mod requires; the version
# stamp below must match it, so read it from there rather than repeat it.
kube_version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$here/tools/kube/go.mod")"
if [[ -z "$kube_version" ]]; then
  echo "build.sh: no 'require k8s.io/kubernetes vX.Y.Z' line in tools/kube/go.mod" >&2
  exit 1
fi
kwok_version="$(required_version "$here/tools/kwok/go.mod" sigs.k8s.io/kwok)"

# kwok simulates nothing by itself: it needs Stage objects. Use the ones its
# module ships (kustomize/stage in the module, what kwokctl configures by
# default): nodes are initialised Ready and heartbeat through their Lease;
# pods become Running and Ready once scheduled, Job pods then Succeeded, and
# deleted pods go away.
kwok_stages=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
# kwok_stage_folder: kustomize/stage in kwok's module, after checking every Stage file is there.
kwok_stage_folder() {
  local module stage
  module="$(cd "$here/tools/kwok" && module_dir sigs.k8s.io/kwok)" || return 1
  for stage in "${kwok_stages[@]}"; do
    if [[ ! -s "$module/kustomize/stage/$stage" ]]; then
      echo "build.sh: kwok $kwok_version's module has no kustomize/stage/$stage; the Stage files moved, review this step" >&2
      return 1
    fi
  done
  echo "$module/kustomize/stage"
}

if $fetch_only; then
  fetched "kwok version (tools/kwok/go.mod)" "$kwok_version"
  stage_folder="$(kwok_stage_folder)"
  fetched "kwok's Stage files" "$stage_folder"
  exit 0
fi

key="$(
  {
    go env GOVERSION GOOS GOARCH
    cat "$here/tools/kube/go.mod" "$here/tools/kube/go.sum" "$here/tools/kwok/go.mod" "$here/tools/kwok/go.sum" "$0" "$here/build-common.sh"
  } | sha256sum | cut -c1-16
)"
cache="${LAB_TO_PROD_CLUSTER_CACHE:-$repo/.cache/cluster}"
bin="$cache/$kube_version-$key/bin"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwok-stages.yaml)

exit_if_cached "control plane $kube_version" "$bin" "${binaries[@]}"

echo "control plane $kube_version: building into $bin (about 20 minutes on 2 cores from cold: see docs/cluster-tests.md)" >&2
started=$SECONDS
staging="$bin.partial.$$"
rm -rf "$staging"
mkdir -p "$staging"
trap 'rm -rf "$staging"' EXIT

stamp="$(release_stamp "$kube_version")"

(
  cd "$here/tools/kube"
  # One `go build` for all five so shared packages compile once.
  go build -trimpath -ldflags "-s -w$stamp" -o "$staging/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl \
    go.etcd.io/etcd/server/v3
  # go names a binary after its package path, skipping the major-version
  # suffix: go.etcd.io/etcd/server/v3 becomes "server".
  mv "$staging/server" "$staging/etcd"
)
(
  cd "$here/tools/kwok"
  go build -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$kwok_version" -o "$staging/" \
    sigs.k8s.io/kwok/cmd/kwok
)

# The Stage files kwok runs with (see kwok_stages above).
stage_folder="$(kwok_stage_folder)"
for stage in "${kwok_stages[@]}"; do
  echo "---"
  cat "$stage_folder/$stage"
done > "$staging/kwok-stages.yaml"

rm -rf "$bin"
mv "$staging" "$bin"
trap - EXIT
echo "control plane $kube_version: built in $((SECONDS - started))s" >&2
echo "$bin"
