# shellcheck shell=bash
# Shared by run-node.sh and run-lab.sh (sourced, not run): the cgroup roots a run's kubelets put
# their pods under, the run's folder, and the namespace the test runs in. Both scripts set `state`
# (the run's folder) and `namespace` (the PID of the unshare they start).

# make_cgroup_roots <root>...: each root in every cgroup v1 hierarchy; a kubelet puts its pods
# under its root and needs it to exist first.
make_cgroup_roots() {
  local hierarchy root
  for hierarchy in /sys/fs/cgroup/*/; do
    if [[ -f "${hierarchy}cgroup.procs" && ! -f "${hierarchy}cgroup.controllers" ]]; then
      for root in "$@"; do mkdir "$hierarchy$root"; done
    fi
  done
}

# remove_cgroup_roots <root>...: deepest first (a cgroup can be removed once it has no children and
# no processes; runc also makes the containers' cgroups in the cgroup2 hierarchy of this hybrid
# layout, so every hierarchy is swept; processes the kernel is still ending get a few seconds).
remove_cgroup_roots() {
  local hierarchy root left
  for _ in 1 2 3 4 5; do
    left=0
    for hierarchy in /sys/fs/cgroup/*/; do
      for root in "$@"; do
        if [[ -d "$hierarchy$root" ]]; then
          find "$hierarchy$root" -depth -type d -exec rmdir {} + 2>/dev/null || left=1
        fi
      done
    done
    ((left == 0)) && return 0
    sleep 1
  done
}

# remove_state <what> <status>: the run's folder, or only its logs when the run failed or
# KEEP_NODE_STATE is set (the images, volumes and overlays are large and made anew on every run).
remove_state() {
  local what=$1 status=$2
  if [[ -n "${KEEP_NODE_STATE:-}" || $status != 0 ]]; then
    echo "$what: logs kept in $state" >&2
    rm -rf "$state/registry" "$state/volumes" "$state/containerd" "$state"/*/containerd \
      "$state"/overlay.* "$state"/*/overlay.* 2>/dev/null || true
  else
    rm -rf "$state"
  fi
  state=""
}

# stop_namespace: unshare ignores SIGTERM and SIGINT while it waits; the namespace's first process
# (its child) passes them on to the test, which stops its nodes in order. Should that take longer
# than a minute, unshare is killed, and with it (--kill-child) everything in the namespace.
stop_namespace() {
  [[ -n "$namespace" ]] || exit 130
  pkill -TERM -P "$namespace" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$namespace" 2>/dev/null || return 0; sleep 1; done
  kill -KILL "$namespace" 2>/dev/null || true
}
