package cluster

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestRealNode runs the lab on a real node (realnode.go): the YAML a user applies, but for the
// AppArmor requests this kernel cannot honour, rendered by the project's own synth. What a schema
// check or kwok cannot show is checked here, from the pods and from the node itself.
func TestRealNode(t *testing.T) {
	started := time.Now()
	n := startLabOnRealNode(t)
	t.Run("ready through real probes without restarts", n.readyWithoutRestarts)
	t.Run("migration applied", n.migrationApplied)
	t.Run("backup restores", n.backupRestores)
	t.Run("etcd snapshot", n.etcdSnapshot)
	t.Run("security read from the node", n.security)
	t.Run("secrets are files on tmpfs", n.secretsAsFiles)
	t.Run("sandboxed pods run on gVisor", n.gvisor)
	t.Run("cgroups equal explain", n.cgroups)
	t.Run("network policies and discovery", n.network)

	n.figures.add("whole run", time.Since(started))
	n.figures.print()
}

// startLabOnRealNode starts a control plane and the real node, and deploys the lab (rendered for a
// node without AppArmor) the way the README says; it returns when every rollout has finished.
// Everything stops when the test ends.
func startLabOnRealNode(t *testing.T) *realNodeChecks {
	if !inTestNamespace() {
		t.Fatal("the real node's tests run only inside its namespaces: use `npm run test:node` (test/cluster/run-node.sh)")
	}
	c := loadConfig(t)
	tools, err := nodeToolsFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	figures := &figureLog{}

	// The lab as the test node runs it: only the AppArmor requests may differ from dist/lab/.
	rendered := filepath.Join(tools.state, "rendered")
	out, err := exec.Command("node", filepath.Join(c.repo, "speed", "tsrun.js"), filepath.Join(c.repo, "test", "cluster", "render-lab-for-node.ts"), rendered).CombinedOutput()
	if err != nil {
		t.Fatalf("rendering the lab for the test node: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	labDir := filepath.Join(rendered, "lab")

	cpDir := filepath.Join(tools.state, "control-plane")
	if err := os.MkdirAll(cpDir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := startSession(t, c, "lab", cpDir, "lab-cluster-test",
		controlPlaneOptions{nodeIP: nodeIPv4, etcdPKI: "/etc/kubernetes/pki/etcd", aggregationLayer: true})
	cp := s.cp
	if err := cp.startRealNode(tools, c.repo); err != nil {
		t.Fatalf("starting the real node: %v%s", err, s.diagnose())
	}
	figures.add("control plane and node up, CoreDNS ready", time.Since(started))
	s.checkKubectl()

	manifest := s.readManifest(labDir)
	provided, err := cp.createWhatTheClusterProvides(manifest)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("what the cluster or its add-ons provide, stood in for: %s", strings.Join(provided, ", "))
	s.provisioner = startVolumeProvisionerAt(cp.api, filepath.Join(tools.state, "volumes"))

	figures.add("deploy until every rollout finished (images pulled, probes passed)", s.deployLabAsReadmeSays(labDir, manifest))

	return &realNodeChecks{s: s, tools: tools, figures: figures, labDir: labDir}
}

// deployLabAsReadmeSays deploys the rendered lab in labDir with the README's steps for the lab's
// workloads: the platform file (namespaces first), the Secrets from the project's own command,
// then everything with the deploy command. The platform file holds objects of the add-ons' kinds
// (the address pool, the issuers), so the add-ons' CRDs, rendered beside it, go first. The
// add-ons' controllers that do not run on the test nodes are not in labDir
// (render-lab-for-node.ts). It returns how long the deploy took until every rollout finished.
func (s *session) deployLabAsReadmeSays(labDir string, manifest []object) time.Duration {
	t := s.t
	crds := s.installCRDs(labDir)
	t.Logf("the add-ons' CRDs installed and Established: %d", len(crds))
	if out, err := s.kubectl("apply", "-f", filepath.Join(labDir, "05-platform.yaml")); err != nil {
		t.Fatalf("kubectl apply -f 05-platform.yaml: %v\n%s", err, out)
	}
	if out, err := s.npm("lab-secrets", "--confirm-cluster", s.caCertHash()); err != nil {
		t.Fatalf("npm run lab-secrets: %v\n%s", err, out)
	}
	deployStarted := time.Now()
	if out, err := s.deploy(labDir, "5m"); err != nil {
		t.Fatalf("deploy failed: %v\n%s%s", err, out, s.diagnose())
	}
	if _, problems := s.waitConverged(manifest); len(problems) > 0 {
		t.Fatalf("the lab did not converge on the real nodes:\n  %s%s", strings.Join(problems, "\n  "), s.diagnose())
	}
	return time.Since(deployStarted)
}

// figureLog collects the measured figures of a run and prints them as one table at the end.
type figureLog struct {
	// title heads the table in the run's summary; "real node:" when empty.
	title string
	lines []string
}

func (f *figureLog) add(what string, d time.Duration) {
	f.lines = append(f.lines, fmt.Sprintf("%-70s %6.1fs", what, d.Seconds()))
}

func (f *figureLog) note(format string, args ...any) {
	f.lines = append(f.lines, fmt.Sprintf(format, args...))
}

func (f *figureLog) print() {
	title := f.title
	if title == "" {
		title = "real node:"
	}
	addSummary(title)
	for _, l := range f.lines {
		addSummary("  " + l)
	}
}

type realNodeChecks struct {
	s       *session
	tools   nodeTools
	figures *figureLog
	labDir  string // the lab as rendered for the test node, as deployed
}

// npm runs one of the project's commands against this cluster.
func (s *session) npm(script string, args ...string) (string, error) {
	cmd := exec.Command("npm", append([]string{"run", "--silent", script, "--"}, args...)...)
	cmd.Dir = s.c.repo
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.cp.kubeconfig, "KUBECTL="+s.c.kubectl)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// pod is the part of a Pod the checks read.
type pod struct {
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		UID       string            `json:"uid"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec   map[string]any `json:"spec"`
	Status struct {
		Phase             string            `json:"phase"`
		ContainerStatuses []containerStatus `json:"containerStatuses"`
	} `json:"status"`
}

type containerStatus struct {
	Name         string         `json:"name"`
	ContainerID  string         `json:"containerID"`
	Ready        bool           `json:"ready"`
	RestartCount int            `json:"restartCount"`
	State        map[string]any `json:"state"`
}

// appNamespaces are the lab's workloads' namespaces.
var appNamespaces = []string{"web", "api", "db", "batch", "sandboxed"}

func (s *session) pods(namespace string) []pod {
	var list struct {
		Items []pod `json:"items"`
	}
	if err := s.kubectlJSON(&list, "get", "pods", "-n", namespace, "-o", "json"); err != nil {
		s.t.Fatalf("listing pods in %s: %v", namespace, err)
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Metadata.Name < list.Items[j].Metadata.Name })
	return list.Items
}

// runningPods are the pods of the long-running workloads (web, api, db, sandboxed).
func (s *session) runningPods() []pod {
	var out []pod
	for _, ns := range appNamespaces {
		for _, p := range s.pods(ns) {
			if p.Status.Phase == "Running" {
				out = append(out, p)
			}
		}
	}
	return out
}

// readyWithoutRestarts: every pod of web, api, db and sandboxed is Ready through its real probes
// and restarts zero times over a watch of a minute.
func (n *realNodeChecks) readyWithoutRestarts(t *testing.T) {
	watch := time.Minute
	deadline := time.Now().Add(watch)
	samples := 0
	for {
		pods := n.s.runningPods()
		seen := map[string]int{}
		for _, p := range pods {
			seen[p.Metadata.Namespace]++
			for _, cs := range p.Status.ContainerStatuses {
				if !cs.Ready || cs.RestartCount != 0 {
					t.Fatalf("%s/%s container %s: ready=%v restarts=%d state=%v", p.Metadata.Namespace, p.Metadata.Name, cs.Name, cs.Ready, cs.RestartCount, cs.State)
				}
			}
		}
		for _, ns := range []string{"web", "api", "db", "sandboxed"} {
			if seen[ns] == 0 {
				t.Fatalf("no running pod in %s", ns)
			}
		}
		samples++
		if time.Now().After(deadline) {
			t.Logf("%d pods Ready with 0 restarts at each of %d looks over %s", len(pods), samples, watch)
			n.figures.note("pods Ready, 0 restarts, watched %s (%d looks): %d", watch, samples, len(pods))
			return
		}
		time.Sleep(5 * time.Second)
	}
}

// psql runs a query in the database pod, as the postgres user over its Unix socket.
func (n *realNodeChecks) psql(query string) (string, error) {
	return n.s.kubectl("exec", "-n", "db", "db-0", "-c", "postgres", "--", "psql", "-U", "postgres", "-d", "app",
		"--no-psqlrc", "-At", "-c", query)
}

func (n *realNodeChecks) migrationApplied(t *testing.T) {
	out, err := n.psql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'greetings'")
	if err != nil || strings.TrimSpace(out) != "1" {
		t.Fatalf("the migration's table is not in the database (err %v): %q", err, out)
	}
	// The Job completed (waitConverged checked it); its SQL is what made the table.
	t.Logf("table greetings exists in database app")
}

// writtenSince is the files matching pattern that were written since the test's own Job was
// created, newest first; an error, naming every match, if there is none. The CronJob's own schedule
// may fire while the test runs (etcd-backup's is every six hours on the hour, db-backup's 02:30 UTC):
// its file, written the same way, is logged and does not fail the check.
func writtenSince(t *testing.T, pattern string, created time.Time) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	type written struct {
		path string
		at   time.Time
	}
	var fresh []written
	for _, m := range matches {
		info, err := os.Stat(m)
		// One second of slack: a file system may keep modification times in whole seconds.
		if err == nil && !info.ModTime().Before(created.Add(-time.Second)) {
			fresh = append(fresh, written{m, info.ModTime()})
		}
	}
	if len(fresh) == 0 {
		return nil, fmt.Errorf("no file matching %s was written since the Job was created (%s); found %v", pattern, created.UTC().Format(time.RFC3339), matches)
	}
	sort.Slice(fresh, func(i, j int) bool { return fresh[i].at.After(fresh[j].at) })
	paths := make([]string, len(fresh))
	for i, f := range fresh {
		paths[i] = f.path
	}
	if len(paths) > 1 {
		t.Logf("%d files written since the Job was created (the CronJob's own schedule fired too): %v; checking the newest", len(paths), paths)
	}
	return paths, nil
}

// waitJob waits for a Job to complete and returns how long it took.
func (s *session) waitJob(namespace, name string, timeout time.Duration) (time.Duration, error) {
	started := time.Now()
	out, err := s.kubectl("wait", "-n", namespace, "--for=condition=Complete", "job/"+name, fmt.Sprintf("--timeout=%ds", int(timeout.Seconds())))
	if err != nil {
		logs, _ := s.kubectl("logs", "-n", namespace, "job/"+name, "--all-containers")
		return 0, fmt.Errorf("%v: %s\nlogs:\n%s%s", err, out, logs, s.diagnose())
	}
	return time.Since(started), nil
}

func (n *realNodeChecks) backupRestores(t *testing.T) {
	// The dump is on the backup volume, a folder on the node (the local-path stand-in).
	n.backupRestoresFrom(t, func(created time.Time) ([]string, error) {
		return writtenSince(t, filepath.Join(n.tools.state, "volumes", "*", "db-*.dump"), created)
	})
}

// etcdSnapshot runs the lab's etcd backup against the test control plane's etcd, which serves TLS
// on 127.0.0.1:2379 with its certificates where kubeadm puts them, and has etcdutl read the result.
func (n *realNodeChecks) etcdSnapshot(t *testing.T) {
	s := n.s
	created := time.Now()
	if out, err := s.kubectl("create", "job", "-n", "kube-system", "--from=cronjob/etcd-backup", "etcd-backup-now"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	took, err := s.waitJob("kube-system", "etcd-backup-now", 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	n.figures.add("etcd backup Job (etcdctl snapshot save, then rotate), until complete", took)
	snapshots, err := writtenSince(t, "/var/lib/etcd-backup/etcd-snapshot-*.db", created)
	if err != nil {
		t.Fatal(err)
	}
	// etcdutl from the etcd image the backup itself runs (kubeadm's, lib/kubernetes-versions.ts), as an
	// operator would check a snapshot before relying on it.
	etcdImage, err := s.kubectl("get", "cronjob", "-n", "kube-system", "etcd-backup",
		`-o=jsonpath={.spec.jobTemplate.spec.template.spec.initContainers[?(@.name=="snapshot")].image}`)
	etcdImage = strings.TrimSpace(etcdImage)
	if err != nil || !strings.HasPrefix(etcdImage, "registry.k8s.io/etcd:") {
		t.Fatalf("the etcd-backup CronJob's snapshot image: %q %v", etcdImage, err)
	}
	podJSON := fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"etcd-snapshot-status","namespace":"kube-system"},
"spec":{"restartPolicy":"Never","nodeName":%q,"tolerations":[{"operator":"Exists"}],
"containers":[{"name":"etcdutl","image":%q,"command":["etcdutl","snapshot","status","/backup/%s","--write-out=table"],
"volumeMounts":[{"name":"backup","mountPath":"/backup","readOnly":true}]}],
"volumes":[{"name":"backup","hostPath":{"path":"/var/lib/etcd-backup","type":"Directory"}}]}}`, realNodeName, etcdImage, filepath.Base(snapshots[0]))
	if out, err := s.applyJSON(podJSON); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out, err := s.kubectl("wait", "-n", "kube-system", "--for=jsonpath={.status.phase}=Succeeded", "pod/etcd-snapshot-status", "--timeout=120s"); err != nil {
		logs, _ := s.kubectl("logs", "-n", "kube-system", "etcd-snapshot-status")
		t.Fatalf("etcdutl snapshot status did not succeed: %v %s\n%s", err, out, logs)
	}
	logs, _ := s.kubectl("logs", "-n", "kube-system", "etcd-snapshot-status")
	if !strings.Contains(logs, "HASH") || !strings.Contains(logs, "TOTAL KEYS") {
		t.Fatalf("etcdutl printed no snapshot status:\n%s", logs)
	}
	t.Logf("etcdutl snapshot status %s:\n%s", filepath.Base(snapshots[0]), logs)
}

// applyJSON applies one object given as JSON.
func (s *session) applyJSON(object string) (string, error) {
	cmd := exec.Command(s.c.kubectl, "--kubeconfig="+s.cp.kubeconfig, "apply", "--server-side", "--field-manager=cluster-test", "-f", "-")
	cmd.Stdin = strings.NewReader(object)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// secretValues are the values of the lab's Secrets, to look for where they must not be.
func (s *session) secretValues() map[string]string {
	values := map[string]string{}
	for _, ns := range appNamespaces {
		var list struct {
			Items []struct {
				Metadata struct{ Name string } `json:"metadata"`
				Type     string                `json:"type"`
				Data     map[string]string     `json:"data"`
			} `json:"items"`
		}
		if err := s.kubectlJSON(&list, "get", "secrets", "-n", ns, "-o", "json"); err != nil {
			s.t.Fatal(err)
		}
		for _, secret := range list.Items {
			for key, encoded := range secret.Data {
				value, err := base64.StdEncoding.DecodeString(encoded)
				if err == nil && len(value) >= 8 {
					values[ns+"/"+secret.Metadata.Name+"["+key+"]"] = string(value)
				}
			}
		}
	}
	return values
}
