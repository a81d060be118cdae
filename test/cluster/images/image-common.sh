# shellcheck shell=bash
# Shared by build.sh and build-addons.sh (sourced, not run): how a stand-in image is made.
#
# The calling script sets, before it calls these:
#   log_prefix   the word its progress lines start with ("images", "addon-images")
#   here         the folder of the images (test/cluster/images)
# and begin_build sets staging, work and index for the rest.

log() { echo "$log_prefix: $*" >&2; }
die() { echo "$log_prefix: error: $*" >&2; exit 1; }

# absolute <what> <path>: the path made absolute, after checking that it is an executable file.
absolute() {
  [[ -f "$2" && -x "$2" ]] || die "$1 binary '$2' is not an executable file"
  echo "$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
}

# candidate <package>: the version apt would download of a Debian package.
candidate() { apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }'; }

# ensure_apt_lists <package>: runs apt-get update when apt knows no version of <package>.
ensure_apt_lists() {
  if [[ -z "$(candidate "$1")" || "$(candidate "$1")" == "(none)" ]]; then
    log "apt lists are empty: apt-get update"
    apt-get update -qq >&2
  fi
}

# install_host_debs <package>...: installs those the machine lacks (programs a script runs or copies).
install_host_debs() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# begin_build <cache folder>: a staging folder beside it (removed on any exit until finish_build),
# with bin/, images/ and work/; sets staging, work and index.
begin_build() {
  staging="$1.partial.$$"
  rm -rf "$staging"
  mkdir -p "$staging/bin" "$staging/images" "$staging/work"
  trap 'rm -rf "$staging"' EXIT
  work="$staging/work"
  index="$staging/images/index.tsv.partial"
  : > "$index"
}

# finish_build <cache folder>: sorts the index and moves the staging folder to its place, in one
# rename, so that a folder under the key is always complete.
finish_build() {
  local cache="$1"
  rm -rf "$work" "$staging/bin/imagepack"
  LC_ALL=C sort "$index" > "$staging/images/index.tsv"
  rm -f "$index"
  rm -rf "$cache"
  mv "$staging" "$cache"
  trap - EXIT
}

gobuild() { # gobuild MODULE_DIR OUT_DIR PACKAGE...
  local dir="$1" out="$2"
  shift 2
  # -buildvcs=false: our own programs would otherwise carry the checkout's
  # commit and dirty flag, and the same inputs would give other images.
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$out/" "$@")
}

# gobuild_stamped MODULE_DIR OUT_DIR LDFLAGS PACKAGE...: gobuild with the -X settings an upstream
# release build stamps its version with (its Makefile or Dockerfile), so that `--version` tells it.
gobuild_stamped() {
  local dir="$1" out="$2" ldflags="$3"
  shift 3
  (cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -buildvcs=false -ldflags "-s -w $ldflags" -o "$out/" "$@")
}

# module_build_folder TOOL_DIR MODULE FOLDER: makes FOLDER a module to build MODULE's programs from
# a copy of MODULE that the caller then changes (Go's module cache is read-only, as build-node.sh
# says for gVisor): FOLDER/module is the copy, writable, of the version TOOL_DIR/go.mod requires;
# FOLDER/go.mod and go.sum are TOOL_DIR's with a replace directive pointing at it. The path is
# relative because the binary records it: an absolute one would name this run's staging folder,
# and two builds of the same inputs would differ. Needs build-common.sh's module_dir.
module_build_folder() (
  local tool_dir="$1" module="$2" folder="$3" original
  cd "$tool_dir" || exit
  original="$(module_dir "$module")"
  mkdir -p "$folder"
  cp -r "$original" "$folder/module"
  chmod -R u+w "$folder/module"
  cp go.mod go.sum "$folder/"
  echo "replace $module => ./module" >> "$folder/go.mod"
)

# unpack_debs <package=version>...: downloads those Debian packages (never installs them) and
# unpacks them all into $work/deb.
unpack_debs() {
  local deb
  mkdir -p "$work/debs" "$work/deb"
  # apt downloads as its own user where it can; let it write here.
  chown _apt "$work/debs" 2>/dev/null || true
  (cd "$work/debs" && apt-get download -qq "$@" >&2)
  for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/deb"; done
}

version_of() { echo "$deb_versions" | awk -F= -v p="$1" '$1 == p { print $2 }'; }

