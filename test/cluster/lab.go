package cluster

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The three-node lab (TestLab): one control-plane node and two workers, each with its own
// containerd, kubelet and kube-proxy in namespaces of its own, on a "LAN" (a bridge in a namespace
// of its own), with a "laptop" beside them. Everything runs inside the namespaces run-lab.sh makes;
// the test's own network namespace is lab-cp-1's, as the control plane runs on a kubeadm
// control-plane node. Names and addresses are the lab environment's (lib/environments/lab.ts:
// the node subnet 192.168.50.0/24 and fd00:50::/64).

const (
	// lanNamespace holds the LAN's bridge and nothing else: no other link, so nothing leaves it.
	lanNamespace = "lab-lan"
	lanBridge    = "lan0"
	// The LAN's gateway addresses, on the bridge: flannel picks the interface of its default route
	// (one per family), so each node has one, via these. Nothing is forwarded beyond the LAN.
	lanGatewayIPv4 = "192.168.50.1"
	lanGatewayIPv6 = "fd00:50::1"
	// The API server listens on lab-cp-1's LAN address at kubeadm's port; the nodes reach it there.
	labAPIPort = 6443
	// The stand-in registry, on lab-cp-1's LAN address; every node's containerd pulls through it.
	labRegistryPort = "5000"
	// The control-plane taint kubeadm sets on its control-plane nodes.
	controlPlaneTaint = "node-role.kubernetes.io/control-plane:NoSchedule"
)

// labMachine is one machine on the LAN.
type labMachine struct {
	name         string
	ipv4, ipv6   string
	controlPlane bool
	node         bool // false: the laptop, which runs no kubelet
}

// labMachines are the lab's machines: kubeadm's node names and the LAN's addresses.
var labMachines = []labMachine{
	{name: "lab-cp-1", ipv4: "192.168.50.11", ipv6: "fd00:50::11", controlPlane: true, node: true},
	{name: "lab-worker-1", ipv4: "192.168.50.21", ipv6: "fd00:50::21", node: true},
	{name: "lab-worker-2", ipv4: "192.168.50.22", ipv6: "fd00:50::22", node: true},
	{name: "lab-laptop", ipv4: "192.168.50.100", ipv6: "fd00:50::100"},
}

// labNode is one node of the lab: what its pieces are started with (nodeHost), and the process
// that holds its namespaces, through which the test enters them.
type labNode struct {
	nodeHost
	// holder is the PID of the node's first process (lab-namespace.sh): nsenter --target it.
	holder int
	// netns names the node's network namespace (`ip netns exec`); empty for lab-cp-1, whose
	// network namespace is the test's own.
	netns string
}

// labCluster is the running lab: its control plane, its nodes and where their files are.
type labCluster struct {
	cp          *controlPlane
	tools       nodeTools
	repo        string
	addonImages string // images/build-addons.sh's images folder
	nodes       []*labNode
	// lanKubeconfig is the cluster admin's kubeconfig with the API server at lab-cp-1's LAN
	// address, for the agents that run in every node's namespaces (the NetworkPolicy agent).
	lanKubeconfig string
}

