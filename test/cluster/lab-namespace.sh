#!/usr/bin/env bash
# The first process of one machine of the three-node lab (run-lab.sh, lab.go): the test's own
# namespaces (lab-cp-1's network, the control plane's files) or one node's (its own mounts, in the
# network namespace lab.go enters first). It makes the machine's network settings and its
# private /etc, /var/lib, /var/log, /run and /opt (the CNI plugins' /opt/cni/bin), then runs the
# command it is given and stays to reap orphans until the command ends. Once the files are in place
# it writes <state folder>/ready, which lab.go waits for before it enters the namespaces.
#
#   lab-namespace.sh <state folder> same-network|own-network -- <command> [args...]
set -euo pipefail
state="$1"
network="$2"
shift 3
mkdir -p "$state"

# A node in a network namespace of its own gets a sysfs of it (/sys/class/net lists its own links,
# as on a machine of its own), with the machine's cgroup hierarchies moved over from the old one:
# the kubelet and runc find them under /sys/fs/cgroup.
if [[ "$network" == own-network ]]; then
  mkdir -p "$state/cgroup"
  mount --rbind /sys/fs/cgroup "$state/cgroup"
  mount -t sysfs sysfs /sys
  mount --move "$state/cgroup" /sys/fs/cgroup
fi

# Forwarding on, and bridged traffic through iptables, so Services and NetworkPolicies apply to
# pods on the node's bridge. Both are settings of this network namespace only.
ip link set lo up
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
sysctl -qw net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1

# The kubelet sets three VM-wide kernel settings at start (node-namespace.sh says which): each
# machine's kubelet gets private files in their place.
mkdir -p "$state/sysctl"
for setting in vm/overcommit_memory kernel/panic kernel/panic_on_oops; do
  copy="$state/sysctl/${setting//\//.}"
  cat "/proc/sys/$setting" > "$copy"
  mount --bind "$copy" "/proc/sys/$setting"
done

# The machine's own folders where a kubeadm node writes, with its writes kept in the state folder
# (overlayfs over what it sees: the machine's, or the test's for a node started by the test).
for dir in /etc /var/lib /var/log /run /opt; do
  layer="$state/overlay${dir//\//.}"
  mkdir -p "$layer/upper" "$layer/work"
  mount -t overlay overlay -o "lowerdir=$dir,upperdir=$layer/upper,workdir=$layer/work" "$dir"
done
touch "$state/ready"

"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT
status=0
wait "$child" || status=$?
while kill -0 "$child" 2>/dev/null; do wait "$child" || status=$?; done
exit "$status"