# copy_libs ROOT FILE...: puts the shared libraries FILE needs (as ldd finds
# them on this Debian machine) at the same paths under ROOT.
copy_libs() {
  local root="$1" lib
  shift
  for lib in $(ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u); do
    [[ "$lib" == "$work"/* ]] && continue
    [[ -e "$root$lib" ]] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  if ldd "$@" 2>/dev/null | grep -q "not found"; then
    ldd "$@" | grep "not found" >&2
    die "a library the image needs is not on this machine"
  fi
}

# add_busybox ROOT: Debian's static busybox at /bin/busybox with a link for
# each applet where `busybox --list-full` puts it (the Alpine layout: sh in
# /bin, sleep in /bin, env in /usr/bin, ...).
add_busybox() {
  local root="$1" bb="$work/deb/bin/busybox" applet
  install -D -m 0755 "$bb" "$root/bin/busybox"
  for applet in $("$bb" --list-full); do
    [[ -e "$root/$applet" || -L "$root/$applet" || "$applet" == linuxrc ]] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -s /bin/busybox "$root/$applet"
  done
}

# distroless_static ROOT: the files of Google's distroless "static" base
# (users root, nobody and nonroot; /tmp; CA certificates); see http-echo/FACTS.md.
distroless_static() {
  local root="$1"
  mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/root" "$root/home/nonroot"
  printf '%s\n' root:x:0:0:root:/root:/sbin/nologin nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin \
    nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin > "$root/etc/passwd"
  printf '%s\n' root:x:0: nobody:x:65534: tty:x:5: staff:x:50: nonroot:x:65532: > "$root/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' > "$root/etc/nsswitch.conf"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root" "$root/home/nonroot"
  chown 65532:65532 "$root/home/nonroot"
}

distroless_env=(-env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  -env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
alpine_path=(-env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)

# busybox_rootfs ROOT: the root filesystem of the busybox image (see busybox/FACTS.md), which
# build.sh tags busybox:1.37.0 and build-addons.sh busybox:latest (local-path-provisioner's helper).
busybox_rootfs() {
  local r="$1" bb="$work/deb/bin/busybox" applet home
  install -D -m 0755 "$bb" "$r/bin/busybox"
  # Upstream installs every applet into /bin (busybox --install /bin).
  for applet in $("$bb" --list); do
    [[ "$applet" == busybox ]] || ln -s busybox "$r/bin/$applet"
  done
  mkdir -p "$r/usr/bin" "$r/etc" "$r/lib"
  ln -s ../../bin/env "$r/usr/bin/env"
  # A static glibc program still loads NSS modules for name lookups (wget,
  # ping); upstream's glibc variant ships them in /lib for that reason.
  local nss
  for nss in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libnss_dns.so.2; do
    cp -L "$nss" "$r/lib/"
  done
  copy_libs "$r" "$r"/lib/libnss_*.so.2
  printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files dns' > "$r/etc/nsswitch.conf"
  cat > "$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
  cat > "$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
EOF
  awk -F: '{ print $1 ":*:::::::" }' "$r/etc/passwd" > "$r/etc/shadow"
  chmod 0600 "$r/etc/shadow"
  for home in $(awk -F: '{ print $6 }' "$r/etc/passwd" | sort -u); do
    [[ -d "$r$home" ]] || { mkdir -p "$r$home"; chmod 0755 "$r$home"; }
  done
  mkdir -p "$r/tmp"
  chmod 1777 "$r/tmp"
  chmod 0700 "$r/root"
}

# pack NAME REFERENCE BUILT_FROM IMAGEPACK_FLAG...: makes images/NAME.tar from
# the tree $work/rootfs/NAME. The layer tar is deterministic: entries sorted by
# name, every mtime the epoch, numeric owners as chown'ed, no atime/ctime.
pack() {
  local name="$1" ref="$2" from="$3" root="$work/rootfs/$1"
  shift 3
  local top
  mapfile -t top < <(cd "$root" && LC_ALL=C ls -A)
  tar --create --file "$work/$name.layer.tar" --directory "$root" --sort=name \
    --format=posix --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' \
    --mtime=@0 --numeric-owner --xattrs --xattrs-include=security.capability "${top[@]}"
  local labels=(-label "lab-to-prod.io/built-from=$from")
  if [[ "$ref" != lab-to-prod.test/* ]]; then
    labels+=(-label "lab-to-prod.io/stand-in-for=$ref" -label "lab-to-prod.io/facts=test/cluster/images/${facts_folder:-$name}/FACTS.md")
  fi
  "$staging/bin/imagepack" -layer "$work/$name.layer.tar" -ref "$ref" -out "$staging/images/$name.tar" \
    -history "lab-to-prod stand-in: $from" "${labels[@]}" "$@"
  rm -f "$work/$name.layer.tar"
  printf '%s\t%s\n' "$name.tar" "$ref" >> "$index"
  log "$name: $(du -h "$staging/images/$name.tar" | cut -f1) ($ref)"
}

# runs_in_rootfs NAME COMMAND...: runs COMMAND chrooted in $work/rootfs/NAME, in a network
# namespace of its own (no link but a down lo) and with a time limit, and stops the build unless
# it exits 0: the smoke check that an image's main program starts in the tree it is packed from
# (its libraries, its loader, its paths). The output goes to the log.
runs_in_rootfs() {
  local name="$1" root="$work/rootfs/$1" out
  shift
  if ! out="$(timeout 30 unshare --net chroot "$root" "$@" 2>&1)"; then
    echo "$out" >&2
    die "$name: '$*' failed inside the image's root filesystem"
  fi
  log "$name: '$*' runs: $(echo "$out" | head -1)"
}
