# shellcheck shell=bash
# The pod network's daemon: ghcr.io/flannel-io/flannel:v0.28.10 (dist/lab/01-flannel.yaml), the
# flanneld container and the install-cni init container. Sourced by build-addons.sh; the image's
# facts are in flannel/FACTS.md.

# flanneld in iptables mode runs iptables, ip6tables and their -save/-restore: Debian's, as
# installed on this machine (legacy and nft backends, their extensions), with the libraries they load.
addon_host_debs+=(iptables libxtables12 libip4tc2 libip6tc2 libnftnl11 libmnl0)
# flanneld is built with cgo (below): the C compiler and the static C library.
addon_host_debs+=(gcc libc6-dev)

flannel_version() { required_version "$here/tools/flannel/go.mod" github.com/flannel-io/flannel; }

# patched_flannel <folder>: makes <folder>/flannel-build (module_build_folder) and removes from
# its copy of flannel the one import the Go proxy cannot serve (see tools/flannel/go.mod); the
# build stops if that line is not there, or if anything else changed.
patched_flannel() {
  local build="$1/flannel-build" original
  module_build_folder "$here/tools/flannel" github.com/flannel-io/flannel "$build"
  original="$(cd "$here/tools/flannel" && module_dir github.com/flannel-io/flannel)"
  sed -i '/^\s*_ "github.com\/flannel-io\/flannel\/pkg\/backend\/tencentvpc"$/d' "$build/module/main.go"
  if [[ "$(diff -r "$original" "$build/module" | grep -c '^[<>]')" != 1 ]]; then
    die "flannel: expected to remove one line '_ \"github.com/flannel-io/flannel/pkg/backend/tencentvpc\"' from flanneld's main.go; the imports changed, review addons/flannel.sh"
  fi
}

fetch_flannel() {
  local scratch
  scratch="$(mktemp -d -t lab-to-prod-fetch-flannel.XXXXXX)"
  patched_flannel "$scratch"
  fetched "flannel version (tools/flannel/go.mod)" "$(flannel_version)"
  fetched "flannel's module, copied without its Tencent Cloud backend" \
    "$(grep -c '^\s*_ "github.com/flannel-io/flannel/pkg/backend/' "$scratch/flannel-build/module/main.go") backends left"
  rm -rf "$scratch"
}

