#!/usr/bin/env bash
# Smoke test of the images build.sh makes, without a container runtime.
#
#   test/cluster/images/smoke.sh [COREDNS_BINARY]
#
# 1. The contract with the node tests: `crane registry serve` on 127.0.0.1 at
#    a free port, every image pushed to <address>/<original reference> over
#    plain http, one config read back with `crane config`, the registry stopped.
# 2. Each image's config (user, entrypoint, cmd, ports, stop signal) and
#    layout (users, owners, paths, links) read from the registry's copy
#    (`crane config`, `crane export`), against its upstream facts (FACTS.md).
# 3. The programs run from the unpacked images, each chrooted as the image's
#    user inside a network, mount and PID namespace made for the run (so the
#    only traffic is on that namespace's loopback, and every process ends with
#    it): postgres through its entrypoint (initdb, init file, password login,
#    pg_dump/pg_restore, restart without re-init, refusal without a password),
#    nginx with its default site, http-echo, etcd with a snapshot, pause, busybox.
#
# Every step has a time limit; the registry and the namespace are stopped and
# temporary files removed on any exit. Needs root (unshare, chroot, mknod).
# Ends with the line "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...: one result line
  local what="$1"
  shift
  if "$@" >/dev/null 2>&1; then
    passed=$((passed + 1))
    echo "ok - $what"
  else
    failed=$((failed + 1))
    echo "not ok - $what"
  fi
}
same() { [[ "$1" == "$2" ]] || { echo "  got:  $1" >&2; echo "  want: $2" >&2; return 1; }; }

# ------------------------------------------------ inside the namespaces ----
# Runs as PID 1 of a fresh PID namespace with its own network (only lo) and
# mounts; $1 is the folder of unpacked images.

# prepare ROOT: a /dev of its own (a tmpfs, never the machine's) and /proc.
prepare() {
  local root="$1"
  if ! mountpoint -q "$root/dev"; then
    mkdir -p "$root/dev" "$root/proc"
    mount -t tmpfs -o mode=0755,size=64k tmpfs "$root/dev"
    mknod -m 0666 "$root/dev/null" c 1 3
    mknod -m 0666 "$root/dev/zero" c 1 5
    mknod -m 0666 "$root/dev/urandom" c 1 9
    mknod -m 0666 "$root/dev/random" c 1 8
    mkdir -p "$root/dev/shm"
    mount -t tmpfs -o mode=1777,size=64m tmpfs "$root/dev/shm"
    ln -s /proc/self/fd "$root/dev/fd"
    ln -s /proc/self/fd/0 "$root/dev/stdin"
    ln -s /proc/self/fd/1 "$root/dev/stdout"
    ln -s /proc/self/fd/2 "$root/dev/stderr"
    mount -t proc proc "$root/proc"
  fi
}

# inroot ROOT USER:GROUP COMMAND...: COMMAND chrooted in ROOT as that user.
# chroot execs COMMAND, so a background inroot's $! is COMMAND's PID.
inroot() {
  prepare "$1"
  chroot --userspec="$2" "$1" "${@:3}"
}

# wait_for SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds.
wait_for() {
  local until=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < until)) || return 1
    sleep 0.2
  done
}

