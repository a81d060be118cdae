package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestDelivery: Flux's own controllers (build-flux.sh) deliver the lab and prod-aks from a git
// server on loopback that serves a clone of this repository, each cluster bootstrapped once with its
// rendered dist/<env>-delivery/flux/ (lib/delivery/), as a user does. The subtests are the issue's
// list: the first reconciliation layer by layer, a commit's way to the cluster, drift, prune, a bad
// commit, and promotion. They share the two clusters and the clone and run in order: each starts
// from the state the one before left.
func TestDelivery(t *testing.T) {
	// Beside the other tests (run.sh runs it in a process of its own): most of its time is waiting
	// for Flux's intervals, not computing.
	t.Parallel()
	started := time.Now()
	c := loadConfig(t)
	fluxBin, err := fluxBinFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	checkFluxPins(t, c.repo)
	d := newDeliveryRun(t, c, fluxBin)

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"lab/first reconciliation, layer by layer", d.labFirstReconciliation},
		{"lab/a commit reaches the cluster", d.labCommitLatency},
		{"lab/drift is reverted", d.labDrift},
		{"lab/deploy refuses a cluster Flux delivers", d.labDeployRefused},
		{"lab/prune is exact", d.labPrune},
		{"lab/a bad commit leaves the last good revision", d.labBadCommit},
		{"prod-aks/moves only by promotion", d.prodPromotion},
	}
	for _, step := range steps {
		if !t.Run(step.name, step.run) {
			// Each step starts from the state the one before left; after a failure it would fail too, for no new reason.
			t.Fatalf("stopping after %q failed: the steps after it start from the state it should have left", step.name)
		}
	}
	d.figures = append(d.figures, fmt.Sprintf("TestDelivery took %s", since(started)))
	addSummary(d.figures...)
	for _, f := range d.figures {
		t.Log(f)
	}
}

// checkFluxPins: the controllers built (tools/flux/go.mod) are the release whose CRDs the project
// pins (addons/addons.lock.json), so the CRDs the test installs are the controllers' own.
func checkFluxPins(t *testing.T, repo string) {
	t.Helper()
	var lock struct {
		Addons map[string]struct {
			Source struct {
				Module        string `json:"module"`
				ModuleVersion string `json:"moduleVersion"`
			} `json:"source"`
		} `json:"addons"`
	}
	b, err := os.ReadFile(filepath.Join(repo, "addons", "addons.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatalf("addons/addons.lock.json: %v", err)
	}
	goMod, err := os.ReadFile(filepath.Join(repo, "test", "cluster", "tools", "flux", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"flux-source-controller", "flux-kustomize-controller"} {
		entry, ok := lock.Addons[name]
		if !ok {
			t.Fatalf("addons/addons.lock.json has no %q: the Flux CRDs the test installs are pinned there", name)
		}
		want := regexp.MustCompile(`(?m)^\s*(require\s+)?` + regexp.QuoteMeta(entry.Source.Module) + `\s+(v\S+)`).FindSubmatch(goMod)
		if want == nil || string(want[2]) != entry.Source.ModuleVersion {
			t.Fatalf("addons/addons.lock.json pins %s %s, but test/cluster/tools/flux/go.mod builds %q: the CRDs and the controllers must be one release",
				entry.Source.Module, entry.Source.ModuleVersion, want)
		}
	}
}

// fluxCluster is one environment's control plane with Flux running in it.
type fluxCluster struct {
	env       string
	s         *session
	namespace string   // Flux's namespace (delivery.flux.namespace)
	layers    []string // the layer names in the order deploy applies them, from dist/<env>/'s files
	manifest  []object // dist/<env>/'s objects
	// bootstrapped is when `kubectl apply -f dist/<env>-delivery/flux/` returned.
	bootstrapped time.Time
}

type deliveryRun struct {
	c        config
	repo     *servedRepository
	git      *gitServer
	url      string
	lab      *fluxCluster
	prod     *fluxCluster
	header   int    // how many commits changed web's response header
	lastGood string // the lab's last good commit
	figures  []string
}

const (
	labEnv         = "lab"
	prodEnv        = "prod-aks"
	deliveryFile   = "flux/lab-to-prod.yaml"
	selfName       = "lab-to-prod-delivery"
	layersSource   = "lab-to-prod"
	commitHeader   = "X-Lab-To-Prod-Commit"
	reconcileLimit = 15 * time.Minute // a whole environment from empty, on a busy machine
)

func newDeliveryRun(t *testing.T, c config, fluxBin string) *deliveryRun {
	t.Helper()
	root, err := os.MkdirTemp("", "lab-to-prod-delivery-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the clone and the served repository kept in %s", root)
		} else {
			makeWritable(t, root)
			os.RemoveAll(root)
		}
	})
	d := &deliveryRun{c: c}

	// The committed delivery objects: the lab's says which branch the repository's reviewed commits land on.
	committed := map[string][]object{}
	for _, env := range []string{"lab", prodEnv} {
		objects, err := readManifest(c.repo, filepath.Join(c.repo, "dist", env+"-delivery", "flux"))
		if err != nil {
			t.Fatal(err)
		}
		committed[env] = objects
	}
	self := findObject(committed["lab"], "GitRepository", selfName)
	if self == nil {
		t.Fatalf("dist/lab-delivery/%s has no GitRepository %s (lib/delivery/flux.ts)", deliveryFile, selfName)
	}
	branch := stringField(self.Spec, "ref", "branch")

	var note string
	if d.repo, note, err = newServedRepository(c.repo, root, branch); err != nil {
		t.Fatal(err)
	}
	t.Log(note)
	if d.git, err = startGitServer(root, root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.git.stop)
	d.url = d.git.url(servedRepositoryName)

	// The clone is served from the test's git server: each environment file's repository becomes its
	// URL, and the synth renders the delivery objects again. The result must be the committed files
	// with only the URL changed, so what the clusters apply is what the repository holds.
	for _, env := range []string{"lab", prodEnv} {
		example := stringField(findObject(committed[env], "GitRepository", selfName).Spec, "url")
		if err := d.repo.replaceOnce(filepath.Join("lib", "environments", env+".ts"), "repository: '"+example+"'", "repository: '"+d.url+"'"); err != nil {
			t.Fatal(err)
		}
		if out, err := d.repo.npm(nil, "synth", "--env", env); err != nil {
			t.Fatal(err)
		} else {
			t.Logf("synth --env %s in the clone:\n%s", env, lastLines(out, 3))
		}
		d.checkOnlyURLDiffers(t, env, example)
	}
	if sha, err := d.repo.commitAll("serve the lab and " + prodEnv + " from the test's git server"); err != nil {
		t.Fatal(err)
	} else {
		d.lastGood = sha
	}
	if _, err := d.repo.push(); err != nil {
		t.Fatal(err)
	}

	d.lab = d.startFluxCluster(t, "lab", fluxBin)
	d.prod = d.startFluxCluster(t, prodEnv, fluxBin)
	return d
}