addon_flannel() {
  local r="$work/rootfs/flannel" version src="$here/addons/flannel" name
  version="$(flannel_version)"
  patched_flannel "$work"
  # As the release build makes it (its Makefile, dist/flanneld): the version stamp that
  # `flanneld --version` prints, cgo on (on amd64 its UDP backend is C) and linked statically.
  # netgo and osusergo keep glibc's name service out of the static binary (upstream links musl,
  # which has none to load).
  (cd "$work/flannel-build" && CGO_ENABLED=1 go build -mod=readonly -trimpath -buildvcs=false -tags netgo,osusergo \
    -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$version -extldflags -static" \
    -o "$work/bin/flanneld" github.com/flannel-io/flannel)
  (cd "$work/flannel-build" && CGO_ENABLED=0 go build -mod=readonly -trimpath -buildvcs=false -ldflags "-s -w" \
    -o "$work/bin/install-conf" github.com/flannel-io/flannel/cmd/install_conf)

  mkdir -p "$r/opt/bin" "$r/usr/sbin" "$r/etc/ssl/certs" "$r/tmp" "$r/root" "$r/run"
  install -m 0755 "$work/bin/flanneld" "$r/opt/bin/flanneld"
  install -m 0755 "$work/bin/install-conf" "$r/opt/bin/install-conf"
  install -m 0755 "$work/flannel-build/module/dist/mk-docker-opts.sh" "$r/opt/bin/mk-docker-opts.sh"
  # Alpine's base: busybox for /bin/sh and the usual applets, CA certificates (upstream adds them).
  add_busybox "$r"
  cp -L /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt"
  printf '%s\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/:/sbin/nologin > "$r/etc/passwd"
  printf '%s\n' root:x:0:root nobody:x:65534: > "$r/etc/group"
  chmod 1777 "$r/tmp"
  chmod 0700 "$r/root"

  # Both backends and their names, the extensions they load, then the wrapper that picks one.
  for name in xtables-legacy-multi xtables-nft-multi; do cp -a "/usr/sbin/$name" "$r/usr/sbin/"; done
  for name in iptables ip6tables; do
    cp -a /usr/sbin/"$name"-{legacy,nft}{,-save,-restore} "$r/usr/sbin/"
  done
  mkdir -p "$r/usr/lib/x86_64-linux-gnu"
  cp -a /usr/lib/x86_64-linux-gnu/xtables "$r/usr/lib/x86_64-linux-gnu/"
  copy_libs "$r" "$r"/usr/sbin/xtables-*-multi "$r"/usr/lib/x86_64-linux-gnu/xtables/*.so
  install -m 0755 "$src/iptables-wrapper" "$r/usr/sbin/iptables-wrapper"
  for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -s iptables-wrapper "$r/usr/sbin/$name"
  done

  runs_in_rootfs flannel /opt/bin/flanneld --version
  runs_in_rootfs flannel /usr/sbin/iptables-nft --version
  runs_in_rootfs flannel /usr/sbin/ip6tables-legacy --version
  # The install-cni init container's command, on a file of the image.
  runs_in_rootfs flannel /bin/sh -c '/opt/bin/install-conf /etc/group /tmp/installed && cmp /etc/group /tmp/installed && rm /tmp/installed && echo install-conf copies'
  flannel_wrapper_check "$r"

  pack flannel "ghcr.io/flannel-io/flannel:$version" \
    "Go module github.com/flannel-io/flannel $version (without its Tencent Cloud backend), Debian iptables $(dpkg-query -W -f '${Version}' iptables), busybox-static $(version_of busybox-static)" \
    -entrypoint '["/opt/bin/flanneld"]' "${alpine_path[@]}"
}

# flannel_wrapper_check ROOT: the wrapper's choice, each time in a fresh copy of the tree (it
# relinks the names it is called by) and a network namespace of its own: with no rules anywhere
# it must pick nft; with a rule in the legacy tables (as a node whose kube-proxy runs legacy
# iptables has) it must pick legacy. /proc is mounted in the copy, inside a mount namespace of
# the check's own, because legacy iptables-save lists its tables there.
flannel_wrapper_check() {
  local root="$1" copy="$work/flannel-wrapper-check" want setup out
  for want in nft legacy; do
    rm -rf "$copy"
    cp -a "$root" "$copy"
    # The container runtime gives a container its /dev and /proc; the wrapper needs both.
    mkdir -p "$copy/dev" "$copy/proc"
    mknod -m 0666 "$copy/dev/null" c 1 3
    setup=true
    [[ "$want" == legacy ]] && setup="chroot \"\$1\" /usr/sbin/iptables-legacy -A FORWARD -s 192.0.2.1 -j ACCEPT"
    # shellcheck disable=SC2016 # expanded by the inner shell
    out="$(timeout 30 unshare --net --mount --pid --fork sh -c \
      'mount -t proc proc "$1/proc" && '"$setup"' && chroot "$1" /usr/sbin/iptables --version' sh "$copy" 2>&1)" ||
      { echo "$out" >&2; die "flannel: iptables-wrapper failed ($want case)"; }
    local version_word=nf_tables
    [[ "$want" == legacy ]] && version_word=legacy
    [[ "$out" == *"($version_word)"* && "$(readlink "$copy/usr/sbin/ip6tables-save")" == "xtables-$want-multi" ]] ||
      die "flannel: iptables-wrapper should pick $want here; it answered '$out' and linked ip6tables-save to '$(readlink "$copy/usr/sbin/ip6tables-save")'"
    log "flannel: iptables-wrapper picks $want: $out"
  done
  rm -rf "$copy"
}
