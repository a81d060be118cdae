package cluster

import (
	"strings"
	"testing"
)

// checkNetworkPolicy: the lab's table of allowed and refused paths (labNetworkPaths, the same as
// the single real node's) over IPv4 and IPv6, across nodes: every client is on one worker, and
// db's pod and the pods reached by their own address are on the other, so those requests cross
// the LAN through flannel and are judged by the agent of the node they leave (egress) and of the
// node they reach (ingress); through a Service they reach any replica. Then the time a policy change takes to be enforced, per family, across the same two
// nodes. Needs the lab applied (deployLab) and the agent on every node (startPolicyAgent).
func (l *labCluster) checkNetworkPolicy(t *testing.T, s *session, figures *figureLog) {
	s.t = t
	n := &realNodeChecks{s: s, figures: figures}
	var echo struct {
		Data map[string]string `json:"data"`
	}
	if err := s.kubectlJSON(&echo, "get", "configmap", "api", "-n", "api", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	// db has one replica, wherever the scheduler put it: the servers' worker is its, the
	// clients' the other one.
	db := client{namespace: "db", selector: "app.kubernetes.io/name=db"}
	serverNode, err := s.kubectl("get", "pods", "-n", db.namespace, "-l", db.selector, "--field-selector=status.phase=Running",
		"-o", "jsonpath={.items[0].spec.nodeName}")
	serverNode = strings.TrimSpace(serverNode)
	if err != nil || serverNode == "" {
		t.Fatalf("db's pod is not running on any node: %v %s%s", err, serverNode, s.diagnose())
	}
	clientNode := ""
	for _, node := range l.nodes {
		if !node.controlPlane && node.name != serverNode {
			clientNode = node.name
		}
	}
	if clientNode == "" {
		t.Fatalf("db's pod runs on %s: want it on a worker (the control-plane taint keeps the lab's pods off lab-cp-1)", serverNode)
	}
	t.Logf("clients on %s, the pods reached by their own address on %s", clientNode, serverNode)

	outsider := client{namespace: "outside", pod: "client", node: clientNode}
	ingress := client{namespace: "traefik", pod: "client", node: clientNode}
	for _, c := range []client{outsider, ingress} {
		if out, err := s.kubectl("create", "namespace", c.namespace); err != nil && !strings.Contains(out, "AlreadyExists") {
			t.Fatalf("%v: %s", err, out)
		}
		n.startClientPod(t, c)
	}
	web := client{namespace: "web", selector: "app.kubernetes.io/name=web", node: clientNode}
	api := client{namespace: "api", selector: "app.kubernetes.io/name=api", node: clientNode}
	paths := labNetworkPaths(outsider, ingress, web, api, echo.Data["ECHO_TEXT"], func(c client, family string) string {
		// The pod reached by its address is one on the servers' worker (web's and api's replicas
		// are on both workers; db's one pod, which its name resolves to, is there).
		c.node = serverNode
		return n.podAddress(t, c, family)
	})
	n.checkNetworkPaths(t, paths)
	n.policySyncTime(t, outsider, serverNode)
}
