# shellcheck shell=bash
# Storage: rancher/local-path-provisioner:v0.0.30 (dist/lab/01-local-path-provisioner.yaml, the
# provisioner Deployment) and the image of the helper pods it starts to make and remove volume
# folders on a node (its ConfigMap's helperPod.yaml: `image: busybox`, that is
# docker.io/library/busybox:latest). Sourced by build-addons.sh; the facts are in
# local-path-provisioner/FACTS.md and busybox/FACTS.md.

local_path_provisioner_version() {
  required_version "$here/tools/local-path-provisioner/go.mod" github.com/rancher/local-path-provisioner
}

addon_local_path_provisioner() {
  local r="$work/rootfs/local-path-provisioner" version
  version="$(local_path_provisioner_version)"
  # The release build's stamp (scripts/build: -X main.VERSION=<git tag>), which --version prints.
  gobuild_stamped "$here/tools/local-path-provisioner" "$work/bin" "-X main.VERSION=$version" \
    github.com/rancher/local-path-provisioner
  mkdir -p "$r/usr/bin" "$r/etc" "$r/tmp" "$r/root"
  install -m 0755 "$work/bin/local-path-provisioner" "$r/usr/bin/local-path-provisioner"
  # Alpine's base, whose busybox upstream upgrades and keeps.
  add_busybox "$r"
  printf '%s\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/:/sbin/nologin > "$r/etc/passwd"
  printf '%s\n' root:x:0:root nobody:x:65534: > "$r/etc/group"
  chmod 1777 "$r/tmp"
  chmod 0700 "$r/root"
  runs_in_rootfs local-path-provisioner /usr/bin/local-path-provisioner --version
  pack local-path-provisioner "docker.io/rancher/local-path-provisioner:$version" \
    "Go module github.com/rancher/local-path-provisioner $version, busybox-static $(version_of busybox-static)" \
    -cmd '["local-path-provisioner"]' "${alpine_path[@]}" -env ARCH=amd64

  # The helper pods' image: build.sh's busybox image (the same tree, busybox_rootfs), under the
  # reference the provisioner's ConfigMap names.
  busybox_rootfs "$work/rootfs/busybox"
  # shellcheck disable=SC2016 # the image's shell expands it
  runs_in_rootfs busybox /bin/sh -c 'set -eu; VOL_DIR=/tmp/pvc-check; mkdir -m 0777 -p "$VOL_DIR"; rm -rf "$VOL_DIR"; echo setup and teardown run'
  pack busybox docker.io/library/busybox:latest "Debian busybox-static $(version_of busybox-static)" \
    -cmd '["sh"]'
}
