# shellcheck shell=bash
# The pod network's CNI plugin: ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3
# (dist/lab/01-flannel.yaml, the install-cni-plugin init container: `cp -f /flannel
# /opt/cni/bin/flannel`). Sourced by build-addons.sh; the image's facts, and why the plugin in it
# is our own, are in flannel-cni-plugin/FACTS.md.

addon_flannel_cni_plugin() {
  local r="$work/rootfs/flannel-cni-plugin" version=v1.9.1-flannel3
  # Our own program, so its tests run before it goes into an image: the subnet file's rules, the
  # delegate's configuration, and ADD and DEL through a delegate.
  (cd "$here/tools/flannel-cni-plugin" && GOFLAGS=-mod=readonly go test -count=1 . >&2)
  # The stamp upstream's build sets (scripts/build_flannel.sh: main.Program, main.Version,
  # main.Commit); the commit says this is not upstream's code.
  gobuild_stamped "$here/tools/flannel-cni-plugin" "$work/bin" \
    "-X main.Program=flannel -X main.Version=$version -X main.Commit=lab-to-prod-stand-in" .
  mkdir -p "$r/etc" "$r/tmp" "$r/root"
  install -m 0755 "$work/bin/flannel-cni-plugin" "$r/flannel"
  # Alpine's base: busybox, whose cp the init container runs.
  add_busybox "$r"
  printf '%s\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/:/sbin/nologin > "$r/etc/passwd"
  printf '%s\n' root:x:0:root nobody:x:65534: > "$r/etc/group"
  chmod 1777 "$r/tmp"
  chmod 0700 "$r/root"

  # Without CNI_COMMAND a CNI plugin prints what it is and which CNI versions it speaks.
  runs_in_rootfs flannel-cni-plugin /flannel
  runs_in_rootfs flannel-cni-plugin /bin/sh -c 'mkdir /tmp/bin && cp -f /flannel /tmp/bin/flannel && cmp /flannel /tmp/bin/flannel && rm -r /tmp/bin && echo cp copies'
  pack flannel-cni-plugin "ghcr.io/flannel-io/flannel-cni-plugin:$version" \
    "our own Go program test/cluster/images/tools/flannel-cni-plugin (upstream's module is not served), busybox-static $(version_of busybox-static)" \
    -cmd '["/bin/sh"]' "${alpine_path[@]}"
}
