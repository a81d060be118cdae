#!/usr/bin/env bash
# The first process of one machine of the three-node lab (run-lab.sh, lab.go): the test's own
# namespaces (lab-cp-1's network, the control plane's files) or one node's (its own mounts, in the
# network namespace lab.go enters first). It makes the machine's network settings and its
# private /etc, /var/lib, /var/log, /run and /opt (the CNI plugins' /opt/cni/bin), then runs the
# command it is given and stays as the namespace's init until the command ends
# (namespace-common.sh). Once the files are in place it writes <state folder>/ready, which lab.go
# waits for before it enters the namespaces.
#
#   lab-namespace.sh <state folder> same-network|own-network -- <command> [args...]
set -euo pipefail
state="$1"
network="$2"
shift 3
mkdir -p "$state"

# shellcheck source=namespace-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/namespace-common.sh"

# A node in a network namespace of its own gets a sysfs of it (/sys/class/net lists its own links,
# as on a machine of its own), with the machine's cgroup hierarchies moved over from the old one:
# the kubelet and runc find them under /sys/fs/cgroup.
if [[ "$network" == own-network ]]; then
  mkdir -p "$state/cgroup"
  mount --rbind /sys/fs/cgroup "$state/cgroup"
  mount -t sysfs sysfs /sys
  mount --move "$state/cgroup" /sys/fs/cgroup
fi

node_network_settings
private_kernel_settings "$state"
# The machine's own folders where a kubeadm node writes (over what it sees: the machine's, or the
# test's for a node started by the test), and /opt for the CNI plugins' /opt/cni/bin.
private_folders "$state" /etc /var/lib /var/log /run /opt
touch "$state/ready"

run_as_init "$@"
