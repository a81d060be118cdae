package cluster

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The real node: containerd with runc and gVisor's runsc, a kubelet and
// kube-proxy of the control plane's release, the Debian CNI plugins on a
// bridge, kube-router's NetworkPolicy firewall, CoreDNS as the cluster DNS,
// metrics-server as the metrics pipeline, and a registry that mirrors docker.io and registry.k8s.io with the stand-in
// images (test/cluster/images). It runs inside the namespaces run-node.sh
// makes (node-namespace.sh): its own network, mounts and process IDs, with
// the node's /etc, /var/lib, /var/log and /run private overlays of the
// machine's, so the node writes where a kubeadm node writes and the machine
// sees none of it.

const (
	realNodeName = "lab-node"
	// The node's addresses: on the namespace's loopback device, the one
	// interface that is not a pod's. Reachable from pods through the bridge.
	nodeIPv4 = "10.250.0.10"
	nodeIPv6 = "fd00:250::10"
	// The lab's pod subnets (lib/environments/lab.ts bootstrap.podSubnets),
	// which the controller manager splits per node, as kubeadm configures it.
	podSubnets = "10.244.0.0/16,fd00:10:244::/56"
	// The cluster DNS Service's address, as kubeadm picks it: the tenth of the
	// service range.
	clusterDNS = "10.96.0.10"
	// The registry that stands in for docker.io and registry.k8s.io.
	registryAddress = "127.0.0.1:5000"
)

// nodeTools are the binaries and images the node runs, from build-node.sh
// and images/build.sh.
type nodeTools struct {
	bin    string // kubelet, kube-proxy, containerd, runsc, kube-router, coredns, ...
	images string // bin/crane, images/*.tar, images/index.tsv
	state  string // the run's own folder (run-node.sh): containerd's root, the registry's blobs, volumes
}

func nodeToolsFromEnv() (nodeTools, error) {
	t := nodeTools{
		bin:    os.Getenv("LAB_TO_PROD_NODE_BIN"),
		images: os.Getenv("LAB_TO_PROD_IMAGES"),
		state:  os.Getenv("LAB_TO_PROD_NODE_STATE"),
	}
	if t.bin == "" || t.images == "" || t.state == "" {
		return t, fmt.Errorf("LAB_TO_PROD_NODE_BIN, LAB_TO_PROD_IMAGES and LAB_TO_PROD_NODE_STATE must be set: run the real node's tests with `npm run test:node` (test/cluster/run-node.sh)")
	}
	// Before any node starts: a machine short of disk fails here, not in evicted pods (diskspace.go).
	return t, checkDiskForNodes(t.state)
}

// nodeHost is one real node as the pieces below start it: its name and addresses, its folders and
// cgroup root, and the namespaces its processes run in. Today's single node (singleNodeHost) is the
// test's own namespaces; each node of the three-node lab (lab.go) has namespaces of its own, which the
// test reaches through a long-lived process there (nsenter for programs, /proc/<pid>/root for files).
type nodeHost struct {
	name       string
	ipv4, ipv6 string
	// healthIP is where the test reaches the node's health endpoints (kube-proxy's).
	healthIP   string
	state      string // the node's own folder: containerd's root
	cgroupRoot string // the kubelet's cgroupRoot, made beforehand in every cgroup v1 hierarchy
	// root prefixes a path of the node's own files as the test sees them: "" when the node is the
	// test's own mount namespace, /proc/<pid>/root when it has one of its own.
	root string
	// enter runs a program in the node's namespaces (nsenter ... --); nil: the test's own.
	enter []string
	// logPrefix names the node's processes and logs apart from the other nodes'.
	logPrefix string
	registry  string // host:port of the stand-in registry the node's containerd pulls through
	cniBinDir string // the CNI plugins' folder containerd reads
	// The kubelet's and kube-proxy's kubeconfigs: each kubelet has an identity of its own
	// (system:node:<name>), as the Node authorizer and NodeRestriction require.
	kubeletKubeconfig, kubeProxyKubeconfig string
	// controlPlane: labelled as kubeadm labels its control-plane nodes; taints are registered by
	// the kubelet (registerWithTaints), so no pod is scheduled there before they are set.
	controlPlane bool
	taints       []string
}

