package cluster

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLab runs the lab on three real nodes (lab.go): a control-plane node and two workers on a
// LAN, the lab's own pod network (flannel, as dist/lab/01-flannel.yaml renders it) between them,
// and the lab deployed as the README says. `npm run test:lab` (test/cluster/run-lab.sh).
func TestLab(t *testing.T) {
	started := time.Now()
	l, s, figures, memory := startLab(t)
	labDir := filepath.Join(l.tools.state, "rendered", "lab")
	for _, sub := range []struct {
		name  string
		check func(t *testing.T)
	}{
		{"nodes", func(t *testing.T) { l.checkNodes(t) }},
		{"pod network", func(t *testing.T) { l.checkPodNetwork(t, s) }},
		{"the lab applied", func(t *testing.T) { l.deployLab(t, s, labDir) }},
		{"network policy", func(t *testing.T) { l.checkNetworkPolicy(t, s, figures) }},
		{"storage", func(t *testing.T) { l.checkStorage(t, s, figures) }},
		// Before the drain and the node loss, which move the replicas.
		{"spreading", func(t *testing.T) { l.checkSpreading(t, s) }},
		{"from the LAN", func(t *testing.T) { l.checkFromLAN(t, s, figures) }},
		{"over TLS", func(t *testing.T) { l.checkTLS(t, s, figures) }},
		{"drain", func(t *testing.T) { l.checkDrain(t, s, figures) }},
		// Last: the lab has one worker fewer afterwards.
		{"node loss", func(t *testing.T) { l.checkNodeLoss(t, s, figures) }},
	} {
		subStarted := time.Now()
		t.Run(sub.name, sub.check)
		figures.add("subtest "+sub.name, time.Since(subStarted))
	}
	figures.add("whole TestLab", time.Since(started))
	figures.note("peak resident memory, every process of the run (sampled every 2 s): %.2f GiB", float64(memory.peakBytes())/(1<<30))
	figures.print()
	writeLabSection(t, figures)
}

// labAddons are the add-ons whose controllers run in the lab as rendered (dist/lab/0N-<name>.yaml):
// the pod network; MetalLB, whose controller also serves the conversion webhook of its BGPPeer CRD
// (dist/lab/00-metallb-crds.yaml), which the deploy command waits for once that CRD is applied;
// the storage provisioner of the lab's StorageClass; cert-manager, which issues the lab's CA and
// the Ingresses' certificates; Traefik, which serves the Ingresses behind a MetalLB address.
var labAddons = []string{"flannel", "metallb", "local-path-provisioner", "cert-manager", "traefik"}

