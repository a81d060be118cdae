#!/usr/bin/env bash
# The first process of the real node's namespaces (run-node.sh starts it with unshare: its own
# network, mounts and process IDs). It lays out the node, then runs the command it is given and
# stays as the namespace's init until the command ends (namespace-common.sh).
#
#   node-namespace.sh <state folder> -- <command> [args...]
set -euo pipefail
state="$1"
shift 2

# shellcheck source=namespace-common.sh
. "$(dirname "${BASH_SOURCE[0]}")/namespace-common.sh"

# The network: the node's addresses on loopback (realnode.go: nodeIPv4, nodeIPv6).
node_network_settings
ip addr add 10.250.0.10/32 dev lo
ip -6 addr add fd00:250::10/128 dev lo

private_kernel_settings "$state"
# The node's own /etc, /var/lib, /var/log and /run.
private_folders "$state" /etc /var/lib /var/log /run

run_as_init "$@"