// singleNodeHost is today's real node: the test's own namespaces, a bridge of its own for pods.
func (cp *controlPlane) singleNodeHost(tools nodeTools) nodeHost {
	return nodeHost{
		name: realNodeName, ipv4: nodeIPv4, ipv6: nodeIPv6, healthIP: "127.0.0.1",
		state: tools.state, cgroupRoot: os.Getenv("LAB_TO_PROD_CGROUP_ROOT"),
		registry: registryAddress, cniBinDir: "/usr/lib/cni",
		kubeletKubeconfig: cp.pki.kubeconfigs["kubelet"], kubeProxyKubeconfig: cp.pki.kubeconfigs["kube-proxy"],
		controlPlane: true,
	}
}

// startOn starts a program in the node's namespaces, logging to <control plane dir>/<prefix><name>.log.
func (cp *controlPlane) startOn(n nodeHost, name, path string, args ...string) error {
	if n.enter == nil {
		return cp.startAt(n.logPrefix+name, path, args...)
	}
	return cp.startAt(n.logPrefix+name, n.enter[0], append(append(append([]string{}, n.enter[1:]...), path), args...)...)
}

// writeNodeFile writes a file of the node's own (its /etc is private to it).
func writeNodeFile(n nodeHost, path, content string) error {
	return writeFile(n.root+path, content)
}

// startRealNode brings the node up next to a control plane started with
// controlPlaneOptions{nodeIP: nodeIPv4, ...}: registry, containerd, kubelet,
// the pod network, kube-proxy, the NetworkPolicy firewall, CoreDNS and
// metrics-server. It returns when the Node is Ready and cluster DNS answers
// (metrics-server may still be starting).
func (cp *controlPlane) startRealNode(tools nodeTools, repo string) error {
	node := cp.singleNodeHost(tools)
	if err := cp.startRegistry(tools, registryAddress, filepath.Join(tools.images, "images")); err != nil {
		return err
	}
	if err := cp.startContainerd(node, tools, repo, filepath.Join(tools.images, "images")); err != nil {
		return err
	}
	if err := cp.startKubelet(node, tools); err != nil {
		return err
	}
	if err := cp.startPodNetwork(); err != nil {
		return err
	}
	if err := cp.startKubeProxy(node, tools); err != nil {
		return err
	}
	// The NetworkPolicy agent, both families (policy_agent.go).
	if err := cp.startAt("kube-router", filepath.Join(tools.bin, "kube-router"),
		policyAgentArgs(cp.pki.kubeconfigs["admin"], realNodeName)...); err != nil {
		return err
	}
	if err := cp.startClusterDNS(repo); err != nil {
		return err
	}
	return cp.startMetricsServer(repo)
}

// startRegistry serves the stand-in images at address, under the names of the registries they
// stand in for (<address>/docker.io/library/...): every image of each folder's index.tsv (images/build.sh's,
// and the add-ons' from images/build-addons.sh).
func (cp *controlPlane) startRegistry(tools nodeTools, address string, imageFolders ...string) error {
	crane := filepath.Join(tools.images, "bin", "crane")
	if err := os.MkdirAll(filepath.Join(tools.state, "registry"), 0o755); err != nil {
		return err
	}
	if err := cp.startAt("registry", crane, "registry", "serve", "--address="+address,
		"--disk="+filepath.Join(tools.state, "registry")); err != nil {
		return err
	}
	if err := waitHTTP(plainClient(), "http://"+address+"/v2/", 30*time.Second, cp.exited("registry")); err != nil {
		return cp.explain("registry", err)
	}
	for _, folder := range imageFolders {
		images, err := readImageIndex(folder)
		if err != nil {
			return err
		}
		for _, image := range images {
			out, err := exec.Command(crane, "push", "--insecure", filepath.Join(folder, image.file), address+"/"+image.ref).CombinedOutput()
			if err != nil {
				return fmt.Errorf("pushing %s as %s: %v\n%s", image.file, image.ref, err, out)
			}
		}
	}
	return nil
}

// stoodInImage is one line of an images folder's index.tsv: the image's file and the upstream
// reference it stands in for.
type stoodInImage struct{ file, ref string }

func readImageIndex(folder string) ([]stoodInImage, error) {
	path := filepath.Join(folder, "index.tsv")
	index, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var images []stoodInImage
	for _, line := range strings.Split(strings.TrimSpace(string(index)), "\n") {
		if line == "" {
			continue // an empty index: no image
		}
		file, ref, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("%s: not a <file>\\t<reference> line: %q", path, line)
		}
		images = append(images, stoodInImage{file, ref})
	}
	return images, nil
}