inside() {
  local roots="$1" pg="$1/postgres" out
  ip link set lo up
  # Connections to 127.0.0.2 come from 127.0.0.2 (not 127.0.0.1), so that
  # postgres applies its password rule to them (see the postgres checks).
  ip route add local 127.0.0.2/32 dev lo src 127.0.0.2 table local
  for root in "$roots"/*/; do prepare "${root%/}"; done
  probe() { timeout 20 chroot --userspec=65532:65532 "$roots/probe" /usr/local/bin/probe "$@"; }
  probe_says() { local pattern="$1" out; shift; out="$(probe "$@")" && grep -q -- "$pattern" <<<"$out"; }
  probe_exits() { local want="$1" rc=0; shift; probe "$@" || rc=$?; [[ "$rc" == "$want" ]]; }

  # postgres: the entrypoint's first start initialises, runs the init file and serves.
  mkdir -p "$pg/docker-entrypoint-initdb.d"
  echo "CREATE TABLE seeded (answer int); INSERT INTO seeded VALUES (42);" > "$pg/docker-entrypoint-initdb.d/10-seed.sql"
  printf 'smoke-secret\n' > "$pg/tmp/password"
  chmod 0644 "$pg/tmp/password"
  pgenv=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=en_US.utf8
    PGHOST=/var/run/postgresql PGDATA=/var/lib/postgresql/data/pgdata)
  chroot --userspec=70:70 "$pg" "${pgenv[@]}" POSTGRES_PASSWORD_FILE=/tmp/password POSTGRES_DB=app \
    docker-entrypoint.sh postgres > "$roots/pg-first.log" 2>&1 &
  local pgpid=$!
  # From 127.0.0.2: initdb trusts 127.0.0.1 (as upstream's does); any other
  # client address meets the password rule the entrypoint adds.
  pgtcp=("${pgenv[@]}" PGHOST=127.0.0.2 PGPORT=5432 PGUSER=postgres PGDATABASE=app PGPASSWORD=smoke-secret)
  check "postgres: the entrypoint initialises and the server answers pg_isready on 127.0.0.1" \
    wait_for 90 inroot "$pg" 70:70 "${pgenv[@]}" pg_isready --host=127.0.0.1 --port=5432 --username=postgres --dbname=app
  out="$(inroot "$pg" 70:70 "${pgtcp[@]}" psql -tAc 'SELECT answer FROM seeded' 2>&1 || true)"
  check "postgres: a password login over TCP (127.0.0.2) reads what the init file wrote" same "$out" 42
  out="$(inroot "$pg" 70:70 "${pgtcp[@]}" PGPASSWORD=wrong psql -tAc 'SELECT 1' 2>&1 || true)"
  check "postgres: a wrong password is refused" grep -q "password authentication failed" <<<"$out"
  out="$(inroot "$pg" 70:70 "${pgenv[@]}" psql -U postgres -d app -tAc 'SHOW unix_socket_directories' 2>&1 || true)"
  check "postgres: the local socket is in /var/run/postgresql" same "$out" /var/run/postgresql
  check "postgres: pg_dump writes a custom-format dump that pg_restore lists" \
    inroot "$pg" 70:70 "${pgtcp[@]}" sh -c 'pg_dump --format=custom --file=/tmp/app.dump && pg_restore --list /tmp/app.dump | grep -q "TABLE public seeded"'
  kill -INT "$pgpid" 2>/dev/null || true
  check "postgres: SIGINT (the image's stop signal) stops it cleanly" wait "$pgpid"
  check "postgres: the first start said it initialised" grep -q "init process complete" "$roots/pg-first.log"

  chroot --userspec=70:70 "$pg" "${pgenv[@]}" POSTGRES_PASSWORD=ignored docker-entrypoint.sh postgres > "$roots/pg-second.log" 2>&1 &
  pgpid=$!
  check "postgres: a second start finds the database" \
    wait_for 60 inroot "$pg" 70:70 "${pgenv[@]}" pg_isready --host=127.0.0.1 --port=5432
  check "postgres: ... and does not initialise again" grep -q "skipping initialisation" "$roots/pg-second.log"
  kill -INT "$pgpid" 2>/dev/null || true
  wait "$pgpid" || true
  # Started as root (the image declares no user), it steps down to postgres.
  chroot "$pg" "${pgenv[@]}" PGDATA=/tmp/as-root POSTGRES_PASSWORD=x docker-entrypoint.sh postgres > "$roots/pg-root.log" 2>&1 &
  pgpid=$!
  check "postgres: started as root, it initialises and serves" \
    wait_for 90 inroot "$pg" 70:70 "${pgenv[@]}" pg_isready --host=127.0.0.1 --port=5432
  check "postgres: ... as uid 70, with PGDATA owned by 70" \
    same "$(stat -c %u "/proc/$pgpid") $(stat -c %u "$pg/tmp/as-root")" "70 70"
  kill -INT "$pgpid" 2>/dev/null || true
  wait "$pgpid" || true
  out="$(inroot "$pg" 70:70 "${pgenv[@]}" PGDATA=/tmp/empty docker-entrypoint.sh postgres 2>&1)" && rc=0 || rc=$?
  check "postgres: an empty PGDATA without a password is refused" \
    test "$rc" = 1 -a -n "$(grep 'no superuser password is set' <<<"$out")"

  # nginx: the image's default site on 8080, as uid 101.
  local ng="$roots/nginx-unprivileged"
  check "nginx: the default configuration is valid" inroot "$ng" 101:101 nginx -t
  # A runtime hands the container's stdout to its user; so does this test,
  # since nginx reopens /dev/stdout and /dev/stderr by their paths.
  install -o 101 -g 101 -m 0600 /dev/null "$roots/nginx.log"
  inroot "$ng" 101:101 /docker-entrypoint.sh nginx -g 'daemon off;' >> "$roots/nginx.log" 2>&1 &
  check "nginx: GET / on 8080 serves the welcome page" \
    wait_for 20 probe_says 'Welcome to nginx' http http://127.0.0.1:8080/
  out="$(probe http http://127.0.0.1:8080/missing 2>&1 || true)"
  check "nginx: an unknown path is a 404" grep -q "^status 404" <<<"$out"
  check "nginx: the access log reaches stdout" grep -q '"GET / HTTP/1.1" 200' "$roots/nginx.log"

  # http-echo: ECHO_TEXT from the image, the listen address from the args.
  local he="$roots/http-echo"
  ECHO_TEXT=hello-world inroot "$he" 65532:65532 /http-echo -listen=127.0.0.1:5678 > "$roots/echo.log" 2>&1 &
  check "http-echo: GET / answers ECHO_TEXT" \
    wait_for 20 probe_says '^hello-world$' http http://127.0.0.1:5678/
  check "http-echo: /health answers 200" probe http http://127.0.0.1:5678/health
  check "probe: a loop counts 5 good answers" probe_says '^ok 5 failed 0$' loop http://127.0.0.1:5678/ 5 10ms
  check "probe: a closed port is refused (exit 2)" probe_exits 2 -timeout 2s tcp 127.0.0.1:9
  echo '127.0.0.1 localhost' > "$roots/probe/etc/hosts"
  check "probe: dns resolves localhost from /etc/hosts" probe_says 127.0.0.1 dns localhost
  echo '127.0.0.1 localhost' > "$roots/busybox/etc/hosts"
  out="$(inroot "$roots/busybox" 65534:65534 wget -q -O - http://localhost:5678/ 2>&1 || true)"
  check "busybox: wget fetches by a name from /etc/hosts" same "$out" hello-world

  # etcd: a member on loopback, a key, a snapshot that etcdutl accepts.
  local et="$roots/etcd"
  inroot "$et" 0:0 etcd --data-dir=/tmp/etcd --listen-client-urls=http://127.0.0.1:2379 \
    --advertise-client-urls=http://127.0.0.1:2379 --listen-peer-urls=http://127.0.0.1:2380 \
    --initial-advertise-peer-urls=http://127.0.0.1:2380 --initial-cluster=default=http://127.0.0.1:2380 > "$roots/etcd.log" 2>&1 &
  check "etcd: the member answers and stores a key" \
    wait_for 30 inroot "$et" 0:0 etcdctl --endpoints=http://127.0.0.1:2379 put smoke ok
  check "etcd: etcdctl snapshot save, then etcdutl snapshot status accepts it" \
    inroot "$et" 0:0 /bin/sh -c 'etcdctl --endpoints=http://127.0.0.1:2379 snapshot save /tmp/s.db && etcdutl snapshot status /tmp/s.db'

  # pause: PID 1 of its own namespace, ends with 0 on SIGTERM.
  unshare --pid --fork --kill-child chroot --userspec=65535:65535 "$roots/pause" /pause > "$roots/pause.log" 2>&1 &
  local unshared=$! pausepid=""
  wait_for 10 pgrep -P "$unshared"
  pausepid="$(pgrep -P "$unshared")"
  kill -TERM "$pausepid"
  check "pause: exits 0 on SIGTERM" wait "$unshared"
  check "pause: said why it stopped and gave no PID-1 warning" \
    sh -c "grep -q 'Shutting down' '$roots/pause.log' && ! grep -q Warning '$roots/pause.log'"

  # busybox: the applets the lab's rotate script uses.
  out="$(inroot "$roots/busybox" 0:0 sh -c 'mkdir -p /tmp/b && cd /tmp/b && touch a1 a2 a3 && ls -1 a* | sort -r | tail -n +3 | xargs -r rm -f -- && ls && date -u +%Y >/dev/null' 2>&1 || true)"
  check "busybox: sh, ls, sort, tail, xargs, rm and date work" same "$(echo "$out" | tr '\n' ' ')" "a2 a3 "

  echo "inside: done"
}

if [[ "${1:-}" == --inside ]]; then
  inside "$2"
  echo "$passed passed, $failed failed"
  exit 0
fi

# ------------------------------------------------------------ outside ----
[[ "$(id -u)" == 0 ]] || { echo "smoke.sh: run as root (unshare, chroot)" >&2; exit 1; }
command -v jq >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jq >&2

cache="$("$here/build.sh" "$@" | tail -n 1)"
crane="$cache/bin/crane"
tmp="$(mktemp -d)"
registry_pid=""
cleanup() {
  if [[ -n "$registry_pid" ]]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  # --one-file-system: never follow into a mount, should one be left.
  rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
addr="127.0.0.1:$port"
"$crane" registry serve --address "$addr" > "$tmp/registry.log" 2>&1 &
registry_pid=$!
check "crane registry serve listens on $addr" wait_for 20 "$crane" catalog --insecure "$addr"

declare -A ref_of
while IFS=$'\t' read -r file ref; do
  ref_of["${file%.tar}"]="$ref"
  check "push ${file} to $addr/$ref" timeout 120 "$crane" push --insecure "$cache/images/$file" "$addr/$ref"
done < "$cache/images/index.tsv"
tars=("$cache"/images/*.tar)
check "every image in the index has a tarball" same "${#tars[@]}" "$(wc -l < "$cache/images/index.tsv")"

mkdir -p "$tmp/roots" "$tmp/configs"
for name in "${!ref_of[@]}"; do
  timeout 30 "$crane" config --insecure "$addr/${ref_of[$name]}" > "$tmp/configs/$name.json"
  mkdir -p "$tmp/roots/$name"
  timeout 120 "$crane" export --insecure "$addr/${ref_of[$name]}" - | tar -x --numeric-owner -p --xattrs --xattrs-include=security.capability -C "$tmp/roots/$name"
done
kill "$registry_pid"
wait "$registry_pid" 2>/dev/null || true
registry_pid=""
config() { jq -c ".config$2" "$tmp/configs/$1.json"; }
check "crane config read nginx's config back from the registry" same "$(config nginx-unprivileged .User)" '"101"'
check "the registry is stopped" sh -c "! '$crane' catalog --insecure '$addr'"

owner() { stat -c '%u:%g %a' "$tmp/roots/$1/$2"; }
link() { readlink "$tmp/roots/$1/$2"; }
has_line() { grep -qxF "$3" "$tmp/roots/$1/$2"; }

n=nginx-unprivileged
check "$n: user 101" same "$(config $n .User)" '"101"'
check "$n: entrypoint and cmd" same "$(config $n '|[.Entrypoint,.Cmd]')" '[["/docker-entrypoint.sh"],["nginx","-g","daemon off;"]]'
check "$n: exposes 8080/tcp only" same "$(config $n '.ExposedPorts|keys')" '["8080/tcp"]'
check "$n: stop signal SIGQUIT" same "$(config $n .StopSignal)" '"SIGQUIT"'
check "$n: nginx user and group 101" has_line $n etc/passwd "nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin"
check "$n: /etc/nginx owned 101:0, group-writable" same "$(owner $n etc/nginx)" "101:0 775"
check "$n: /var/cache/nginx owned 101:0, group-writable" same "$(owner $n var/cache/nginx)" "101:0 775"
check "$n: access log is stdout, error log is stderr" same "$(link $n var/log/nginx/access.log) $(link $n var/log/nginx/error.log)" "/dev/stdout /dev/stderr"
check "$n: pid file in /tmp" grep -q "^pid /tmp/nginx.pid;" "$tmp/roots/$n/etc/nginx/nginx.conf"
check "$n: sh and sleep for the preStop hook" same "$(link $n bin/sh) $(link $n bin/sleep)" "/bin/busybox /bin/busybox"
check "$n: busybox itself" test -x "$tmp/roots/$n/bin/busybox"
check "$n: html and mime.types in the upstream paths" test -s "$tmp/roots/$n/usr/share/nginx/html/index.html" -a -s "$tmp/roots/$n/etc/nginx/mime.types"

n=http-echo
check "$n: user 65532, workdir /home/nonroot" same "$(config $n '|[.User,.WorkingDir]')" '["65532","/home/nonroot"]'
check "$n: entrypoint /http-echo, no cmd" same "$(config $n '|[.Entrypoint,.Cmd]')" '[["/http-echo"],null]'
check "$n: exposes 5678/tcp, ECHO_TEXT=hello-world" same "$(config $n '|[(.ExposedPorts|keys), (.Env|index("ECHO_TEXT=hello-world") != null)]')" '[["5678/tcp"],true]'
check "$n: nonroot user in /etc/passwd" has_line $n etc/passwd "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin"
check "$n: no shell (distroless)" test ! -e "$tmp/roots/$n/bin/sh"

n=postgres
check "$n: runs as root by default and steps down (upstream: no USER)" same "$(config $n .User)" null
check "$n: entrypoint, cmd, stop signal SIGINT, 5432/tcp" same "$(config $n '|[.Entrypoint,.Cmd,.StopSignal,(.ExposedPorts|keys)]')" '[["docker-entrypoint.sh"],["postgres"],"SIGINT",["5432/tcp"]]'
check "$n: PGDATA and a volume for it" same "$(config $n '|[(.Env|map(select(startswith("PGDATA=")))), (.Volumes|keys)]')" '[["PGDATA=/var/lib/postgresql/data"],["/var/lib/postgresql/data"]]'
check "$n: postgres user and group 70" has_line $n etc/passwd "postgres:x:70:70::/var/lib/postgresql:/bin/sh"
check "$n: /var/run/postgresql 70:70 mode 3777" same "$(owner $n var/run/postgresql)" "70:70 3777"
check "$n: PGDATA 70:70 mode 1777" same "$(owner $n var/lib/postgresql/data)" "70:70 1777"
check "$n: server and client tools in /usr/local/bin" test -x "$tmp/roots/$n/usr/local/bin/postgres" -a -x "$tmp/roots/$n/usr/local/bin/psql" -a -x "$tmp/roots/$n/usr/local/bin/pg_dump" -a -x "$tmp/roots/$n/usr/local/bin/pg_restore" -a -x "$tmp/roots/$n/usr/local/bin/pg_isready"
check "$n: /docker-entrypoint-initdb.d exists" test -d "$tmp/roots/$n/docker-entrypoint-initdb.d"

n=busybox
check "$n: cmd sh, no entrypoint, no user, no env" same "$(config $n '|[.Cmd,.Entrypoint,.User,.Env]')" '[["sh"],null,null,null]'
check "$n: applets in /bin and /usr/bin/env" test -x "$tmp/roots/$n/bin/sh" -a -x "$tmp/roots/$n/bin/wget" -a -x "$tmp/roots/$n/usr/bin/env"
check "$n: buildroot's users" has_line $n etc/passwd "nobody:x:65534:65534:nobody:/home:/bin/false"

n=etcd
check "$n: etcd, etcdctl, etcdutl in /usr/local/bin, mode 555" same "$(for b in etcd etcdctl etcdutl; do owner $n usr/local/bin/$b; done | sort -u)" "0:0 555"
check "$n: a shell at /bin/sh, as upstream's bash-static" test -x "$tmp/roots/$n/bin/sh"
check "$n: ports 2379 2380 4001 7001, workdir /" same "$(config $n '|[(.ExposedPorts|keys),.WorkingDir]')" '[["2379/tcp","2380/tcp","4001/tcp","7001/tcp"],"/"]'

n=pause
check "$n: entrypoint /pause, user 65535:65535" same "$(config $n '|[.Entrypoint,.User]')" '[["/pause"],"65535:65535"]'
check "$n: nothing but /pause" same "$(cd "$tmp/roots/$n" && ls -A)" pause

n=probe
check "$n: entrypoint probe, cmd wait, user 65532" same "$(config $n '|[.Entrypoint,.Cmd,.User]')" '[["/usr/local/bin/probe"],["wait"],"65532:65532"]'
check "$n: labelled as no stand-in" same "$(config $n '.Labels["lab-to-prod.io/stand-in-for"]')" null

if [[ -n "${ref_of[coredns]:-}" ]]; then
  n=coredns
  check "$n: entrypoint /coredns, user nonroot:nonroot, workdir /" same "$(config $n '|[.Entrypoint,.User,.WorkingDir]')" '[["/coredns"],"nonroot:nonroot","/"]'
  check "$n: exposes 53/tcp and 53/udp" same "$(config $n '.ExposedPorts|keys')" '["53/tcp","53/udp"]'
  check "$n: /coredns may bind port 53 (file capability)" sh -c "getcap '$tmp/roots/$n/coredns' | grep -q cap_net_bind_service"
fi

# The run checks, in namespaces that end with this command.
inside_out="$(timeout -s KILL 600 unshare --net --mount --pid --fork --kill-child --mount-proc --propagation private \
  bash "$here/smoke.sh" --inside "$tmp/roots" 2>"$tmp/inside.err")" || true
echo "$inside_out" | grep -E '^(not )?ok - '
inside_passed="$(echo "$inside_out" | awk '/ passed, / { print $1 }')"
inside_failed="$(echo "$inside_out" | awk '/ passed, / { print $3 }')"
if [[ -z "$inside_passed" ]]; then
  echo "not ok - the run checks did not finish:" && tail -20 "$tmp/inside.err"
  failed=$((failed + 1))
else
  passed=$((passed + inside_passed))
  failed=$((failed + inside_failed))
fi
if ((failed > 0)); then
  for log in "$tmp"/roots/*.log; do echo "--- $(basename "$log")"; tail -15 "$log"; done
fi

echo "$passed passed, $failed failed"
((failed == 0))
