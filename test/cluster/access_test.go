package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Identity for people on the real API server: each environment's RoleBindings
// (lib/platform/access.ts) answer `kubectl auth can-i` as the table below
// says, for a person impersonated into the group the environment binds, and
// Pod Security refuses a privileged pod even from a deployer. In the lab,
// `npm run lab-access` signs a real client certificate with the control
// plane's CA (kube-controller-manager runs with --cluster-signing-cert-file
// and --cluster-signing-key-file, controlplane.go) and the kubeconfig it
// writes is authenticated as that user and group, and limited by the bindings.

// The namespace whose groups are impersonated, and one that belongs to another team.
const (
	ownNamespace   = "web"
	otherNamespace = "api"
)

// permission is one row of the table: may a member of role's group in
// ownNamespace do verb on resource where?
type permission struct {
	role     string // viewer, deployer, on-call: the RoleBinding's name
	verb     string
	resource string // as kubectl auth can-i takes it: pods, deployments.apps, namespaces/web
	sub      string // a subresource: exec, log, scale
	where    string // "own", "other", "all" (--all-namespaces) or "cluster" (no namespace)
	allowed  bool
}

var permissions = []permission{
	{"viewer", "get", "pods", "", "own", true},
	{"viewer", "list", "deployments.apps", "", "own", true},
	{"viewer", "watch", "events", "", "own", true},
	{"viewer", "get", "secrets", "", "own", false},
	{"viewer", "list", "secrets", "", "own", false},
	{"viewer", "create", "pods", "exec", "own", false},
	{"viewer", "get", "pods", "log", "own", false},
	{"viewer", "patch", "deployments.apps", "", "own", false},
	{"viewer", "get", "pods", "", "other", false},
	{"viewer", "list", "pods", "", "all", false},

	{"deployer", "patch", "deployments.apps", "", "own", true},
	{"deployer", "update", "deployments.apps", "scale", "own", true},
	{"deployer", "create", "jobs.batch", "", "own", true},
	{"deployer", "create", "configmaps", "", "own", true},
	{"deployer", "get", "secrets", "", "own", false},
	{"deployer", "create", "pods", "", "own", false},
	{"deployer", "create", "pods", "exec", "own", false},
	{"deployer", "patch", "networkpolicies.networking.k8s.io", "", "own", false},
	{"deployer", "update", "resourcequotas", "", "own", false},
	{"deployer", "delete", "limitranges", "", "own", false},
	// The namespace object itself, as the request for /api/v1/namespaces/web is authorized: its Pod Security labels.
	{"deployer", "patch", "namespaces/" + ownNamespace, "", "own", false},
	{"deployer", "create", "rolebindings.rbac.authorization.k8s.io", "", "own", false},
	{"deployer", "create", "externalsecrets.external-secrets.io", "", "own", false},
	{"deployer", "patch", "deployments.apps", "", "other", false},

	{"on-call", "create", "pods", "exec", "own", true},
	{"on-call", "get", "pods", "log", "own", true},
	{"on-call", "delete", "pods", "", "own", true},
	{"on-call", "patch", "deployments.apps", "", "own", true},
	{"on-call", "get", "secrets", "", "own", false},
	{"on-call", "create", "pods", "", "own", false},
	{"on-call", "patch", "networkpolicies.networking.k8s.io", "", "own", false},
	{"on-call", "create", "pods", "exec", "other", false},
	{"on-call", "escalate", "roles.rbac.authorization.k8s.io", "", "own", false},
	{"on-call", "bind", "clusterroles.rbac.authorization.k8s.io", "", "cluster", false},
	{"on-call", "impersonate", "users", "", "cluster", false},
	{"on-call", "create", "certificatesigningrequests.certificates.k8s.io", "", "cluster", false},
}

