package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The lab's storage on three nodes: the local-path provisioner as dist/lab/01-local-path-provisioner.yaml
// renders it makes a folder on the node the scheduler picked for the claim's first pod (the
// StorageClass local-path waits for that first consumer) and a PersistentVolume pinned to that node.
// What is on a volume therefore lives on one machine: the pod that uses it is always scheduled back
// there, and a backup is the way to get the data anywhere else.

// The objects of the storage check's own claim, in a namespace of the test's own.
const (
	storageCheckNamespace = "storage-check"
	storageCheckClaim     = "scratch"
)

// volumeOnNode is a bound claim's volume, as the API reports it.
type volumeOnNode struct {
	claim, pv string
	// node is the only node the PV's node affinity allows (kubernetes.io/hostname In [node]).
	node string
	// path is the volume's folder on that node (a hostPath or local volume).
	path string
	// provisionedBy is the pv.kubernetes.io/provisioned-by annotation; selectedNode the local-path
	// provisioner's own record of the node it made the folder on.
	provisionedBy, selectedNode string
	claimCreated, pvCreated     time.Time
}

// persistentVolume is the part of a PersistentVolume the storage check reads.
type persistentVolume struct {
	Metadata struct {
		Name              string            `json:"name"`
		CreationTimestamp time.Time         `json:"creationTimestamp"`
		Annotations       map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		StorageClassName string `json:"storageClassName"`
		HostPath         *struct {
			Path string `json:"path"`
		} `json:"hostPath"`
		Local *struct {
			Path string `json:"path"`
		} `json:"local"`
		NodeAffinity struct {
			Required struct {
				NodeSelectorTerms []struct {
					MatchExpressions []struct {
						Key      string   `json:"key"`
						Operator string   `json:"operator"`
						Values   []string `json:"values"`
					} `json:"matchExpressions"`
				} `json:"nodeSelectorTerms"`
			} `json:"required"`
		} `json:"nodeAffinity"`
	} `json:"spec"`
}

