package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test's own client (test/cluster/images/probe): not a stand-in for anything, a small static
// program that makes one bounded request and says what happened.
const probeImage = "lab-to-prod.test/probe:1"

// A path through the cluster: from a client, to a name or address and port, over one IP family,
// and what the policies say.
type networkPath struct {
	family  string // "4" or "6": the probe connects over that family only; "" for a name lookup
	from    client
	command []string // the probe's arguments
	allowed bool
	why     string
	expect  string // with allowed: text the answer must contain
}

// The IP families every path is tried over. The lab is dual-stack (its pod and Service subnets,
// lib/environments/lab.ts), its Services ask for both families (RequireDualStack), and a
// NetworkPolicy selects pods, not addresses, so what it says must hold over IPv6 as over IPv4: a
// firewall that wrote only its IPv4 rules would leave every IPv6 path open.
var ipFamilies = []string{"4", "6"}

// client is where a request starts: a pod of the test's own in a namespace (from outside the
// app namespaces, or from the ingress controller's), or a workload's own pod, joined by an
// ephemeral probe container so that the request carries that pod's address and labels.
type client struct {
	namespace string
	pod       string // a pod of the test's own, or empty: the first pod matching selector
	selector  string
	// node: the test's own pod runs there, or the workload's pod is the first on it; empty: any
	// node (the single real node).
	node string
}

func (c client) String() string {
	where := ""
	if c.node != "" {
		where = " on " + c.node
	}
	if c.pod != "" {
		return c.namespace + "/" + c.pod + where
	}
	return c.namespace + " pod (" + c.selector + ")" + where
}

// networkPathSettle bounds how long a path may take to show what the policies say.
const networkPathSettle = time.Minute

