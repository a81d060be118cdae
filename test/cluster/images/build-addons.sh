#!/usr/bin/env bash
# Builds, offline, stand-ins for the images of the lab's platform add-ons (the pod network, the load
# balancer, storage, certificates, ingress: what dist/lab/01-*.yaml names), the way build.sh builds
# the workloads' images: each from the add-on's own Go module at the version the lab pins, laid out
# as the upstream image is (its FACTS.md says how and where that is written).
#
#   test/cluster/images/build-addons.sh
#   test/cluster/images/build-addons.sh --fetch-only
#   LAB_TO_PROD_ADDONS="flannel metallb" test/cluster/images/build-addons.sh
#
# Prints the cache folder on stdout (last line); progress goes to stderr. The folder holds
#   images/<name>.tar      one single-layer image each, as `crane push` reads it
#   images/index.tsv       "<file name>\t<original reference>", one line per image
# (the same contract as build.sh's; the registry and crane are build.sh's).
#
# Each add-on is a fragment, addons/<name>.sh, defining addon_<name> (dashes become underscores),
# which this script calls in file-name order. A fragment may also, at the top level:
#   - add Debian packages its image copies files from to addon_debs (downloaded and unpacked into
#     $work/deb, never installed), and programs this script runs or copies from the machine to
#     addon_host_debs;
#   - define fetch_<name>, run by --fetch-only: it downloads and reports (`fetched`) whatever its
#     build reads from Go's module cache outside `go build` (a file of the module, such as a script
#     the upstream image copies).
# A fragment builds its programs with gobuild from its tool module (tools/<name>/: go.mod + go.sum,
# the add-on at the lab's version), fills $work/rootfs/<image>, checks the main program starts there
# (runs_in_rootfs) and calls pack; the helpers are image-common.sh's.
#
# The folder is <repo>/.cache/images-addons/<key> (git-ignored; LAB_TO_PROD_ADDON_IMAGES_CACHE
# names another parent). The key hashes every input: the files beside this script but build.sh's
# own (this script, image-common.sh, the fragments, the tool modules; not docs or tests), the Go
# version and the Debian package versions used, so a warm run builds nothing.
#
# Runs as root: image files carry upstream's numeric owners, and the smoke check chroots.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
log_prefix=addon-images
# shellcheck source=image-common.sh
. "$here/image-common.sh"
# shellcheck source=../build-common.sh
. "$here/../build-common.sh"
read_fetch_only_flag "$@"

# Every image may use busybox (add_busybox, busybox_rootfs), so its package is always there.
addon_debs=(busybox-static)
addon_host_debs=(ca-certificates libc6)
addons=()
for fragment in "$here"/addons/*.sh; do
  [[ -e "$fragment" ]] || continue
  # shellcheck source=/dev/null
  . "$fragment"
  name="$(basename "$fragment" .sh)"
  declare -F "addon_${name//-/_}" >/dev/null || die "addons/$name.sh defines no function addon_${name//-/_}"
  addons+=("$name")
done
((${#addons[@]})) || die "no add-on fragments in addons/"
# LAB_TO_PROD_ADDONS="flannel flannel-cni-plugin" builds only those (a harness that needs the pod
# network first need not wait for the rest); the selection is part of the key.
if [[ -n "${LAB_TO_PROD_ADDONS:-}" ]]; then
  for name in $LAB_TO_PROD_ADDONS; do
    [[ " ${addons[*]} " == *" $name "* ]] || die "LAB_TO_PROD_ADDONS names '$name', which has no fragment addons/$name.sh; there are: ${addons[*]}"
  done
  read -r -a addons <<< "$LAB_TO_PROD_ADDONS"
fi

if $fetch_only; then
  fetched "add-on fragments" "${addons[*]}"
  for name in "${addons[@]}"; do
    if declare -F "fetch_${name//-/_}" >/dev/null; then "fetch_${name//-/_}"; fi
  done
  exit 0
fi
[[ "$(id -u)" == 0 ]] || die "run as root: image files are owned by upstream's numeric users, and the smoke check chroots"

# ---------------------------------------------------------------- inputs ----

ensure_apt_lists busybox-static
install_host_debs "${addon_host_debs[@]}"
mapfile -t addon_debs < <(printf '%s\n' "${addon_debs[@]}" | LC_ALL=C sort -u)
mapfile -t addon_host_debs < <(printf '%s\n' "${addon_host_debs[@]}" | LC_ALL=C sort -u)
deb_versions="$(for pkg in "${addon_debs[@]}"; do
  version="$(candidate "$pkg")"
  [[ -n "$version" && "$version" != "(none)" ]] || die "apt knows no version of the Debian package '$pkg' (addon_debs)"
  printf '%s=%s\n' "$pkg" "$version"
done)"
host_versions="$(dpkg-query -W -f '${Package}=${Version}\n' "${addon_host_debs[@]}")"
key="$(
  {
    go env GOVERSION GOOS GOARCH
    echo "$deb_versions" "$host_versions"
    echo "add-ons: ${addons[*]}"
    # Docs, tests, the smoke test and build.sh (whose images these are not) do not change an image.
    (cd "$here" && find . -type f ! -name '*.md' ! -name '*_test.go' ! -name smoke.sh ! -path ./build.sh \
      -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
)"
cache_parent="${LAB_TO_PROD_ADDON_IMAGES_CACHE:-$repo/.cache/images-addons}"
cache="$cache_parent/$key"

if [[ -s "$cache/images/index.tsv" ]]; then
  log "cached in $cache"
  echo "$cache"
  exit 0
fi

log "building into $cache (add-ons: ${addons[*]})"
started=$SECONDS
begin_build "$cache"

# imagepack (build.sh's, from the same module) writes the tarballs. It is built here rather than
# taken from build.sh's cache, which does not keep it and whose key is not this script's; with Go's
# build cache warm this takes seconds.
gobuild "$here/tools/crane" "$staging/bin" ./imagepack

log "Debian: ${addon_debs[*]}"
mapfile -t pinned_debs <<< "$deb_versions"
unpack_debs "${pinned_debs[@]}"
mkdir -p "$work/bin" "$work/rootfs"

for name in "${addons[@]}"; do
  log "$name"
  "addon_${name//-/_}"
done

finish_build "$cache"
log "built in $((SECONDS - started))s"
echo "$cache"
