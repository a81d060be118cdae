# shellcheck shell=bash
# The load balancer: quay.io/metallb/controller:v0.16.2 and quay.io/metallb/speaker:v0.16.2
# (dist/lab/01-metallb.yaml: the controller Deployment and the speaker DaemonSet, native L2 mode,
# no FRR containers). Sourced by build-addons.sh; the images' facts are in metallb/FACTS.md.

metallb_version() { required_version "$here/tools/metallb/go.mod" go.universe.tf/metallb; }

# patched_metallb <folder>: makes <folder>/metallb-build (module_build_folder) and removes from
# its copy of MetalLB the one feature of its frr-k8s BGP mode that frr-k8s v0.0.26 lacks (AS path
# prepend; see tools/metallb/go.mod): the two lines that fill the field and the function that
# computes it, in internal/bgp/frrk8s/frrk8s.go. The build stops if anything else changed.
patched_metallb() {
  local build="$1/metallb-build" original file=internal/bgp/frrk8s/frrk8s.go
  module_build_folder "$here/tools/metallb" go.universe.tf/metallb "$build"
  original="$(cd "$here/tools/metallb" && module_dir go.universe.tf/metallb)"
  sed -i '/PrefixesWithAsPathPrepend/d' "$build/module/$file"
  awk '/^func toAdvertiseWithAsPathPrepend\(/ { skip = 1 } !skip { print } skip && /^}$/ { skip = 0 }' \
    "$build/module/$file" > "$build/frrk8s.go" && mv "$build/frrk8s.go" "$build/module/$file"
  if [[ "$(diff -r "$original" "$build/module" | grep -c '^<')" != 13 || "$(diff -r "$original" "$build/module" | grep -c '^>')" != 0 ]]; then
    die "metallb: expected to remove 13 lines (two 'PrefixesWithAsPathPrepend' lines and the function toAdvertiseWithAsPathPrepend) from $file; MetalLB changed, review addons/metallb.sh"
  fi
}

fetch_metallb() {
  local scratch
  scratch="$(mktemp -d -t lab-to-prod-fetch-metallb.XXXXXX)"
  patched_metallb "$scratch"
  fetched "MetalLB version (tools/metallb/go.mod)" "$(metallb_version)"
  fetched "MetalLB's module, copied without AS path prepend in its frr-k8s mode" \
    "$(grep -c AsPathPrepend "$scratch/metallb-build/module/internal/bgp/frrk8s/frrk8s.go") mentions left"
  rm -rf "$scratch"
}

addon_metallb() {
  local version name
  version="$(metallb_version)"
  patched_metallb "$work"
  # The stamp the Dockerfiles set (-X internal/version.gitCommit and gitBranch, from build
  # arguments whose default is "dev"); the version itself, 0.16.2, is in the source.
  gobuild_stamped "$work/metallb-build" "$work/bin" \
    "-X go.universe.tf/metallb/internal/version.gitCommit=dev -X go.universe.tf/metallb/internal/version.gitBranch=dev" \
    go.universe.tf/metallb/controller go.universe.tf/metallb/speaker

  # The description labels as the two Dockerfiles spell them.
  local -A description=([controller]="Metallb Controller" [speaker]="Metallb speaker")
  for name in controller speaker; do
    local r="$work/rootfs/metallb-$name"
    distroless_static "$r"
    install -m 0755 "$work/bin/$name" "$r/$name"
    # Their Dockerfiles: COPY LICENSE /.
    install -m 0644 "$work/metallb-build/module/LICENSE" "$r/LICENSE"
    # Go's flag package exits 0 after printing the usage for --help.
    runs_in_rootfs "metallb-$name" "/$name" --help
    facts_folder=metallb pack "metallb-$name" "quay.io/metallb/$name:$version" \
      "Go module go.universe.tf/metallb $version (with github.com/metallb/frr-k8s v0.0.26 for v0.0.27, without AS path prepend in its frr-k8s mode)" \
      -entrypoint "[\"/$name\"]" "${distroless_env[@]}" -user 0 -workdir / \
      -label org.opencontainers.image.authors=metallb \
      -label org.opencontainers.image.url=https://github.com/metallb/metallb \
      -label org.opencontainers.image.documentation=https://metallb.universe.tf \
      -label org.opencontainers.image.source=https://github.com/metallb/metallb \
      -label org.opencontainers.image.vendor=metallb \
      -label org.opencontainers.image.licenses=Apache-2.0 \
      -label "org.opencontainers.image.description=${description[$name]}" \
      -label "org.opencontainers.image.title=$name"
  done
}