// network: every path the policies allow works, every path they deny is refused, over IPv4 and
// over IPv6, and names resolve through default-deny.
func (n *realNodeChecks) network(t *testing.T) {
	s := n.s
	var echo struct {
		Data map[string]string `json:"data"`
	}
	if err := s.kubectlJSON(&echo, "get", "configmap", "api", "-n", "api", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	// A namespace no policy names, and the ingress controller's (the api admits it).
	outsider := client{namespace: "outside", pod: "client"}
	ingress := client{namespace: "traefik", pod: "client"}
	for _, c := range []client{outsider, ingress} {
		if out, err := s.kubectl("create", "namespace", c.namespace); err != nil && !strings.Contains(out, "AlreadyExists") {
			t.Fatalf("%v: %s", err, out)
		}
		n.startClientPod(t, c)
	}
	web := client{namespace: "web", selector: "app.kubernetes.io/name=web"}
	api := client{namespace: "api", selector: "app.kubernetes.io/name=api"}

	paths := labNetworkPaths(outsider, ingress, web, api, echo.Data["ECHO_TEXT"], func(c client, family string) string {
		return n.podAddress(t, c, family)
	})
	n.checkNetworkPaths(t, paths)
	n.policySyncTime(t, outsider, "")
}

// checkNetworkPaths tries every path and notes how many were checked.
func (n *realNodeChecks) checkNetworkPaths(t *testing.T, paths []networkPath) {
	t.Logf("%-48s %-6s %-58s %-8s %s", "from", "family", "to", "expected", "why")
	for i, path := range paths {
		n.checkNetworkPath(t, path, fmt.Sprintf("%d", i))
	}
	n.figures.note("network paths checked: %d (%d allowed, %d refused), IPv4 and IPv6", len(paths), countAllowed(paths), len(paths)-countAllowed(paths))
}

// labNetworkPaths is the lab's table of paths, each over both families: through the Services'
// names (the probe connects to the ClusterIP of the family it is given; db's Service is headless,
// so its name is its pod's address), and straight to web's and api's pods by their own address
// of that family (no Service, no kube-proxy in between). The name lookup goes to the DNS
// Service's IPv4 address whatever the family, as the pods' resolv.conf names it (the kubelet's
// clusterDNS, as kubeadm sets it), so it is tried once. The clients are the outsider's and the
// ingress controller's pods of the test's own and web's and api's pods; podAddress gives the
// address of a family of the pod a client names.
func labNetworkPaths(outsider, ingress, web, api client, echoText string, podAddress func(c client, family string) string) []networkPath {
	const (
		webURL = "http://web.web.svc.cluster.local/healthz"
		apiURL = "http://api.api.svc.cluster.local/"
		dbName = "db.db.svc.cluster.local:5432"
	)
	paths := []networkPath{
		{"", web, []string{"dns", "api.api.svc.cluster.local"}, true, "DNS through default-deny (allow-dns-egress)", ""},
	}
	for _, family := range ipFamilies {
		webPod := "http://" + net.JoinHostPort(podAddress(web, family), "8080") + "/healthz"
		apiPod := "http://" + net.JoinHostPort(podAddress(api, family), "8080") + "/"
		paths = append(paths,
			networkPath{family, outsider, []string{"http", webURL}, true, "web admits anyone on 8080 (its LoadBalancer's clients)", "ok"},
			networkPath{family, outsider, []string{"http", webPod}, true, "the same, to a web pod's own address", "ok"},
			networkPath{family, ingress, []string{"http", apiURL}, true, "api admits the ingress controller's namespace", echoText},
			networkPath{family, ingress, []string{"http", apiPod}, true, "the same, to an api pod's own address", echoText},
			networkPath{family, api, []string{"tcp", dbName}, true, "db admits api, and api may reach db", ""},
			networkPath{family, web, []string{"tcp", dbName}, false, "web may reach nothing but DNS; db admits only api and batch", ""},
			networkPath{family, web, []string{"http", apiURL}, false, "egress beyond DNS from web", ""},
			networkPath{family, web, []string{"http", apiPod}, false, "the same, to an api pod's own address", ""},
			networkPath{family, outsider, []string{"http", apiURL}, false, "api admits only the ingress controller's namespace", ""},
			networkPath{family, outsider, []string{"http", apiPod}, false, "the same, to an api pod's own address", ""},
			networkPath{family, outsider, []string{"tcp", dbName}, false, "db admits only api and batch", ""},
			networkPath{family, api, []string{"http", webURL}, false, "api may reach only db and DNS", ""},
		)
	}
	return paths
}

// checkNetworkPath tries one path until it shows what the policies say, a bounded while, and
// fails the test with the last attempt if it never does. The firewall follows the cluster: the
// enforcer writes a pod's rules after the pod starts (the client pods have just started), and
// CoreDNS learns Services in its own time.
func (n *realNodeChecks) checkNetworkPath(t *testing.T, path networkPath, id string) {
	t.Helper()
	expected := map[bool]string{true: "allowed", false: "refused"}[path.allowed]
	family := map[string]string{"": "any", "4": "IPv4", "6": "IPv6"}[path.family]
	var out string
	var err error
	attempts := 0
	_ = waitFor(networkPathSettle, func() (bool, error) {
		out, err = n.probe(t, path.from, fmt.Sprintf("%s-%d", id, attempts), path.family, path.command)
		attempts++
		if path.allowed {
			return err == nil && strings.Contains(out, path.expect), nil
		}
		return noAnswer(err), nil
	})
	t.Logf("%-48s %-6s %-58s %-8s %s", path.from, family, strings.Join(path.command, " "), expected, path.why)
	to := strings.Join(path.command, " ")
	switch {
	case path.allowed && err != nil, !path.allowed && err == nil:
		t.Errorf("  %s → %s over %s: %s was expected, but the request %s at each of %d attempts over %s; the last:\n%s", path.from, to, family,
			expected, map[bool]string{true: "succeeded", false: "failed"}[err == nil], attempts, networkPathSettle, out)
	case path.allowed && !strings.Contains(out, path.expect):
		t.Errorf("  %s → %s over %s: the answer lacks %q at each of %d attempts over %s; the last:\n%s", path.from, to, family, path.expect, attempts, networkPathSettle, out)
	case !path.allowed && !noAnswer(err):
		t.Errorf("  %s → %s over %s: refused was expected, but the probe did not report \"no answer\" (%v) at each of %d attempts over %s; the last:\n%s", path.from, to, family, err, attempts, networkPathSettle, out)
	}
}

// noAnswer: the probe ran and got no answer (its exit code 2: refused, timed out, no such name),
// which is what a NetworkPolicy's refusal looks like from the client; not a probe that could not
// run, nor an answer that was an error.
func noAnswer(err error) bool {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode() == 2 // kubectl exec exits with the probe's own code
	}
	return err != nil && strings.HasSuffix(err.Error(), "exit code 2") // probe's ephemeral container
}

// podAddress is the address of the family ("4" or "6") of the client's pod (its first running pod
// matching the selector), from the pod's status.podIPs, which lists one address per family.
func (n *realNodeChecks) podAddress(t *testing.T, c client, family string) string {
	t.Helper()
	name := c.pod
	if name == "" {
		name = n.firstPodOn(t, c)
	}
	var p struct {
		Status struct {
			PodIPs []struct {
				IP string `json:"ip"`
			} `json:"podIPs"`
		} `json:"status"`
	}
	if err := n.s.kubectlJSON(&p, "get", "pod", "-n", c.namespace, name, "-o", "json"); err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Status.PodIPs {
		if ip := net.ParseIP(a.IP); ip != nil && (ip.To4() != nil) == (family == "4") {
			return a.IP
		}
	}
	t.Fatalf("pod %s/%s has no IPv%s address in status.podIPs %v: the node's pod network should give every pod one address of each family", c.namespace, name, family, p.Status.PodIPs)
	return ""
}