// checkOnlyURLDiffers compares the clone's dist/<env>-delivery/ after the synth with the repository's:
// the same files, byte for byte once the test's URL is the example URL again; and nothing else of
// the clone changed but the environment file's repository line.
func (d *deliveryRun) checkOnlyURLDiffers(t *testing.T, env, example string) {
	t.Helper()
	folder := filepath.Join("dist", env+"-delivery")
	err := filepath.WalkDir(filepath.Join(d.c.repo, folder), func(path string, entry os.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(d.c.repo, path)
		want, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(d.repo.work, rel))
		if err != nil {
			return fmt.Errorf("the synth in the clone did not write %s: %w", rel, err)
		}
		if strings.ReplaceAll(string(got), d.url, example) != string(want) {
			return fmt.Errorf("%s rendered with the test's repository URL differs from the repository's in more than the URL "+
				"(is the committed dist/ fresh? `npm run synth`)\n--- rendered in the clone ---\n%s", rel, got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	status, err := gitRun(d.repo.work, "status", "--porcelain")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimRight(status, "\n"), "\n") {
		path := line[min(3, len(line)):] // "XY path"
		if path != filepath.Join("lib", "environments", "lab.ts") && path != filepath.Join("lib", "environments", prodEnv+".ts") &&
			!strings.HasPrefix(path, "dist/lab-delivery/") && !strings.HasPrefix(path, "dist/"+prodEnv+"-delivery/") {
			t.Fatalf("changing only the repository URL changed %s too (git status in the clone:\n%s)", path, status)
		}
	}
}

// startFluxCluster starts env's control plane with its nodes, installs Flux's CRDs from the
// repository's pins and starts the controllers, then bootstraps it as a user does: `kubectl apply
// -f dist/<env>-delivery/flux/` of the clone (the committed file with the test's URL).
func (d *deliveryRun) startFluxCluster(t *testing.T, env, fluxBin string) *fluxCluster {
	t.Helper()
	started := time.Now()
	fc := &fluxCluster{env: env, s: newSession(t, d.c, env)}
	fc.manifest = fc.s.readManifest(filepath.Join(d.repo.work, "dist", env))
	fc.s.prepare(fc.manifest)
	objects := fc.s.readManifest(filepath.Join(d.repo.work, "dist", env+"-delivery", "flux"))
	self := findObject(objects, "Kustomization", selfName)
	if self == nil {
		t.Fatalf("dist/%s-delivery/%s has no Kustomization %s", env, deliveryFile, selfName)
	}
	fc.namespace = self.Metadata.Namespace
	var err error
	if fc.layers, err = layersOf(filepath.Join(d.repo.work, "dist", env)); err != nil {
		t.Fatal(err)
	}

	// What `flux install` does before the objects can be applied: its namespace, its CRDs, its controllers.
	if out, err := fc.s.kubectl("create", "namespace", fc.namespace); err != nil {
		t.Fatalf("%s: %v\n%s", env, err, out)
	}
	crds := []string{"apply", "--server-side", "-o", "name"}
	for _, addon := range []string{"flux-source-controller", "flux-kustomize-controller"} {
		crds = append(crds, "-f", filepath.Join(d.c.repo, "addons", addon, "upstream.yaml"))
	}
	out, err := fc.s.kubectl(crds...)
	if err != nil {
		t.Fatalf("%s: installing Flux's CRDs: %v\n%s", env, err, out)
	}
	if err := fc.s.waitCRDsEstablished(strings.Fields(out), time.Minute); err != nil {
		t.Fatalf("%s: Flux's CRDs: %v", env, err)
	}
	if err := startFlux(fc.s.cp, fluxBin, fc.namespace, d.git.caFile); err != nil {
		t.Fatalf("%s: %v", env, err)
	}
	if out, err := fc.s.kubectl("apply", "-f", filepath.Join(d.repo.work, "dist", env+"-delivery", "flux")); err != nil {
		t.Fatalf("%s: bootstrapping with dist/%s-delivery/flux/: %v\n%s", env, env, err, out)
	}
	fc.bootstrapped = time.Now()
	t.Logf("%s: control plane, Flux and its bootstrap objects in %s", env, since(started))
	return fc
}

// layersOf names the layers of a rendered environment from its files' names, as deploy orders them
// (lib/delivery/layers.ts): crds, addons-1..4, platform, workloads; only those with files.
func layersOf(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		switch {
		case regexp.MustCompile(`^00-.+-crds\.yaml$`).MatchString(name):
			present["crds"] = true
		case regexp.MustCompile(`^0[1-4]-`).MatchString(name):
			present["addons-"+name[1:2]] = true
		case name == "05-platform.yaml":
			present["platform"] = true
		default:
			present["workloads"] = true
		}
	}
	var layers []string
	for _, l := range []string{"crds", "addons-1", "addons-2", "addons-3", "addons-4", "platform", "workloads"} {
		if present[l] {
			layers = append(layers, l)
		}
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("%s has no YAML file", dir)
	}
	return layers, nil
}

func findObject(objects []object, kind, name string) *object {
	for i := range objects {
		if objects[i].Kind == kind && objects[i].Metadata.Name == name {
			return &objects[i]
		}
	}
	return nil
}

func layerName(layer string) string { return layersSource + "-" + layer }

// waitLayersAt waits until every layer's Kustomization is Ready at commit sha and returns them in
// layer order. On timeout it names each layer's last state.
func (fc *fluxCluster) waitLayersAt(sha string, timeout time.Duration) ([]fluxKustomization, error) {
	var got []fluxKustomization
	err := eventually(timeout, fmt.Sprintf("%s: every layer's Kustomization Ready at %s", fc.env, short(sha)), func() (bool, string, error) {
		got = got[:0]
		var seen []string
		done := true
		for _, layer := range fc.layers {
			k, found, err := getKustomization(fc.s.cp, fc.namespace, layerName(layer))
			if err != nil {
				return false, "", err
			}
			if !found {
				seen = append(seen, layerName(layer)+" not there")
				done = false
				continue
			}
			got = append(got, k)
			if !k.ready() || revisionOf(k.Status.LastAppliedRevision) != sha {
				done = false
				seen = append(seen, k.describe())
			}
		}
		return done, strings.Join(seen, "; "), nil
	})
	return got, err
}

func short(sha string) string { return sha[:min(12, len(sha))] }

// firstReconciliation waits for every layer of fc at sha from empty, then checks the order: each
// layer became Ready no earlier than the one before, and none of its objects was created before the
// layer before it was Ready (what dependsOn promises). It returns the time from since to the last
// layer's Ready, and per-layer lines.
func (d *deliveryRun) firstReconciliation(t *testing.T, fc *fluxCluster, sha string, since time.Time) (time.Duration, []string) {
	t.Helper()
	layers, err := fc.waitLayersAt(sha, reconcileLimit)
	if err != nil {
		t.Fatalf("%v\n%s", err, d.controllerLogs(fc))
	}
	var lines []string
	var previousReady time.Time
	for i, k := range layers {
		ready, _ := k.condition("Ready")
		created, oldest, err := d.createdTimes(fc, k)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf("%s Ready at +%s (%d objects, first created at +%s)", k.Metadata.Name,
			ready.LastTransitionTime.Sub(since.Truncate(time.Second)).Round(time.Second), created,
			oldest.Sub(since.Truncate(time.Second)).Round(time.Second)))
		if i > 0 {
			if ready.LastTransitionTime.Before(previousReady) {
				t.Errorf("%s: %s was Ready at %s, before %s (%s): the layers are not in deploy's order",
					fc.env, k.Metadata.Name, ready.LastTransitionTime, layers[i-1].Metadata.Name, previousReady)
			}
			if created > 0 && oldest.Before(previousReady) {
				t.Errorf("%s: an object of %s was created at %s, before %s was Ready (%s): dependsOn did not hold it back",
					fc.env, k.Metadata.Name, oldest, layers[i-1].Metadata.Name, previousReady)
			}
		}
		previousReady = ready.LastTransitionTime
	}
	// And the harness's own checks of the rendered objects: everything rolled out, every Service has
	// endpoints, no pod refused.
	if _, problems := fc.s.waitConverged(fc.manifest); len(problems) > 0 {
		t.Fatalf("%s: Flux reports every layer Ready, but the cluster did not converge:\n  %s%s", fc.env, strings.Join(problems, "\n  "), fc.s.diagnose())
	}
	return previousReady.Sub(since), lines
}

