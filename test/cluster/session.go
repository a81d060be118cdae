package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fieldManager is the server-side apply field manager of the deploy command
// (lib/commands/deploy.ts); pruning only ever deletes objects it applied.
const fieldManager = "lab-to-prod"

// session is one test's fresh cluster plus what the test does to it.
type session struct {
	t           *testing.T
	c           config
	env         string
	cp          *controlPlane
	nodes       []string
	provisioner *volumeProvisioner
}

func newSession(t *testing.T, c config, env string) *session {
	t.Helper()
	dir, err := os.MkdirTemp("", "lab-to-prod-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	// Registered before startSession's own clean-up, so it runs after the control plane stopped.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("control plane logs kept in %s", dir)
		} else {
			os.RemoveAll(dir)
		}
	})
	// The kubeconfig context is named after the environment, as a user's
	// would be; the commands recognise the cluster by its CA (caCertHash).
	s := startSession(t, c, env, dir, env+"-cluster-test", controlPlaneOptions{})
	s.checkKubectl()
	return s
}

// startSession starts a control plane in dir and returns the session on it. The control plane
// (and the volume provisioner, if the test starts one) stops when the test ends, and TestMain stops
// it should the run be interrupted first (running).
func startSession(t *testing.T, c config, env, dir, contextName string, opts controlPlaneOptions) *session {
	t.Helper()
	cp, err := startControlPlaneWith(c.bin, dir, contextName, opts)
	if cp != nil {
		running.Store(cp, struct{}{})
	}
	s := &session{t: t, c: c, env: env, cp: cp}
	t.Cleanup(func() {
		if s.provisioner != nil {
			s.provisioner.shutdown()
		}
		cp.stop()
		running.Delete(cp)
	})
	if err != nil {
		t.Fatalf("starting the control plane: %v", err)
	}
	return s
}

// kubectl runs the real kubectl against this cluster and returns its
// combined output.
func (s *session) kubectl(args ...string) (string, error) {
	cmd := exec.Command(s.c.kubectl, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.cp.kubeconfig)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// kubectlJSON runs kubectl with -o json and decodes stdout (stderr apart).
func (s *session) kubectlJSON(out any, args ...string) error {
	cmd := exec.Command(s.c.kubectl, append(args, "-o", "json")...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.cp.kubeconfig)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return json.Unmarshal(stdout.Bytes(), out)
}

// checkKubectl logs which kubectl client answers. The installed kubectl may
// be a dispatcher that runs the client matching the server's minor version;
// a client outside the supported skew (one minor) is an error.
func (s *session) checkKubectl() {
	var v struct {
		Client struct{ GitVersion, Minor string } `json:"clientVersion"`
		Server struct{ GitVersion, Minor string } `json:"serverVersion"`
	}
	if err := s.kubectlJSON(&v, "version"); err != nil {
		s.t.Fatal(err)
	}
	client, _ := strconv.Atoi(strings.TrimSuffix(v.Client.Minor, "+"))
	server, _ := strconv.Atoi(strings.TrimSuffix(v.Server.Minor, "+"))
	if client < server-1 || client > server+1 {
		s.t.Fatalf("kubectl %s is outside the supported skew of the %s API server", v.Client.GitVersion, v.Server.GitVersion)
	}
	s.t.Logf("kubectl %s, API server %s", v.Client.GitVersion, v.Server.GitVersion)
}

// readManifest reads every object of dir, in the order kubectl applies them
// (read-manifest.ts: the project's YAML reader, since kubectl cannot read a
// custom resource before its CRD, which the deploy under test installs).
func (s *session) readManifest(dir string) []object {
	s.t.Helper()
	objects, err := readManifest(s.c.repo, dir)
	if err != nil {
		s.t.Fatal(err)
	}
	return objects
}

func readManifest(repo, dir string) ([]object, error) {
	cmd := exec.Command("node", filepath.Join(repo, "speed", "tsrun.js"), filepath.Join(repo, "test", "cluster", "read-manifest.ts"), dir)
	cmd.Dir = repo
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("reading %s (test/cluster/read-manifest.ts): %v\n%s", dir, err, stderr.String())
	}
	var objects []object
	decoder := json.NewDecoder(&stdout)
	for decoder.More() {
		var o object
		if err := decoder.Decode(&o); err != nil {
			return nil, fmt.Errorf("reading %s: %v", dir, err)
		}
		objects = append(objects, o)
	}
	return objects, nil
}

