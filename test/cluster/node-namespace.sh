#!/usr/bin/env bash
# The first process of the real node's namespaces (run-node.sh starts it with unshare: its own
# network, mounts and process IDs). It lays out the node, then runs the command it is given and
# stays as the namespace's init, which reaps the orphans (containerd's shims) until the command
# ends. When it exits, the kernel ends every process left in the namespace and its mounts go with it.
#
#   node-namespace.sh <state folder> -- <command> [args...]
set -euo pipefail
state="$1"
shift 2

# The network: loopback up, with the node's addresses on it (realnode.go: nodeIPv4, nodeIPv6);
# forwarding on, and bridged traffic through iptables, so Services and NetworkPolicies apply to
# pods on the node's bridge. These settings belong to this namespace only.
ip link set lo up
ip addr add 10.250.0.10/32 dev lo
ip -6 addr add fd00:250::10/128 dev lo
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1

# The kubelet sets three VM-wide kernel settings (vm.overcommit_memory=1, kernel.panic=10,
# kernel.panic_on_oops=1) at start. Give it private files in their place: the machine's stay as they are.
mkdir -p "$state/sysctl"
for setting in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do
  copy="$state/sysctl/${setting//\//.}"
  cat "/proc/sys/$setting" > "$copy"
  mount --bind "$copy" "/proc/sys/$setting"
done

# The node's own /etc, /var/lib, /var/log and /run: the machine's, with the node's writes kept in
# the state folder (overlayfs), so the kubelet, containerd and hostPath volumes use the paths a
# kubeadm node uses (/etc/kubernetes/pki/etcd, /var/lib/kubelet, /var/log/pods, /run/containerd).
for dir in /etc /var/lib /var/log /run; do
  layer="$state/overlay${dir//\//.}"
  mkdir -p "$layer/upper" "$layer/work"
  mount -t overlay overlay -o "lowerdir=$dir,upperdir=$layer/upper,workdir=$layer/work" "$dir"
done

"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
status=0
wait "$child" || status=$?
# A signal interrupts the first wait; wait again for the command to finish stopping.
while kill -0 "$child" 2>/dev/null; do wait "$child" || status=$?; done
exit "$status"