// createdTimes reads the creation time of every object in k's inventory and returns how many and
// the oldest. Inventory entries are "<namespace>_<name>_<group>_<kind>" (Flux's object metadata id).
func (d *deliveryRun) createdTimes(fc *fluxCluster, k fluxKustomization) (int, time.Time, error) {
	if k.Status.Inventory == nil {
		return 0, time.Time{}, nil
	}
	byNamespace := map[string][]string{}
	for _, e := range k.Status.Inventory.Entries {
		namespace, name, group, kind, err := inventoryID(e.ID)
		if err != nil {
			return 0, time.Time{}, fmt.Errorf("%s: %w", k.Metadata.Name, err)
		}
		resource := strings.ToLower(kind)
		if group != "" {
			resource += "." + group
		}
		byNamespace[namespace] = append(byNamespace[namespace], resource+"/"+name)
	}
	var oldest time.Time
	n := 0
	for ns, resources := range byNamespace {
		args := append([]string{"get"}, resources...)
		if ns != "" {
			args = append(args, "-n", ns)
		}
		var list struct {
			Items []struct {
				Metadata struct {
					CreationTimestamp time.Time `json:"creationTimestamp"`
				} `json:"metadata"`
			} `json:"items"`
		}
		if err := fc.s.kubectlJSON(&list, args...); err != nil {
			return 0, time.Time{}, err
		}
		for _, item := range list.Items {
			n++
			if oldest.IsZero() || item.Metadata.CreationTimestamp.Before(oldest) {
				oldest = item.Metadata.CreationTimestamp
			}
		}
	}
	return n, oldest, nil
}

