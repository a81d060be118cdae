# shellcheck shell=bash
# Shared by node-namespace.sh and lab-namespace.sh (sourced, not run): what the first process of a
# node's namespaces sets up before it starts the node, and how it then waits as the namespace's init.

# node_network_settings: loopback up; forwarding on, and bridged traffic through iptables, so
# Services and NetworkPolicies apply to pods on the node's bridge. All are settings of this network
# namespace only.
node_network_settings() {
  ip link set lo up
  sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
}

# private_kernel_settings <state folder>: the kubelet sets three VM-wide kernel settings at start
# (vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1). It gets private files in their
# place, bound over them in this mount namespace: the machine's stay as they are.
private_kernel_settings() {
  local state=$1 setting copy
  mkdir -p "$state/sysctl"
  for setting in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do
    copy="$state/sysctl/${setting//\//.}"
    cat "/proc/sys/$setting" >"$copy"
    mount --bind "$copy" "/proc/sys/$setting"
  done
}

# private_folders <state folder> <folder>...: each folder as this namespace sees it, with the node's
# writes kept in the state folder (overlayfs), so the kubelet, containerd and hostPath volumes use
# the paths a kubeadm node uses (/etc/kubernetes/pki/etcd, /var/lib/kubelet, /var/log/pods,
# /run/containerd) without touching the machine's.
private_folders() {
  local state=$1 dir layer
  shift
  for dir in "$@"; do
    layer="$state/overlay${dir//\//.}"
    mkdir -p "$layer/upper" "$layer/work"
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$layer/upper,workdir=$layer/work" "$dir"
  done
}

# run_as_init <command> [args...]: runs the command and stays as the namespace's first process,
# which reaps the orphans (containerd's shims) until the command ends; a TERM or INT is passed on.
# Exits with the command's status. When this process exits, the kernel ends every process left in
# the namespace, and the namespace's mounts go with it.
run_as_init() {
  local child status=0
  "$@" &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null' TERM INT
  wait "$child" || status=$?
  # A signal interrupts the first wait; wait again for the command to finish stopping.
  while kill -0 "$child" 2>/dev/null; do wait "$child" || status=$?; done
  exit "$status"
}
