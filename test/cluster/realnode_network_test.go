package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The test's own client (test/cluster/images/probe): not a stand-in for anything, a small static
// program that makes one bounded request and says what happened.
const probeImage = "lab-to-prod.test/probe:1"

// A path through the cluster: from a client, to a name and port, and what the policies say.
type networkPath struct {
	from    client
	command []string // the probe's arguments
	allowed bool
	why     string
	expect  string // with allowed: text the answer must contain
}

// client is where a request starts: a pod of the test's own in a namespace (from outside the
// app namespaces, or from the ingress controller's), or a workload's own pod, joined by an
// ephemeral probe container so that the request carries that pod's address and labels.
type client struct {
	namespace string
	pod       string // a pod of the test's own, or empty: the first pod matching selector
	selector  string
}

func (c client) String() string {
	if c.pod != "" {
		return c.namespace + "/" + c.pod
	}
	return c.namespace + " pod (" + c.selector + ")"
}

// networkPathSettle bounds how long a path may take to show what the policies say.
const networkPathSettle = time.Minute

// network: every path the policies allow works, every path they deny is refused, and names resolve
// through default-deny.
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

	const (
		webURL = "http://web.web.svc.cluster.local/healthz"
		apiURL = "http://api.api.svc.cluster.local/"
		db     = "db.db.svc.cluster.local:5432"
	)
	paths := []networkPath{
		{outsider, []string{"http", webURL}, true, "web admits anyone on 8080 (its LoadBalancer's clients)", "ok"},
		{ingress, []string{"http", apiURL}, true, "api admits the ingress controller's namespace", echo.Data["ECHO_TEXT"]},
		{api, []string{"tcp", db}, true, "db admits api, and api may reach db", ""},
		{web, []string{"dns", "api.api.svc.cluster.local"}, true, "DNS through default-deny (allow-dns-egress)", ""},
		{web, []string{"tcp", db}, false, "web may reach nothing but DNS; db admits only api and batch", ""},
		{web, []string{"http", apiURL}, false, "egress beyond DNS from web", ""},
		{outsider, []string{"http", apiURL}, false, "api admits only the ingress controller's namespace", ""},
		{outsider, []string{"tcp", db}, false, "db admits only api and batch", ""},
		{api, []string{"http", webURL}, false, "api may reach only db and DNS", ""},
	}
	t.Logf("%-36s %-52s %-8s %s", "from", "to", "expected", "why")
	for i, path := range paths {
		expected := map[bool]string{true: "allowed", false: "refused"}[path.allowed]
		// The firewall follows the cluster: kube-router writes a pod's rules after the pod starts
		// (the client pods above have just started), and CoreDNS learns Services in its own time.
		// So a path is tried again, a bounded while, until it shows what the policies say; the
		// failure reports the last attempt.
		var out string
		var worked bool
		attempts := 0
		_ = waitFor(networkPathSettle, func() (bool, error) {
			var err error
			out, err = n.probe(t, path.from, fmt.Sprintf("%d-%d", i, attempts), path.command)
			attempts++
			worked = err == nil
			return worked == path.allowed && (!path.allowed || strings.Contains(out, path.expect)), nil
		})
		t.Logf("%-36s %-52s %-8s %s", path.from, strings.Join(path.command, " "), expected, path.why)
		switch {
		case worked != path.allowed:
			t.Errorf("  %s → %s: %s was expected, but the request %s at each of %d attempts over %s; the last:\n%s", path.from, strings.Join(path.command, " "),
				expected, map[bool]string{true: "succeeded", false: "failed"}[worked], attempts, networkPathSettle, out)
		case path.allowed && !strings.Contains(out, path.expect):
			t.Errorf("  %s → %s: the answer lacks %q at each of %d attempts over %s; the last:\n%s", path.from, strings.Join(path.command, " "), path.expect, attempts, networkPathSettle, out)
		}
	}
	n.figures.note("network paths checked: %d (%d allowed, %d refused)", len(paths), countAllowed(paths), len(paths)-countAllowed(paths))
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
func (n *realNodeChecks) probe(t *testing.T, c client, attempt string, command []string) (string, error) {
	// IPv4 only: the test node's NetworkPolicy enforcer (kube-router v2.1.0) cannot sync its IPv6
	// rules here (realnode.go), so policies are enforced, and checked, for IPv4, the pods' and the
	// Services' primary family. Over IPv6 every path would be open on this node, not on a lab's.
	args := append([]string{"probe", "--timeout=3s", "--family=4"}, command...)
	if c.pod != "" {
		return n.s.kubectl(append([]string{"exec", "-n", c.namespace, c.pod, "--"}, args...)...)
	}
	target := n.firstPod(t, c.namespace, c.selector)
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