func countAllowed(paths []networkPath) int {
	n := 0
	for _, p := range paths {
		if p.allowed {
			n++
		}
	}
	return n
}

// startClientPod runs the probe image as a pod of the test's own, hardened like the workloads so
// Pod Security admits it anywhere.
func (n *realNodeChecks) startClientPod(t *testing.T, c client) {
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": c.pod, "namespace": c.namespace},
		"spec": map[string]any{
			"automountServiceAccountToken":  false,
			"terminationGracePeriodSeconds": 1,
			"securityContext": map[string]any{"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
				"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"containers": []any{map[string]any{
				"name": "probe", "image": probeImage, "command": []string{"probe", "wait"},
				"resources": map[string]any{"requests": map[string]string{"cpu": "10m", "memory": "16Mi"},
					"limits": map[string]string{"cpu": "100m", "memory": "32Mi"}},
				"securityContext": map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
					"capabilities": map[string]any{"drop": []string{"ALL"}}},
			}},
		},
	}
	if c.node != "" {
		pod["spec"].(map[string]any)["nodeName"] = c.node
	}
	b, _ := json.Marshal(pod)
	if out, err := n.s.applyJSON(string(b)); err != nil {
		t.Fatalf("client pod %s: %v\n%s", c, err, out)
	}
	if out, err := n.s.kubectl("wait", "-n", c.namespace, "--for=condition=Ready", "pod/"+c.pod, "--timeout=120s"); err != nil {
		t.Fatalf("client pod %s not ready: %v %s%s", c, err, out, n.s.diagnose())
	}
}

