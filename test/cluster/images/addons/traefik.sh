# The ingress controller: docker.io/traefik:v3.7.11 (dist/lab/01-traefik.yaml), the official image
# of Traefik. Sourced by build-addons.sh; the image's facts are in traefik/FACTS.md.

# The official image is Alpine with ca-certificates and tzdata: the time zone files come from
# Debian's tzdata (Traefik reads them for the access log's and the middlewares' time zones).
addon_debs+=(tzdata)

traefik_version() { required_version "$here/tools/traefik/go.mod" github.com/traefik/traefik/v3; }

# traefik_release_date: the time the Go module proxy gives for Traefik's tag, which stands in for
# the release build's date stamp (goreleaser's {{.Date}}), so that the same inputs give the same
# binary. It reads Go's module cache, hence fetch_traefik.
traefik_release_date() (
  cd "$here/tools/traefik"
  module_dir github.com/traefik/traefik/v3 >/dev/null
  go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' github.com/traefik/traefik/v3
)

fetch_traefik() {
  fetched "traefik version (tools/traefik/go.mod)" "$(traefik_version)"
  fetched "traefik's release date (the module's time on the proxy)" "$(traefik_release_date)"
}

addon_traefik() {
  local r="$work/rootfs/traefik" version date zoneinfo="$work/deb/usr/share/zoneinfo"
  version="$(traefik_version)"
  date="$(traefik_release_date)"
  # As the release build stamps it (.goreleaser.yml.tmpl, .github/workflows/release.yaml at the
  # tag): goreleaser's version has no leading "v", and v3.7's codename is langres.
  gobuild_stamped "$here/tools/traefik" "$work/bin" \
    "-X github.com/traefik/traefik/v3/pkg/version.Version=${version#v} -X github.com/traefik/traefik/v3/pkg/version.Codename=langres -X github.com/traefik/traefik/v3/pkg/version.BuildDate=$date" \
    github.com/traefik/traefik/v3/cmd/traefik

  # /dev stays empty in the image (the runtime mounts one); the checks below bind the build's.
  mkdir -p "$r/usr/local/bin" "$r/etc/ssl/certs" "$r/usr/share" "$r/tmp" "$r/root" "$r/dev"
  install -m 0755 "$work/bin/traefik" "$r/usr/local/bin/traefik"
  install -m 0755 "$here/addons/traefik/entrypoint.sh" "$r/entrypoint.sh"
  # Alpine's base: busybox for /bin/sh (the entrypoint is a shell script) and the usual applets.
  add_busybox "$r"
  cp -L /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/certs/ca-certificates.crt"
  [[ -f "$zoneinfo/Europe/Paris" ]] || die "traefik: Debian's tzdata has no $zoneinfo/Europe/Paris"
  cp -a "$zoneinfo" "$r/usr/share/zoneinfo"
  printf '%s\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/:/sbin/nologin > "$r/etc/passwd"
  printf '%s\n' root:x:0:root nobody:x:65534: > "$r/etc/group"
  chmod 1777 "$r/tmp"
  chmod 0700 "$r/root"

  runs_in_rootfs traefik /usr/local/bin/traefik version
  traefik_entrypoint_checks "$r"

  # Under the name a pull resolves docker.io/traefik to (Docker Hub's official images live in its
  # library/ namespace), which the nodes' registry mirror is asked for, as busybox's is.
  pack traefik "docker.io/library/traefik:$version" \
    "Go module github.com/traefik/traefik/v3 $version (go-http-auth fork of v3.7.10, see FACTS.md), Debian tzdata $(version_of tzdata), busybox-static $(version_of busybox-static)" \
    -entrypoint '["/entrypoint.sh"]' -cmd '["traefik"]' "${alpine_path[@]}" -port 80/tcp \
    -label 'org.opencontainers.image.vendor=Traefik Labs' -label org.opencontainers.image.title=Traefik \
    -label "org.opencontainers.image.version=$version"
}

# traefik_in_root ROOT SCRIPT: runs SCRIPT with the image's /bin/sh, chrooted in ROOT as user 65532
# (the lab's runAsUser), in network and mount namespaces of its own: loopback up and the build
# machine's /dev bound on the image's empty /dev, and the environment a container runtime gives a
# user the image's /etc/passwd does not name (HOME=/, the image's PATH). Prints
# what SCRIPT prints; fails as it fails.
traefik_in_root() {
  timeout 60 unshare --net --mount --fork /bin/sh -c '
    ip link set lo up && mount --bind /dev "$0/dev" &&
      exec env -i HOME=/ PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        chroot --userspec=65532:65532 "$0" /bin/sh -c "$1"' "$1" "$2" 2>&1
}

# traefik_entrypoint_checks ROOT: the image's own way in, /entrypoint.sh, as the lab's pod uses it.
#   - a subcommand (`version`) is handed to traefik;
#   - options alone (the lab gives only args) start traefik: with the lab's ping settings
#     (dist/lab/01-traefik.yaml: --ping=true on the traefik entry point, the kubelet's probe path)
#     and no provider, /ping must answer OK on 127.0.0.1:8080. A binary that starts but cannot
#     serve fails here.
traefik_entrypoint_checks() {
  local out
  out="$(traefik_in_root "$1" '/entrypoint.sh version')" || { echo "$out" >&2; die "traefik: '/entrypoint.sh version' failed"; }
  [[ "$out" == *"Version:"*"3.7"* ]] || { echo "$out" >&2; die "traefik: '/entrypoint.sh version' did not print traefik's version"; }
  log "traefik: '/entrypoint.sh version' runs traefik: $(echo "$out" | head -1)"
  out="$(traefik_in_root "$1" '
    /entrypoint.sh --entryPoints.traefik.address=:8080/tcp --ping=true --log.level=ERROR &
    pid=$!
    for i in $(seq 1 100); do
      if answer="$(wget -q -O - http://127.0.0.1:8080/ping 2>/dev/null)"; then
        kill $pid; wait $pid 2>/dev/null; echo "ping answered: $answer"; exit 0
      fi
      sleep 0.1
    done
    kill $pid; echo "no answer on 127.0.0.1:8080/ping after 10 s"; exit 1')" ||
    { echo "$out" >&2; die "traefik: /ping did not answer inside the image's root filesystem"; }
  [[ "$out" == *"ping answered: OK"* ]] || { echo "$out" >&2; die "traefik: /ping answered '$out', want OK"; }
  log "traefik: started by /entrypoint.sh with options only, as user 65532: $out"
}