// imageRegistries are the registry hosts of the images in the folders' index.tsv, each once.
func imageRegistries(imageFolders ...string) ([]string, error) {
	seen := map[string]bool{}
	var hosts []string
	for _, folder := range imageFolders {
		images, err := readImageIndex(folder)
		if err != nil {
			return nil, err
		}
		for _, image := range images {
			host, _, _ := strings.Cut(image.ref, "/")
			if !seen[host] {
				seen[host] = true
				hosts = append(hosts, host)
			}
		}
	}
	return hosts, nil
}

// startContainerd configures containerd the way the lab's nodes are configured: the file the
// synth renders for them (dist/lab-bootstrap/containerd-config.toml) is /etc/containerd/config.toml,
// word for word, and one import overrides what this machine cannot do (testNodeContainerdOverrides).
func (cp *controlPlane) startContainerd(n nodeHost, tools nodeTools, repo string, imageFolders ...string) error {
	rendered, err := os.ReadFile(filepath.Join(repo, "dist", "lab-bootstrap", "containerd-config.toml"))
	if err != nil {
		return err
	}
	files := map[string]string{
		// TOML wants top-level keys before the first table: the import goes first.
		"/etc/containerd/config.toml":           "imports = [\"/etc/containerd/conf.d/test-node.toml\"]\n\n" + string(rendered),
		"/etc/containerd/conf.d/test-node.toml": testNodeContainerdOverrides(n.state, n.cniBinDir),
		"/etc/containerd/runsc-test-node.toml":  "[runsc_config]\n  platform = \"systrap\"\n",
	}
	// The lab's mirror is docker.io itself; the test's registry stands in for it, for
	// registry.k8s.io and for the test's own images, so image references resolve unchanged, as
	// through a lab's mirror.
	hosts, err := imageRegistries(imageFolders...)
	if err != nil {
		return err
	}
	for _, upstream := range hosts {
		files["/etc/containerd/certs.d/"+upstream+"/hosts.toml"] = fmt.Sprintf(
			"[host.\"http://%s/v2/%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n  override_path = true\n", n.registry, upstream)
	}
	for path, content := range files {
		if err := writeNodeFile(n, path, content); err != nil {
			return err
		}
	}
	if err := cp.startOn(n, "containerd", filepath.Join(tools.bin, "containerd"), "--config=/etc/containerd/config.toml"); err != nil {
		return err
	}
	// The shims containerd starts are found on the PATH.
	return waitFor(30*time.Second, func() (bool, error) {
		select {
		case <-cp.exited(n.logPrefix + "containerd"):
			return false, cp.explain(n.logPrefix+"containerd", fmt.Errorf("exited"))
		default:
		}
		_, err := os.Stat(n.root + "/run/containerd/containerd.sock")
		return err == nil, nil
	})
}

// testNodeContainerdOverrides is everything the test node's containerd does differently from a lab
// node's, each for a reason of this machine, not of the lab:
//   - cgroupfs instead of systemd: no systemd runs here (and the kubelet is told the same);
//   - restrict_oom_score_adj: no process here may lower an OOM score (CAP_SYS_RESOURCE is not in
//     the machine's bounding set), so a Guaranteed pod's -997 stays at the runtime's own 0;
//   - runsc on the systrap platform, without systemd cgroups (the rendered runsc.toml asks for them);
//   - the CNI plugins' folder (the single node: Debian's; the lab's nodes: /opt/cni/bin, where
//     flannel's init container installs its plugin), and containerd's data on the run's folder
//     (overlayfs cannot stack its snapshots on the private overlay that /var/lib is here);
func testNodeContainerdOverrides(state, cniBinDir string) string {
	return fmt.Sprintf(`version = 2
root = %q

[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  BinaryName = "/usr/sbin/runc"
  SystemdCgroup = false

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc.options]
  ConfigPath = "/etc/containerd/runsc-test-node.toml"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = %q
  conf_dir = "/etc/cni/net.d"
`, filepath.Join(state, "containerd"), cniBinDir)
}

func (cp *controlPlane) startKubelet(n nodeHost, tools nodeTools) error {
	var taints string
	if len(n.taints) > 0 {
		taints = "registerWithTaints:\n"
		for _, taint := range n.taints {
			key, effect, _ := strings.Cut(taint, ":")
			taints += fmt.Sprintf("- {key: %q, effect: %q}\n", key, effect)
		}
	}
	// The share of the node's file system kept free by evicting pods (diskspace.go checks for it first).
	keepFree := fmt.Sprintf("%d%%", kubeletEvictionFreePercent)
	config := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %q}