// startLab brings the lab up: the LAN, the control plane as lab-cp-1's, the registry, the three
// nodes, kube-proxy, the pod network applied from the rendered lab, then CoreDNS. It returns when
// every node is Ready and cluster DNS answers. Everything stops when the test ends.
func startLab(t *testing.T) (*labCluster, *session, *figureLog, *memorySampler) {
	c := loadConfig(t)
	tools, err := nodeToolsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	cgroupRoot := os.Getenv("LAB_TO_PROD_CGROUP_ROOT")
	if cgroupRoot == "" || os.Getenv("LAB_TO_PROD_LAB_NAMESPACE_SH") == "" {
		t.Fatal("the lab runs only inside its namespaces: use `npm run test:lab` (test/cluster/run-lab.sh)")
	}
	figures := &figureLog{title: "the lab on three nodes:"}
	memory := startMemorySampler(2 * time.Second)
	t.Cleanup(memory.shutdown)
	started := time.Now()

	// The lab as the test nodes run it: only the AppArmor requests differ from dist/lab/, and of
	// the add-ons' controllers those the lab runs are kept (labAddons).
	rendered := filepath.Join(tools.state, "rendered")
	args := []string{filepath.Join(c.repo, "speed", "tsrun.js"), filepath.Join(c.repo, "test", "cluster", "render-lab-for-node.ts"), rendered}
	for _, addon := range labAddons {
		args = append(args, "--keep-addon", addon)
	}
	out, err := exec.Command("node", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rendering the lab for the test nodes: %v\n%s", err, out)
	}
	t.Logf("%s", out)

	if err := makeLAN(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(removeLAN)

	cpNode := labMachines[0]
	cpDir := filepath.Join(tools.state, "control-plane")
	if err := os.MkdirAll(cpDir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := startSession(t, c, "lab", cpDir, "lab-cluster-test", controlPlaneOptions{
		nodeIP: cpNode.ipv4, etcdPKI: "/etc/kubernetes/pki/etcd", aggregationLayer: true, apiPort: labAPIPort})
	cp := s.cp
	figures.add("control plane up (lab-cp-1)", time.Since(started))
	s.checkKubectl()

	l := &labCluster{cp: cp, tools: tools, repo: c.repo, addonImages: os.Getenv("LAB_TO_PROD_ADDON_IMAGES"), nodes: newLabNodes(tools, cgroupRoot)}
	if l.addonImages != "" {
		l.addonImages = filepath.Join(l.addonImages, "images")
	}
	if err := l.labKubeconfigs("https://" + net.JoinHostPort(cpNode.ipv4, fmt.Sprint(labAPIPort))); err != nil {
		t.Fatal(err)
	}
	folders := []string{filepath.Join(tools.images, "images")}
	if l.addonImages != "" {
		folders = append(folders, l.addonImages)
	}
	if err := cp.startRegistry(tools, net.JoinHostPort(cpNode.ipv4, labRegistryPort), folders...); err != nil {
		t.Fatal(err)
	}
	figures.add("registry up, images pushed", time.Since(started))
	nodesStarted := time.Now()
	for _, n := range l.nodes {
		if err := l.startNode(n); err != nil {
			t.Fatalf("starting %s: %v%s", n.name, err, s.diagnose())
		}
	}
	figures.add("three kubelets registered, kube-proxy healthy (from start)", time.Since(started))

	// The pod network, as a kubeadm lab's user applies it: the rendered file, unchanged, first of
	// all. Server-side, with the deploy command's field manager, so that its apply of the whole
	// lab later changes nothing here (a client-side apply's fields would conflict with it).
	if out, err := s.kubectl("apply", "--server-side", "--field-manager="+fieldManager, "-f", filepath.Join(rendered, "lab", "01-flannel.yaml")); err != nil {
		t.Fatalf("kubectl apply -f 01-flannel.yaml: %v\n%s", err, out)
	}
	if err := l.waitNodesReady(4 * time.Minute); err != nil {
		t.Fatalf("%v%s", err, s.diagnose())
	}
	figures.add("three nodes Ready with the pod network (from start)", time.Since(started))
	figures.add("  of which nodes and pod network", time.Since(nodesStarted))
	if out, err := s.kubectl("-n", "kube-flannel", "rollout", "status", "daemonset/kube-flannel-ds", "--timeout=180s"); err != nil {
		t.Fatalf("flannel did not become ready on every node: %v\n%s%s", err, out, s.diagnose())
	}
	// The NetworkPolicy agent beside flannel on every node (lab_policy.go: why not the rendered one).
	for _, n := range l.nodes {
		if err := l.startPolicyAgent(n); err != nil {
			t.Fatalf("%v%s", err, s.diagnose())
		}
	}
	figures.add("NetworkPolicy agent on every node (from start)", time.Since(started))
	if err := cp.startClusterDNS(c.repo); err != nil {
		t.Fatalf("%v%s", err, s.diagnose())
	}
	figures.add("all Ready: nodes, flannel, CoreDNS (from start)", time.Since(started))
	return l, s, figures, memory
}

// checkNodes: three nodes Ready; the control-plane node labelled (control-plane, and kept out of
// external load balancers) and tainted as kubeadm does it,
// the workers neither; each node with a pod subnet of each family from the lab's.
func (l *labCluster) checkNodes(t *testing.T) {
	nodes, err := l.nodeStates()
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != len(l.nodes) {
		t.Errorf("nodes: want %d (%s), the cluster has %v", len(l.nodes), labNodeNames(l), sortedKeys(nodes))
	}
	_, v4Net, _ := net.ParseCIDR("10.244.0.0/16")
	_, v6Net, _ := net.ParseCIDR("fd00:10:244::/56")
	for _, n := range l.nodes {
		state, ok := nodes[n.name]
		if !ok {
			t.Errorf("%s: no Node", n.name)
			continue
		}
		if ready, why := state.ready(); !ready {
			t.Errorf("%s: not Ready: %s", n.name, why)
		}
		_, labelled := state.Metadata.Labels["node-role.kubernetes.io/control-plane"]
		_, excluded := state.Metadata.Labels[excludeFromLoadBalancersLabel]
		labelled = labelled && excluded
		var taints []string
		for _, taint := range state.Spec.Taints {
			taints = append(taints, taint.Key+":"+taint.Effect)
		}
		tainted := strings.Join(taints, ",") == controlPlaneTaint
		if n.controlPlane && (!labelled || !tainted) {
			t.Errorf("%s: want the labels node-role.kubernetes.io/control-plane=\"\" and %s=\"\" and the taint %s (kubeadm's), got labels %v, taints %v",
				n.name, excludeFromLoadBalancersLabel, controlPlaneTaint, state.Metadata.Labels, taints)
		}
		if !n.controlPlane && (labelled || len(taints) > 0) {
			t.Errorf("%s: a worker has no control-plane label and no taint, got labels %v, taints %v", n.name, state.Metadata.Labels, taints)
		}
		var v4, v6 bool
		for _, cidr := range state.Spec.PodCIDRs {
			ip, subnet, err := net.ParseCIDR(cidr)
			if err != nil {
				continue
			}
			ones, _ := subnet.Mask.Size()
			v4 = v4 || (ip.To4() != nil && v4Net.Contains(ip) && ones == 24)
			v6 = v6 || (ip.To4() == nil && v6Net.Contains(ip) && ones == 64)
		}
		if !v4 || !v6 {
			t.Errorf("%s: want a /24 of 10.244.0.0/16 and a /64 of fd00:10:244::/56 (the lab's pod subnets), got podCIDRs %v", n.name, state.Spec.PodCIDRs)
		}
		t.Logf("%s: Ready, podCIDRs %v, taints %v", n.name, state.Spec.PodCIDRs, taints)
	}
}

func labNodeNames(l *labCluster) string {
	var names []string
	for _, n := range l.nodes {
		names = append(names, n.name)
	}
	return strings.Join(names, ", ")
}

// The pod network check's objects: servers on lab-worker-2 and lab-cp-1, a client on
// lab-worker-1, in a namespace of the test's own.
const podNetworkNamespace = "pod-network-check"

// checkPodNetwork: a pod on lab-worker-1 reaches pods on lab-worker-2 and lab-cp-1 by their pod
// addresses and a ClusterIP Service whose only endpoint is on lab-worker-2, over IPv4 and IPv6,
// and the packets leave lab-worker-1 through flannel's VXLAN links (flannel.1, flannel-v6.1) over
// its LAN link.
func (l *labCluster) checkPodNetwork(t *testing.T, s *session) {
	if out, err := s.kubectl("create", "namespace", podNetworkNamespace); err != nil && !strings.Contains(out, "AlreadyExists") {
		t.Fatalf("%v: %s", err, out)
	}
	worker1, worker2, cp1 := l.node("lab-worker-1"), l.node("lab-worker-2"), l.controlPlaneNode()
	for _, server := range []*labNode{worker2, cp1} {
		l.startPinnedPod(t, s, "echo-"+server.name, server, map[string]any{
			"name": "echo", "image": "docker.io/hashicorp/http-echo:1.0.0",
			"args": []string{"-listen=:5678", "-text=" + server.name},
		})
	}
	l.startPinnedPod(t, s, "client", worker1, map[string]any{"name": "probe", "image": probeImage, "args": []string{"wait"}})
	service := map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "echo", "namespace": podNetworkNamespace},
		"spec": map[string]any{
			"ipFamilyPolicy": "RequireDualStack", "ipFamilies": []string{"IPv4", "IPv6"},
			"selector": map[string]string{"pod-network-check": "echo-" + worker2.name},
			"ports":    []any{map[string]any{"port": 80, "targetPort": 5678}},
		},
	}
	b, _ := json.Marshal(service)
	if out, err := s.applyJSON(string(b)); err != nil {
		t.Fatalf("the Service: %v\n%s", err, out)
	}
	var svc struct {
		Spec struct {
			ClusterIPs []string `json:"clusterIPs"`
		} `json:"spec"`
	}
	if err := s.kubectlJSON(&svc, "get", "service", "-n", podNetworkNamespace, "echo"); err != nil {
		t.Fatal(err)
	}

	before, err := l.vxlanLinks(worker1)
	if err != nil {
		t.Fatal(err)
	}
	for _, family := range ipFamilies {
		for _, server := range []*labNode{worker2, cp1} {
			address := l.podIP(t, s, "echo-"+server.name, family)
			l.checkReaches(t, s, family, "http://"+net.JoinHostPort(address, "5678")+"/", server.name, "the pod on "+server.name+" by its address")
		}
		for _, clusterIP := range svc.Spec.ClusterIPs {
			if (strings.Contains(clusterIP, ":")) == (family == "6") {
				l.checkReaches(t, s, family, "http://"+net.JoinHostPort(clusterIP, "80")+"/", worker2.name, "the Service's ClusterIP "+clusterIP+" (its endpoint on "+worker2.name+")")
			}
		}
	}
	after, err := l.vxlanLinks(worker1)
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{"flannel.1", "flannel-v6.1"} {
		a, ok := after[link]
		if !ok {
			t.Errorf("%s: no VXLAN link %s (flannel's, one per family); its VXLAN links: %v", worker1.name, link, sortedKeys(after))
			continue
		}
		if a.device != "eth0" {
			t.Errorf("%s: %s sends over %q, want eth0 (the LAN)", worker1.name, link, a.device)
		}
		sent := a.txPackets - before[link].txPackets
		if sent <= 0 {
			t.Errorf("%s: %s sent no packet while the pods talked across nodes over it", worker1.name, link)
		}
		t.Logf("%s: %s (VXLAN id %d over %s) sent %d packets during the check", worker1.name, link, a.id, a.device, sent)
	}
}