// TestAccess deploys each environment and checks the permission table, then,
// in the lab, signs a person in with `npm run lab-access`.
func TestAccess(t *testing.T) {
	c := loadConfig(t)
	eachEnvironment(t, c, func(t *testing.T, env, dir string) {
		started := time.Now()
		s := newSession(t, c, env)
		manifest := s.readManifest(dir)
		s.prepare(manifest)
		if out, err := s.deploy(dir, rolloutTimeout); err != nil {
			t.Fatalf("deploy failed: %v\n%s%s", err, out, s.diagnose())
		}
		groups := s.peopleGroups()
		s.checkPermissions(groups)
		s.checkPrivilegedPodRefused(groups["deployer"])
		if env == "lab" {
			s.checkLabAccess(groups["deployer"])
		}
		addSummary(fmt.Sprintf("%-9s access: %d permissions as expected, %s", env, len(permissions), since(started)))
	})
}

// peopleGroups reads the live RoleBindings of ownNamespace: role -> the group it binds.
func (s *session) peopleGroups() map[string]string {
	s.t.Helper()
	var list objectList
	if err := s.kubectlJSON(&list, "get", "rolebindings", "-n", ownNamespace, "-l", "app.kubernetes.io/component=access"); err != nil {
		s.t.Fatal(err)
	}
	groups := map[string]string{}
	for _, b := range list.Items {
		subjects, _ := b.Raw["subjects"].([]any)
		if len(subjects) != 1 || stringField(asMap(subjects[0]), "kind") != "Group" {
			s.t.Fatalf("RoleBinding %s binds %v; expected one Group", nsName(b), subjects)
		}
		groups[b.Metadata.Name] = stringField(asMap(subjects[0]), "name")
	}
	for _, role := range []string{"viewer", "deployer", "on-call"} {
		if groups[role] == "" {
			s.t.Fatalf("namespace %s has no RoleBinding %q of people (found %v)", ownNamespace, role, groups)
		}
	}
	return groups
}

// canI asks the API server, as user in group, through kubectl's impersonation.
func (s *session) canI(user, group string, p permission) (bool, error) {
	args := []string{"auth", "can-i", p.verb, p.resource, "--as=" + user, "--as-group=" + group}
	if p.sub != "" {
		args = append(args, "--subresource="+p.sub)
	}
	switch p.where {
	case "own":
		args = append(args, "-n", ownNamespace)
	case "other":
		args = append(args, "-n", otherNamespace)
	case "all":
		args = append(args, "--all-namespaces")
	}
	out, err := s.kubectl(args...)
	// stdout says yes (exit 0) or no (exit 1); stderr may add warnings on lines of their own.
	for _, line := range strings.Split(out, "\n") {
		switch answer := strings.TrimSpace(line); {
		case answer == "yes" && err == nil:
			return true, nil
		case answer == "no" || strings.HasPrefix(answer, "no - "):
			return false, nil
		}
	}
	return false, fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
}

