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
	return t, nil
}

// startRealNode brings the node up next to a control plane started with
// controlPlaneOptions{nodeIP: nodeIPv4, ...}: registry, containerd, kubelet,
// the pod network, kube-proxy, the NetworkPolicy firewall, CoreDNS and
// metrics-server. It returns when the Node is Ready and cluster DNS answers
// (metrics-server may still be starting).
func (cp *controlPlane) startRealNode(tools nodeTools, repo string) error {
	if err := cp.startRegistry(tools); err != nil {
		return err
	}
	if err := cp.startContainerd(tools, repo); err != nil {
		return err
	}
	if err := cp.startKubelet(tools); err != nil {
		return err
	}
	if err := cp.startPodNetwork(); err != nil {
		return err
	}
	if err := cp.startKubeProxy(tools); err != nil {
		return err
	}
	if err := cp.startAt("kube-router", filepath.Join(tools.bin, "kube-router"),
		"--kubeconfig="+cp.pki.kubeconfigs["admin"],
		"--hostname-override="+realNodeName,
		"--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--enable-cni=false",
		// IPv4 only: v2.1.0's IPv6 sync fails on this node (ip6tables-restore: "Set KUBE-SRC-...
		// doesn't exist", its IPv6 ipsets are not made under the names its rules use) and aborts
		// the whole sync. The policy checks' requests go over IPv4, the Services' primary family.
		"--enable-ipv4=true", "--enable-ipv6=false",
		"--metrics-port=0", "--health-port=0",
	); err != nil {
		return err
	}
	if err := cp.startClusterDNS(repo); err != nil {
		return err
	}
	return cp.startMetricsServer(repo)
}

// startRegistry serves the stand-in images on loopback, under the names of
// the registries they stand in for (127.0.0.1:5000/docker.io/library/...).
func (cp *controlPlane) startRegistry(tools nodeTools) error {
	crane := filepath.Join(tools.images, "bin", "crane")
	if err := os.MkdirAll(filepath.Join(tools.state, "registry"), 0o755); err != nil {
		return err
	}
	if err := cp.startAt("registry", crane, "registry", "serve", "--address="+registryAddress,
		"--disk="+filepath.Join(tools.state, "registry")); err != nil {
		return err
	}
	if err := waitHTTP(plainClient(), "http://"+registryAddress+"/v2/", 30*time.Second, cp.exited("registry")); err != nil {
		return cp.explain("registry", err)
	}
	index, err := os.ReadFile(filepath.Join(tools.images, "images", "index.tsv"))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(index)), "\n") {
		file, ref, ok := strings.Cut(line, "\t")
		if !ok {
			return fmt.Errorf("images/index.tsv: not a <file>\\t<reference> line: %q", line)
		}
		out, err := exec.Command(crane, "push", "--insecure", filepath.Join(tools.images, "images", file), registryAddress+"/"+ref).CombinedOutput()
		if err != nil {
			return fmt.Errorf("pushing %s as %s: %v\n%s", file, ref, err, out)
		}
	}
	return nil
}

// imageRegistries are the registry hosts of the images in images/index.tsv.
func imageRegistries(tools nodeTools) ([]string, error) {
	index, err := os.ReadFile(filepath.Join(tools.images, "images", "index.tsv"))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var hosts []string
	for _, line := range strings.Split(strings.TrimSpace(string(index)), "\n") {
		_, ref, _ := strings.Cut(line, "\t")
		host, _, _ := strings.Cut(ref, "/")
		if !seen[host] {
			seen[host] = true
			hosts = append(hosts, host)
		}
	}
	return hosts, nil
}

// startContainerd configures containerd the way the lab's nodes are configured: the file the
// synth renders for them (dist/lab-bootstrap/containerd-config.toml) is /etc/containerd/config.toml,
// word for word, and one import overrides what this machine cannot do (testNodeContainerdOverrides).
func (cp *controlPlane) startContainerd(tools nodeTools, repo string) error {
	rendered, err := os.ReadFile(filepath.Join(repo, "dist", "lab-bootstrap", "containerd-config.toml"))
	if err != nil {
		return err
	}
	files := map[string]string{
		// TOML wants top-level keys before the first table: the import goes first.
		"/etc/containerd/config.toml":           "imports = [\"/etc/containerd/conf.d/test-node.toml\"]\n\n" + string(rendered),
		"/etc/containerd/conf.d/test-node.toml": testNodeContainerdOverrides(tools.state),
		"/etc/containerd/runsc-test-node.toml":  "[runsc_config]\n  platform = \"systrap\"\n",
	}
	// The lab's mirror is docker.io itself; the test's registry stands in for it, for
	// registry.k8s.io and for the test's own images, so image references resolve unchanged, as
	// through a lab's mirror.
	hosts, err := imageRegistries(tools)
	if err != nil {
		return err
	}
	for _, upstream := range hosts {
		files["/etc/containerd/certs.d/"+upstream+"/hosts.toml"] = fmt.Sprintf(
			"[host.\"http://%s/v2/%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n  override_path = true\n", registryAddress, upstream)
	}
	for path, content := range files {
		if err := writeFile(path, content); err != nil {
			return err
		}
	}
	if err := cp.startAt("containerd", filepath.Join(tools.bin, "containerd"), "--config=/etc/containerd/config.toml"); err != nil {
		return err
	}
	// The shims containerd starts are found on the PATH.
	return waitFor(30*time.Second, func() (bool, error) {
		select {
		case <-cp.exited("containerd"):
			return false, cp.explain("containerd", fmt.Errorf("exited"))
		default:
		}
		_, err := os.Stat("/run/containerd/containerd.sock")
		return err == nil, nil
	})
}

