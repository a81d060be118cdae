#!/usr/bin/env bash
# Builds, offline, the container images the real-node tests run: a stand-in
# for every image dist/lab/ names, laid out as the upstream image is (each
# stand-in's FACTS.md says what upstream does and where that is written), and
# the tests' own client image. Everything comes from Go modules, Debian
# packages and one PyPI wheel; no container registry is asked for anything.
#
#   test/cluster/images/build.sh [COREDNS_BINARY [METRICS_SERVER_BINARY]]
#   test/cluster/images/build.sh --fetch-only
#
# Prints the cache folder on stdout (last line); progress goes to stderr.
# The folder holds:
#   bin/crane              go-containerregistry's crane: `crane registry serve`, `crane push`
#   bin/etcdutl            etcdutl v3.6.6, for checking snapshots from outside the cluster
#   images/<name>.tar      one single-layer image each, as `crane push` reads it
#   images/index.tsv       "<file name>\t<original reference>", one line per image
#
# With COREDNS_BINARY (a coredns built by the caller) the CoreDNS image is
# made too, and with METRICS_SERVER_BINARY the metrics-server image (both built
# by build-node.sh); without them those images are skipped.
#
# The folder is <repo>/.cache/images/<key> (git-ignored; LAB_TO_PROD_IMAGES_CACHE
# names another parent). The key hashes every input: the files beside this
# script (tool modules with go.mod + go.sum, our programs, entrypoints,
# configs, this script, image-common.sh; not docs or tests, nor build-addons.sh's own files),
# the Go version, the Debian package versions used,
# the pinned wheel and the coredns binary, so a warm run builds nothing.
#
# Runs as root (CI does): the images' files carry the upstream owners (nginx
# 101, postgres 70, nonroot 65532), which the layer tar records from the
# staging tree.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
log_prefix=images
# shellcheck source=image-common.sh
. "$here/image-common.sh"

# --fetch-only (the mode every build script has, run by test/cluster/fetch_test.go against empty Go
# caches): here every Go module is read by `go build` alone, which downloads what it compiles, so
# there is nothing to fetch ahead. A step added later that reads a module's folder or a file in it
# belongs here, downloaded and checked as build-node.sh's patched_gvisor does.
if [[ "${1:-}" == --fetch-only ]]; then
  echo "images: fetch-only: no step reads Go's module cache outside go build" >&2
  exit 0
fi
coredns_bin="${1:-}"
metrics_server_bin="${2:-}"

if [[ -n "$coredns_bin" ]]; then coredns_bin="$(absolute coredns "$coredns_bin")"; fi
if [[ -n "$metrics_server_bin" ]]; then metrics_server_bin="$(absolute metrics-server "$metrics_server_bin")"; fi
[[ "$(id -u)" == 0 ]] || die "run as root: image files are owned by upstream's numeric users (chown in a staging tree)"

# ---------------------------------------------------------------- inputs ----

# Debian packages the images are made from (downloaded, never installed).
image_debs=(nginx nginx-common busybox-static bash-static)
# Debian packages this script runs or copies from the machine. binutils brings readelf, which finds
# the wheel's RPATHs; without it that test fails silently and the binaries keep the wheel's layout.
host_debs=(patchelf binutils libcap2-bin locales ca-certificates libc6 zlib1g libssl3 libpcre2-8-0 libcrypt1 python3-pip)
# PostgreSQL 16 with its client tools, from PyPI (see postgres/FACTS.md).
pg_wheel="pgserver==0.1.4"
pg_wheel_sha256="$(awk '{ print $1 }' "$here/postgres/pgserver.sha256")"

ensure_apt_lists nginx
install_host_debs "${host_debs[@]}"

deb_versions="$(for pkg in "${image_debs[@]}"; do printf '%s=%s\n' "$pkg" "$(candidate "$pkg")"; done)"
host_versions="$(dpkg-query -W -f '${Package}=${Version}\n' "${host_debs[@]}")"
key="$(
  {
    go env GOVERSION GOOS GOARCH
    echo "$deb_versions" "$host_versions" "$pg_wheel" "$pg_wheel_sha256"
    # Docs, tests and the smoke test do not change an image; nor do the add-ons' images
    # (build-addons.sh, addons/, the tool modules only it builds: every tools/ folder but the
    # three gobuild reads below).
    (cd "$here" && find . -type f ! -name '*.md' ! -name '*_test.go' ! -name smoke.sh \
      ! -name build-addons.sh ! -path './addons/*' \
      \( ! -path './tools/*' -o -path './tools/crane/*' -o -path './tools/etcd/*' -o -path './tools/http-echo/*' \) \
      -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    if [[ -n "$coredns_bin" ]]; then sha256sum < "$coredns_bin"; fi
    if [[ -n "$metrics_server_bin" ]]; then echo metrics-server; sha256sum < "$metrics_server_bin"; fi
  } | sha256sum | cut -c1-16
)"
cache_parent="${LAB_TO_PROD_IMAGES_CACHE:-$repo/.cache/images}"
cache="$cache_parent/$key"