// crdFiles are the add-ons' CRD files of a rendered environment (dist/<env>/00-<addon>-crds.yaml),
// in apply order. The CRDs come with the environment's own YAML, pinned with the add-ons.
func crdFiles(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "00-*-crds.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s has no 00-<addon>-crds.yaml: the add-ons' CRDs are rendered there by `npm run synth`", dir)
	}
	sort.Strings(files)
	return files, nil
}

// installCRDs applies the add-ons' CRDs of the rendered environment dir, as the deploy command
// does (server-side, its field manager, so that its apply later changes nothing), and waits until
// each is Established. For the sessions that apply part of the YAML by hand before deploying (the
// real node applies the platform file before the lab's Secrets, whose namespaces it holds).
// It returns the CRDs' names.
func (s *session) installCRDs(dir string) []string {
	s.t.Helper()
	files, err := crdFiles(dir)
	if err != nil {
		s.t.Fatal(err)
	}
	args := []string{"apply", "--server-side", "--field-manager=" + fieldManager, "-o", "name"}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	out, err := s.kubectl(args...)
	if err != nil {
		s.t.Fatalf("installing the CRDs of %s: %v\n%s", dir, err, out)
	}
	var names []string
	for _, name := range strings.Fields(out) {
		if strings.HasPrefix(name, "customresourcedefinition.") {
			names = append(names, name)
		}
	}
	if err := s.waitCRDsEstablished(names, time.Minute); err != nil {
		s.t.Fatalf("the CRDs of %s: %v", dir, err)
	}
	return names
}

// waitCRDsEstablished waits, at most timeout, until every CRD of names (as `kubectl apply -o name`
// prints them; other kinds are passed over) is Established. Not `kubectl wait
// --for=condition=Established`: a CRD applied a moment ago can show `status.conditions: null` (the
// field has no omitempty in apiextensions.k8s.io/v1), and kubectl wait fails on that at once
// instead of waiting.
func (s *session) waitCRDsEstablished(names []string, timeout time.Duration) error {
	var crds []string
	for _, name := range names {
		if strings.HasPrefix(name, "customresourcedefinition.") {
			crds = append(crds, name)
		}
	}
	if len(crds) == 0 {
		return nil
	}
	return eventually(timeout, fmt.Sprintf("%d CRDs Established", len(crds)), func() (bool, string, error) {
		var read json.RawMessage
		if err := s.kubectlJSON(&read, append([]string{"get"}, crds...)...); err != nil {
			return false, err.Error(), nil // one just applied may not be listed yet
		}
		waiting, err := notEstablishedCRDs(read)
		if err != nil {
			return false, "", err
		}
		return len(waiting) == 0, "not Established: " + strings.Join(waiting, "; "), nil
	})
}

// notEstablishedCRDs names the CRDs of a `kubectl get -o json` answer (one object, or a List) that
// are not Established, each with its conditions ("none yet" while they are null).
func notEstablishedCRDs(read []byte) ([]string, error) {
	var one object
	if err := json.Unmarshal(read, &one); err != nil {
		return nil, fmt.Errorf("reading the CRDs: %v", err)
	}
	crds := []object{one}
	if one.Kind == "List" {
		var list objectList
		if err := json.Unmarshal(read, &list); err != nil {
			return nil, fmt.Errorf("reading the CRDs: %v", err)
		}
		crds = list.Items
	}
	var waiting []string
	for _, crd := range crds {
		if condition(crd, "Established") == "True" {
			continue
		}
		conditions, _ := crd.Status["conditions"].([]any)
		seen := "none yet"
		if len(conditions) > 0 {
			b, _ := json.Marshal(conditions)
			seen = string(b)
		}
		waiting = append(waiting, crd.Metadata.Name+" (conditions: "+seen+")")
	}
	return waiting, nil
}

