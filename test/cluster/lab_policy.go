package cluster

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// NetworkPolicy in the three-node lab: the test nodes' agent (policy_agent.go, which says why it
// is not the lab's rendered kube-network-policies) on every node, beside flannel, in the node's
// own network and mount namespaces, as a DaemonSet's pod with the host network would run it on a
// kubeadm node.

// startPolicyAgent starts the agent on a node and returns once it has made its top-level chain for
// both families in the node's network namespace (iptables' and ip6tables' KUBE-ROUTER-FORWARD):
// it runs, reads the cluster and may change the node's firewall. Whether the policies hold is
// what the lab's policy checks (lab_policy_test.go) show.
func (l *labCluster) startPolicyAgent(node *labNode) error {
	// The cluster administrator's identity, at lab-cp-1's LAN address (the control plane's own
	// kubeconfigs name 127.0.0.1, each node's own loopback). The agent is the test's stand-in, not
	// part of the lab's manifests (the lab's own enforcer comes with its ServiceAccount and RBAC
	// in dist/lab/01-kube-network-policies.yaml), so it gets no identity of the lab's.
	name := "kube-router"
	if err := l.startOn(node, name, filepath.Join(l.tools.bin, "kube-router"), policyAgentArgs(l.lanKubeconfig, node.name)...); err != nil {
		return fmt.Errorf("%s: %w", node.name, err)
	}
	var missing []string
	err := waitFor(60*time.Second, func() (bool, error) {
		select {
		case <-l.cp.exited(node.logPrefix + name):
			return false, fmt.Errorf("exited")
		default:
		}
		missing = nil
		for _, tool := range []string{"iptables", "ip6tables"} {
			if out, err := l.runIn(node, tool, "-w", "-t", "filter", "-S", "KUBE-ROUTER-FORWARD"); err != nil {
				missing = append(missing, tool+": "+strings.TrimSpace(out))
			}
		}
		return len(missing) == 0, nil
	})
	if err != nil {
		return l.cp.explain(node.logPrefix+name, fmt.Errorf("%s: the NetworkPolicy agent wrote no KUBE-ROUTER-FORWARD chain for every family (%s): %w", node.name, strings.Join(missing, "; "), err))
	}
	return nil
}