// startPinnedPod runs a pod of the test's own on a given node (by nodeName: the scheduler is not
// asked; the pod still tolerates the control-plane taint, as a pod meant for that node says) and
// waits until it is Ready.
func (l *labCluster) startPinnedPod(t *testing.T, s *session, name string, n *labNode, container map[string]any) {
	container["securityContext"] = map[string]any{"allowPrivilegeEscalation": false, "runAsNonRoot": true, "runAsUser": 65532,
		"capabilities": map[string]any{"drop": []string{"ALL"}}, "seccompProfile": map[string]string{"type": "RuntimeDefault"}}
	container["resources"] = map[string]any{"requests": map[string]string{"cpu": "10m", "memory": "16Mi"},
		"limits": map[string]string{"cpu": "100m", "memory": "32Mi"}}
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": podNetworkNamespace, "labels": map[string]string{"pod-network-check": name}},
		"spec": map[string]any{
			"nodeName":                      n.name,
			"terminationGracePeriodSeconds": 1,
			"tolerations":                   []any{map[string]string{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}},
			"containers":                    []any{container},
		},
	}
	b, _ := json.Marshal(pod)
	if out, err := s.applyJSON(string(b)); err != nil {
		t.Fatalf("pod %s: %v\n%s", name, err, out)
	}
	if out, err := s.kubectl("wait", "-n", podNetworkNamespace, "--for=condition=Ready", "pod/"+name, "--timeout=120s"); err != nil {
		t.Fatalf("pod %s on %s not Ready: %v %s%s", name, n.name, err, out, s.diagnose())
	}
}