func (l *labCluster) node(name string) *labNode {
	for _, n := range l.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// controlPlaneNode is lab-cp-1.
func (l *labCluster) controlPlaneNode() *labNode { return l.nodes[0] }

// startOn starts a program in a node's network and mount namespaces.
func (l *labCluster) startOn(n *labNode, name, path string, args ...string) error {
	return l.cp.startOn(n.nodeHost, name, path, args...)
}

// runIn runs a command in a node's network and mount namespaces and returns its output.
func (l *labCluster) runIn(n *labNode, args ...string) (string, error) {
	out, err := exec.Command(n.enter[0], append(append([]string{}, n.enter[1:]...), args...)...).CombinedOutput()
	return string(out), err
}

// ip runs the ip command and returns its error with its output.
func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// makeLAN makes the LAN: the bridge in its namespace, and each machine's eth0 on it (a veth
// pair, the bridge's end named after the machine). lab-cp-1's eth0 is in the test's own network
// namespace; the others' in namespaces named after them, which the machines' processes then join.
func makeLAN() error {
	steps := [][]string{
		{"netns", "add", lanNamespace},
		{"-n", lanNamespace, "link", "set", "lo", "up"},
		{"-n", lanNamespace, "link", "add", lanBridge, "type", "bridge"},
		{"-n", lanNamespace, "link", "set", lanBridge, "up"},
		{"-n", lanNamespace, "addr", "add", lanGatewayIPv4 + "/24", "dev", lanBridge},
		{"-n", lanNamespace, "addr", "add", lanGatewayIPv6 + "/64", "dev", lanBridge, "nodad"},
	}
	for _, m := range labMachines {
		netns := m.name
		peer := []string{"peer", "name", "eth0", "netns", netns}
		if m.controlPlane {
			// The test's own network namespace is lab-cp-1's.
			peer = []string{"peer", "name", "eth0"}
		} else {
			steps = append(steps, []string{"netns", "add", netns})
		}
		port := "to-" + m.name
		steps = append(steps,
			append([]string{"link", "add", port, "type", "veth"}, peer...),
			[]string{"link", "set", port, "netns", lanNamespace},
			[]string{"-n", lanNamespace, "link", "set", port, "master", lanBridge, "up"},
		)
		in := []string{}
		if !m.controlPlane {
			in = []string{"-n", netns}
		}
		steps = append(steps,
			append(in, "link", "set", "lo", "up"),
			append(in, "addr", "add", m.ipv4+"/24", "dev", "eth0"),
			// nodad: the addresses are the LAN's own plan, and usable at once.
			append(in, "-6", "addr", "add", m.ipv6+"/64", "dev", "eth0", "nodad"),
			append(in, "link", "set", "eth0", "up"),
		)
		if m.node {
			steps = append(steps,
				append(in, "route", "add", "default", "via", lanGatewayIPv4),
				append(in, "-6", "route", "add", "default", "via", lanGatewayIPv6),
			)
		}
	}
	for _, step := range steps {
		if err := ip(step...); err != nil {
			return fmt.Errorf("making the LAN: %w", err)
		}
	}
	return nil
}

// removeLAN removes the named network namespaces (their links go with them); the run's mount
// namespace ends with the run anyway, this keeps a failed run's leftovers out of `ip netns list`.
func removeLAN() {
	for _, m := range labMachines {
		if !m.controlPlane {
			_ = exec.Command("ip", "netns", "del", m.name).Run()
		}
	}
	_ = exec.Command("ip", "netns", "del", lanNamespace).Run()
}

// startNodeNamespaces starts the long-lived first process of a node's namespaces
// (lab-namespace.sh: its own mounts, in its network namespace) and waits until its files are in
// place. Starting every later process of the node through it means one node's kubelet and
// containerd can be stopped alone, as a machine of the lab can fail alone.
func (l *labCluster) startNodeNamespaces(n *labNode) error {
	script := os.Getenv("LAB_TO_PROD_LAB_NAMESPACE_SH")
	if script == "" {
		return fmt.Errorf("LAB_TO_PROD_LAB_NAMESPACE_SH is not set: run the lab with `npm run test:lab` (test/cluster/run-lab.sh)")
	}
	network := "same-network"
	if n.netns != "" {
		network = "own-network"
	}
	args := []string{"unshare", "--mount", "--propagation", "private", "--", script, n.state, network, "--", "sleep", "infinity"}
	if n.netns != "" {
		// nsenter, not `ip netns exec`: that one mounts a sysfs of the network namespace over /sys
		// and loses the cgroup hierarchies under it; lab-namespace.sh mounts one and keeps them.
		args = append([]string{"nsenter", "--net=/run/netns/" + n.netns, "--"}, args...)
	}
	name := n.logPrefix + "namespaces"
	if err := l.cp.startAt(name, args[0], args[1:]...); err != nil {
		return err
	}
	if err := waitFor(30*time.Second, func() (bool, error) {
		select {
		case <-l.cp.exited(name):
			return false, fmt.Errorf("exited")
		default:
		}
		_, err := os.Stat(filepath.Join(n.state, "ready"))
		return err == nil, nil
	}); err != nil {
		return l.cp.explain(name, fmt.Errorf("the namespaces of %s were never ready: %w", n.name, err))
	}
	n.holder = l.cp.pid(name)
	n.root = fmt.Sprintf("/proc/%d/root", n.holder)
	n.enter = []string{"nsenter", "--target", strconv.Itoa(n.holder), "--net", "--mount", "--"}
	return nil
}

// pid is the process ID of the named process.
func (cp *controlPlane) pid(name string) int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, p := range cp.processes {
		if p.name == name {
			return p.cmd.Process.Pid
		}
	}
	return 0
}

