#!/usr/bin/env bash
# Builds the real node of the cluster tests (docs/cluster-tests.md, "The real node") and caches
# its binaries in <repo>/.cache/node/<version>-<key>/bin (git-ignored; LAB_TO_PROD_NODE_CACHE names
# another folder):
#
#   kubelet, kube-proxy                   k8s.io/kubernetes, the control plane's release (tools/kube)
#   containerd, containerd-shim-runc-v2,  github.com/containerd/containerd/v2 (tools/containerd)
#   ctr
#   runsc, containerd-shim-runsc-v1       gvisor.dev/gvisor (tools/gvisor)
#   kube-router                           github.com/cloudnativelabs/kube-router/v2: its NetworkPolicy
#                                         firewall only (tools/kube-router), corrected for IPv6
#                                         (tools/kube-router/ipv6.patch)
#   coredns                               github.com/coredns/coredns with the plugins the node's
#                                         Corefile uses (tools/coredns/main.go)
#   metrics-server                        sigs.k8s.io/metrics-server (tools/metrics-server): the lab's
#                                         metrics pipeline, run as a Deployment from its own image
#                                         (images/build.sh)
#
# and installs what Debian packages: runc, the CNI plugins (bridge, host-local, loopback, portmap),
# iptables, ipset, conntrack, iproute2 and procps. Installing needs root, as a node's setup does; a machine that has
# them installs nothing.
#
# The key hashes the tool modules, the CoreDNS main package, the Go version and this script, so a
# warm run builds nothing. Go's module and build caches stay at their defaults, so a rebuild reuses
# the control plane's compiled packages (kubelet shares most of them).
#
# Prints the bin folder on stdout; progress goes to stderr. With --fetch-only it builds and installs
# nothing and only downloads and checks what the build reads from Go's module cache (build-common.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=build-common.sh
. "$here/build-common.sh"
repo="$(cd "$here/../.." && pwd)"
tools="$here/tools"
read_fetch_only_flag "$@"

# gVisor's shim lowers its own OOM score to -999 when it starts and fails if it cannot. Lowering a
# score needs CAP_SYS_RESOURCE, which no process on the test machines has (containerd runs with
# restrict_oom_score_adj for the same reason), so the shim is built with the score it already has, 0.
# This is one of the node's two source changes (the other: patched_kube_router): one constant, in a
# copy of the module made at build time (Go's module cache is read-only, and `go build -overlay` may
# not replace files in it) that a temporary go.mod points to; the build stops if the line it expects
# is not there.
#
# patched_gvisor <folder>: puts there gvisor-module (the copy, patched) and gvisor.go.mod and
# gvisor.go.sum (tools/gvisor's, with a replace directive pointing at the copy).
patched_gvisor() (
  local folder=$1 module copy manager
  cd "$tools/gvisor"
  module="$(module_dir gvisor.dev/gvisor)"
  copy="$folder/gvisor-module"
  cp -r "$module" "$copy"
  chmod -R u+w "$copy"
  manager="$copy/pkg/shim/v1/manager.go"
  sed -i 's/^\(\s*oomScoreMax\s*=\s*\)-999$/\10/' "$manager"
  if diff -q "$module/pkg/shim/v1/manager.go" "$manager" >/dev/null || [[ "$(diff "$module/pkg/shim/v1/manager.go" "$manager" | grep -c '^>')" != 1 ]]; then
    echo "build-node.sh: expected one line 'oomScoreMax = -999' in gVisor's pkg/shim/v1/manager.go; the shim changed, review this step" >&2
    exit 1
  fi
  cp go.mod "$folder/gvisor.go.mod"
  cp go.sum "$folder/gvisor.go.sum"
  echo "replace gvisor.dev/gvisor => $copy" >> "$folder/gvisor.go.mod"
)

# kube-router v2.1.0, the newest the Go proxy serves, cannot enforce NetworkPolicy over IPv6: its
# rules name IPv6 ipsets wrongly, its pods' chains refuse IPv6 neighbour discovery, and with both
# families on, each family's ipset handler overwrites the other's sets with stale copies
# (tools/kube-router/ipv6.patch says how, and which upstream issues). The patch corrects both in a
# copy of the module, as for gVisor; it must apply exactly (no fuzz), or the build stops.
#
# patched_kube_router <folder>: puts there kube-router-module (the copy, patched) and
# kube-router.go.mod and kube-router.go.sum (tools/kube-router's, with a replace directive).
patched_kube_router() (
  local folder=$1 module copy
  cd "$tools/kube-router"
  module="$(module_dir github.com/cloudnativelabs/kube-router/v2)"
  copy="$folder/kube-router-module"
  cp -r "$module" "$copy"
  chmod -R u+w "$copy"
  if ! patch -s -F0 -p1 --no-backup-if-mismatch -d "$copy" <"$tools/kube-router/ipv6.patch" >&2; then
    echo "build-node.sh: tools/kube-router/ipv6.patch does not apply to $(basename "$module"); kube-router changed, review the patch" >&2
    exit 1
  fi
  cp go.mod "$folder/kube-router.go.mod"
  cp go.sum "$folder/kube-router.go.sum"
  echo "replace github.com/cloudnativelabs/kube-router/v2 => $copy" >> "$folder/kube-router.go.mod"
)