// podIP is a pod's address of a family ("4" or "6").
func (l *labCluster) podIP(t *testing.T, s *session, name, family string) string {
	var p struct {
		Status struct {
			PodIPs []struct {
				IP string `json:"ip"`
			} `json:"podIPs"`
		} `json:"status"`
	}
	if err := s.kubectlJSON(&p, "get", "pod", "-n", podNetworkNamespace, name); err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Status.PodIPs {
		if strings.Contains(a.IP, ":") == (family == "6") {
			return a.IP
		}
	}
	t.Fatalf("pod %s has no IPv%s address: %+v", name, family, p.Status.PodIPs)
	return ""
}

// checkReaches asks the client pod for url over one family until the answer names want, within a
// bound; the error gives the last answer.
func (l *labCluster) checkReaches(t *testing.T, s *session, family, url, want, what string) {
	var out string
	err := waitFor(30*time.Second, func() (bool, error) {
		var err error
		out, err = s.kubectl("exec", "-n", podNetworkNamespace, "client", "--", "probe", "--timeout=3s", "--family="+family, "http", url)
		return err == nil && strings.Contains(out, want), nil
	})
	if err != nil {
		t.Errorf("IPv%s: lab-worker-1's pod did not reach %s (%s): %v; last answer: %s", family, what, url, err, strings.TrimSpace(out))
		return
	}
	t.Logf("IPv%s: lab-worker-1 -> %s: %s", family, what, strings.Join(strings.Fields(out), " "))
}