// labKubeconfigs writes the kubeconfigs the nodes' kubelets and kube-proxies use: the API server
// at lab-cp-1's LAN address, each kubelet with a client certificate of its own
// (system:node:<name> in system:nodes), as kubeadm's kubelet TLS bootstrap leaves it.
func (l *labCluster) labKubeconfigs(server string) error {
	ca, err := readKeyPair(l.cp.pki.caCert, l.cp.pki.caKey)
	if err != nil {
		return fmt.Errorf("reading the cluster CA: %w", err)
	}
	clients := map[string]pkix.Name{"kube-proxy-lab": clientIdentities["kube-proxy"], "admin-lab": clientIdentities["admin"]}
	for _, n := range l.nodes {
		clients["kubelet-"+n.name] = pkix.Name{CommonName: "system:node:" + n.name, Organization: []string{"system:nodes"}}
	}
	for file, subject := range clients {
		kp, err := issue(ca, &x509.Certificate{
			Subject:  subject,
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		})
		if err != nil {
			return err
		}
		certFile, keyFile, err := writePair(l.cp.dir, file, kp)
		if err != nil {
			return err
		}
		if err := writeKubeconfig(filepath.Join(l.cp.dir, file+".kubeconfig"), "lab", server, l.cp.pki.caCert, certFile, keyFile); err != nil {
			return err
		}
	}
	l.lanKubeconfig = filepath.Join(l.cp.dir, "admin-lab.kubeconfig")
	for _, n := range l.nodes {
		n.kubeletKubeconfig = filepath.Join(l.cp.dir, "kubelet-"+n.name+".kubeconfig")
		n.kubeProxyKubeconfig = filepath.Join(l.cp.dir, "kube-proxy-lab.kubeconfig")
	}
	return nil
}

// readKeyPair reads a certificate and its EC key as writePair wrote them.
func readKeyPair(certFile, keyFile string) (*keyPair, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	certBlock, _ := pem.Decode(certPEM)
	keyBlock, _ := pem.Decode(keyPEM)
	if certBlock == nil || keyBlock == nil {
		return nil, fmt.Errorf("%s or %s: no PEM block", certFile, keyFile)
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, err
	}
	var key *ecdsa.PrivateKey
	if key, err = x509.ParseECPrivateKey(keyBlock.Bytes); err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key, der: certBlock.Bytes}, nil
}

// newLabNodes lays out the lab's nodes: their folders under the run's, their cgroup roots
// (run-lab.sh makes <run cgroup root>-<node>), the registry and the CNI plugins' folder.
func newLabNodes(tools nodeTools, cgroupRoot string) []*labNode {
	var nodes []*labNode
	for _, m := range labMachines {
		if !m.node {
			continue
		}
		n := &labNode{nodeHost: nodeHost{
			name: m.name, ipv4: m.ipv4, ipv6: m.ipv6, healthIP: m.ipv4,
			state:      filepath.Join(tools.state, m.name),
			cgroupRoot: cgroupRoot + "-" + m.name,
			logPrefix:  m.name + "-",
			registry:   net.JoinHostPort(labMachines[0].ipv4, labRegistryPort),
			// Where flannel's init container puts its plugin (dist/lab/01-flannel.yaml's
			// cni-plugin volume), beside the plugins it delegates to.
			cniBinDir:    "/opt/cni/bin",
			controlPlane: m.controlPlane,
		}}
		if m.controlPlane {
			n.taints = []string{controlPlaneTaint}
		} else {
			n.netns = m.name
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// installCNIPlugins copies the plugins flannel's configuration delegates to (bridge, host-local;
// portmap for hostPort; loopback, which containerd runs for every pod) into the node's
// /opt/cni/bin, where kubeadm's nodes have them from the containernetworking-plugins package.
func installCNIPlugins(n *labNode) error {
	for _, plugin := range []string{"bridge", "host-local", "loopback", "portmap"} {
		b, err := os.ReadFile(filepath.Join("/usr/lib/cni", plugin))
		if err != nil {
			return err
		}
		target := n.root + "/opt/cni/bin/" + plugin
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// startNode starts one node: its namespaces, the CNI plugins, containerd, the kubelet (which
// registers the Node with its taints; the control-plane node is then labelled) and kube-proxy.
func (l *labCluster) startNode(n *labNode) error {
	if err := l.startNodeNamespaces(n); err != nil {
		return err
	}
	if err := installCNIPlugins(n); err != nil {
		return fmt.Errorf("%s: the CNI plugins: %w", n.name, err)
	}
	folders := []string{filepath.Join(l.tools.images, "images")}
	if l.addonImages != "" {
		folders = append(folders, l.addonImages)
	}
	if err := l.cp.startContainerd(n.nodeHost, l.tools, l.repo, folders...); err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	if err := l.cp.startKubelet(n.nodeHost, l.tools); err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	if err := l.cp.startKubeProxy(n.nodeHost, l.tools); err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	return nil
}

// nodeState is the part of a Node the lab's checks read.
type nodeState struct {
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		PodCIDRs []string `json:"podCIDRs"`
		Taints   []struct {
			Key    string `json:"key"`
			Effect string `json:"effect"`
		} `json:"taints"`
	} `json:"spec"`
	Status struct {
		Conditions []struct {
			Type    string `json:"type"`
			Status  string `json:"status"`
			Reason  string `json:"reason"`
			Message string `json:"message"`
		} `json:"conditions"`
	} `json:"status"`
}

func (n nodeState) ready() (bool, string) {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True", c.Reason + ": " + c.Message
		}
	}
	return false, "no Ready condition"
}

// nodeStates reads every Node, by name.
func (l *labCluster) nodeStates() (map[string]nodeState, error) {
	var list struct {
		Items []nodeState `json:"items"`
	}
	if err := l.cp.api.getJSON("/api/v1/nodes", &list); err != nil {
		return nil, err
	}
	out := map[string]nodeState{}
	for _, n := range list.Items {
		out[n.Metadata.Name] = n
	}
	return out, nil
}

// waitNodesReady waits until every lab node is Ready; the error says what each last reported.
func (l *labCluster) waitNodesReady(timeout time.Duration) error {
	var last []string
	err := waitFor(timeout, func() (bool, error) {
		nodes, err := l.nodeStates()
		if err != nil {
			return false, err
		}
		last = nil
		for _, n := range l.nodes {
			ready, why := nodes[n.name].ready()
			if !ready {
				last = append(last, n.name+": "+why)
			}
		}
		return len(last) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("nodes not Ready: %w; last seen:\n  %s", err, strings.Join(last, "\n  "))
	}
	return nil
}

// memorySampler samples the resident memory of every process in the run's PID namespace (all
// nodes, all pods, the control plane and the test) and keeps the peak. Shared pages count once per
// process, so the figure is an upper bound.
type memorySampler struct {
	mu   sync.Mutex
	peak int64 // bytes
	stop chan struct{}
	done chan struct{}
}

func startMemorySampler(every time.Duration) *memorySampler {
	m := &memorySampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for {
			if total := residentMemory(); total > 0 {
				m.mu.Lock()
				if total > m.peak {
					m.peak = total
				}
				m.mu.Unlock()
			}
			select {
			case <-m.stop:
				return
			case <-time.After(every):
			}
		}
	}()
	return m
}

func (m *memorySampler) peakBytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

func (m *memorySampler) shutdown() {
	close(m.stop)
	<-m.done
}

// residentMemory sums VmRSS over /proc: the run's own PID namespace (run-lab.sh mounts its /proc).
func residentMemory() int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				total += kb * 1024
			}
		}
	}
	return total
}