authorization: {mode: Webhook}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
clusterDNS: [%q]
clusterDomain: cluster.local
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
# This machine: cgroup v1 (its own agent holds the v1 memory controller), no systemd, swap
# possible, no process may lower an OOM score. The pods' cgroups go under a root of this run's own.
cgroupDriver: cgroupfs
cgroupRoot: /%s
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
resolvConf: /etc/kubernetes/node-resolv.conf
serializeImagePulls: false
# Nothing here is the node's to evict for: the machine's disk is shared with everything else.
evictionHard: {memory.available: "100Mi", nodefs.available: %q, imagefs.available: %q, nodefs.inodesFree: "1%%"}
%s`, cp.pki.caCert, clusterDNS, n.cgroupRoot, keepFree, keepFree, taints)
	if n.cgroupRoot == "" {
		return fmt.Errorf("LAB_TO_PROD_CGROUP_ROOT is not set (run-node.sh or run-lab.sh makes the cgroup root and sets it)")
	}
	if err := writeNodeFile(n, "/etc/kubernetes/kubelet-config.yaml", config); err != nil {
		return err
	}
	// The pods' own DNS is the cluster's; this is only what host-network pods see.
	if err := writeNodeFile(n, "/etc/kubernetes/node-resolv.conf", "nameserver "+clusterDNS+"\nsearch .\n"); err != nil {
		return err
	}
	if err := cp.startOn(n, "kubelet", filepath.Join(tools.bin, "kubelet"),
		"--config=/etc/kubernetes/kubelet-config.yaml",
		"--kubeconfig="+n.kubeletKubeconfig,
		"--hostname-override="+n.name,
		"--node-ip="+n.ipv4+","+n.ipv6,
		"--v=1",
	); err != nil {
		return err
	}
	if !n.controlPlane {
		return cp.waitRegistered(n)
	}
	if err := cp.waitRegistered(n); err != nil {
		return err
	}
	// Labelled as kubeadm labels its control-plane node (the kubelet may not set node-role labels
	// itself: NodeRestriction). The lab's etcd backup runs there. kubeadm also keeps it out of
	// external load balancers (kubeadm v1.35's markcontrolplane phase adds both labels), which
	// MetalLB's speaker honours: the lab's addresses are announced from a worker.
	out, err := exec.Command(kubectlBinary(), "--kubeconfig="+cp.kubeconfig, "label", "node", n.name,
		"node-role.kubernetes.io/control-plane=", excludeFromLoadBalancersLabel+"=").CombinedOutput()
	if err != nil {
		return fmt.Errorf("labelling the node %s: %v %s", n.name, err, out)
	}
	return nil
}

// excludeFromLoadBalancersLabel is the label kubeadm puts on its control-plane nodes so that load
// balancers (MetalLB's speaker among them) send no traffic through them.
const excludeFromLoadBalancersLabel = "node.kubernetes.io/exclude-from-external-load-balancers"

// waitRegistered waits for the node's kubelet to register its Node.
func (cp *controlPlane) waitRegistered(n nodeHost) error {
	if err := waitFor(90*time.Second, func() (bool, error) {
		select {
		case <-cp.exited(n.logPrefix + "kubelet"):
			return false, fmt.Errorf("exited")
		default:
		}
		status, _, err := cp.api.get("/api/v1/nodes/" + n.name)
		return status == 200, err
	}); err != nil {
		return cp.explain(n.logPrefix+"kubelet", fmt.Errorf("the Node %s never registered: %w", n.name, err))
	}
	return nil
}

// startPodNetwork writes the CNI configuration once the controller manager has given the node
// its pod subnets: a bridge, one address of each family per pod from host-local.
func (cp *controlPlane) startPodNetwork() error {
	var cidrs []string
	if err := waitFor(60*time.Second, func() (bool, error) {
		var node struct {
			Spec struct {
				PodCIDRs []string `json:"podCIDRs"`
			} `json:"spec"`
		}
		if err := cp.api.getJSON("/api/v1/nodes/"+realNodeName, &node); err != nil {
			return false, err
		}
		cidrs = node.Spec.PodCIDRs
		return len(cidrs) == 2, nil
	}); err != nil {
		return cp.explain("kube-controller-manager", fmt.Errorf("the node got no pod subnets: %w", err))
	}
	var ranges []any
	for _, cidr := range cidrs {
		ranges = append(ranges, []any{map[string]string{"subnet": cidr}})
	}
	conflist := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "lab-node",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": "cni0", "isGateway": true, "hairpinMode": true,
				"ipam": map[string]any{"type": "host-local", "ranges": ranges,
					"routes": []any{map[string]string{"dst": "0.0.0.0/0"}, map[string]string{"dst": "::/0"}}},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	b, err := json.MarshalIndent(conflist, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile("/etc/cni/net.d/10-lab-node.conflist", string(b)+"\n"); err != nil {
		return err
	}
	if err := waitFor(90*time.Second, func() (bool, error) {
		var node object
		if err := cp.api.getJSON("/api/v1/nodes/"+realNodeName, &node); err != nil {
			return false, err
		}
		return condition(node, "Ready") == "True", nil
	}); err != nil {
		return cp.explain("kubelet", fmt.Errorf("the node never became Ready: %w", err))
	}
	return nil
}

func (cp *controlPlane) startKubeProxy(n nodeHost, tools nodeTools) error {
	// iptables mode: this kernel has no IPVS, the lab's mode (dist/lab-bootstrap/kubeadm.yaml).
	// Conntrack limits are VM-wide settings, left as they are (0 = do not touch).
	config := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: %q}
hostnameOverride: %s
mode: iptables
clusterCIDR: %q
oomScoreAdj: 0
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: %s
`, n.kubeProxyKubeconfig, n.name, podSubnets, net.JoinHostPort(n.healthIP, "10256"))
	if err := writeNodeFile(n, "/etc/kubernetes/kube-proxy.yaml", config); err != nil {
		return err
	}
	if err := cp.startOn(n, "kube-proxy", filepath.Join(tools.bin, "kube-proxy"), "--config=/etc/kubernetes/kube-proxy.yaml"); err != nil {
		return err
	}
	return waitHTTP(plainClient(), "http://"+net.JoinHostPort(n.healthIP, "10256")+"/healthz", 60*time.Second, cp.exited(n.logPrefix+"kube-proxy"))
}

