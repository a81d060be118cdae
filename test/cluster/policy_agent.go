package cluster

// The NetworkPolicy agent of the test nodes: kube-router's firewall alone, beside the pod network
// (the Debian bridge on the single real node, flannel in the three-node lab). The lab renders
// kube-network-policies (dist/lab/01-kube-network-policies.yaml), which cannot run on the test
// machines: it sends packets to user space with nftables' queue statement, and their kernel is
// built without it (CONFIG_NFT_QUEUE unset; docs/cluster-tests.md). kube-router enforces the same
// NetworkPolicy API with iptables and ipset, which the kernel has.
//
// It is built from kube-router v2.1.0 corrected for IPv6 (tools/kube-router/ipv6.patch, applied by
// build-node.sh), so both families are enforced, as the dual-stack lab needs.

// policyAgentArgs are kube-router's flags on a node: hostname is the node's Node name (the agent
// reads the node's addresses from it, and exempts them so the kubelet's probes reach the pods),
// kubeconfig an identity that may list and watch pods, namespaces, NetworkPolicies and Nodes.
func policyAgentArgs(kubeconfig, hostname string) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--hostname-override=" + hostname,
		// The firewall only: routes between nodes are the pod network's, Services are kube-proxy's,
		// and the CNI configuration is the pod network's.
		"--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--enable-cni=false",
		// Both families: the lab is dual-stack (lib/environments/lab.ts), and a policy left
		// unenforced over IPv6 would let every IPv6 path through.
		"--enable-ipv4=true", "--enable-ipv6=true",
		// The cluster's Service ranges, both families (its default names one IPv4 range only).
		"--service-cluster-ip-range=" + serviceCIDRs,
		// No metrics or health listener: nothing here scrapes or probes them.
		"--metrics-port=0", "--health-port=0",
	}
}