// checkPermissions runs every row of the table and prints it with the answers.
func (s *session) checkPermissions(groups map[string]string) {
	s.t.Helper()
	// The API server's RBAC authorizer answers from a cache it fills from its watch on Roles and
	// RoleBindings, so bindings deploy has just applied may be answered "no" for a moment, and a
	// "no" read then would prove nothing. First wait (bounded) until every row that should be
	// allowed is, then read the whole table once; a row still refused shows there as WRONG.
	_ = eventually(30*time.Second, "the RoleBindings just applied answering", func() (bool, string, error) {
		for _, p := range permissions {
			if !p.allowed {
				continue
			}
			if got, err := s.canI("someone", groups[p.role], p); err != nil || !got {
				return false, fmt.Sprintf("%s (%s) may not %s %s yet (%v)", p.role, groups[p.role], p.verb, p.resource, err), nil
			}
		}
		return true, "", nil
	})
	var lines, wrong []string
	for _, p := range permissions {
		got, err := s.canI("someone", groups[p.role], p)
		if err != nil {
			s.t.Fatal(err)
		}
		what := p.verb + " " + p.resource
		if p.sub != "" {
			what += "/" + p.sub
		}
		where := map[string]string{"own": "-n " + ownNamespace, "other": "-n " + otherNamespace, "all": "--all-namespaces", "cluster": "(cluster)"}[p.where]
		mark := "ok"
		if got != p.allowed {
			mark = "WRONG"
			wrong = append(wrong, fmt.Sprintf("%s (%s) %s %s", p.role, groups[p.role], what, where))
		}
		lines = append(lines, fmt.Sprintf("  %-8s %-45s %-50s %-16s expected %-3s got %-3s %s",
			p.role, groups[p.role], what, where, yesNo(p.allowed), yesNo(got), mark))
	}
	s.t.Logf("%s: kubectl auth can-i --as someone --as-group <group>:\n%s", s.env, strings.Join(lines, "\n"))
	if len(wrong) > 0 {
		s.t.Errorf("%s: %d permission(s) not as expected:\n  %s", s.env, len(wrong), strings.Join(wrong, "\n  "))
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// kubectlAs runs kubectl with stdin, impersonating user in group.
func (s *session) kubectlAs(stdin, user, group string, args ...string) (string, error) {
	cmd := exec.Command(s.c.kubectl, append([]string{"--as=" + user, "--as-group=" + group}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.cp.kubeconfig)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// checkPrivilegedPodRefused: a deployer may create a Deployment, but when its
// pods ask to be privileged, Pod Security admission refuses every one of them.
func (s *session) checkPrivilegedPodRefused(deployerGroup string) {
	s.t.Helper()
	const name = "privileged-probe"
	deployment := fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%q,"namespace":%q},
"spec":{"replicas":1,"selector":{"matchLabels":{"probe":%[1]q}},"template":{"metadata":{"labels":{"probe":%[1]q}},
"spec":{"containers":[{"name":"probe","image":"registry.k8s.io/pause:3.10","securityContext":{"privileged":true}}]}}}}`, name, ownNamespace)
	out, err := s.kubectlAs(deployment, "someone", deployerGroup, "create", "-f", "-")
	if err != nil {
		s.t.Fatalf("a deployer could not create a Deployment in %s: %v\n%s", ownNamespace, err, out)
	}
	if !strings.Contains(out, "would violate PodSecurity") {
		s.t.Errorf("creating a privileged Deployment printed no Pod Security warning:\n%s", out)
	}
	var refused []string
	_ = waitFor(30*time.Second, func() (bool, error) {
		refused = nil
		for _, line := range s.refusedPods() {
			if strings.Contains(line, name) {
				refused = append(refused, line)
			}
		}
		return len(refused) > 0, nil
	})
	var pods objectList
	if err := s.kubectlJSON(&pods, "get", "pods", "-n", ownNamespace, "-l", "probe="+name); err != nil {
		s.t.Fatal(err)
	}
	if len(refused) == 0 || len(pods.Items) > 0 {
		s.t.Errorf("the privileged Deployment's pods were not refused: %d pod(s) exist, refusals: %q", len(pods.Items), refused)
	} else {
		s.t.Logf("%s: a deployer's privileged pod is refused: %s", s.env, refused[0])
	}
	if out, err := s.kubectl("delete", "deployment", name, "-n", ownNamespace, "--wait=true"); err != nil {
		s.t.Fatalf("cleaning up: %v\n%s", err, out)
	}
}

// checkLabAccess runs `npm run lab-access` (node speed/tsrun.js
// lib/commands/lab-access.ts) as the cluster's admin and checks the kubeconfig it
// writes: the user and groups the API server sees, and what they may do.
func (s *session) checkLabAccess(group string) {
	s.t.Helper()
	out := filepath.Join(s.t.TempDir(), "alice.kubeconfig")
	cmd := exec.Command("node", filepath.Join(s.c.repo, "speed", "tsrun.js"), filepath.Join(s.c.repo, "lib", "commands", "lab-access.ts"),
		"--user", "alice", "--group", group, "--out", out, "--days", "1", "--wait", "60", "--confirm-cluster", s.caCertHash())
	cmd.Dir = s.c.repo
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.cp.kubeconfig, "KUBECTL="+s.c.kubectl)
	var printed bytes.Buffer
	cmd.Stdout = &printed
	cmd.Stderr = &printed
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("npm run lab-access failed: %v\n%s", err, printed.String())
	}
	s.t.Logf("lab: npm run lab-access printed:\n%s", printed.String())
	if strings.Contains(printed.String(), "deploy:") {
		s.t.Errorf("npm run lab-access ran another command too (its output mentions deploy):\n%s", printed.String())
	}

	info, err := os.Stat(out)
	if err != nil {
		s.t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		s.t.Errorf("%s has mode %o; a file holding a private key must be 0600", out, info.Mode().Perm())
	}
	text, _ := os.ReadFile(out)
	key := ""
	for _, line := range strings.Split(string(text), "\n") {
		if strings.Contains(line, "client-key-data:") {
			key = strings.Trim(strings.TrimSpace(strings.SplitN(line, ":", 2)[1]), `"`)
		}
	}
	if key == "" || strings.Contains(printed.String(), "PRIVATE KEY") || strings.Contains(printed.String(), key[:40]) {
		s.t.Errorf("the private key is missing from the kubeconfig (%d characters) or was printed", len(key))
	}

	// As the new user, with nothing but the written kubeconfig.
	as := func(args ...string) (string, error) {
		c := exec.Command(s.c.kubectl, args...)
		c.Env = append(os.Environ(), "KUBECONFIG="+out)
		var b bytes.Buffer
		c.Stdout = &b
		c.Stderr = &b
		err := c.Run()
		return b.String(), err
	}
	whoami, err := as("auth", "whoami", "-o", "json")
	if err != nil {
		s.t.Fatalf("kubectl auth whoami as alice: %v\n%s", err, whoami)
	}
	var review struct {
		Status struct {
			UserInfo struct {
				Username string   `json:"username"`
				Groups   []string `json:"groups"`
			} `json:"userInfo"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(whoami), &review); err != nil {
		s.t.Fatalf("kubectl auth whoami: %v\n%s", err, whoami)
	}
	groups := append([]string(nil), review.Status.UserInfo.Groups...)
	sort.Strings(groups)
	want := []string{group, "system:authenticated"}
	sort.Strings(want)
	if review.Status.UserInfo.Username != "alice" || strings.Join(groups, ",") != strings.Join(want, ",") {
		s.t.Errorf("the API server sees user %q in groups %v; expected alice in %v", review.Status.UserInfo.Username, groups, want)
	} else {
		s.t.Logf("lab: kubectl auth whoami with the new kubeconfig: user %s, groups %v", review.Status.UserInfo.Username, groups)
	}

	limits := []struct {
		args    []string
		allowed bool
	}{
		{[]string{"get", "pods", "-n", ownNamespace}, true},
		{[]string{"get", "deployments", "-n", ownNamespace}, true},
		{[]string{"get", "secrets", "-n", ownNamespace}, false},
		{[]string{"get", "pods", "-n", otherNamespace}, false},
		{[]string{"get", "networkpolicies", "-n", ownNamespace}, true},
		{[]string{"delete", "networkpolicy", "default-deny", "-n", ownNamespace, "--dry-run=server"}, false},
		{[]string{"get", "nodes"}, false},
	}
	for _, l := range limits {
		got, err := as(l.args...)
		forbidden := err != nil && strings.Contains(got, "Forbidden")
		if l.allowed && err != nil || !l.allowed && !forbidden {
			s.t.Errorf("as alice, kubectl %s: expected %s, got (err %v):\n%s", strings.Join(l.args, " "), map[bool]string{true: "allowed", false: "Forbidden"}[l.allowed], err, got)
		} else {
			s.t.Logf("  as alice: kubectl %-50s %s", strings.Join(l.args, " "), map[bool]string{true: "allowed", false: "Forbidden"}[l.allowed])
		}
	}
}