// inventoryID reads a Flux inventory entry, "<namespace>_<name>_<group>_<kind>" (cli-utils'
// ObjMetadata string): a cluster-scoped object's namespace is empty, and a ":" of a name is written
// "__" (RBAC's names have them). Neither a namespace, a group nor a kind can hold "_".
func inventoryID(id string) (namespace, name, group, kind string, err error) {
	first, last := strings.Index(id, "_"), strings.LastIndex(id, "_")
	if first < 0 || first == last {
		return "", "", "", "", fmt.Errorf("inventory entry %q is not <namespace>_<name>_<group>_<kind>", id)
	}
	namespace, kind = id[:first], id[last+1:]
	rest := id[first+1 : last]
	g := strings.LastIndex(rest, "_")
	if g < 0 {
		return "", "", "", "", fmt.Errorf("inventory entry %q is not <namespace>_<name>_<group>_<kind>", id)
	}
	return namespace, strings.ReplaceAll(rest[:g], "__", ":"), rest[g+1:], kind, nil
}

// controllerLogs is the end of both controllers' logs, for a failed wait.
func (d *deliveryRun) controllerLogs(fc *fluxCluster) string {
	var b strings.Builder
	for _, name := range []string{"source-controller", "kustomize-controller"} {
		fmt.Fprintf(&b, "--- last lines of %s's %s.log ---\n%s\n", fc.env, name, tail(filepath.Join(fc.s.cp.dir, name+".log"), 15))
	}
	return b.String()
}

// 1. From an empty cluster, the first reconciliation brings every layer to Ready, in deploy's order.
func (d *deliveryRun) labFirstReconciliation(t *testing.T) {
	fc := d.lab
	// The rendered chain of dependsOn is deploy's order.
	objects := fc.s.readManifest(filepath.Join(d.repo.work, "dist", "lab-delivery", "flux"))
	for i, layer := range fc.layers {
		k := findObject(objects, "Kustomization", layerName(layer))
		if k == nil {
			t.Fatalf("dist/lab-delivery/%s has no Kustomization %s (the lab follows its branch's tip)", deliveryFile, layerName(layer))
		}
		var dependsOn []string
		for _, dep := range asSlice(k.Spec["dependsOn"]) {
			dependsOn = append(dependsOn, stringField(asMap(dep), "name"))
		}
		want := []string{}
		if i > 0 {
			want = []string{layerName(fc.layers[i-1])}
		}
		if strings.Join(dependsOn, ",") != strings.Join(want, ",") {
			t.Errorf("Kustomization %s depends on %v, want %v (deploy's order: %v)", k.Metadata.Name, dependsOn, want, fc.layers)
		}
	}
	took, lines := d.firstReconciliation(t, fc, d.lastGood, fc.bootstrapped)
	t.Logf("lab: layer by layer:\n  %s", strings.Join(lines, "\n  "))
	d.figures = append(d.figures, fmt.Sprintf("delivery lab: first reconciliation from empty %.0fs (%d layers)", took.Seconds(), len(fc.layers)))
}

// The web Deployment and its config hash (lib/parts/config-hash.ts): a change to nginx.conf rolls it.
type webDeployment struct {
	Metadata struct {
		Generation int64 `json:"generation"`
	} `json:"metadata"`
	Spec struct {
		Replicas *int `json:"replicas"`
		Template struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		} `json:"template"`
	} `json:"spec"`
	Status struct {
		ObservedGeneration int64 `json:"observedGeneration"`
		Replicas           int   `json:"replicas"`
		UpdatedReplicas    int   `json:"updatedReplicas"`
		AvailableReplicas  int   `json:"availableReplicas"`
	} `json:"status"`
}

func (d *deliveryRun) web(t *testing.T, fc *fluxCluster) webDeployment {
	t.Helper()
	var w webDeployment
	if err := fc.s.kubectlJSON(&w, "get", "-n", "web", "deployment", "web"); err != nil {
		t.Fatal(err)
	}
	return w
}

