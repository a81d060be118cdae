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
// ownNamespace do verb on resource where? The answer depends on who delivers
// the environment (lib/environment.ts delivery.reconcilerOnly): byHand where
// people apply dist/<env>/ (the lab), reconciled where only a reconciler
// writes what git holds (production, lib/platform/access.ts).
type permission struct {
	role       string // viewer, deployer, on-call: the RoleBinding's name
	verb       string
	resource   string // as kubectl auth can-i takes it: pods, deployments.apps, namespaces/web; layerResource for the engine's
	sub        string // a subresource: exec, log, scale
	where      string // "own", "other", "all" (--all-namespaces), "cluster" (no namespace) or "engine" (the reconciler's namespace)
	byHand     bool
	reconciled bool
}

// expected is the row's answer for an environment delivered as d says.
func (p permission) expected(d delivery) bool {
	if d.ReconcilerOnly {
		return p.reconciled
	}
	return p.byHand
}

// layerResource stands for the engine's object of a delivery layer (Flux Kustomization, Argo CD
// Application) in a row's resource; engineResource says which it is.
const layerResource = "{layer}"

var permissions = []permission{
	{"viewer", "get", "pods", "", "own", true, true},
	{"viewer", "list", "deployments.apps", "", "own", true, true},
	{"viewer", "watch", "events", "", "own", true, true},
	{"viewer", "get", "secrets", "", "own", false, false},
	{"viewer", "list", "secrets", "", "own", false, false},
	{"viewer", "create", "pods", "exec", "own", false, false},
	{"viewer", "get", "pods", "log", "own", false, false},
	{"viewer", "patch", "deployments.apps", "", "own", false, false},
	{"viewer", "get", "pods", "", "other", false, false},
	{"viewer", "list", "pods", "", "all", false, false},

	// kubectl rollout restart and kubectl create job --from=cronjob/...: by hand wherever delivered.
	{"deployer", "patch", "deployments.apps", "", "own", true, true},
	{"deployer", "patch", "statefulsets.apps", "", "own", true, true},
	{"deployer", "create", "jobs.batch", "", "own", true, true},
	// What the reconciler delivers, written by hand only where nobody reconciles it.
	{"deployer", "update", "deployments.apps", "scale", "own", true, false},
	{"deployer", "create", "configmaps", "", "own", true, false},
	{"deployer", "patch", "services", "", "own", true, false},
	{"deployer", "patch", "ingresses.networking.k8s.io", "", "own", true, false},
	{"deployer", "patch", "horizontalpodautoscalers.autoscaling", "", "own", true, false},
	{"deployer", "patch", "cronjobs.batch", "", "own", true, false},
	{"deployer", "delete", "jobs.batch", "", "own", true, false},
	{"deployer", "create", "deployments.apps", "", "own", true, false},
	{"deployer", "get", "secrets", "", "own", false, false},
	{"deployer", "create", "pods", "", "own", false, false},
	{"deployer", "create", "pods", "exec", "own", false, false},
	{"deployer", "patch", "networkpolicies.networking.k8s.io", "", "own", false, false},
	{"deployer", "update", "resourcequotas", "", "own", false, false},
	{"deployer", "delete", "limitranges", "", "own", false, false},
	// The namespace object itself, as the request for /api/v1/namespaces/web is authorized: its Pod Security labels.
	{"deployer", "patch", "namespaces/" + ownNamespace, "", "own", false, false},
	{"deployer", "create", "rolebindings.rbac.authorization.k8s.io", "", "own", false, false},
	{"deployer", "create", "externalsecrets.external-secrets.io", "", "own", false, false},
	{"deployer", "patch", "deployments.apps", "", "other", false, false},
	{"deployer", "patch", layerResource + "/lab-to-prod-workloads", "", "engine", false, false},

	{"on-call", "create", "pods", "exec", "own", true, true},
	{"on-call", "get", "pods", "log", "own", true, true},
	{"on-call", "delete", "pods", "", "own", true, true},
	{"on-call", "patch", "deployments.apps", "", "own", true, true},
	{"on-call", "patch", "services", "", "own", true, false},
	{"on-call", "get", "secrets", "", "own", false, false},
	{"on-call", "create", "pods", "", "own", false, false},
	{"on-call", "patch", "networkpolicies.networking.k8s.io", "", "own", false, false},
	{"on-call", "create", "pods", "exec", "other", false, false},
	{"on-call", "escalate", "roles.rbac.authorization.k8s.io", "", "own", false, false},
	{"on-call", "bind", "clusterroles.rbac.authorization.k8s.io", "", "cluster", false, false},
	{"on-call", "impersonate", "users", "", "cluster", false, false},
	{"on-call", "create", "certificatesigningrequests.certificates.k8s.io", "", "cluster", false, false},
	// Suspending the workloads layer in an incident (lib/platform/reconciler-access.ts): that one
	// object, by name, where a reconciler alone delivers; no other layer, and nothing in the lab.
	{"on-call", "patch", layerResource + "/lab-to-prod-workloads", "", "engine", false, true},
	{"on-call", "get", layerResource + "/lab-to-prod-workloads", "", "engine", false, true},
	{"on-call", "patch", layerResource + "/lab-to-prod-platform", "", "engine", false, false},
	{"on-call", "delete", layerResource + "/lab-to-prod-workloads", "", "engine", false, false},
	{"on-call", "create", layerResource, "", "engine", false, false},
}