// claimState is the part of a PersistentVolumeClaim the storage check reads.
type claimState struct {
	Metadata struct {
		CreationTimestamp time.Time         `json:"creationTimestamp"`
		Annotations       map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		VolumeName string `json:"volumeName"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

func (l *labCluster) claim(namespace, name string) (claimState, error) {
	var c claimState
	err := l.cp.api.getJSON("/api/v1/namespaces/"+namespace+"/persistentvolumeclaims/"+name, &c)
	return c, err
}

// boundVolume reads a bound claim and its PV; an error says what is missing.
func (l *labCluster) boundVolume(namespace, name string) (volumeOnNode, error) {
	v := volumeOnNode{claim: namespace + "/" + name}
	c, err := l.claim(namespace, name)
	if err != nil {
		return v, err
	}
	if c.Status.Phase != "Bound" || c.Spec.VolumeName == "" {
		return v, fmt.Errorf("claim %s: phase %q, volume %q, want Bound to a volume", v.claim, c.Status.Phase, c.Spec.VolumeName)
	}
	var pv persistentVolume
	if err := l.cp.api.getJSON("/api/v1/persistentvolumes/"+c.Spec.VolumeName, &pv); err != nil {
		return v, err
	}
	v.pv = pv.Metadata.Name
	v.claimCreated, v.pvCreated = c.Metadata.CreationTimestamp, pv.Metadata.CreationTimestamp
	v.provisionedBy = pv.Metadata.Annotations["pv.kubernetes.io/provisioned-by"]
	v.selectedNode = pv.Metadata.Annotations["local.path.provisioner/selected-node"]
	switch {
	case pv.Spec.HostPath != nil:
		v.path = pv.Spec.HostPath.Path
	case pv.Spec.Local != nil:
		v.path = pv.Spec.Local.Path
	}
	var nodes []string
	for _, term := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		for _, e := range term.MatchExpressions {
			if e.Key == "kubernetes.io/hostname" && e.Operator == "In" {
				nodes = append(nodes, e.Values...)
			}
		}
	}
	if len(nodes) != 1 {
		return v, fmt.Errorf("PV %s of claim %s: want a node affinity naming one node by kubernetes.io/hostname, got %v", v.pv, v.claim, nodes)
	}
	v.node = nodes[0]
	return v, nil
}

// localPathSettings are what the lab gave the local-path provisioner: the StorageClass's
// provisioner name and the folder its ConfigMap (local-path-config) makes volumes under on every node.
func (l *labCluster) localPathSettings(t *testing.T, s *session) (provisioner, folder string) {
	var class struct {
		Provisioner string `json:"provisioner"`
	}
	if err := s.kubectlJSON(&class, "get", "storageclass", "local-path"); err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := s.kubectlJSON(&cm, "get", "configmap", "-n", "local-path-storage", "local-path-config"); err != nil {
		t.Fatal(err)
	}
	var config struct {
		NodePathMap []struct {
			Node  string   `json:"node"`
			Paths []string `json:"paths"`
		} `json:"nodePathMap"`
	}
	if err := json.Unmarshal([]byte(cm.Data["config.json"]), &config); err != nil {
		t.Fatalf("local-path-storage/local-path-config config.json: %v", err)
	}
	for _, m := range config.NodePathMap {
		if m.Node == "DEFAULT_PATH_FOR_NON_LISTED_NODES" && len(m.Paths) == 1 {
			folder = m.Paths[0]
		}
	}
	if class.Provisioner == "" || folder == "" {
		t.Fatalf("the lab's local-path settings: StorageClass local-path's provisioner %q, the ConfigMap's one default folder %q; want both", class.Provisioner, folder)
	}
	return class.Provisioner, folder
}

// checkMadeByLocalPath: the volume is the rendered provisioner's (not a stand-in's): its annotation
// names the class's provisioner, its folder is under the ConfigMap's on the node the PV is pinned
// to, the provisioner recorded that node, and the folder (with inside in it) is on that node and
// on no other.
func (l *labCluster) checkMadeByLocalPath(t *testing.T, v volumeOnNode, provisioner, folder, inside string) {
	for _, problem := range l.localPathProblems(v, provisioner, folder, inside) {
		t.Error(problem)
	}
}

func (l *labCluster) localPathProblems(v volumeOnNode, provisioner, folder, inside string) []string {
	var problems []string
	if v.provisionedBy != provisioner {
		problems = append(problems, fmt.Sprintf("PV %s of %s: provisioned by %q, want %q (StorageClass local-path's provisioner)", v.pv, v.claim, v.provisionedBy, provisioner))
	}
	if !strings.HasPrefix(v.path, folder+"/") {
		problems = append(problems, fmt.Sprintf("PV %s of %s: folder %q, want one under %s (local-path-config)", v.pv, v.claim, v.path, folder))
	}
	if v.selectedNode != v.node {
		problems = append(problems, fmt.Sprintf("PV %s of %s: the provisioner made it on %q, its node affinity names %q", v.pv, v.claim, v.selectedNode, v.node))
	}
	for _, n := range l.nodes {
		_, err := os.Stat(filepath.Join(n.root, v.path, inside))
		switch {
		case n.name == v.node && err != nil:
			problems = append(problems, fmt.Sprintf("PV %s of %s: %s not on %s, the node it is pinned to: %v", v.pv, v.claim, filepath.Join(v.path, inside), n.name, err))
		case n.name != v.node && err == nil:
			problems = append(problems, fmt.Sprintf("PV %s of %s: %s is on %s too, want it only on %s", v.pv, v.claim, filepath.Join(v.path, inside), n.name, v.node))
		}
	}
	return problems
}

// checkStorage: db's claim bound to a volume the lab's local-path provisioner made on the node
// where the scheduler put db's pod; a row written survives deleting that pod (its successor is
// scheduled back to that node by the PV's node affinity); the backup CronJob's dump, on the
// backup claim's node, restores. Then a claim of the test's own, timed from creation to Bound,
// and its folder removed once it is deleted (the class's reclaimPolicy Delete).
// Needs the lab applied (deployLab) with the local-path provisioner running as rendered.
func (l *labCluster) checkStorage(t *testing.T, s *session, figures *figureLog) {
	s.t = t
	n := &realNodeChecks{s: s, figures: figures}
	provisioner, folder := l.localPathSettings(t, s)

	// db's claim, made by its StatefulSet during the deploy.
	db, err := l.boundVolume("db", "data-db-0")
	if err != nil {
		t.Fatalf("%v%s", err, s.diagnose())
	}
	dbNode, err := s.kubectl("get", "pod", "-n", "db", "db-0", "-o", "jsonpath={.spec.nodeName}")
	if err != nil {
		t.Fatalf("db's pod: %v: %s", err, dbNode)
	}
	if db.node != dbNode {
		t.Errorf("db's claim: PV %s pinned to %s, but db-0 runs on %q", db.pv, db.node, dbNode)
	}
	// PGDATA is a folder on the volume (dist/lab/30-db.yaml); PG_VERSION is initdb's first file.
	l.checkMadeByLocalPath(t, db, provisioner, folder, "pgdata/PG_VERSION")
	t.Logf("db's claim %s: PV %s on %s at %s, provisioned by %s", db.claim, db.pv, db.node, db.path, db.provisionedBy)
	// The claim is made as the provisioner itself starts (one deploy): its start is in the figure.
	figures.add("db's claim in the deploy: created until its PV made (API, whole s)", db.pvCreated.Sub(db.claimCreated))

	l.checkDataSurvivesPod(t, n, db)
	l.checkBackupRestoresOnLab(t, n, provisioner, folder)
	l.checkFreshClaim(t, s, figures, provisioner, folder)
}

// checkDataSurvivesPod writes a row, deletes db's pod and reads the row back from its successor,
// which must run on the node the volume is on.
func (l *labCluster) checkDataSurvivesPod(t *testing.T, n *realNodeChecks, db volumeOnNode) {
	s := n.s
	row := "kept on " + db.node + " across pods"
	if out, err := n.psql("INSERT INTO greetings (text) VALUES ('" + row + "')"); err != nil {
		t.Fatalf("writing a row: %v: %s", err, out)
	}
	var before pod
	if err := s.kubectlJSON(&before, "get", "pod", "-n", "db", "db-0"); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	// --wait=false: the time measured is the whole way back, shutdown included.
	if out, err := s.kubectl("delete", "pod", "-n", "db", "db-0", "--wait=false"); err != nil {
		t.Fatalf("deleting db's pod: %v: %s", err, out)
	}
	var node string
	err := eventually(4*time.Minute, "db-0 replaced by a Ready pod", func() (bool, string, error) {
		var p object
		status, b, err := s.cp.api.get("/api/v1/namespaces/db/pods/db-0")
		if err != nil || status != 200 {
			return false, fmt.Sprintf("GET db-0: %d %v", status, err), nil
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return false, "", err
		}
		node = stringField(p.Spec, "nodeName")
		seen := fmt.Sprintf("pod uid %s (old %s), phase %s, node %q, Ready %q", p.Metadata.UID, before.Metadata.UID,
			stringField(p.Status, "phase"), node, condition(p, "Ready"))
		return p.Metadata.UID != before.Metadata.UID && condition(p, "Ready") == "True", seen, nil
	})
	if err != nil {
		t.Fatalf("%v%s", err, s.diagnose())
	}
	if node != db.node {
		t.Errorf("db-0's new pod runs on %s, want %s (its volume's node affinity)", node, db.node)
	}
	out, err := n.psql("SELECT text FROM greetings WHERE text = '" + row + "'")
	if err != nil || strings.TrimSpace(out) != row {
		t.Fatalf("db-0's new pod on %s lacks the row written before the delete (err %v): %q", node, err, out)
	}
	took := time.Since(deleted)
	n.figures.add("db-0 deleted until its successor Ready and read the row", took)
	t.Logf("db-0 replaced on %s in %.1fs; the row written before is there", node, took.Seconds())
}

// checkBackupRestoresOnLab runs the backup check the single node runs (backupRestoresFrom), with
// the dump read from the backup claim's volume on the node that volume is on.
func (l *labCluster) checkBackupRestoresOnLab(t *testing.T, n *realNodeChecks, provisioner, folder string) {
	n.backupRestoresFrom(t, func(created time.Time) ([]string, error) {
		// The backup claim waits for its first consumer, a backup Job's pod; by now it is bound.
		backups, err := l.boundVolume("batch", "db-backups")
		if err != nil {
			return nil, err
		}
		l.checkMadeByLocalPath(t, backups, provisioner, folder, "")
		t.Logf("the backup claim %s: PV %s on %s at %s", backups.claim, backups.pv, backups.node, backups.path)
		node := l.node(backups.node)
		if node == nil {
			return nil, fmt.Errorf("the backup claim's PV is pinned to %q, not a lab node", backups.node)
		}
		return writtenSince(t, filepath.Join(node.root, backups.path, "db-*.dump"), created)
	})
}

// backupRestoresFrom: a row written, a Job made from the lab's backup CronJob (pg_dump to the
// backup volume), and the newest dump (findDumps: the dumps written since the Job was created,
// newest first, as files the test can read) restored with pg_restore into a new database that
// then has the row.
func (n *realNodeChecks) backupRestoresFrom(t *testing.T, findDumps func(created time.Time) ([]string, error)) {
	s := n.s
	if _, err := n.psql("INSERT INTO greetings (text) VALUES ('restored from the backup')"); err != nil {
		t.Fatalf("writing a row to back up: %v", err)
	}
	created := time.Now()
	if out, err := s.kubectl("create", "job", "-n", "batch", "--from=cronjob/db-backup", "db-backup-now"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	took, err := s.waitJob("batch", "db-backup-now", 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	n.figures.add("backup Job (pg_dump) from the CronJob, created until complete", took)
	dumps, err := findDumps(created)
	if err != nil {
		t.Fatal(err)
	}
	dump, err := os.Open(dumps[0])
	if err != nil {
		t.Fatal(err)
	}
	defer dump.Close()
	if out, err := n.psql("CREATE DATABASE restore_check"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cmd := exec.Command(s.c.kubectl, "--kubeconfig="+s.cp.kubeconfig, "exec", "-i", "-n", "db", "db-0", "-c", "postgres", "--",
		"pg_restore", "-U", "postgres", "-d", "restore_check", "--no-owner", "--exit-on-error")
	cmd.Stdin = dump
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_restore of %s: %v\n%s", filepath.Base(dumps[0]), err, out)
	}
	out, err := s.kubectl("exec", "-n", "db", "db-0", "-c", "postgres", "--", "psql", "-U", "postgres", "-d", "restore_check",
		"--no-psqlrc", "-At", "-c", "SELECT text FROM greetings WHERE text = 'restored from the backup'")
	if err != nil || strings.TrimSpace(out) != "restored from the backup" {
		t.Fatalf("the restored database lacks the row written before the backup (err %v): %q", err, out)
	}
	info, _ := os.Stat(dumps[0])
	t.Logf("%s (%d bytes) restored into a new database with the row written before it", filepath.Base(dumps[0]), info.Size())
}

// checkFreshClaim times a claim of the test's own from creation to Bound, with the moment the
// scheduler picked a node for its pod between (the class waits for the first consumer); the
// provisioner's share is from that moment on. Deleting the claim then removes its folder (the
// class's reclaimPolicy Delete: the provisioner's teardown helper pod).
func (l *labCluster) checkFreshClaim(t *testing.T, s *session, figures *figureLog, provisioner, folder string) {
	if out, err := s.kubectl("create", "namespace", storageCheckNamespace); err != nil && !strings.Contains(out, "AlreadyExists") {
		t.Fatalf("%v: %s", err, out)
	}
	claim := map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolumeClaim",
		"metadata": map[string]any{"name": storageCheckClaim, "namespace": storageCheckNamespace},
		"spec": map[string]any{"storageClassName": "local-path", "accessModes": []string{"ReadWriteOnce"},
			"resources": map[string]any{"requests": map[string]string{"storage": "64Mi"}}},
	}
	// The pod writes a file to the volume and stays; it runs as the lab's pods do (restricted).
	p := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": storageCheckClaim, "namespace": storageCheckNamespace},
		"spec": map[string]any{
			"terminationGracePeriodSeconds": 1,
			"securityContext":               map[string]any{"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": map[string]string{"type": "RuntimeDefault"}},
			"containers": []any{map[string]any{
				"name": "writer", "image": "docker.io/library/busybox:latest",
				"command":         []string{"sh", "-c", "echo written > /data/written && exec sleep 3600"},
				"securityContext": map[string]any{"allowPrivilegeEscalation": false, "capabilities": map[string]any{"drop": []string{"ALL"}}},
				"resources": map[string]any{"requests": map[string]string{"cpu": "10m", "memory": "16Mi"},
					"limits": map[string]string{"cpu": "100m", "memory": "32Mi"}},
				"volumeMounts": []any{map[string]string{"name": "data", "mountPath": "/data"}},
			}},
			"volumes": []any{map[string]any{"name": "data", "persistentVolumeClaim": map[string]string{"claimName": storageCheckClaim}}},
		},
	}
	for _, o := range []map[string]any{claim, p} {
		b, _ := json.Marshal(o)
		if out, err := s.applyJSON(string(b)); err != nil {
			t.Fatalf("%s %s: %v\n%s", o["kind"], storageCheckClaim, err, out)
		}
	}
	created := time.Now()
	// Polled every 100 ms through the API client (no kubectl process per look), for the figure.
	var picked, bound time.Time
	var last claimState
	deadline := created.Add(3 * time.Minute)
	for bound.IsZero() && time.Now().Before(deadline) {
		c, err := l.claim(storageCheckNamespace, storageCheckClaim)
		if err == nil {
			last = c
			if picked.IsZero() && c.Metadata.Annotations["volume.kubernetes.io/selected-node"] != "" {
				picked = time.Now()
			}
			if c.Status.Phase == "Bound" {
				bound = time.Now()
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if bound.IsZero() {
		t.Fatalf("claim %s/%s not Bound within 3m; last seen: phase %q, annotations %v%s",
			storageCheckNamespace, storageCheckClaim, last.Status.Phase, last.Metadata.Annotations, s.diagnose())
	}
	if picked.IsZero() {
		picked = bound // the node was picked and the volume bound between two looks
	}
	figures.add("a new local-path claim: created until Bound", bound.Sub(created))
	figures.add("  of which its pod's node picked until Bound (the provisioner)", bound.Sub(picked))
	if out, err := s.kubectl("wait", "-n", storageCheckNamespace, "--for=condition=Ready", "pod/"+storageCheckClaim, "--timeout=120s"); err != nil {
		t.Fatalf("pod %s not Ready: %v %s%s", storageCheckClaim, err, out, s.diagnose())
	}
	v, err := l.boundVolume(storageCheckNamespace, storageCheckClaim)
	if err != nil {
		t.Fatal(err)
	}
	// The file the pod wrote, read on the node from the folder the provisioner made.
	l.checkMadeByLocalPath(t, v, provisioner, folder, "written")
	t.Logf("claim %s: Bound %.1fs after it was created (%.1fs after its node %s was picked), PV %s at %s",
		v.claim, bound.Sub(created).Seconds(), bound.Sub(picked).Seconds(), v.node, v.pv, v.path)

	if out, err := s.kubectl("delete", "-n", storageCheckNamespace, "pod/"+storageCheckClaim, "pvc/"+storageCheckClaim, "--wait=false"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	deleted := time.Now()
	node := l.node(v.node)
	if node == nil {
		t.Fatalf("PV %s is pinned to %q, not a lab node", v.pv, v.node)
	}
	folderOnNode := filepath.Join(node.root, v.path)
	err = eventually(2*time.Minute, "PV "+v.pv+" deleted and its folder removed from "+v.node, func() (bool, string, error) {
		status, _, err := s.cp.api.get("/api/v1/persistentvolumes/" + v.pv)
		_, statErr := os.Stat(folderOnNode)
		return err == nil && status == 404 && os.IsNotExist(statErr), fmt.Sprintf("GET the PV: %d %v; the folder: %v", status, err, statErr), nil
	})
	if err != nil {
		t.Fatalf("%v%s", err, s.diagnose())
	}
	figures.add("  its claim deleted until PV and folder gone", time.Since(deleted))
}

// TestLocalPathProblems: the check that a volume is the lab's local-path provisioner's, on nodes
// whose files are folders of the test's own. The test's stand-in provisioner (provisioner.go)
// annotates its PVs with the class's provisioner too, so the folder and the recorded node are
// what tell them apart.
func TestLocalPathProblems(t *testing.T) {
	l := &labCluster{}
	for _, name := range []string{"lab-cp-1", "lab-worker-1", "lab-worker-2"} {
		l.nodes = append(l.nodes, &labNode{nodeHost: nodeHost{name: name, root: t.TempDir()}})
	}
	const folder = "/opt/local-path-provisioner"
	made := volumeOnNode{claim: "db/data-db-0", pv: "pvc-1", node: "lab-worker-1", selectedNode: "lab-worker-1",
		path: folder + "/pvc-1_db_data-db-0", provisionedBy: "rancher.io/local-path"}
	if err := os.MkdirAll(filepath.Join(l.nodes[1].root, made.path, "pgdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.nodes[1].root, made.path, "pgdata", "PG_VERSION"), []byte("16\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if problems := l.localPathProblems(made, "rancher.io/local-path", folder, "pgdata/PG_VERSION"); len(problems) != 0 {
		t.Fatalf("the provisioner's volume on its node: want no problem, got %q", problems)
	}

	standIn := made
	standIn.path, standIn.selectedNode = "/tmp/run/volumes/pvc-1", ""
	onOtherNode := made
	onOtherNode.node, onOtherNode.selectedNode = "lab-worker-2", "lab-worker-2"
	otherProvisioner := made
	otherProvisioner.provisionedBy = "stand-in.cluster-test"
	for _, c := range []struct {
		what   string
		v      volumeOnNode
		inside string
		want   []string
	}{
		{"the stand-in's volume", standIn, "", []string{`folder "/tmp/run/volumes/pvc-1", want one under /opt/local-path-provisioner`,
			`the provisioner made it on "", its node affinity names "lab-worker-1"`, "/tmp/run/volumes/pvc-1 not on lab-worker-1"}},
		{"pinned to a node without its folder", onOtherNode, "pgdata/PG_VERSION", []string{"is on lab-worker-1 too, want it only on lab-worker-2",
			"not on lab-worker-2, the node it is pinned to"}},
		{"another provisioner's", otherProvisioner, "", []string{`provisioned by "stand-in.cluster-test", want "rancher.io/local-path"`}},
		{"without the file the pod wrote", made, "written", []string{"pvc-1_db_data-db-0/written not on lab-worker-1"}},
	} {
		problems := l.localPathProblems(c.v, "rancher.io/local-path", folder, c.inside)
		if len(problems) != len(c.want) {
			t.Errorf("%s: want %d problems, got %q", c.what, len(c.want), problems)
			continue
		}
		for i, want := range c.want {
			if !strings.Contains(problems[i], want) {
				t.Errorf("%s: problem %d = %q, want it to say %q", c.what, i, problems[i], want)
			}
		}
	}
}
