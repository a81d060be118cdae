#!/usr/bin/env bash
# Builds Flux's source-controller and kustomize-controller for the delivery tests
# (delivery_test.go) from their Go modules (tools/flux/go.mod) and caches them in
# <repo>/.cache/cluster/flux-<version>-<key>/bin, like build.sh (LAB_TO_PROD_CLUSTER_CACHE
# names another folder). The key is a hash of tools/flux's go.mod and go.sum, the Go version and
# this script, so a warm run builds nothing.
#
# Flux's CRDs are not taken from here: the tests install the ones pinned in addons/flux-*/upstream.yaml.
#
# Prints the bin folder on stdout; progress goes to stderr. With --fetch-only it builds nothing and
# only reads the versions from tools/flux/go.mod (the build reads nothing else from Go's module
# cache outside `go build`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=build-common.sh
. "$here/build-common.sh"
repo="$(cd "$here/../.." && pwd)"
read_fetch_only_flag "$@"

source_version="$(required_version "$here/tools/flux/go.mod" github.com/fluxcd/source-controller)"
kustomize_version="$(required_version "$here/tools/flux/go.mod" github.com/fluxcd/kustomize-controller)"
if [[ "$source_version" != "$kustomize_version" ]]; then
  # A Flux release pins both controllers at one version (flux2's go.mod); a mix was never released.
  echo "build-flux.sh: tools/flux/go.mod requires source-controller $source_version but kustomize-controller $kustomize_version; a Flux release pins both at one version" >&2
  exit 1
fi

if $fetch_only; then
  fetched "source-controller and kustomize-controller version (tools/flux/go.mod)" "$source_version"
  exit 0
fi

key="$(
  {
    go env GOVERSION GOOS GOARCH
    cat "$here/tools/flux/go.mod" "$here/tools/flux/go.sum" "$0" "$here/build-common.sh"
  } | sha256sum | cut -c1-16
)"
cache="${LAB_TO_PROD_CLUSTER_CACHE:-$repo/.cache/cluster}"
bin="$cache/flux-$source_version-$key/bin"
binaries=(source-controller kustomize-controller)

exit_if_cached "Flux controllers $source_version" "$bin" "${binaries[@]}"

echo "Flux controllers $source_version: building into $bin (about 14 minutes on 2 cores from cold: see docs/cluster-tests.md)" >&2
started=$SECONDS
staging="$bin.partial.$$"
rm -rf "$staging"
mkdir -p "$staging"
trap 'rm -rf "$staging"' EXIT

(
  cd "$here/tools/flux"
  # One `go build` for both so the packages they share (controller-runtime, client-go) compile once.
  # Go names each binary after its package path's last element: source-controller, kustomize-controller.
  go build -trimpath -ldflags "-s -w" -o "$staging/" \
    github.com/fluxcd/source-controller \
    github.com/fluxcd/kustomize-controller
)

rm -rf "$bin"
mv "$staging" "$bin"
trap - EXIT
echo "Flux controllers $source_version: built in $((SECONDS - started))s" >&2
echo "$bin"