// delivery is how an environment is delivered (lib/environment.ts `delivery`), as
// test/cluster/environment-delivery.ts prints it.
type delivery struct {
	Engine         string `json:"engine"`    // flux or argocd
	Namespace      string `json:"namespace"` // the engine's namespace
	ReconcilerOnly bool   `json:"reconcilerOnly"`
}

// environmentDelivery reads env's delivery from its environment file.
func environmentDelivery(t *testing.T, c config, env string) delivery {
	t.Helper()
	cmd := exec.Command("node", filepath.Join(c.repo, "speed", "tsrun.js"), filepath.Join(c.repo, "test", "cluster", "environment-delivery.ts"), env)
	cmd.Dir = c.repo
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reading %s's delivery (test/cluster/environment-delivery.ts): %v\n%s", env, err, stderr.String())
	}
	var d delivery
	if err := json.Unmarshal(out, &d); err != nil || d.Namespace == "" {
		t.Fatalf("reading %s's delivery: %v\n%s", env, err, out)
	}
	return d
}

// engineResource is the resource, as kubectl auth can-i takes it, of a delivery layer under the engine.
func (d delivery) engineResource() string {
	if d.Engine == "argocd" {
		return "applications.argoproj.io"
	}
	return "kustomizations.kustomize.toolkit.fluxcd.io"
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
		d := environmentDelivery(t, c, env)
		s.applyReconcilerAccess(filepath.Join(c.dist, env+"-delivery", d.Engine), d)
		groups := s.peopleGroups()
		s.checkPermissions(groups, d)
		s.checkSuspendLayer(groups, d)
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

// engineCRDs are the pinned add-ons whose CRDs define the engine's kinds (addons/<name>/upstream.yaml,
// spec26's names): Flux's Kustomization and GitRepository, Argo CD's Application and AppProject.
var engineCRDs = map[string][]string{
	"flux":   {"flux-kustomize-controller", "flux-source-controller"},
	"argocd": {"argo-cd"},
}

// applyReconcilerAccess prepares the engine's side of people's access: it installs the engine's
// CRDs (kubectl auth can-i resolves a kind's API group only from the API server's discovery), makes
// the engine's namespace, and applies the Roles and RoleBindings of the environment's delivery folder
// (dist/<env>-delivery/<engine>/: on-call's Role to suspend the workloads layer, where there is one)
// as the reconciler would. The engine itself does not run here, so only the RBAC objects are applied.
func (s *session) applyReconcilerAccess(dir string, d delivery) {
	s.t.Helper()
	if !isDir(dir) {
		s.t.Fatalf("%s does not exist: `npm run synth` renders every environment's delivery folder", dir)
	}
	args := []string{"apply", "--server-side", "--field-manager=" + fieldManager, "-o", "name"}
	for _, addon := range engineCRDs[d.Engine] {
		args = append(args, "-f", filepath.Join(s.c.repo, "addons", addon, "upstream.yaml"))
	}
	out, err := s.kubectl(args...)
	if err != nil {
		s.t.Fatalf("installing %s's CRDs: %v\n%s", d.Engine, err, out)
	}
	if err := s.waitCRDsEstablished(strings.Fields(out), time.Minute); err != nil {
		s.t.Fatalf("%s's CRDs: %v", d.Engine, err)
	}
	if out, err := s.kubectl("create", "namespace", d.Namespace); err != nil && !strings.Contains(out, "AlreadyExists") {
		s.t.Fatalf("creating the engine's namespace %s: %v\n%s", d.Namespace, err, out)
	}
	var rbac []object
	for _, o := range s.readManifest(dir) {
		if o.Kind == "Role" || o.Kind == "RoleBinding" {
			rbac = append(rbac, o)
		}
	}
	if len(rbac) == 0 {
		s.t.Logf("%s: %s has no Role: nobody's role reaches the reconciler's objects", s.env, dir)
		return
	}
	var applied []string
	for _, o := range rbac {
		if o.Metadata.Namespace != d.Namespace {
			s.t.Errorf("%s %s of %s is in namespace %q; the engine's is %q", o.Kind, o.Metadata.Name, dir, o.Metadata.Namespace, d.Namespace)
		}
		raw, _ := json.Marshal(o.Raw)
		if out, err := s.applyJSON(string(raw)); err != nil {
			s.t.Fatalf("applying %s %s of %s: %v\n%s", o.Kind, o.Metadata.Name, dir, err, out)
		}
		applied = append(applied, o.Kind+"/"+o.Metadata.Name)
	}
	s.t.Logf("%s: applied %s from %s into namespace %s", s.env, strings.Join(applied, ", "), dir, d.Namespace)
}

// canI asks the API server, as user in group, through kubectl's impersonation.
func (s *session) canI(user, group string, p permission, d delivery) (bool, error) {
	resource := strings.Replace(p.resource, layerResource, d.engineResource(), 1)
	args := []string{"auth", "can-i", p.verb, resource, "--as=" + user, "--as-group=" + group}
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
	case "engine":
		args = append(args, "-n", d.Namespace)
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
func (s *session) checkPermissions(groups map[string]string, d delivery) {
	s.t.Helper()
	// The API server's RBAC authorizer answers from a cache it fills from its watch on Roles and
	// RoleBindings, so bindings deploy has just applied may be answered "no" for a moment, and a
	// "no" read then would prove nothing. First wait (bounded) until every row that should be
	// allowed is, then read the whole table once; a row still refused shows there as WRONG.
	_ = eventually(30*time.Second, "the RoleBindings just applied answering", func() (bool, string, error) {
		for _, p := range permissions {
			if !p.expected(d) {
				continue
			}
			if got, err := s.canI("someone", groups[p.role], p, d); err != nil || !got {
				return false, fmt.Sprintf("%s (%s) may not %s %s yet (%v)", p.role, groups[p.role], p.verb, p.resource, err), nil
			}
		}
		return true, "", nil
	})
	var lines, wrong []string
	for _, p := range permissions {
		got, err := s.canI("someone", groups[p.role], p, d)
		if err != nil {
			s.t.Fatal(err)
		}
		what := p.verb + " " + strings.Replace(p.resource, layerResource, d.engineResource(), 1)
		if p.sub != "" {
			what += "/" + p.sub
		}
		where := map[string]string{"own": "-n " + ownNamespace, "other": "-n " + otherNamespace, "all": "--all-namespaces", "cluster": "(cluster)", "engine": "-n " + d.Namespace}[p.where]
		mark := "ok"
		if got != p.expected(d) {
			mark = "WRONG"
			wrong = append(wrong, fmt.Sprintf("%s (%s) %s %s", p.role, groups[p.role], what, where))
		}
		lines = append(lines, fmt.Sprintf("  %-8s %-45s %-50s %-16s expected %-3s got %-3s %s",
			p.role, groups[p.role], what, where, yesNo(p.expected(d)), yesNo(got), mark))
	}
	s.t.Logf("%s: kubectl auth can-i --as someone --as-group <group>:\n%s", s.env, strings.Join(lines, "\n"))
	if len(wrong) > 0 {
		s.t.Errorf("%s: %d permission(s) not as expected:\n  %s", s.env, len(wrong), strings.Join(wrong, "\n  "))
	}
}

// layerObject is a delivery layer's object of the engine, as lib/delivery renders it in outline:
// enough for the API server to accept it (the engine does not run here, so it is never applied).
func (d delivery) layerObject(name string) string {
	if d.Engine == "argocd" {
		return fmt.Sprintf(`{"apiVersion":"argoproj.io/v1alpha1","kind":"Application","metadata":{"name":%q,"namespace":%q},
"spec":{"project":"lab-to-prod","destination":{"server":"https://kubernetes.default.svc"},
"source":{"repoURL":"https://git.example.com/platform/lab-to-prod.git","path":"dist","targetRevision":"main"},
"syncPolicy":{"automated":{"prune":true,"selfHeal":true}}}}`, name, d.Namespace)
	}
	return fmt.Sprintf(`{"apiVersion":"kustomize.toolkit.fluxcd.io/v1","kind":"Kustomization","metadata":{"name":%q,"namespace":%q},
"spec":{"interval":"10m","path":"./dist","prune":true,"sourceRef":{"kind":"GitRepository","name":"lab-to-prod"}}}`, name, d.Namespace)
}

// suspendPatch is the merge patch that stops the engine applying a layer, and the field it sets
// (as kubectl's jsonpath reads it): what `flux suspend kustomization` sends, or Argo CD's switch
// for automated sync.
func (d delivery) suspendPatch() (patch, field string) {
	if d.Engine == "argocd" {
		return `{"spec":{"syncPolicy":{"automated":{"enabled":false}}}}`, "{.spec.syncPolicy.automated.enabled}"
	}
	return `{"spec":{"suspend":true}}`, "{.spec.suspend}"
}

// checkSuspendLayer suspends the workloads layer as on-call, for real: where only a reconciler
// delivers, on-call's patch goes through and sets the field; nowhere may on-call patch another layer,
// nor a deployer the workloads layer. (In the lab nobody's role reaches the engine's objects.)
func (s *session) checkSuspendLayer(groups map[string]string, d delivery) {
	s.t.Helper()
	kind := strings.SplitN(d.engineResource(), ".", 2)[0]
	for _, layer := range []string{"lab-to-prod-workloads", "lab-to-prod-platform"} {
		if out, err := s.applyJSON(d.layerObject(layer)); err != nil {
			s.t.Fatalf("creating %s %s/%s: %v\n%s", kind, d.Namespace, layer, err, out)
		}
	}
	patch, field := d.suspendPatch()
	attempts := []struct {
		role, layer string
		allowed     bool
	}{
		{"on-call", "lab-to-prod-workloads", d.ReconcilerOnly},
		{"on-call", "lab-to-prod-platform", false},
		{"deployer", "lab-to-prod-workloads", false},
	}
	for _, a := range attempts {
		out, err := s.kubectlAs("", "someone", groups[a.role], "-n", d.Namespace, "patch", kind, a.layer, "--type=merge", "-p", patch)
		forbidden := err != nil && strings.Contains(out, "Forbidden")
		what := fmt.Sprintf("%s (%s): kubectl -n %s patch %s %s -p '%s'", a.role, groups[a.role], d.Namespace, kind, a.layer, patch)
		switch {
		case a.allowed && err != nil, !a.allowed && !forbidden:
			s.t.Errorf("%s: %s: expected %s, got (err %v):\n%s", s.env, what, map[bool]string{true: "allowed", false: "Forbidden"}[a.allowed], err, out)
			continue
		case !a.allowed:
			s.t.Logf("%s: %s: Forbidden", s.env, what)
			continue
		}
		got, err := s.kubectl("-n", d.Namespace, "get", kind, a.layer, "-o", "jsonpath="+field)
		if want := map[string]string{"flux": "true", "argocd": "false"}[d.Engine]; err != nil || strings.TrimSpace(got) != want {
			s.t.Errorf("%s: after %s, %s is %q (err %v); expected %s", s.env, what, field, got, err, want)
		} else {
			s.t.Logf("%s: %s: allowed, %s is now %s", s.env, what, field, want)
		}
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

// checkPrivilegedPodRefused: a deployer may create a Job (wherever the
// environment is delivered from: `kubectl create job --from=cronjob/...` is
// one), but when its pod asks to be privileged, Pod Security admission
// refuses it.
func (s *session) checkPrivilegedPodRefused(deployerGroup string) {
	s.t.Helper()
	const name = "privileged-probe"
	job := fmt.Sprintf(`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":%q,"namespace":%q},
"spec":{"backoffLimit":0,"template":{"metadata":{"labels":{"probe":%[1]q}},
"spec":{"restartPolicy":"Never","containers":[{"name":"probe","image":"registry.k8s.io/pause:3.10","securityContext":{"privileged":true}}]}}}}`, name, ownNamespace)
	out, err := s.kubectlAs(job, "someone", deployerGroup, "create", "-f", "-")
	if err != nil {
		s.t.Fatalf("a deployer could not create a Job in %s: %v\n%s", ownNamespace, err, out)
	}
	if !strings.Contains(out, "would violate PodSecurity") {
		s.t.Errorf("creating a privileged Job printed no Pod Security warning:\n%s", out)
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
		s.t.Errorf("the privileged Job's pod was not refused: %d pod(s) exist, refusals: %q", len(pods.Items), refused)
	} else {
		s.t.Logf("%s: a deployer's privileged pod is refused: %s", s.env, refused[0])
	}
	if out, err := s.kubectl("delete", "job", name, "-n", ownNamespace, "--wait=true"); err != nil {
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