// deployLab deploys the lab the way the README says (as TestRealNode does, deployLabAsReadmeSays)
// and waits until every rollout has finished, web's and api's pods Ready among them.
func (l *labCluster) deployLab(t *testing.T, s *session, labDir string) {
	s.t = t
	manifest := s.readManifest(labDir)
	provided, err := l.cp.createWhatTheClusterProvides(manifest)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("what the cluster or its add-ons provide, stood in for: %s", strings.Join(provided, ", "))
	// No stand-in provisioner (provisioner.go): the lab's own, local-path-provisioner, is among
	// labAddons, and two provisioners would race for the same claims.
	l.startAddons(t, s, labDir, manifest)
	s.deployLabAsReadmeSays(labDir, manifest)
	for _, ns := range []string{"web", "api"} {
		if out, err := s.kubectl("-n", ns, "rollout", "status", "deployment/"+ns, "--timeout=60s"); err != nil {
			t.Errorf("%s not rolled out: %v\n%s", ns, err, out)
		}
	}
}

// startAddons applies the add-ons' controllers the lab runs (labAddons, after their CRDs) and
// waits until they are rolled out, before the README's steps: the platform file holds objects of
// their kinds in their namespaces (MetalLB's address pool), which their webhooks admit. Applied
// with the deploy command's field manager, so that its apply later changes nothing.
func (l *labCluster) startAddons(t *testing.T, s *session, labDir string, manifest []object) {
	s.installCRDs(labDir)
	args := []string{"apply", "--server-side", "--field-manager=" + fieldManager}
	files, err := filepath.Glob(filepath.Join(labDir, "0[1-4]-*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no add-on files in %s (%v)", labDir, err)
	}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	if out, err := s.kubectl(args...); err != nil {
		t.Fatalf("applying the add-ons: %v\n%s", err, out)
	}
	apps := map[string]bool{"kube-system": true}
	for _, ns := range appNamespaces {
		apps[ns] = true
	}
	for _, o := range manifest {
		if (o.Kind == "Deployment" || o.Kind == "DaemonSet") && !apps[o.Metadata.Namespace] {
			if out, err := s.kubectl("-n", o.Metadata.Namespace, "rollout", "status", strings.ToLower(o.Kind)+"/"+o.Metadata.Name, "--timeout=180s"); err != nil {
				t.Fatalf("add-on %s %s not rolled out: %v\n%s%s", o.Kind, nsName(o), err, out, s.diagnose())
			}
		}
	}
}

// checkSpreading: web's and api's replicas are on both workers and none on the control-plane node
// (their topology spread over kubernetes.io/hostname, with the control-plane taint honoured), and
// a Job made from the lab's etcd-backup CronJob lands on the control-plane node.
func (l *labCluster) checkSpreading(t *testing.T, s *session) {
	s.t = t
	for _, ns := range []string{"web", "api"} {
		perNode := map[string]int{}
		for _, p := range s.pods(ns) {
			if p.Status.Phase != "Running" {
				continue
			}
			node, _ := p.Spec["nodeName"].(string)
			perNode[node]++
		}
		if perNode["lab-worker-1"] == 0 || perNode["lab-worker-2"] == 0 || perNode["lab-cp-1"] != 0 {
			t.Errorf("%s: want replicas on both workers and none on lab-cp-1 (the control-plane taint), got %v", ns, perNode)
		}
		t.Logf("%s: replicas per node %v", ns, perNode)
	}
	if out, err := s.kubectl("-n", "kube-system", "create", "job", "etcd-backup-placement", "--from=cronjob/etcd-backup"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var node string
	err := waitFor(60*time.Second, func() (bool, error) {
		var list struct {
			Items []pod `json:"items"`
		}
		if err := s.kubectlJSON(&list, "get", "pods", "-n", "kube-system", "-l", "job-name=etcd-backup-placement"); err != nil {
			return false, err
		}
		for _, p := range list.Items {
			node, _ = p.Spec["nodeName"].(string)
		}
		return node != "", nil
	})
	if err != nil || node != "lab-cp-1" {
		t.Errorf("the etcd backup's pod: want it scheduled on lab-cp-1 (its nodeSelector and toleration), got node %q (%v)", node, err)
	}
	t.Logf("the etcd backup's pod (a Job from the CronJob) scheduled on %s", node)
}
