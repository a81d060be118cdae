package cluster

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The lab seen from the LAN (TestLab's "from the LAN", "drain" and "node loss"): web's LoadBalancer
// Service through MetalLB in layer 2, as the primer's reader reaches it from a laptop on the same
// LAN, then while a worker is drained, then while a worker is lost. Needs the lab applied
// (deployLab) with MetalLB running (labAddons).

// lanPod is the part of a Pod these checks read.
type lanPod struct {
	Metadata struct {
		Name              string            `json:"name"`
		Namespace         string            `json:"namespace"`
		Labels            map[string]string `json:"labels"`
		DeletionTimestamp string            `json:"deletionTimestamp"`
		OwnerReferences   []struct {
			Kind string `json:"kind"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
	Spec struct {
		NodeName string `json:"nodeName"`
		Volumes  []struct {
			PersistentVolumeClaim *struct {
				ClaimName string `json:"claimName"`
			} `json:"persistentVolumeClaim"`
		} `json:"volumes"`
	} `json:"spec"`
	Status struct {
		Phase      string `json:"phase"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
	} `json:"status"`
}

// healthy is what a PodDisruptionBudget counts: Ready and not being deleted.
func (p lanPod) healthy() bool {
	if p.Metadata.DeletionTimestamp != "" {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// lanPods lists pods through the API (cheaper than kubectl when sampled twice a second).
func (l *labCluster) lanPods(namespace, selector string) ([]lanPod, error) {
	var list struct {
		Items []lanPod `json:"items"`
	}
	path := "/api/v1/pods"
	if namespace != "" {
		path = "/api/v1/namespaces/" + namespace + "/pods"
	}
	if selector != "" {
		path += "?labelSelector=" + url.QueryEscape(selector)
	}
	err := l.cp.api.getJSON(path, &list)
	return list.Items, err
}

// webService is the lab's web Service (dist/lab/10-web.yaml): LoadBalancer, both families.
const webNamespace, webService = "web", "web"

// lanAddresses waits (bounded) until MetalLB has given web's Service an address of every family
// it asks for, and returns them by family ("4", "6").
func (l *labCluster) lanAddresses(t *testing.T) map[string]string {
	var svc struct {
		Spec struct {
			IPFamilies []string `json:"ipFamilies"`
		} `json:"spec"`
	}
	if err := l.cp.api.getJSON("/api/v1/namespaces/"+webNamespace+"/services/"+webService, &svc); err != nil {
		t.Fatal(err)
	}
	byFamily := map[string]string{}
	var last []string
	err := waitFor(90*time.Second, func() (bool, error) {
		var err error
		if last, err = l.loadBalancerAddresses(webNamespace, webService); err != nil {
			return false, err
		}
		byFamily = map[string]string{}
		for _, a := range last {
			byFamily[family(a)] = a
		}
		return len(byFamily) == len(svc.Spec.IPFamilies), nil
	})
	if err != nil {
		t.Fatalf("web's Service asks for %v; MetalLB gave it %v: %v%s", svc.Spec.IPFamilies, last, err, l.metallbState())
	}
	return byFamily
}

// family is "4" or "6", as ipFamilies (realnode_network_test.go) names them.
func family(address string) string {
	if strings.Contains(address, ":") {
		return "6"
	}
	return "4"
}

// lanURL is web's address as a browser on the laptop asks it.
func lanURL(address string) string { return "http://" + net.JoinHostPort(address, "80") + "/" }

// metallbState is MetalLB's pods and the Service's events, for messages.
func (l *labCluster) metallbState() string {
	pods, _ := l.lanPods("metallb-system", "")
	var lines []string
	for _, p := range pods {
		lines = append(lines, fmt.Sprintf("%s on %s: %s healthy=%v", p.Metadata.Name, p.Spec.NodeName, p.Status.Phase, p.healthy()))
	}
	return "\nMetalLB's pods:\n  " + strings.Join(lines, "\n  ") +
		"\nweb's Service's nodeAssigned events:\n  " + strings.Join(l.announcementEvents(webNamespace, webService), "\n  ")
}

// announcer is the one node MetalLB announces web's addresses from; more or none fails the test.
func (l *labCluster) announcer(t *testing.T) string {
	var nodes []string
	err := waitFor(30*time.Second, func() (bool, error) {
		var err error
		nodes, err = l.announcingNodes(webNamespace, webService)
		return len(nodes) == 1, err
	})
	if err != nil {
		t.Fatalf("MetalLB's ServiceL2Statuses for web name the nodes %v, want exactly one: %v%s", nodes, err, l.metallbState())
	}
	return nodes[0]
}

// macs are every node's LAN hardware address, by node.
func (l *labCluster) macs(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, n := range l.nodes {
		mac, err := l.lanMAC(n)
		if err != nil {
			t.Fatal(err)
		}
		out[n.name] = mac
	}
	return out
}

// nodeOfMAC names the node a hardware address is the LAN link of, for messages.
func nodeOfMAC(macs map[string]string, mac string) string {
	for name, m := range macs {
		if m == mac {
			return name
		}
	}
	return "no node's eth0"
}

// checkFromLAN: MetalLB gives web's LoadBalancer Service an address of each family from the
// lab's pool; from the laptop (on the LAN only) an HTTP request to each answers, and the laptop's
// neighbour entry for each (ARP for IPv4, NDP for IPv6) is the LAN link of the node MetalLB's
// speaker announces it from.
func (l *labCluster) checkFromLAN(t *testing.T, s *session, figures *figureLog) {
	s.t = t
	started := time.Now()
	var svc struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	if err := l.cp.api.getJSON("/api/v1/namespaces/"+webNamespace+"/services/"+webService, &svc); err != nil {
		t.Fatal(err)
	}
	poolName := svc.Metadata.Annotations["metallb.io/address-pool"]
	pool, err := l.metallbPool(poolName)
	if err != nil {
		t.Fatalf("web's Service names the address pool %q (metallb.io/address-pool): %v", poolName, err)
	}
	addresses := l.lanAddresses(t)
	figures.add("from the LAN: web's addresses assigned by MetalLB (from subtest start)", time.Since(started))
	for _, f := range ipFamilies {
		if a := addresses[f]; !pool.contains(a) {
			t.Errorf("web's IPv%s address %s is not in MetalLB's pool %s %v", f, a, pool.name, pool.ranges)
		}
	}
	t.Logf("web's addresses %v, from the pool %s %v", addresses, pool.name, pool.ranges)

	// The laptop is on the LAN and nowhere else: what answers, answers over the LAN.
	routes := laptopRoutes()
	if strings.Contains(routes, "default") {
		t.Errorf("the laptop has a default route (%s): it must reach web over the LAN alone", routes)
	}
	t.Logf("the laptop's routes: %s", routes)

	node := l.announcer(t)
	macs := l.macs(t)
	laptop := labLaptop()
	for _, f := range ipFamilies {
		address := addresses[f]
		var answer laptopAnswer
		var last error
		err := waitFor(60*time.Second, func() (bool, error) {
			answer, last = laptopGet(lanURL(address), 3*time.Second)
			return last == nil && answer.status == 200, nil
		})
		if err != nil {
			t.Errorf("IPv%s: the laptop got no 200 from %s within a minute: last %v (status %d)%s", f, lanURL(address), last, answer.status, l.metallbState())
			continue
		}
		figures.add("from the LAN: IPv"+f+" answers from the laptop (from subtest start)", time.Since(started))
		from, _, _ := net.SplitHostPort(answer.from)
		want := laptop.ipv4
		if f == "6" {
			want = laptop.ipv6
		}
		if from != want {
			t.Errorf("IPv%s: the request left from %s, want the laptop's LAN address %s", f, from, want)
		}
		entry, err := laptopNeighbour(address)
		if err != nil {
			t.Fatal(err)
		}
		if entry.LLAddr != macs[node] {
			t.Errorf("IPv%s: the laptop's neighbour entry for %s is %q (%s, state %v), want %s, eth0 of %s, which MetalLB announces it from; the nodes' eth0: %v%s",
				f, address, entry.LLAddr, nodeOfMAC(macs, entry.LLAddr), entry.State, macs[node], node, macs, l.metallbState())
			continue
		}
		t.Logf("IPv%s: laptop %s -> %s: %d, %d bytes; neighbour entry %s (%s) = eth0 of %s, which MetalLB announces from",
			f, from, lanURL(address), answer.status, answer.bytes, entry.LLAddr, strings.Join(entry.State, ","), node)
	}
}

// laptopTraffic sends one request from the laptop every interval, each with its own timeout, until
// stopped or max requests: the reader's browser hitting refresh while the lab changes under it.
type laptopTraffic struct {
	mu       sync.Mutex
	answered int
	failed   []string // the first failures, with when they happened
	failures int
	started  time.Time
	stopped  time.Duration
	stop     chan struct{}
	done     chan struct{}
}

func startLaptopTraffic(url string, every, timeout time.Duration, max int) *laptopTraffic {
	tr := &laptopTraffic{started: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(tr.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; i < max; i++ {
			answer, err := laptopGet(url, timeout)
			tr.mu.Lock()
			if err == nil && answer.status == 200 {
				tr.answered++
			} else {
				tr.failures++
				if len(tr.failed) < 5 {
					tr.failed = append(tr.failed, fmt.Sprintf("at %.1fs: %v (status %d)", time.Since(tr.started).Seconds(), err, answer.status))
				}
			}
			tr.mu.Unlock()
			select {
			case <-tr.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return tr
}

func (tr *laptopTraffic) finish() {
	close(tr.stop)
	<-tr.done
	tr.stopped = time.Since(tr.started)
}

// pdbWatch samples how many pods a PodDisruptionBudget covers are healthy, twice a second, and
// keeps the lowest count seen, against the PDB's own computed minimum (status.desiredHealthy).
type pdbWatch struct {
	namespace, selector string
	desiredHealthy      int
	mu                  sync.Mutex
	lowest              int
	lowestAt            time.Duration
	samples             int
}

func (l *labCluster) watchPDB(t *testing.T, namespace, name string) *pdbWatch {
	var pdb struct {
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
		} `json:"spec"`
		Status struct {
			DesiredHealthy int `json:"desiredHealthy"`
			CurrentHealthy int `json:"currentHealthy"`
		} `json:"status"`
	}
	if err := l.cp.api.getJSON("/apis/policy/v1/namespaces/"+namespace+"/poddisruptionbudgets/"+name, &pdb); err != nil {
		t.Fatal(err)
	}
	var terms []string
	for k, v := range pdb.Spec.Selector.MatchLabels {
		terms = append(terms, k+"="+v)
	}
	sort.Strings(terms)
	t.Logf("PodDisruptionBudget %s/%s: %d healthy, at least %d", namespace, name, pdb.Status.CurrentHealthy, pdb.Status.DesiredHealthy)
	return &pdbWatch{namespace: namespace, selector: strings.Join(terms, ","), desiredHealthy: pdb.Status.DesiredHealthy, lowest: -1}
}

func (w *pdbWatch) sample(l *labCluster, since time.Time) {
	pods, err := l.lanPods(w.namespace, w.selector)
	if err != nil {
		return
	}
	healthy := 0
	for _, p := range pods {
		if p.healthy() {
			healthy++
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples++
	if w.lowest < 0 || healthy < w.lowest {
		w.lowest, w.lowestAt = healthy, time.Since(since)
	}
}

// checkDrain: while the laptop asks web's IPv4 address ten times a second, `kubectl drain` of a
// worker with web's pods (the one MetalLB does not announce from, if it can: node loss then takes
// the announcing one with all of web) finishes with no failed request, web's and api's
// PodDisruptionBudgets never below their minimum, and every Deployment and StatefulSet of the lab
// Ready again on the other worker; then the worker is uncordoned.
func (l *labCluster) checkDrain(t *testing.T, s *session, figures *figureLog) {
	s.t = t
	addresses := l.lanAddresses(t)
	announcing := l.announcer(t)
	webPods, err := l.lanPods(webNamespace, "app.kubernetes.io/name=web")
	if err != nil {
		t.Fatal(err)
	}
	withWeb := map[string]bool{}
	for _, p := range webPods {
		if p.healthy() {
			withWeb[p.Spec.NodeName] = true
		}
	}
	var target *labNode
	for _, n := range l.nodes {
		if !n.controlPlane && withWeb[n.name] && (target == nil || target.name == announcing) {
			target = n
		}
	}
	if target == nil {
		t.Fatalf("no worker runs a Ready web pod (web's pods by node: %v)", withWeb)
	}
	t.Logf("draining %s (web's pods on %v; MetalLB announces web from %s)", target.name, sortedKeys(withWeb), announcing)

	// The other subtests' own client pods have no controller, and drain refuses such pods (they
	// would not come back): they are the test's, not the lab's, so they go first. A pod of the lab
	// without a controller stays, and the drain says so.
	all, err := l.lanPods("", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range all {
		if p.Spec.NodeName == target.name && len(p.Metadata.OwnerReferences) == 0 && p.Metadata.Labels["app.kubernetes.io/part-of"] != "lab-to-prod" {
			if out, err := s.kubectl("delete", "pod", "-n", p.Metadata.Namespace, p.Metadata.Name, "--grace-period=1", "--wait=true"); err != nil {
				t.Fatalf("deleting the test's own pod %s/%s: %v\n%s", p.Metadata.Namespace, p.Metadata.Name, err, out)
			}
			t.Logf("deleted the test's own pod %s/%s from %s (no controller)", p.Metadata.Namespace, p.Metadata.Name, target.name)
		}
	}

	watches := []*pdbWatch{l.watchPDB(t, "web", "web"), l.watchPDB(t, "api", "api")}
	sampling := make(chan struct{})
	sampled := make(chan struct{})
	started := time.Now()
	go func() {
		defer close(sampled)
		for {
			for _, w := range watches {
				w.sample(l, started)
			}
			select {
			case <-sampling:
				return
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	// At most five minutes of requests, one every 100 ms, each given a second.
	traffic := startLaptopTraffic(lanURL(addresses["4"]), 100*time.Millisecond, time.Second, 3000)
	stopAll := func() {
		traffic.finish()
		select {
		case <-sampling:
		default:
			close(sampling)
		}
		<-sampled
	}
	defer func() {
		if out, err := s.kubectl("uncordon", target.name); err != nil {
			t.Errorf("uncordon %s: %v\n%s", target.name, err, out)
			return
		}
		// What waited for the node (a pod whose volume is on it) is Ready again once it is back.
		uncordoned := time.Now()
		var notReady, held []string
		err := waitFor(120*time.Second, func() (bool, error) {
			var err error
			notReady, held, err = l.labWorkloadsNotReady("")
			return len(notReady)+len(held) == 0, err
		})
		if err != nil {
			t.Errorf("after uncordoning %s, not everything Ready: %v; last seen:\n  %s", target.name, err, strings.Join(append(notReady, held...), "\n  "))
			return
		}
		figures.add("drain: uncordon -> every workload Ready", time.Since(uncordoned))
	}()

	// The traffic runs a few seconds before the drain, so a failure that has nothing to do with it shows.
	time.Sleep(3 * time.Second)
	drainStarted := time.Now()
	out, err := s.kubectl("drain", target.name, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=240s")
	drained := time.Since(drainStarted)
	if err != nil {
		stopAll()
		t.Fatalf("kubectl drain %s: %v\n%s%s", target.name, err, out, s.diagnose())
	}
	t.Logf("kubectl drain %s (%.1fs):\n%s", target.name, drained.Seconds(), out)

	var notReady, held []string
	err = waitFor(180*time.Second, func() (bool, error) {
		var err error
		notReady, held, err = l.labWorkloadsNotReady(target.name)
		return len(notReady) == 0, err
	})
	allReady := time.Since(drainStarted)
	time.Sleep(3 * time.Second)
	stopAll()
	if err != nil {
		t.Errorf("after draining %s, not everything Ready on the other nodes: %v; last seen:\n  %s", target.name, err, strings.Join(notReady, "\n  "))
	}
	if len(held) > 0 {
		// A local volume lives on its node's disk: its pod can only wait for that node to return.
		t.Logf("waiting for %s to return (their volumes are on its disk):\n  %s", target.name, strings.Join(held, "\n  "))
	}

	traffic.mu.Lock()
	defer traffic.mu.Unlock()
	t.Logf("the laptop's requests to %s: %d answered, %d failed, over %.1fs", lanURL(addresses["4"]), traffic.answered, traffic.failures, traffic.stopped.Seconds())
	if traffic.failures > 0 || traffic.answered == 0 {
		t.Errorf("while %s was drained, %d of the laptop's requests to %s failed (%d answered); first failures:\n  %s",
			target.name, traffic.failures, lanURL(addresses["4"]), traffic.answered, strings.Join(traffic.failed, "\n  "))
	}
	for _, w := range watches {
		t.Logf("%s: at least %d healthy pods seen (lowest at %.1fs, %d samples); its PodDisruptionBudget's minimum %d",
			w.namespace, w.lowest, w.lowestAt.Seconds(), w.samples, w.desiredHealthy)
		if w.lowest < w.desiredHealthy {
			t.Errorf("%s: %d healthy pods at %.1fs, below its PodDisruptionBudget's minimum %d", w.namespace, w.lowest, w.lowestAt.Seconds(), w.desiredHealthy)
		}
	}
	figures.add("drain: kubectl drain "+target.name, drained)
	figures.add("drain: from the drain's start to every workload Ready elsewhere", allReady)
	figures.note("drain: the laptop's requests (one every 100 ms): %d answered, %d failed, over %.1fs", traffic.answered, traffic.failures, traffic.stopped.Seconds())
}

// labWorkloadsNotReady lists what of the lab's workloads is not yet whole: a Deployment or
// StatefulSet of its namespaces with fewer Ready replicas than it wants, or a pod of them still on
// the drained node. A StatefulSet whose pod waits for a volume that lives on the drained node
// (local-path's volumes are a folder of one node, pinned there by the PersistentVolume's node
// affinity) is listed apart, in held: it can only come back with the node.
func (l *labCluster) labWorkloadsNotReady(drained string) (out, held []string, err error) {
	pinned, err := l.claimsPinnedTo(drained)
	if err != nil {
		return nil, nil, err
	}
	for _, ns := range appNamespaces {
		pods, err := l.lanPods(ns, "")
		if err != nil {
			return nil, nil, err
		}
		for _, kind := range []string{"deployments", "statefulsets"} {
			var list struct {
				Items []struct {
					Metadata struct {
						Name string `json:"name"`
					} `json:"metadata"`
					Spec struct {
						Replicas int `json:"replicas"`
					} `json:"spec"`
					Status struct {
						ReadyReplicas   int `json:"readyReplicas"`
						UpdatedReplicas int `json:"updatedReplicas"`
					} `json:"status"`
				} `json:"items"`
			}
			if err := l.cp.api.getJSON("/apis/apps/v1/namespaces/"+ns+"/"+kind, &list); err != nil {
				return nil, nil, err
			}
			for _, w := range list.Items {
				if w.Status.ReadyReplicas >= w.Spec.Replicas {
					continue
				}
				line := fmt.Sprintf("%s %s/%s: %d of %d Ready", kind, ns, w.Metadata.Name, w.Status.ReadyReplicas, w.Spec.Replicas)
				waits := false
				for _, p := range pods {
					for _, v := range p.Spec.Volumes {
						if kind == "statefulsets" && strings.HasPrefix(p.Metadata.Name, w.Metadata.Name+"-") &&
							v.PersistentVolumeClaim != nil && pinned[ns+"/"+v.PersistentVolumeClaim.ClaimName] {
							waits = true
							line += fmt.Sprintf(" (pod %s: its claim %s's volume is on %s)", p.Metadata.Name, v.PersistentVolumeClaim.ClaimName, drained)
						}
					}
				}
				if waits {
					held = append(held, line)
				} else {
					out = append(out, line)
				}
			}
		}
		for _, p := range pods {
			if drained != "" && p.Spec.NodeName == drained && p.Status.Phase != "Succeeded" && p.Status.Phase != "Failed" {
				out = append(out, fmt.Sprintf("pod %s/%s still on %s (%s)", ns, p.Metadata.Name, drained, p.Status.Phase))
			}
		}
	}
	return out, held, nil
}

// claimsPinnedTo are the claims ("namespace/name") whose PersistentVolume may only be used on the
// given node (its required node affinity names it).
func (l *labCluster) claimsPinnedTo(node string) (map[string]bool, error) {
	pinned := map[string]bool{}
	if node == "" {
		return pinned, nil
	}
	var list struct {
		Items []struct {
			Spec struct {
				ClaimRef *struct {
					Namespace string `json:"namespace"`
					Name      string `json:"name"`
				} `json:"claimRef"`
				NodeAffinity *struct {
					Required struct {
						NodeSelectorTerms []struct {
							MatchExpressions []struct {
								Values []string `json:"values"`
							} `json:"matchExpressions"`
						} `json:"nodeSelectorTerms"`
					} `json:"required"`
				} `json:"nodeAffinity"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := l.cp.api.getJSON("/api/v1/persistentvolumes", &list); err != nil {
		return nil, err
	}
	for _, pv := range list.Items {
		if pv.Spec.ClaimRef == nil || pv.Spec.NodeAffinity == nil {
			continue
		}
		for _, term := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
			for _, e := range term.MatchExpressions {
				for _, v := range e.Values {
					if v == node {
						pinned[pv.Spec.ClaimRef.Namespace+"/"+pv.Spec.ClaimRef.Name] = true
					}
				}
			}
		}
	}
	return pinned, nil
}

// webTolerationSeconds is how long web's pods stay on a node that stopped answering
// (node.kubernetes.io/unreachable's tolerationSeconds in its Deployment), as rendered.
func (l *labCluster) webTolerationSeconds(t *testing.T) int {
	var d struct {
		Spec struct {
			Template struct {
				Spec struct {
					Tolerations []struct {
						Key               string `json:"key"`
						TolerationSeconds *int   `json:"tolerationSeconds"`
					} `json:"tolerations"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := l.cp.api.getJSON("/apis/apps/v1/namespaces/web/deployments/web", &d); err != nil {
		t.Fatal(err)
	}
	for _, tol := range d.Spec.Template.Spec.Tolerations {
		if tol.Key == "node.kubernetes.io/unreachable" && tol.TolerationSeconds != nil {
			return *tol.TolerationSeconds
		}
	}
	t.Fatalf("web's Deployment has no tolerationSeconds for node.kubernetes.io/unreachable (the lab renders 30: scale.evictFromLostNodeAfterSeconds)")
	return 0
}

// nodeMonitorGracePeriod is how long kube-controller-manager waits for a node's heartbeat before
// it calls the node NotReady: its default (--node-monitor-grace-period, 50 s since Kubernetes
// 1.32), which controlplane.go does not change, as kubeadm does not.
const nodeMonitorGracePeriod = 50 * time.Second

// checkNodeLoss: a worker fails as a machine does (killNode: the one MetalLB announces web from,
// if that is a worker). Measured from the kill: the Node NotReady (predicted: the grace period,
// less the time since its last heartbeat), web's and api's pods Ready again on the other nodes
// (predicted: NotReady + their 30 s toleration + start-up), and web's IPv4 address answering the
// laptop again, its neighbour entry now a surviving node's eth0 (MetalLB's layer-2 failover).
// Runs last: the lost node stays lost.
func (l *labCluster) checkNodeLoss(t *testing.T, s *session, figures *figureLog) {
	s.t = t
	addresses := l.lanAddresses(t)
	announcing := l.announcer(t)
	macs := l.macs(t)
	toleration := time.Duration(l.webTolerationSeconds(t)) * time.Second
	webPods, err := l.lanPods(webNamespace, "app.kubernetes.io/name=web")
	if err != nil {
		t.Fatal(err)
	}
	webOn := map[string]int{}
	for _, p := range webPods {
		if p.healthy() {
			webOn[p.Spec.NodeName]++
		}
	}
	// kubeadm labels its control-plane nodes node.kubernetes.io/exclude-from-external-load-balancers
	// (so does the harness), which MetalLB's speakers honour: the announcer is a worker, and losing
	// it shows the address move to the other.
	victim := l.node(announcing)
	if victim == nil || victim.controlPlane {
		t.Fatalf("MetalLB announces web from %q, not a worker: the control-plane node carries %s, which MetalLB's speaker should honour", announcing, excludeFromLoadBalancersLabel)
	}
	failover := victim.name == announcing
	t.Logf("losing %s (MetalLB announces web from %s; web's Ready pods by node %v; unreachable toleration %s, node monitor grace period %s)",
		victim.name, announcing, webOn, toleration, nodeMonitorGracePeriod)

	// The laptop asks web's IPv4 address four times a second from the kill on; each answer is kept.
	type probe struct {
		at time.Duration
		ok bool
	}
	var mu sync.Mutex
	var probes []probe
	stopProbing := make(chan struct{})
	probing := make(chan struct{})

	killedAt := time.Now()
	killed, err := l.killNode(victim)
	if err != nil {
		t.Fatalf("losing %s: %v (killed %v)", victim.name, err, killed)
	}
	t.Logf("%s lost in %s: killed %d processes (%s), eth0 down", victim.name, time.Since(killedAt).Round(time.Millisecond), len(killed), summarizeNames(killed))
	go func() {
		defer close(probing)
		for {
			answer, err := laptopGet(lanURL(addresses["4"]), time.Second)
			mu.Lock()
			probes = append(probes, probe{at: time.Since(killedAt), ok: err == nil && answer.status == 200})
			mu.Unlock()
			select {
			case <-stopProbing:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	// answeringSince is when the laptop's answers came back for good: the first of the last run
	// of answers, if that run is at least five long and the laptop failed at least once before it.
	answeringSince := func() (time.Duration, bool) {
		mu.Lock()
		defer mu.Unlock()
		i := len(probes)
		for i > 0 && probes[i-1].ok {
			i--
		}
		if len(probes)-i < 5 {
			return 0, false
		}
		if i == 0 {
			return 0, true // it never failed
		}
		return probes[i].at, true
	}

	var notReadyAfter, podsBackAfter, answersAfter, neighbourAfter time.Duration
	var answering bool
	var lastState string
	var entry neighbour
	deadline := nodeMonitorGracePeriod + toleration + 150*time.Second
	for time.Since(killedAt) < deadline {
		since := time.Since(killedAt)
		nodes, err := l.nodeStates()
		if err == nil && notReadyAfter == 0 {
			if ready, _ := nodes[victim.name].ready(); !ready {
				notReadyAfter = since
			}
		}
		back := true
		var counts []string
		for _, ns := range []string{"web", "api"} {
			pods, err := l.lanPods(ns, "app.kubernetes.io/name="+ns)
			var replicas struct {
				Spec struct {
					Replicas int `json:"replicas"`
				} `json:"spec"`
			}
			if err != nil || l.cp.api.getJSON("/apis/apps/v1/namespaces/"+ns+"/deployments/"+ns, &replicas) != nil {
				back = false
				continue
			}
			elsewhere := 0
			for _, p := range pods {
				if p.healthy() && p.Spec.NodeName != victim.name {
					elsewhere++
				}
			}
			counts = append(counts, fmt.Sprintf("%s %d of %d Ready off %s", ns, elsewhere, replicas.Spec.Replicas, victim.name))
			back = back && elsewhere >= replicas.Spec.Replicas
		}
		if back && podsBackAfter == 0 {
			podsBackAfter = since
		}
		answersAfter, answering = answeringSince()
		entry, _ = laptopNeighbour(addresses["4"])
		if entry.LLAddr != "" && entry.LLAddr != macs[victim.name] && neighbourAfter == 0 {
			neighbourAfter = since
		}
		lastState = fmt.Sprintf("at %.0fs: %s NotReady after %.1fs; %s; laptop answering again after %.1fs; neighbour %s (%s)",
			since.Seconds(), victim.name, notReadyAfter.Seconds(), strings.Join(counts, ", "), answersAfter.Seconds(), entry.LLAddr, nodeOfMAC(macs, entry.LLAddr))
		if notReadyAfter > 0 && podsBackAfter > 0 && answering && (!failover || neighbourAfter > 0) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	close(stopProbing)
	<-probing
	t.Logf("after losing %s: %s", victim.name, lastState)
	if notReadyAfter == 0 || podsBackAfter == 0 || !answering || (failover && neighbourAfter == 0) {
		t.Fatalf("%s lost: not everything came back within %s; last seen %s%s%s", victim.name, deadline, lastState, l.metallbState(), s.diagnose())
	}

	// The predictions. The kubelet renews its Lease every 10 s (a quarter of its 40 s duration), so
	// the last heartbeat before the kill is up to 10 s old; the node lifecycle controller looks every
	// 5 s (--node-monitor-period). NotReady: the grace period, minus up to 10 s, plus up to 5 s.
	figures.add("node loss: kill -> "+victim.name+" NotReady (predicted "+fmt.Sprint(nodeMonitorGracePeriod-10*time.Second)+" to "+fmt.Sprint(nodeMonitorGracePeriod+5*time.Second)+")", notReadyAfter)
	if notReadyAfter < nodeMonitorGracePeriod-15*time.Second || notReadyAfter > nodeMonitorGracePeriod+15*time.Second {
		t.Errorf("%s NotReady %.1fs after the kill; predicted %s to %s (kube-controller-manager's node monitor grace period %s; bound ±15 s)",
			victim.name, notReadyAfter.Seconds(), nodeMonitorGracePeriod-10*time.Second, nodeMonitorGracePeriod+5*time.Second, nodeMonitorGracePeriod)
	}
	// Back: NotReady taints the node unreachable; web's and api's pods leave after their
	// toleration; the new ones start from images already on the node and pass their startup and
	// readiness probes (every 2 s, every 5 s): a few seconds to twenty.
	figures.add(fmt.Sprintf("node loss: kill -> web's and api's pods Ready off %s (predicted NotReady + %s + start-up)", victim.name, toleration), podsBackAfter)
	if webOn[victim.name] > 0 {
		late := podsBackAfter - notReadyAfter
		if late < toleration-2*time.Second || late > toleration+45*time.Second {
			t.Errorf("web's and api's pods Ready off %s %.1fs after it went NotReady; predicted %s (their toleration) plus start-up, bound %s to %s",
				victim.name, late.Seconds(), toleration, toleration-2*time.Second, toleration+45*time.Second)
		}
	}
	figures.add("node loss: kill -> web's IPv4 address answers the laptop again, for good", answersAfter)
	if failover {
		figures.add("node loss: kill -> the laptop's neighbour entry moves off "+victim.name, neighbourAfter)
	}
	if answersAfter > podsBackAfter+20*time.Second {
		t.Errorf("the laptop's answers came back %.1fs after the kill, more than 20 s after web's pods were Ready again (%.1fs)", answersAfter.Seconds(), podsBackAfter.Seconds())
	}

	// The address is announced from a surviving node now, and the laptop's entries (both
	// families) name that node's eth0.
	now := l.announcer(t)
	if now == victim.name {
		t.Errorf("MetalLB still says it announces web from %s, which is lost", victim.name)
	}
	for _, f := range ipFamilies {
		address := addresses[f]
		// An entry the laptop had for the lost node is probed, fails and is asked anew (NDP's and
		// ARP's own timers) unless the new speaker's unsolicited announcement replaced it first.
		var answer laptopAnswer
		var last error
		if err := waitFor(30*time.Second, func() (bool, error) {
			answer, last = laptopGet(lanURL(address), 3*time.Second)
			return last == nil && answer.status == 200, nil
		}); err != nil {
			t.Errorf("IPv%s: after losing %s, %s gives the laptop %v (status %d)", f, victim.name, lanURL(address), last, answer.status)
			continue
		}
		e, err := laptopNeighbour(address)
		if err != nil {
			t.Fatal(err)
		}
		if e.LLAddr != macs[now] {
			t.Errorf("IPv%s: after losing %s, the laptop's neighbour entry for %s is %q (%s), want %s, eth0 of %s, which MetalLB announces it from now",
				f, victim.name, address, e.LLAddr, nodeOfMAC(macs, e.LLAddr), macs[now], now)
			continue
		}
		t.Logf("IPv%s: after losing %s, %s answers the laptop through %s (neighbour entry %s)", f, victim.name, address, now, e.LLAddr)
	}
}

// summarizeNames counts names ("containerd-shim ×7, kubelet"), for the log.
func summarizeNames(names []string) string {
	counts := map[string]int{}
	for _, n := range names {
		counts[n]++
	}
	var out []string
	for _, n := range sortedKeys(counts) {
		if counts[n] > 1 {
			out = append(out, fmt.Sprintf("%s ×%d", n, counts[n]))
		} else {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// TestAddressPoolContains: an address is in a MetalLB pool by its CIDRs or its "low-high"
// ranges, only within its own family.
func TestAddressPoolContains(t *testing.T) {
	pool := addressPool{name: "lab-pool", ranges: []string{"192.168.50.240-192.168.50.250", "fd00:50::240-fd00:50::250", "10.9.0.0/30"}}
	for address, want := range map[string]bool{
		"192.168.50.240": true, "192.168.50.250": true, "192.168.50.245": true,
		"192.168.50.239": false, "192.168.50.251": false,
		"fd00:50::240": true, "fd00:50::24a": true, "fd00:50::250": true, "fd00:50::251": false, "fd00:50::23f": false,
		"10.9.0.3": true, "10.9.0.4": false,
		"::ffff:192.168.50.245": false, // the IPv4 range holds IPv4 addresses, not their IPv6 forms
		"not an address":        false,
	} {
		if got := pool.contains(address); got != want {
			t.Errorf("%s in %v: got %v, want %v", address, pool.ranges, got, want)
		}
	}
}

// TestUnderCgroup: a process is a node's when it sits at or under the node's cgroup root in some
// hierarchy, and not when another root merely starts with the same name.
func TestUnderCgroup(t *testing.T) {
	const root = "lab-to-prod-lab-7-lab-worker-1"
	for file, want := range map[string]bool{
		"5:memory:/lab-to-prod-lab-7-lab-worker-1/kubepods/burstable/pod1/abc\n": true,
		"5:memory:/lab-to-prod-lab-7-lab-worker-1\n":                             true,
		"4:cpu,cpuacct:/\n5:memory:/lab-to-prod-lab-7-lab-worker-1/kubepods\n":   true,
		"5:memory:/lab-to-prod-lab-7-lab-worker-10/kubepods\n":                   false,
		"5:memory:/lab-to-prod-lab-7-lab-worker-2/kubepods\n":                    false,
		"0::/\n": false,
	} {
		if got := underCgroup(file, root); got != want {
			t.Errorf("underCgroup(%q): got %v, want %v", file, got, want)
		}
	}
}