// rolledOut: the Deployment's controller saw its newest spec and every replica is updated and available.
func (w webDeployment) rolledOut() bool {
	want := 1
	if w.Spec.Replicas != nil {
		want = *w.Spec.Replicas
	}
	return w.Status.ObservedGeneration >= w.Metadata.Generation && w.Status.UpdatedReplicas == want &&
		w.Status.Replicas == want && w.Status.AvailableReplicas == want
}

// synthDelivered renders, in the clone, every environment the test delivers, as a real change
// does: a commit that rendered the lab alone would leave dist/prod-aks/ stale, and `npm run promote`
// refuses a commit whose dist/ is not what its own code renders.
func (d *deliveryRun) synthDelivered(t *testing.T) {
	t.Helper()
	if _, err := d.repo.npm(nil, "synth", "--env", labEnv, "--env", prodEnv); err != nil {
		t.Fatal(err)
	}
}

// commitWebHeader makes a real source change (a response header of web's nginx.conf, through the Web
// construct's responseHeaders), renders the lab and prod-aks in the clone (synthDelivered), and
// commits it. It returns the commit.
func (d *deliveryRun) commitWebHeader(t *testing.T) string {
	t.Helper()
	source := filepath.Join("lib", "workloads", "web.ts")
	next := d.header + 1
	var err error
	if d.header == 0 {
		err = d.repo.replaceOnce(source, "responseHeaders: props.responseHeaders,",
			fmt.Sprintf("responseHeaders: { '%s': '%d', ...props.responseHeaders },", commitHeader, next))
	} else {
		err = d.repo.replaceOnce(source, fmt.Sprintf("'%s': '%d'", commitHeader, d.header), fmt.Sprintf("'%s': '%d'", commitHeader, next))
	}
	if err != nil {
		t.Fatal(err)
	}
	d.synthDelivered(t)
	if status, _ := gitRun(d.repo.work, "status", "--porcelain", "dist/lab/10-web.yaml"); strings.TrimSpace(status) == "" {
		t.Fatalf("changing web's response header in %s did not change dist/lab/10-web.yaml", source)
	}
	sha, err := d.repo.commitAll(fmt.Sprintf("web: response header %s %d", commitHeader, next))
	if err != nil {
		t.Fatal(err)
	}
	d.header = next
	return sha
}