// prepare creates the nodes and what a real cluster would provide (see
// createWhatTheClusterProvides), and starts the volume provisioner.
func (s *session) prepare(manifest []object) {
	s.t.Helper()
	var err error
	if s.nodes, err = s.cp.createNodes(manifest); err != nil {
		s.t.Fatal(err)
	}
	if err := s.cp.waitNodesReady(s.nodes); err != nil {
		s.t.Fatal(err)
	}
	provided, err := s.cp.createWhatTheClusterProvides(manifest)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(provided) > 0 {
		s.t.Logf("what the cluster or its add-ons provide, stood in for: %s", strings.Join(provided, ", "))
	}
	s.provisioner = startVolumeProvisioner(s.cp.api)
}

// deploy runs the user's command, `npm run deploy` (node speed/tsrun.js
// lib/commands/deploy.ts), on dir against this cluster.
// timeout bounds its wait for the rollouts.
func (s *session) deploy(dir, timeout string) (string, error) {
	args := []string{filepath.Join(s.c.repo, "speed", "tsrun.js"), filepath.Join(s.c.repo, "lib", "commands", "deploy.ts"),
		"--env", s.env, "--from", dir, "--timeout", timeout, "--confirm-cluster", s.caCertHash()}
	cmd := exec.Command("node", args...)
	cmd.Dir = s.c.repo
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.cp.kubeconfig, "KUBECTL="+s.c.kubectl)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// resourceArg names an object for kubectl: kind.group/name.
func resourceArg(o object) string {
	group := ""
	if i := strings.Index(o.APIVersion, "/"); i >= 0 {
		group = "." + o.APIVersion[:i]
	}
	return strings.ToLower(o.Kind) + group + "/" + o.Metadata.Name
}

func (s *session) exists(o object) bool {
	args := []string{"get", resourceArg(o), "--ignore-not-found", "-o", "name"}
	if o.Metadata.Namespace != "" {
		args = append(args, "-n", o.Metadata.Namespace)
	}
	// stdout only: kubectl's discovery errors (an aggregated API nothing serves) go to stderr.
	cmd := exec.Command(s.c.kubectl, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.cp.kubeconfig)
	out, err := cmd.Output()
	return err != nil || strings.TrimSpace(string(out)) != ""
}

// identity is what must not change when nothing is touched: the same object
// (uid) with the same spec (generation, which the API server bumps on every
// spec change).
type identity struct {
	uid        string
	generation int64
}

func key(o object) string {
	return o.APIVersion + " " + o.ref()
}

// snapshot reads the live state of every object of manifest.
func (s *session) snapshot(manifest []object) map[string]identity {
	s.t.Helper()
	ids := map[string]identity{}
	for _, o := range s.live(manifest) {
		ids[key(o)] = identity{o.Metadata.UID, o.Metadata.Generation}
	}
	return ids
}

// live reads the objects of manifest from the cluster, one kubectl call.
func (s *session) live(manifest []object) []object {
	s.t.Helper()
	// kubectl get takes one namespace per call: group by namespace.
	byNamespace := map[string][]string{}
	for _, o := range manifest {
		byNamespace[o.Metadata.Namespace] = append(byNamespace[o.Metadata.Namespace], resourceArg(o))
	}
	var all []object
	for ns, resources := range byNamespace {
		get := append([]string{"get"}, resources...)
		if ns != "" {
			get = append(get, "-n", ns)
		}
		var list objectList
		if err := s.kubectlJSON(&list, get...); err != nil {
			s.t.Fatal(err)
		}
		all = append(all, list.Items...)
	}
	return all
}

func (s *session) changedSince(before map[string]identity, manifest []object) []string {
	var changed []string
	after := s.snapshot(manifest)
	for k, b := range before {
		a, ok := after[k]
		switch {
		case !ok:
			changed = append(changed, k+" (gone)")
		case a.uid != b.uid:
			changed = append(changed, k+" (re-created)")
		case a.generation != b.generation:
			changed = append(changed, fmt.Sprintf("%s (generation %d -> %d)", k, b.generation, a.generation))
		}
	}
	sort.Strings(changed)
	return changed
}

var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func isEmptyDocument(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "#") {
			return false
		}
	}
	return true
}