// probe runs the probe program from the client: by exec in the test's own pod, or as an ephemeral
// container in a workload's pod (kubectl debug, the restricted profile), whose output it reads once
// the container ends. Each run is one request, bounded by the probe's own timeout.
func (n *realNodeChecks) probe(t *testing.T, c client, attempt, family string, command []string) (string, error) {
	args := []string{"probe", "--timeout=3s"}
	if family != "" {
		args = append(args, "--family="+family)
	}
	args = append(args, command...)
	if c.pod != "" {
		return n.s.kubectl(append([]string{"exec", "-n", c.namespace, c.pod, "--"}, args...)...)
	}
	target := n.firstPodOn(t, c)
	name := "probe-" + attempt
	if out, err := n.s.kubectl(append([]string{"debug", "-n", c.namespace, "pod/" + target, "--image=" + probeImage,
		"--profile=restricted", "--container=" + name, "--"}, args...)...); err != nil {
		return out, fmt.Errorf("kubectl debug: %w", err)
	}
	var exitCode int
	err := waitFor(60*time.Second, func() (bool, error) {
		var p struct {
			Status struct {
				EphemeralContainerStatuses []containerStatus `json:"ephemeralContainerStatuses"`
			} `json:"status"`
		}
		if err := n.s.kubectlJSON(&p, "get", "pod", "-n", c.namespace, target, "-o", "json"); err != nil {
			return false, err
		}
		for _, cs := range p.Status.EphemeralContainerStatuses {
			if terminated := asMap(cs.State["terminated"]); cs.Name == name && terminated != nil {
				exitCode = int(terminated["exitCode"].(float64))
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("the probe container %s in %s/%s did not finish: %w", name, c.namespace, target, err)
	}
	logs, _ := n.s.kubectl("logs", "-n", c.namespace, target, "-c", name)
	if exitCode != 0 {
		return logs, fmt.Errorf("exit code %d", exitCode)
	}
	return logs, nil
}

// firstPodOn is the client's workload pod: the first running pod matching its selector, on its
// node if it names one.
func (n *realNodeChecks) firstPodOn(t *testing.T, c client) string {
	t.Helper()
	if c.node == "" {
		return n.firstPod(t, c.namespace, c.selector)
	}
	out, err := n.s.kubectl("get", "pods", "-n", c.namespace, "-l", c.selector,
		"--field-selector=status.phase=Running,spec.nodeName="+c.node, "-o", "jsonpath={.items[0].metadata.name}")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("no running pod in %s with %s on %s: %v %s", c.namespace, c.selector, c.node, err, out)
	}
	return strings.TrimSpace(out)
}

// The policy-sync check's objects, in a namespace of the test's own.
const (
	policySyncNamespace = "policy-sync"
	policySyncServer    = "server"
)

// policySyncTime measures how long the enforcer takes to act on a policy change, per family: a
// server pod (on serverNode, or anywhere when empty) answers the client by its own addresses;
// then a NetworkPolicy that admits nothing to it is applied, and each family is tried until it
// is refused; then the policy is deleted, and each family is tried until it answers again. The
// times run from the end of kubectl apply (or delete) to the first probe that shows the change,
// and include that probe (kubectl exec's own round trip, about half a second here; a request the
// enforcer rejects ends at once, one it drops after the probe's one-second limit).
func (n *realNodeChecks) policySyncTime(t *testing.T, from client, serverNode string) {
	s := n.s
	if out, err := s.kubectl("create", "namespace", policySyncNamespace); err != nil && !strings.Contains(out, "AlreadyExists") {
		t.Fatalf("%v: %s", err, out)
	}
	server := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": policySyncServer, "namespace": policySyncNamespace, "labels": map[string]string{"policy-sync": "server"}},
		"spec": map[string]any{
			"automountServiceAccountToken":  false,
			"terminationGracePeriodSeconds": 1,
			"securityContext": map[string]any{"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
				"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"containers": []any{map[string]any{
				"name": "echo", "image": "docker.io/hashicorp/http-echo:1.0.0", "args": []string{"-listen=:5678", "-text=policy-sync"},
				"resources": map[string]any{"requests": map[string]string{"cpu": "10m", "memory": "16Mi"},
					"limits": map[string]string{"cpu": "100m", "memory": "32Mi"}},
				"securityContext": map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
					"capabilities": map[string]any{"drop": []string{"ALL"}}},
			}},
		},
	}
	if serverNode != "" {
		server["spec"].(map[string]any)["nodeName"] = serverNode
	}
	b, _ := json.Marshal(server)
	if out, err := s.applyJSON(string(b)); err != nil {
		t.Fatalf("the policy-sync server: %v\n%s", err, out)
	}
	if out, err := s.kubectl("wait", "-n", policySyncNamespace, "--for=condition=Ready", "pod/"+policySyncServer, "--timeout=120s"); err != nil {
		t.Fatalf("the policy-sync server not Ready: %v %s%s", err, out, s.diagnose())
	}
	target := client{namespace: policySyncNamespace, pod: policySyncServer}
	urls := map[string]string{}
	for _, family := range ipFamilies {
		urls[family] = "http://" + net.JoinHostPort(n.podAddress(t, target, family), "5678") + "/"
	}

	// until tries each family, concurrently, until a request is answered (want) or gets no
	// answer (!want), and returns the time each took from start; false if one never did.
	until := func(want bool, start time.Time) (map[string]time.Duration, bool) {
		took := map[string]time.Duration{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, family := range ipFamilies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out string
				err := waitFor(networkPathSettle, func() (bool, error) {
					var err error
					out, err = s.kubectl("exec", "-n", from.namespace, from.pod, "--", "probe", "--timeout=1s", "--family="+family, "http", urls[family])
					if want {
						return err == nil && strings.Contains(out, "policy-sync"), nil
					}
					return noAnswer(err), nil
				})
				if err != nil {
					t.Errorf("%s → %s over IPv%s: the request was still %s %s after the change; the last:\n%s", from, urls[family], family,
						map[bool]string{true: "refused", false: "answered"}[want], networkPathSettle, out)
					return
				}
				mu.Lock()
				took[family] = time.Since(start)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return took, len(took) == len(ipFamilies)
	}

	// Before any policy, the server is open to everyone (what a namespace without one is).
	if _, ok := until(true, time.Now()); !ok {
		t.FailNow()
	}
	denyAll := map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "deny-all-ingress", "namespace": policySyncNamespace},
		"spec":     map[string]any{"podSelector": map[string]any{}, "policyTypes": []string{"Ingress"}},
	}
	b, _ = json.Marshal(denyAll)
	if out, err := s.applyJSON(string(b)); err != nil {
		t.Fatalf("the deny-all policy: %v\n%s", err, out)
	}
	denied, deniedOK := until(false, time.Now())
	if out, err := s.kubectl("delete", "networkpolicy", "-n", policySyncNamespace, "deny-all-ingress"); err != nil {
		t.Fatalf("deleting the deny-all policy: %v\n%s", err, out)
	}
	allowed, allowedOK := until(true, time.Now())
	if !deniedOK || !allowedOK {
		return
	}
	for _, family := range ipFamilies {
		n.figures.note("policy sync, IPv%s: a deny-all policy refused the next connection after %.1fs; its removal let one through after %.1fs",
			family, denied[family].Seconds(), allowed[family].Seconds())
	}
}