// 2. A commit that changes web reaches the cluster: from the push to the rollout's end, with the
// lab's own intervals (no reconciliation requested), five times.
func (d *deliveryRun) labCommitLatency(t *testing.T) {
	fc := d.lab
	const commits = 5
	var samples []time.Duration
	for i := 0; i < commits; i++ {
		before := d.web(t, fc).Spec.Template.Metadata.Annotations[configHashAnnotation]
		sha := d.commitWebHeader(t)
		pushed, err := d.repo.push()
		if err != nil {
			t.Fatal(err)
		}
		var w webDeployment
		err = eventually(5*time.Minute, fmt.Sprintf("web rolled out with %s of %s", commitHeader, short(sha)), func() (bool, string, error) {
			w = d.web(t, fc)
			hash := w.Spec.Template.Metadata.Annotations[configHashAnnotation]
			return hash != before && w.rolledOut(), fmt.Sprintf("config hash %s (before %s), %+v", hash, before, w.Status), nil
		})
		if err != nil {
			k, _, _ := getKustomization(fc.s.cp, fc.namespace, layerName("workloads"))
			t.Fatalf("%v\n%s\n%s", err, k.describe(), d.controllerLogs(fc))
		}
		latency := time.Since(pushed)
		samples = append(samples, latency)
		t.Logf("commit %d (%s): pushed to rolled out %.1fs", i+1, short(sha), latency.Seconds())
		d.lastGood = sha
	}
	// The nginx.conf of the pods is the commit's: its ConfigMap holds the header.
	out, err := fc.s.kubectl("get", "-n", "web", "configmap", "-o", "yaml")
	if err != nil || !strings.Contains(out, fmt.Sprintf("%s \"%d\"", commitHeader, d.header)) && !strings.Contains(out, fmt.Sprintf("%s %d", commitHeader, d.header)) {
		t.Errorf("web's ConfigMaps do not carry %s %d (err %v):\n%s", commitHeader, d.header, err, lastLines(out, 40))
	}
	if _, err := fc.waitLayersAt(d.lastGood, 3*time.Minute); err != nil {
		t.Error(err)
	}
	sorted := append([]time.Duration(nil), samples...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var each []string
	for _, s := range samples {
		each = append(each, fmt.Sprintf("%.0fs", s.Seconds()))
	}
	d.figures = append(d.figures, fmt.Sprintf("delivery lab: commit-to-cluster latency median %.0fs of %d commits (%s), GitRepository interval %s",
		sorted[len(sorted)/2].Seconds(), commits, strings.Join(each, ", "), d.pollInterval(t, fc)))
}

func (d *deliveryRun) pollInterval(t *testing.T, fc *fluxCluster) string {
	out, err := fc.s.kubectl("get", "-n", fc.namespace, "gitrepository", layersSource, "-o", "jsonpath={.spec.interval}")
	if err != nil {
		t.Error(out)
	}
	return out
}

// 3. Drift: a `kubectl edit` and a delete of objects Flux applied are reverted by its next
// reconciliation (requested here, as `flux reconcile kustomization` does, rather than waited for).
func (d *deliveryRun) labDrift(t *testing.T) {
	fc := d.lab
	// kubectl edit, with an editor that changes one label of web's Service.
	editor := filepath.Join(fc.s.cp.dir, "edit-label.sh")
	script := "#!/bin/sh\nexec sed -i -e 's/app.kubernetes.io\\/part-of: lab-to-prod$/app.kubernetes.io\\/part-of: edited-by-hand/' \"$1\"\n"
	if err := os.WriteFile(editor, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	partOf := func() string {
		out, _ := fc.s.kubectl("get", "-n", "web", "service", "web", "-o", "jsonpath={.metadata.labels.app\\.kubernetes\\.io/part-of}")
		return out
	}
	edit := exec.Command(d.c.kubectl, "edit", "-n", "web", "service", "web")
	edit.Env = append(os.Environ(), "KUBECONFIG="+fc.s.cp.kubeconfig, "KUBE_EDITOR="+editor)
	if out, err := edit.CombinedOutput(); err != nil {
		t.Fatalf("kubectl edit: %v\n%s", err, out)
	}
	if got := partOf(); got != "edited-by-hand" {
		t.Fatalf("kubectl edit did not change the Service's label (it is %q): the drift test changes nothing", got)
	}
	// And a delete: web's own NetworkPolicy (of the workloads layer; the namespace's default-deny is the platform's).
	policy := findObject(fc.manifest, "NetworkPolicy", "web")
	if policy == nil || policy.Metadata.Namespace != "web" {
		t.Fatal("dist/lab/ has no NetworkPolicy web/web")
	}
	if out, err := fc.s.kubectl("delete", "-n", "web", "networkpolicy", policy.Metadata.Name, "--wait=true"); err != nil {
		t.Fatalf("kubectl delete: %v\n%s", err, out)
	}
	requested := time.Now()
	if _, err := requestReconcile(fc.s, "kustomization", fc.namespace, layerName("workloads")); err != nil {
		t.Fatal(err)
	}
	err := eventually(3*time.Minute, "the edit and the delete reverted", func() (bool, string, error) {
		label, back := partOf(), fc.s.exists(*policy)
		return label == "lab-to-prod" && back, fmt.Sprintf("Service web's part-of label %q, NetworkPolicy %s there: %v", label, policy.Metadata.Name, back), nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, d.controllerLogs(fc))
	}
	t.Logf("reverted %.1fs after the reconciliation was requested", time.Since(requested).Seconds())
}

// deploy would fight the reconciler: on a cluster where Flux's Kustomizations of the project are
// active it refuses, names them, and applies nothing (lib/commands/reconciler-guard.ts).
func (d *deliveryRun) labDeployRefused(t *testing.T) {
	fc := d.lab
	before := fc.s.snapshot(fc.manifest)
	out, err := fc.s.deploy(filepath.Join(d.repo.work, "dist", "lab"), "1m")
	if err == nil {
		t.Fatalf("deploy applied the lab to a cluster Flux delivers:\n%s", out)
	}
	for _, want := range []string{"refusing to deploy", "Flux Kustomization " + fc.namespace + "/" + layerName("workloads"), "--despite-reconciler"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy's refusal does not say %q:\n%s", want, out)
		}
	}
	if changed := fc.s.changedSince(before, fc.manifest); len(changed) > 0 {
		t.Errorf("the refused deploy changed: %s", strings.Join(changed, ", "))
	}
}

// removeDocuments drops from the clone's file every YAML document that holds all of needles.
func (d *deliveryRun) removeDocuments(t *testing.T, file string, needles ...string) int {
	t.Helper()
	full := filepath.Join(d.repo.work, file)
	b, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	removed := 0
	for _, doc := range documentSeparator.Split(string(b), -1) {
		all := true
		for _, n := range needles {
			all = all && strings.Contains(doc, n)
		}
		if all && !isEmptyDocument(doc) {
			removed++
			continue
		}
		kept = append(kept, doc)
	}
	if err := os.WriteFile(full, []byte(strings.Join(kept, "---")), 0o644); err != nil {
		t.Fatal(err)
	}
	return removed
}

// pushAndReconcile pushes the clone and asks source-controller to fetch now (rather than at its
// next interval), as `flux reconcile source git` does.
func (d *deliveryRun) pushAndReconcile(t *testing.T, fc *fluxCluster) {
	t.Helper()
	if _, err := d.repo.push(); err != nil {
		t.Fatal(err)
	}
	if _, err := requestReconcile(fc.s, "gitrepository", fc.namespace, layersSource); err != nil {
		t.Fatal(err)
	}
}

// 4. Prune: an object a commit removes from dist/ is deleted from the cluster, by Flux's inventory;
// an object Flux never applied, even with the project's labels, is left alone, and nothing else changes.
func (d *deliveryRun) labPrune(t *testing.T) {
	fc := d.lab
	bystander := object{APIVersion: "v1", Kind: "ConfigMap", Metadata: objectMeta{Name: "never-flux", Namespace: "web"}}
	if out, err := fc.s.kubectl("create", "configmap", "-n", "web", bystander.Metadata.Name, "--from-literal=made-by=hand"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := fc.s.kubectl("label", "-n", "web", "configmap", bystander.Metadata.Name, "app.kubernetes.io/part-of=lab-to-prod"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var victim *object
	var others []object
	for i, o := range fc.manifest {
		if o.Kind == "PodDisruptionBudget" && o.Metadata.Namespace == "web" && victim == nil {
			victim = &fc.manifest[i]
		} else {
			others = append(others, o)
		}
	}
	if victim == nil {
		t.Fatal("dist/lab/ has no PodDisruptionBudget in namespace web")
	}
	before := fc.s.snapshot(others)
	if n := d.removeDocuments(t, "dist/lab/10-web.yaml", "kind: PodDisruptionBudget"); n != 1 {
		t.Fatalf("dist/lab/10-web.yaml: removed %d PodDisruptionBudget documents, want 1", n)
	}
	sha, err := d.repo.commitAll("prune test: web's PodDisruptionBudget removed from dist/lab/")
	if err != nil {
		t.Fatal(err)
	}
	d.pushAndReconcile(t, fc)
	if _, err := fc.waitLayersAt(sha, 5*time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, d.controllerLogs(fc))
	}
	if err := eventually(time.Minute, victim.ref()+" deleted", func() (bool, string, error) {
		return !fc.s.exists(*victim), "still there", nil
	}); err != nil {
		t.Error(err)
	}
	if !fc.s.exists(bystander) {
		t.Errorf("%s, never applied by Flux, was deleted", bystander.ref())
	}
	if changed := fc.s.changedSince(before, others); len(changed) > 0 {
		t.Errorf("pruning %s also changed: %s", victim.ref(), strings.Join(changed, ", "))
	}
	d.lastGood = sha
}

// 5. A bad commit: an object the API server refuses. Flux applies nothing of that layer (its
// server-side dry run of the whole layer fails first), reports the failure in the Kustomization's
// status, and the next good commit recovers.
func (d *deliveryRun) labBadCommit(t *testing.T) {
	fc := d.lab
	good := d.lastGood
	webBefore := d.web(t, fc)
	// The bad commit also brings back web's PodDisruptionBudget: a good change that must not be applied either.
	if _, err := gitRun(d.repo.work, "checkout", "HEAD~1", "--", "dist/lab/10-web.yaml"); err != nil {
		t.Fatal(err)
	}
	const refused = "Refused_By_The_API_Server"
	bad := fmt.Sprintf("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: web\ndata:\n  why: a name the API server refuses (not a DNS subdomain)\n", refused)
	f, err := os.OpenFile(filepath.Join(d.repo.work, "dist", "lab", "10-web.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(bad)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	badSHA, err := d.repo.commitAll("bad commit: a ConfigMap the API server refuses, and web's PodDisruptionBudget back")
	if err != nil {
		t.Fatal(err)
	}
	d.pushAndReconcile(t, fc)
	var k fluxKustomization
	err = eventually(5*time.Minute, "the workloads layer reporting the refused object", func() (bool, string, error) {
		var err error
		k, _, err = getKustomization(fc.s.cp, fc.namespace, layerName("workloads"))
		ready, _ := k.condition("Ready")
		return revisionOf(k.Status.LastAttemptedRevision) == badSHA && ready.Status == "False" && strings.Contains(ready.Message, refused),
			k.describe(), err
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, d.controllerLogs(fc))
	}
	ready, _ := k.condition("Ready")
	t.Logf("the failure in the status: Ready=False %s: %s", ready.Reason, ready.Message)
	if got := revisionOf(k.Status.LastAppliedRevision); got != good {
		t.Errorf("lastAppliedRevision is %s, want the last good commit %s", k.Status.LastAppliedRevision, short(good))
	}
	pdb := findObject(fc.manifest, "PodDisruptionBudget", "web")
	if pdb != nil && fc.s.exists(*pdb) {
		t.Errorf("%s, which the bad commit brings back, was applied: the layer was applied in part", pdb.ref())
	}
	if w := d.web(t, fc); w.Metadata.Generation != webBefore.Metadata.Generation || !w.rolledOut() {
		t.Errorf("web changed under the bad commit: generation %d -> %d, status %+v", webBefore.Metadata.Generation, w.Metadata.Generation, w.Status)
	}

	// The next good commit: the refused object out again. dist/lab/ is then the synth's own again.
	if n := d.removeDocuments(t, "dist/lab/10-web.yaml", refused); n != 1 {
		t.Fatalf("removed %d documents naming %s, want 1", n, refused)
	}
	d.synthDelivered(t)
	recovered, err := d.repo.commitAll("good commit: the refused ConfigMap removed")
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := gitRun(d.repo.work, "diff", "--stat", good+"~1", recovered, "--", "dist/lab"); strings.TrimSpace(status) != "" {
		t.Fatalf("after the good commit, dist/lab/ is not the synth's render of the lab:\n%s", status)
	}
	d.pushAndReconcile(t, fc)
	if _, err := fc.waitLayersAt(recovered, 5*time.Minute); err != nil {
		t.Fatalf("the next good commit did not recover: %v\n%s", err, d.controllerLogs(fc))
	}
	if pdb != nil && !fc.s.exists(*pdb) {
		t.Errorf("%s was not applied by the good commit", pdb.ref())
	}
	d.lastGood = recovered
}

// 6. Promotion: prod-aks, not promoted yet, applies nothing while the lab moves; `npm run promote`'s
// commit moves it to a revision the lab runs, and it stays there while the lab moves on.
func (d *deliveryRun) prodPromotion(t *testing.T) {
	fc, lab := d.prod, d.lab
	head, err := d.repo.head()
	if err != nil {
		t.Fatal(err)
	}
	// Before: its delivery Kustomization follows the branch's tip (it saw every commit so far), and
	// applies no layer.
	if _, err := requestReconcile(fc.s, "gitrepository", fc.namespace, selfName); err != nil {
		t.Fatal(err)
	}
	err = eventually(3*time.Minute, fmt.Sprintf("%s's %s Ready at the branch's tip %s", fc.env, selfName, short(head)), func() (bool, string, error) {
		k, _, err := getKustomization(fc.s.cp, fc.namespace, selfName)
		return k.ready() && revisionOf(k.Status.LastAppliedRevision) == head, k.describe(), err
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, d.controllerLogs(fc))
	}
	for _, layer := range fc.layers {
		if _, found, _ := getKustomization(fc.s.cp, fc.namespace, layerName(layer)); found {
			t.Errorf("%s, not promoted yet, has a Kustomization %s", fc.env, layerName(layer))
		}
	}
	if fc.s.exists(object{APIVersion: "v1", Kind: "Namespace", Metadata: objectMeta{Name: "web"}}) {
		t.Errorf("%s, not promoted yet, has namespace web", fc.env)
	}

	// promote, with the lab's cluster as its evidence.
	out, err := d.repo.npm([]string{"KUBECONFIG=" + lab.s.cp.kubeconfig, "KUBECTL=" + d.c.kubectl}, "promote",
		"--env", fc.env, "--to", d.lastGood, "--context", lab.env+"-cluster-test", "--confirm-cluster", lab.s.caCertHash())
	t.Logf("npm run promote:\n%s", out)
	if err != nil {
		t.Fatal(err)
	}
	promotion, err := d.repo.head()
	if err != nil {
		t.Fatal(err)
	}
	if promotion == head {
		t.Fatal("npm run promote made no commit")
	}
	changed, _ := gitRun(d.repo.work, "diff", "--name-only", head, promotion)
	t.Logf("promote's commit changes:\n%s", changed)
	pushed, err := d.repo.push()
	if err != nil {
		t.Fatal(err)
	}
	took, lines := d.firstReconciliation(t, fc, d.lastGood, pushed)
	t.Logf("%s: layer by layer after the promotion:\n  %s", fc.env, strings.Join(lines, "\n  "))
	d.figures = append(d.figures, fmt.Sprintf("delivery %s: from promote's push to every layer Ready %.0fs (%d layers, first reconciliation from empty)",
		fc.env, took.Seconds(), len(fc.layers)))

	// The lab moves on; prod-aks stays on the promoted commit.
	promoted := d.lastGood
	next := d.commitWebHeader(t)
	d.pushAndReconcile(t, lab)
	if _, err := lab.waitLayersAt(next, 5*time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, d.controllerLogs(lab))
	}
	if _, err := requestReconcile(fc.s, "gitrepository", fc.namespace, selfName); err != nil {
		t.Fatal(err)
	}
	if _, err := requestReconcile(fc.s, "gitrepository", fc.namespace, layersSource); err != nil {
		t.Fatal(err)
	}
	err = eventually(3*time.Minute, fmt.Sprintf("%s's %s at the lab's new tip %s", fc.env, selfName, short(next)), func() (bool, string, error) {
		k, _, err := getKustomization(fc.s.cp, fc.namespace, selfName)
		return k.ready() && revisionOf(k.Status.LastAppliedRevision) == next, k.describe(), err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, layer := range fc.layers {
		k, _, err := getKustomization(fc.s.cp, fc.namespace, layerName(layer))
		if err != nil {
			t.Fatal(err)
		}
		if revisionOf(k.Status.LastAppliedRevision) != promoted || !k.ready() {
			t.Errorf("%s moved with the lab: %s", fc.env, k.describe())
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestInventoryID(t *testing.T) {
	for id, want := range map[string][4]string{
		"web_web_apps_Deployment": {"web", "web", "apps", "Deployment"},
		"_cert-manager-controller-approve__cert-manager-io_rbac.authorization.k8s.io_ClusterRole": {"", "cert-manager-controller-approve:cert-manager-io", "rbac.authorization.k8s.io", "ClusterRole"},
		"batch_db-backups__PersistentVolumeClaim":                                                 {"batch", "db-backups", "", "PersistentVolumeClaim"},
	} {
		ns, name, group, kind, err := inventoryID(id)
		if err != nil || [4]string{ns, name, group, kind} != want {
			t.Errorf("inventoryID(%q) = %q, %q, %q, %q, %v; want %q", id, ns, name, group, kind, err, want)
		}
	}
	if _, _, _, _, err := inventoryID("no-underscores"); err == nil {
		t.Error("an id without its four parts must be an error")
	}
}

func TestRevisionOf(t *testing.T) {
	sha := "e045b8e3b0fe4fe82f01754797347ab5b4479053"
	for revision, want := range map[string]string{
		"main@sha1:" + sha: sha, // a branch
		"sha1:" + sha:      sha, // a commit (a promoted environment's GitRepository)
		"main@sha1:e045":   "",
		"":                 "",
	} {
		if got := revisionOf(revision); got != want {
			t.Errorf("revisionOf(%q) = %q, want %q", revision, got, want)
		}
	}
}