// testNodeContainerdOverrides is everything the test node's containerd does differently from a lab
// node's, each for a reason of this machine, not of the lab:
//   - cgroupfs instead of systemd: no systemd runs here (and the kubelet is told the same);
//   - restrict_oom_score_adj: no process here may lower an OOM score (CAP_SYS_RESOURCE is not in
//     the machine's bounding set), so a Guaranteed pod's -997 stays at the runtime's own 0;
//   - runsc on the systrap platform, without systemd cgroups (the rendered runsc.toml asks for them);
//   - the Debian CNI plugins' folder, and containerd's data on the run's folder (overlayfs cannot
//     stack its snapshots on the private overlay that /var/lib is here);
func testNodeContainerdOverrides(state string) string {
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
  bin_dir = "/usr/lib/cni"
  conf_dir = "/etc/cni/net.d"
`, filepath.Join(state, "containerd"))
}

func (cp *controlPlane) startKubelet(tools nodeTools) error {
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
evictionHard: {memory.available: "100Mi", nodefs.available: "1%%", imagefs.available: "1%%", nodefs.inodesFree: "1%%"}
`, cp.pki.caCert, clusterDNS, os.Getenv("LAB_TO_PROD_CGROUP_ROOT"))
	if os.Getenv("LAB_TO_PROD_CGROUP_ROOT") == "" {
		return fmt.Errorf("LAB_TO_PROD_CGROUP_ROOT is not set (run-node.sh makes the cgroup root and sets it)")
	}
	if err := writeFile("/etc/kubernetes/kubelet-config.yaml", config); err != nil {
		return err
	}
	// The pods' own DNS is the cluster's; this is only what host-network pods see.
	if err := writeFile("/etc/kubernetes/node-resolv.conf", "nameserver "+clusterDNS+"\nsearch .\n"); err != nil {
		return err
	}
	if err := cp.startAt("kubelet", filepath.Join(tools.bin, "kubelet"),
		"--config=/etc/kubernetes/kubelet-config.yaml",
		"--kubeconfig="+cp.pki.kubeconfigs["kubelet"],
		"--hostname-override="+realNodeName,
		"--node-ip="+nodeIPv4+","+nodeIPv6,
		"--v=1",
	); err != nil {
		return err
	}
	// Registered, then labelled as kubeadm labels its control-plane node (the kubelet may not set
	// node-role labels itself: NodeRestriction). The lab's etcd backup runs there.
	if err := waitFor(90*time.Second, func() (bool, error) {
		select {
		case <-cp.exited("kubelet"):
			return false, fmt.Errorf("exited")
		default:
		}
		status, _, err := cp.api.get("/api/v1/nodes/" + realNodeName)
		return status == 200, err
	}); err != nil {
		return cp.explain("kubelet", fmt.Errorf("the Node never registered: %w", err))
	}
	out, err := exec.Command(kubectlBinary(), "--kubeconfig="+cp.kubeconfig, "label", "node", realNodeName,
		"node-role.kubernetes.io/control-plane=").CombinedOutput()
	if err != nil {
		return fmt.Errorf("labelling the node: %v %s", err, out)
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

func (cp *controlPlane) startKubeProxy(tools nodeTools) error {
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
healthzBindAddress: 127.0.0.1:10256
`, cp.pki.kubeconfigs["kube-proxy"], realNodeName, podSubnets)
	if err := writeFile("/etc/kubernetes/kube-proxy.yaml", config); err != nil {
		return err
	}
	if err := cp.startAt("kube-proxy", filepath.Join(tools.bin, "kube-proxy"), "--config=/etc/kubernetes/kube-proxy.yaml"); err != nil {
		return err
	}
	return waitHTTP(plainClient(), "http://127.0.0.1:10256/healthz", 60*time.Second, cp.exited("kube-proxy"))
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