// vxlanLinks reads a node's flannel VXLAN links (flannel.1 for IPv4, flannel-v6.1 for IPv6):
// their VXLAN id, the LAN device they send over, and the packets sent so far.
type vxlanLink struct {
	name      string
	id        int
	device    string
	txPackets int64
}

func (l *labCluster) vxlanLinks(n *labNode) (map[string]vxlanLink, error) {
	out, err := l.runIn(n, "ip", "-d", "-s", "-j", "link", "show", "type", "vxlan")
	if err != nil {
		return nil, fmt.Errorf("%s: ip link: %v\n%s", n.name, err, out)
	}
	var links []struct {
		Name     string `json:"ifname"`
		LinkInfo struct {
			Kind string `json:"info_kind"`
			Data struct {
				ID     int    `json:"id"`
				Device string `json:"link"`
			} `json:"info_data"`
		} `json:"linkinfo"`
		Stats struct {
			TX struct {
				Packets int64 `json:"packets"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		return nil, fmt.Errorf("%s: ip -j link: %v\n%s", n.name, err, out)
	}
	found := map[string]vxlanLink{}
	for _, k := range links {
		found[k.Name] = vxlanLink{name: k.Name, id: k.LinkInfo.Data.ID, device: k.LinkInfo.Data.Device, txPackets: k.Stats.TX.Packets}
	}
	return found, nil
}

// sortedKeys lists a map's keys in order, for messages.
func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// killNodeAgents kills a node's kubelet and containerd at once (SIGKILL: no drain, no graceful
// stop), as when the node is lost: its Node stops renewing its lease and goes NotReady. Its pods'
// containers keep running under their shims until the node's namespaces end, and its kube-proxy
// and NetworkPolicy agent stay: what else a lost machine takes with it is the caller's to stop.
func (l *labCluster) killNodeAgents(n *labNode) error {
	for _, name := range []string{n.logPrefix + "kubelet", n.logPrefix + "containerd"} {
		pid := l.cp.pid(name)
		if pid == 0 {
			return fmt.Errorf("%s: no process %s", n.name, name)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("%s: killing %s: %w", n.name, name, err)
		}
		select {
		case <-l.cp.exited(name):
		case <-time.After(10 * time.Second):
			return fmt.Errorf("%s: %s did not end within 10 s of SIGKILL", n.name, name)
		}
	}
	return nil
}