if [[ -s "$cache/images/index.tsv" && -x "$cache/bin/crane" ]]; then
  log "cached in $cache"
  echo "$cache"
  exit 0
fi

log "building into $cache (a few minutes from cold: etcd is the longest Go build)"
started=$SECONDS
begin_build "$cache"

# -------------------------------------------------------------- programs ----

log "Go: crane, imagepack, pause, probe, http-echo, etcd"
gobuild "$here/tools/crane" "$staging/bin" github.com/google/go-containerregistry/cmd/crane ./imagepack
gobuild "$here/pause" "$work/bin" .
gobuild "$here/probe" "$work/bin" .
gobuild "$here/tools/http-echo" "$work/bin" github.com/hashicorp/http-echo
gobuild "$here/tools/etcd" "$work/bin" go.etcd.io/etcd/server/v3 go.etcd.io/etcd/etcdctl/v3 go.etcd.io/etcd/etcdutl/v3
# go names a binary after the last path element that is not a major version:
# go.etcd.io/etcd/server/v3 becomes "server".
mv "$work/bin/server" "$work/bin/etcd"
cp "$work/bin/etcdutl" "$staging/bin/etcdutl"

log "Debian: ${image_debs[*]}"
# shellcheck disable=SC2046 # one word per package=version
unpack_debs $(echo "$deb_versions")

log "PyPI: $pg_wheel"
printf '%s --hash=sha256:%s\n' "$pg_wheel" "$pg_wheel_sha256" > "$work/pg-requirements.txt"
# The platform and Python are fixed so that pip picks the one file the
# hash names, whatever Python this machine has.
python3 -m pip download -q --no-deps --require-hashes --only-binary=:all: \
  --platform manylinux2014_x86_64 --python-version 3.11 \
  -r "$work/pg-requirements.txt" -d "$work/wheel" >&2
python3 -m zipfile -e "$work"/wheel/pgserver-*.whl "$work/pg"

# ---------------------------------------------------------------- images ----

nginx_image() {
  local r="$work/rootfs/nginx-unprivileged" src="$here/nginx-unprivileged" version
  version="$(version_of nginx)"
  mkdir -p "$r"/{etc/nginx/conf.d,usr/sbin,usr/share/nginx/html,var/cache/nginx,var/log/nginx,var/lib,tmp,docker-entrypoint.d}
  install -m 0755 "$work/deb/usr/sbin/nginx" "$r/usr/sbin/nginx"
  copy_libs "$r" "$r/usr/sbin/nginx"
  install -m 0644 "$work/deb/etc/nginx/mime.types" "$r/etc/nginx/mime.types"
  install -m 0644 "$work/deb/usr/share/nginx/html/index.html" "$r/usr/share/nginx/html/index.html"
  install -m 0644 "$src/nginx.conf" "$r/etc/nginx/nginx.conf"
  install -m 0644 "$src/default.conf" "$r/etc/nginx/conf.d/default.conf"
  install -m 0644 "$src/50x.html" "$r/usr/share/nginx/html/50x.html"
  install -m 0755 "$src/docker-entrypoint.sh" "$r/docker-entrypoint.sh"
  ln -s /dev/stdout "$r/var/log/nginx/access.log"
  ln -s /dev/stderr "$r/var/log/nginx/error.log"
  # Debian's binary has /var/lib/nginx/* compiled in where upstream's has
  # /var/cache/nginx/*: point one at the other (see FACTS.md).
  ln -s ../cache/nginx "$r/var/lib/nginx"
  add_busybox "$r"
  printf '%s\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/:/sbin/nologin \
    nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin > "$r/etc/passwd"
  printf '%s\n' root:x:0:root nobody:x:65534: nginx:x:101:nginx > "$r/etc/group"
  chown -R 101:0 "$r/etc/nginx" "$r/var/cache/nginx"
  chmod -R g+w "$r/etc/nginx" "$r/var/cache/nginx"
  chmod 1777 "$r/tmp"
  pack nginx-unprivileged docker.io/nginxinc/nginx-unprivileged:1.27.4-alpine \
    "Debian nginx $version, busybox-static $(version_of busybox-static)" \
    -entrypoint '["/docker-entrypoint.sh"]' -cmd '["nginx","-g","daemon off;"]' \
    "${alpine_path[@]}" -env "NGINX_VERSION=${version%%-*}" \
    -user 101 -port 8080/tcp -stop-signal SIGQUIT
}