// startClusterDNS applies CoreDNS as kubeadm installs it (testdata/node/coredns.yaml) and waits
// for it to answer.
func (cp *controlPlane) startClusterDNS(repo string) error {
	if out, err := cp.applyAddon(repo, "coredns.yaml"); err != nil {
		return fmt.Errorf("applying CoreDNS: %v\n%s", err, out)
	}
	if out, err := cp.kubectl("-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s"); err != nil {
		return fmt.Errorf("CoreDNS did not become ready: %v\n%s", err, out)
	}
	return nil
}

// startMetricsServer applies metrics-server as a kubeadm lab installs it
// (testdata/node/metrics-server.yaml): the lab's metrics pipeline, which its HorizontalPodAutoscalers
// scale on. It does not wait: nothing in the bring-up needs it, and the check that does (TestBehaviours'
// horizontal scaling) waits until the metrics API answers, while the lab deploys meanwhile.
func (cp *controlPlane) startMetricsServer(repo string) error {
	if out, err := cp.applyAddon(repo, "metrics-server.yaml"); err != nil {
		return fmt.Errorf("applying metrics-server: %v\n%s", err, out)
	}
	return nil
}

// applyAddon applies one of the cluster add-ons in testdata/node.
func (cp *controlPlane) applyAddon(repo, file string) (string, error) {
	return cp.kubectl("apply", "--server-side", "--field-manager=cluster-test", "-f", filepath.Join(repo, "test", "cluster", "testdata", "node", file))
}

func (cp *controlPlane) kubectl(args ...string) (string, error) {
	// The kubectl built with the control plane (kubectlBinary): a new machine may have none on its PATH.
	out, err := exec.Command(kubectlBinary(), append([]string{"--kubeconfig=" + cp.kubeconfig}, args...)...).CombinedOutput()
	return string(out), err
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

// inTestNamespace reports whether this process runs in the node's namespaces: the node's address
// is on loopback only there (node-namespace.sh puts it there).
func inTestNamespace() bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if strings.HasPrefix(a.String(), nodeIPv4+"/") {
			return true
		}
	}
	return false
}