# Stamped as its release build stamps it (its Makefile: client-go's version package), so that
# `metrics-server --version` and its User-Agent name the version.
metrics_server_version="$(required_version "$tools/metrics-server/go.mod" sigs.k8s.io/metrics-server)"

if $fetch_only; then
  fetched "metrics-server version (tools/metrics-server/go.mod)" "$metrics_server_version"
  scratch="$(mktemp -d -t lab-to-prod-fetch-gvisor.XXXXXX)"
  trap 'rm -rf "$scratch"' EXIT
  patched_gvisor "$scratch"
  fetched "gVisor's shim, in a patched copy of its module" "$(grep -E '^\s*oomScoreMax\s*=' "$scratch/gvisor-module/pkg/shim/v1/manager.go" | tr -s '\t ' ' ')"
  patched_kube_router "$scratch"
  fetched "kube-router's firewall, its three IPv6 corrections (tools/kube-router/ipv6.patch) found in the patched copy" \
    "$(grep -l 'ipSetHandlers\[ipFamily\].Name(\|"icmpv6"\|!= ipset.isIpv6' "$scratch/kube-router-module/pkg/"{controllers/netpol/policy.go,controllers/netpol/pod.go,utils/ipset.go} | wc -l)"
  exit 0
fi

# iproute2 (ip) and procps (sysctl, pkill) are what node-namespace.sh and run-node.sh run; most
# Debian installs have them, minimal images do not.
debian_packages=(runc containernetworking-plugins iptables ipset conntrack iproute2 procps)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  if [[ "$(id -u)" != 0 ]]; then
    echo "build-node.sh: the real node needs the Debian packages ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "real node: installing Debian packages ${missing[*]}" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

kube_version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$tools/kube/go.mod")"
key="$(
  {
    go env GOVERSION GOOS GOARCH
    for module in kube containerd gvisor kube-router coredns metrics-server; do
      cat "$tools/$module/go.mod" "$tools/$module/go.sum"
    done
    cat "$tools/coredns/main.go" "$tools/kube-router/ipv6.patch" "$0" "$here/build-common.sh"
  } | sha256sum | cut -c1-16
)"
cache="${LAB_TO_PROD_NODE_CACHE:-$repo/.cache/node}"
bin="$cache/$kube_version-$key/bin"
binaries=(kubelet kube-proxy containerd containerd-shim-runc-v2 ctr runsc containerd-shim-runsc-v1 kube-router coredns metrics-server)

exit_if_cached "real node $kube_version" "$bin" "${binaries[@]}"

echo "real node $kube_version: building into $bin (about 18 minutes on 2 cores from cold, 2 when Go's build cache is warm: see docs/cluster-tests.md)" >&2
started=$SECONDS
staging="$bin.partial.$$"
rm -rf "$staging"
mkdir -p "$staging"
trap 'rm -rf "$staging"' EXIT

step() { echo "real node: $1 ($((SECONDS - started))s)" >&2; }

stamp="$(release_stamp "$kube_version")"

step "kubelet and kube-proxy"
(cd "$tools/kube" && go build -trimpath -ldflags "-s -w$stamp" -o "$staging/" \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy)

# Static, without the btrfs and devmapper snapshotters (cgo; the node uses overlayfs).
step "containerd"
(cd "$tools/containerd" && CGO_ENABLED=0 go build -trimpath -tags "no_btrfs no_devmapper" -ldflags "-s -w" -o "$staging/" \
  github.com/containerd/containerd/v2/cmd/containerd \
  github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
  github.com/containerd/containerd/v2/cmd/ctr)

# The copy of gVisor patched as patched_gvisor (above) says.
step "gVisor (runsc, containerd-shim-runsc-v1)"
(
  cd "$tools/gvisor"
  patched_gvisor "$staging"
  CGO_ENABLED=0 go build -modfile="$staging/gvisor.go.mod" -trimpath -ldflags "-s -w" -o "$staging/" \
    gvisor.dev/gvisor/runsc gvisor.dev/gvisor/shim
  mv "$staging/shim" "$staging/containerd-shim-runsc-v1"
  rm -rf "$staging/gvisor-module" "$staging"/gvisor.go.*
)

# The copy of kube-router patched as patched_kube_router (above) says.
step "kube-router"
(
  cd "$tools/kube-router"
  patched_kube_router "$staging"
  CGO_ENABLED=0 go build -modfile="$staging/kube-router.go.mod" -trimpath -ldflags "-s -w" -o "$staging/" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router
  rm -rf "$staging/kube-router-module" "$staging"/kube-router.go.*
)

# Our own main package, in the repository's checkout: without -buildvcs=false Go stamps the commit
# into it, and fails where git cannot read the checkout (another user's clone, no git installed).
step "CoreDNS"
(cd "$tools/coredns" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$staging/coredns" .)

step "metrics-server"
(
  cd "$tools/metrics-server"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$metrics_server_version -X k8s.io/client-go/pkg/version.buildDate=1970-01-01T00:00:00Z" \
    -o "$staging/metrics-server" sigs.k8s.io/metrics-server/cmd/metrics-server
)

rm -rf "$bin"
mkdir -p "$(dirname "$bin")"
mv "$staging" "$bin"
trap - EXIT
echo "real node $kube_version: built in $((SECONDS - started))s" >&2
echo "$bin"