http_echo_image() {
  local r="$work/rootfs/http-echo"
  distroless_static "$r"
  install -m 0755 "$work/bin/http-echo" "$r/http-echo"
  pack http-echo docker.io/hashicorp/http-echo:1.0.0 "Go module github.com/hashicorp/http-echo v1.0.0" \
    -entrypoint '["/http-echo"]' "${distroless_env[@]}" -env ECHO_TEXT=hello-world \
    -user 65532 -workdir /home/nonroot -port 5678/tcp \
    -label name=http-echo -label vendor=HashiCorp -label version=1.0.0 -label release=1.0.0
}

postgres_image() {
  local r="$work/rootfs/postgres" pg="$work/pg/pgserver/pginstall" f sample version
  chmod 0755 "$pg"/bin/*
  version="$("$pg/bin/postgres" --version | awk '{ print $3 }')"
  mkdir -p "$r/etc" "$r/usr/local/lib" "$r/docker-entrypoint-initdb.d" "$r/tmp" \
    "$r/var/lib/postgresql/data" "$r/var/run/postgresql" "$r/usr/lib/locale"
  cp -a "$pg/bin" "$pg/share" "$r/usr/local/"
  cp -a "$pg/lib/postgresql" "$r/usr/local/lib/"
  cp -a "$work"/pg/pgserver.libs/* "$r/usr/local/lib/"
  # The wheel points its binaries at its own folder layout; point them at
  # /usr/local/lib instead, where upstream's libpq lives.
  for f in "$r"/usr/local/bin/* "$r"/usr/local/lib/postgresql/*.so "$r"/usr/local/lib/*.so*; do
    if readelf -d "$f" 2>/dev/null | grep -q 'R.*PATH'; then
      case "$f" in
        */bin/*) patchelf --set-rpath '$ORIGIN/../lib' "$f" ;;
        */lib/postgresql/*) patchelf --set-rpath '$ORIGIN/..' "$f" ;;
        *) patchelf --set-rpath '$ORIGIN' "$f" ;;
      esac
    fi
  done
  copy_libs "$r" "$r"/usr/local/bin/* "$r"/usr/local/lib/postgresql/*.so
  sample="$r/usr/local/share/postgresql/postgresql.conf.sample"
  cp "$sample" "$sample.orig"
  # Upstream: listen on every address.
  sed -i -E "s|^#?(listen_addresses)[[:space:]]*=[[:space:]]*[^[:space:]]+.*|\\1 = '*'|" "$sample"
  # initdb rewrites the unix_socket_directories line to this build's /tmp,
  # so the setting goes last, where it wins.
  printf '\n# %s\nunix_socket_directories = %s\n' \
    "lab-to-prod stand-in: the socket folder upstream compiles in (see FACTS.md)" "'/var/run/postgresql'" >> "$sample"
  grep -q "^listen_addresses = '\*'" "$sample" || die "postgresql.conf.sample: listen_addresses not set"
  grep -q "^unix_socket_directories = '/var/run/postgresql'" "$sample" || die "postgresql.conf.sample: unix_socket_directories not set"
  # LANG=en_US.utf8 as upstream; glibc needs the compiled locale for it.
  localedef --no-archive -c -i en_US -f UTF-8 "$r/usr/lib/locale/en_US.utf8" >&2 || [[ -d "$r/usr/lib/locale/en_US.utf8" ]]
  add_busybox "$r"
  install -m 0755 "$here/postgres/docker-entrypoint.sh" "$r/usr/local/bin/docker-entrypoint.sh"
  ln -s docker-entrypoint.sh "$r/usr/local/bin/docker-ensure-initdb.sh"
  printf '%s\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/:/sbin/nologin \
    postgres:x:70:70::/var/lib/postgresql:/bin/sh > "$r/etc/passwd"
  printf '%s\n' root:x:0:root nobody:x:65534: postgres:x:70:postgres > "$r/etc/group"
  chown 70:70 "$r/var/lib/postgresql" "$r/var/lib/postgresql/data" "$r/var/run/postgresql"
  chmod 1777 "$r/var/lib/postgresql" "$r/var/lib/postgresql/data" "$r/tmp"
  chmod 3777 "$r/var/run/postgresql"
  pack postgres docker.io/library/postgres:16.9-alpine \
    "PyPI $pg_wheel (PostgreSQL $version), busybox-static $(version_of busybox-static)" \
    -entrypoint '["docker-entrypoint.sh"]' -cmd '["postgres"]' \
    "${alpine_path[@]}" -env LANG=en_US.utf8 -env PG_MAJOR=16 -env "PG_VERSION=$version" \
    -env PGDATA=/var/lib/postgresql/data -env PGHOST=/var/run/postgresql \
    -volume /var/lib/postgresql/data -port 5432/tcp -stop-signal SIGINT
}

busybox_image() {
  busybox_rootfs "$work/rootfs/busybox"
  pack busybox docker.io/library/busybox:1.37.0 "Debian busybox-static $(version_of busybox-static)" \
    -cmd '["sh"]'
}

etcd_image() {
  local r="$work/rootfs/etcd" b
  distroless_static "$r"
  mkdir -p "$r/usr/local/bin" "$r/bin"
  for b in etcd etcdctl etcdutl; do install -m 0555 "$work/bin/$b" "$r/usr/local/bin/$b"; done
  # Upstream keeps versioned copies beside them for its migration script.
  ln "$r/usr/local/bin/etcd" "$r/usr/local/bin/etcd-3.6.6"
  ln "$r/usr/local/bin/etcdctl" "$r/usr/local/bin/etcdctl-3.6.6"
  install -m 0755 "$work/deb/bin/bash-static" "$r/bin/sh"
  pack etcd registry.k8s.io/etcd:3.6.6-0 \
    "Go modules go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3 v3.6.6, Debian bash-static $(version_of bash-static)" \
    "${distroless_env[@]}" -user 0 -workdir / \
    -port 2379/tcp -port 2380/tcp -port 4001/tcp -port 7001/tcp
}

pause_image() {
  local r="$work/rootfs/pause"
  mkdir -p "$r"
  install -m 0755 "$work/bin/pause" "$r/pause"
  pack pause registry.k8s.io/pause:3.10.1 "our own Go program, test/cluster/images/pause" \
    -entrypoint '["/pause"]' -user 65535:65535
}

coredns_image() {
  local r="$work/rootfs/coredns" version
  distroless_static "$r"
  install -m 0755 "$coredns_bin" "$r/coredns"
  # Upstream grants the binary the right to bind port 53 as a non-root user.
  setcap cap_net_bind_service=+ep "$r/coredns"
  version="$(timeout 10 "$coredns_bin" -version 2>/dev/null | head -1 || true)"
  pack coredns registry.k8s.io/coredns/coredns:v1.13.1 "coredns binary given to build.sh (${version:-version unknown})" \
    -entrypoint '["/coredns"]' "${distroless_env[@]}" -user nonroot:nonroot -workdir / \
    -port 53/tcp -port 53/udp
}

metrics_server_image() {
  local r="$work/rootfs/metrics-server" version
  distroless_static "$r"
  install -m 0755 "$metrics_server_bin" "$r/metrics-server"
  version="$(timeout 10 "$metrics_server_bin" --version 2>/dev/null | head -1 || true)"
  pack metrics-server registry.k8s.io/metrics-server/metrics-server:v0.8.0 \
    "metrics-server binary given to build.sh (${version:-version unknown})" \
    -entrypoint '["/metrics-server"]' "${distroless_env[@]}" -user 65534 -workdir /
}

probe_image() {
  local r="$work/rootfs/probe"
  mkdir -p "$r/usr/local/bin" "$r/tmp" "$r/etc"
  install -m 0755 "$work/bin/probe" "$r/usr/local/bin/probe"
  add_busybox "$r"
  printf '%s\n' root:x:0:0:root:/root:/bin/sh nobody:x:65534:65534:nobody:/:/sbin/nologin \
    probe:x:65532:65532:probe:/tmp:/bin/sh > "$r/etc/passwd"
  printf '%s\n' root:x:0:root nobody:x:65534: probe:x:65532: > "$r/etc/group"
  chmod 1777 "$r/tmp"
  pack probe lab-to-prod.test/probe:1 "our own Go program test/cluster/images/probe, Debian busybox-static $(version_of busybox-static)" \
    -entrypoint '["/usr/local/bin/probe"]' -cmd '["wait"]' "${alpine_path[@]}" -user 65532:65532
}

nginx_image
http_echo_image
postgres_image
busybox_image
etcd_image
pause_image
probe_image
if [[ -n "$coredns_bin" ]]; then coredns_image; else log "coredns: no binary given, skipped"; fi
if [[ -n "$metrics_server_bin" ]]; then metrics_server_image; else log "metrics-server: no binary given, skipped"; fi

finish_build "$cache"
log "built in $((SECONDS - started))s"
echo "$cache"
