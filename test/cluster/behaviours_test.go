package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBehaviours shows, on the lab's own workloads on the real node, the promises that are the
// reason to run containers on Kubernetes rather than by hand (rollouts, rollbacks, self-healing, graceful shutdown, horizontal
// scaling, batch, bin packing), each with the figures it measured. Traffic is a bounded loop of requests from a client
// pod of the test's own (behaviours_traffic_test.go); every figure is counted, not sampled.
// With LAB_TO_PROD_BEHAVIOURS_PAGE set, it writes docs/behaviours.md from this run's figures there
// (LAB_TO_PROD_NODE_TESTS=TestBehaviours LAB_TO_PROD_BEHAVIOURS_PAGE="$PWD/docs/behaviours.md" npm run test:node).
func TestBehaviours(t *testing.T) {
	started := time.Now()
	n := startLabOnRealNode(t)
	b := &behaviours{n: n, client: client{namespace: "outside", pod: "client"}}
	if out, err := n.s.kubectl("create", "namespace", b.client.namespace); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	n.startClientPod(t, b.client)

	b.run(t, "rolling update without a failed request", b.rollingUpdate)
	b.run(t, "rollback from an image that cannot start", b.rollback)
	b.run(t, "self-healing", b.selfHealing)
	b.run(t, "graceful shutdown", b.gracefulShutdown)
	// Horizontal scaling in two parts: the HPA's scale-down stabilization window (300 s in the
	// lab, not shortened) passes while batch and bin packing run; they use neither web nor its CPU.
	b.run(t, "horizontal scaling: up under load", b.scaleUp)
	b.run(t, "batch", b.batch)
	b.run(t, "bin packing and quotas", b.binPacking)
	b.run(t, "horizontal scaling: back down", b.scaleDown)

	n.figures.add("whole run", time.Since(started))
	n.figures.print()
	b.writePage(t)
}

// behaviours is the state the behaviour checks share, and what each showed.
type behaviours struct {
	n       *realNodeChecks
	client  client
	results []behaviourResult
	scaling *scalingRun // from the scale-up to the scale-down check
}

// behaviourResult is one promise as docs/behaviours.md tells it.
type behaviourResult struct {
	title    string
	concept  string   // the Kubernetes concept it shows, with the upstream page that explains it
	settings []string // construct and field that make it so
	done     string   // what the test did
	measured []string // what it measured
	took     time.Duration
}

// run runs one check as a subtest and notes what it cost (the CI budget).
func (b *behaviours) run(t *testing.T, name string, check func(*testing.T)) {
	recorded := len(b.results)
	started := time.Now()
	t.Run(name, check)
	if len(b.results) > recorded && b.results[len(b.results)-1].took == 0 {
		b.results[len(b.results)-1].took = time.Since(started)
	}
}

// record keeps a behaviour's figures for the page and the run's summary.
func (b *behaviours) record(t *testing.T, r behaviourResult) {
	for _, m := range r.measured {
		t.Logf("measured: %s", m)
		b.n.figures.note("%s: %s", r.title, m)
	}
	b.results = append(b.results, r)
}

const (
	webURL      = "http://web.web.svc.cluster.local/"
	webSelector = "app.kubernetes.io/name=web"
)

// deployment is the part of a Deployment the checks read.
type deployment struct {
	Metadata struct {
		Generation  int               `json:"generation"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Replicas                int `json:"replicas"`
		ProgressDeadlineSeconds int `json:"progressDeadlineSeconds"`
		RevisionHistoryLimit    int `json:"revisionHistoryLimit"`
		MinReadySeconds         int `json:"minReadySeconds"`
		Strategy                struct {
			RollingUpdate struct {
				MaxSurge       any `json:"maxSurge"`
				MaxUnavailable any `json:"maxUnavailable"`
			} `json:"rollingUpdate"`
		} `json:"strategy"`
		Template struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Spec struct {
				TerminationGracePeriodSeconds int `json:"terminationGracePeriodSeconds"`
				Containers                    []struct {
					Name  string `json:"name"`
					Image string `json:"image"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
	Status struct {
		ObservedGeneration int `json:"observedGeneration"`
		Conditions         []struct {
			Type, Status, Reason, Message string
		} `json:"conditions"`
	} `json:"status"`
}

func (b *behaviours) web(t *testing.T) deployment {
	var d deployment
	if err := b.n.s.kubectlJSON(&d, "get", "deployment", "web", "-n", "web"); err != nil {
		t.Fatal(err)
	}
	return d
}

// rollingUpdate: web's nginx.conf changed through the Web construct's props, re-rendered and
// deployed with the project's command; the config hash rolls the Deployment, and during the rollout
// no request fails and never are fewer pods Ready than the Deployment's replicas.
func (b *behaviours) rollingUpdate(t *testing.T) {
	s := b.n.s
	before := b.web(t)
	oldHash := before.Spec.Template.Metadata.Annotations[configHashAnnotation]
	replicas := before.Spec.Replicas

	// The changed lab: the same render as the deployed one, plus a response header in nginx.conf.
	const header = "X-Lab-To-Prod-Rollout"
	dir := filepath.Join(b.n.tools.state, "rendered-rollout")
	out, err := exec.Command("node", filepath.Join(s.c.repo, "speed", "tsrun.js"), filepath.Join(s.c.repo, "test", "cluster", "render-lab-for-node.ts"),
		dir, "--web-response-header", header+"=behaviours").CombinedOutput()
	if err != nil {
		t.Fatalf("rendering the lab with a changed nginx.conf: %v\n%s", err, out)
	}

	traffic := b.startTraffic(t, webURL)
	watch := b.watchReady("web", webSelector, "web")
	started := time.Now()
	deployOut, deployErr := s.deploy(filepath.Join(dir, "lab"), "5m")
	rolledOut := time.Since(started)
	var newHash string
	var pods []watchedPod
	// The rollout is over when every web pod has the new hash and no old one is still stopping.
	settled := waitFor(3*time.Minute, func() (bool, error) {
		newHash = b.web(t).Spec.Template.Metadata.Annotations[configHashAnnotation]
		pods = b.podsOf("web", webSelector)
		if len(pods) != replicas {
			return false, nil
		}
		for _, p := range pods {
			if p.Metadata.Annotations[configHashAnnotation] != newHash || p.Metadata.DeletionTimestamp != "" || !p.ready() {
				return false, nil
			}
		}
		return true, nil
	})
	allReplaced := time.Since(started)
	result := traffic.finish()
	seen := watch.finish()

	if deployErr != nil {
		t.Fatalf("deploy of the changed lab: %v\n%s%s", deployErr, deployOut, s.diagnose())
	}
	if settled != nil {
		t.Fatalf("the old web pods were not all replaced within 3 minutes: %v%s", settled, s.diagnose())
	}
	if newHash == oldHash || newHash == "" {
		t.Errorf("the config hash did not change (%q → %q): the Deployment did not roll because of nginx.conf", oldHash, newHash)
	}
	pod := pods[0] // one of the settled pods, all on the new hash
	conf, err := s.kubectl("exec", "-n", "web", pod.Metadata.Name, "-c", "nginx", "--", "cat", "/etc/nginx/nginx.conf")
	if err != nil || !strings.Contains(conf, "add_header "+header) {
		t.Errorf("the new pod %s does not read the changed nginx.conf (err %v):\n%s", pod.Metadata.Name, err, conf)
	}
	result.check(t)
	seen.checkAtLeast(t, replicas)

	b.record(t, behaviourResult{
		title:   "Rolling update without a failed request",
		concept: "rolling updates (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment)",
		settings: []string{
			"`lib/parts/autoscaling.ts` `surgeOneRollingUpdate`: `spec.strategy.rollingUpdate` maxSurge " + fmt.Sprint(before.Spec.Strategy.RollingUpdate.MaxSurge) + ", maxUnavailable " + fmt.Sprint(before.Spec.Strategy.RollingUpdate.MaxUnavailable),
			"`lib/parts/config-hash.ts` `configHash`: the pod template's `" + configHashAnnotation + "`",
			fmt.Sprintf("`lib/workloads/nginx-server.ts`: `minReadySeconds` %d, readiness probe on `/`", before.Spec.MinReadySeconds),
		},
		done: "Rendered the lab again with a response header added to web's nginx.conf (the Web construct's `responseHeaders`), " +
			"deployed it with `npm run deploy`, and sent requests to the web Service from a client pod throughout.",
		measured: []string{
			fmt.Sprintf("config hash %s → %s; %d of %d pods replaced", oldHash, newHash, replicas, replicas),
			fmt.Sprintf("deploy until rolled out %.1fs, until every old pod was gone %.1fs", rolledOut.Seconds(), allReplaced.Seconds()),
			result.String(),
			seen.String(replicas),
		},
	})
}

// configHashAnnotation is lib/parts/config-hash.ts's CONFIG_HASH_ANNOTATION.
const configHashAnnotation = "lab-to-prod.io/config-hash"

// rollback: a rollout to images that cannot be pulled stalls at the progress deadline with the old
// pods serving; `kubectl rollout undo` restores the last good revision; revisionHistoryLimit bounds
// the ReplicaSets kept.
func (b *behaviours) rollback(t *testing.T) {
	s := b.n.s
	before := b.web(t)
	goodRevision := before.Metadata.Annotations["deployment.kubernetes.io/revision"]
	goodImage := before.Spec.Template.Spec.Containers[0].Image
	replicas := before.Spec.Replicas
	declaredDeadline := before.Spec.ProgressDeadlineSeconds
	// The lab's deadline (180 s) is lowered on the test cluster's copy only, to keep the run short;
	// the controller's behaviour does not depend on its length.
	const testDeadline = 20
	patch := func(seconds int) {
		if out, err := s.kubectl("patch", "deployment", "web", "-n", "web", "--type=merge",
			"-p", fmt.Sprintf(`{"spec":{"progressDeadlineSeconds":%d}}`, seconds)); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	patch(testDeadline)
	defer patch(declaredDeadline)

	// More bad revisions than the history keeps, so that the limit has something to bound.
	badRevisions := before.Spec.RevisionHistoryLimit + 1
	repository, _, _ := strings.Cut(goodImage[strings.LastIndex(goodImage, "/")+1:], ":")
	repository = goodImage[:strings.LastIndex(goodImage, "/")+1] + repository
	traffic := b.startTraffic(t, webURL)
	watch := b.watchReady("web", webSelector, "web")
	var stalledAt time.Duration
	func() {
		for i := 1; i <= badRevisions; i++ {
			if out, err := s.kubectl("set", "image", "deployment/web", "-n", "web", fmt.Sprintf("nginx=%s:no-such-tag-%d", repository, i)); err != nil {
				t.Errorf("%v: %s", err, out)
				return
			}
			// Each template the controller sees becomes a ReplicaSet.
			if err := waitFor(time.Minute, func() (bool, error) {
				d := b.web(t)
				return d.Status.ObservedGeneration >= d.Metadata.Generation, nil
			}); err != nil {
				t.Errorf("revision %d not observed: %v", i, err)
				return
			}
		}
		lastChange := time.Now()
		err := waitFor(time.Duration(testDeadline+90)*time.Second, func() (bool, error) {
			for _, c := range b.web(t).Status.Conditions {
				if c.Type == "Progressing" && c.Status == "False" && c.Reason == "ProgressDeadlineExceeded" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Errorf("the rollout to a bad image never reported ProgressDeadlineExceeded: %v%s", err, s.diagnose())
		}
		stalledAt = time.Since(lastChange)
	}()
	undoStarted := time.Now()
	if out, err := s.kubectl("rollout", "undo", "deployment/web", "-n", "web", "--to-revision="+goodRevision); err != nil {
		t.Fatalf("kubectl rollout undo: %v: %s", err, out)
	}
	if out, err := s.kubectl("rollout", "status", "deployment/web", "-n", "web", "--timeout=3m"); err != nil {
		t.Fatalf("the undo did not finish: %v: %s%s", err, out, s.diagnose())
	}
	undone := time.Since(undoStarted)
	kept := 0
	err := waitFor(time.Minute, func() (bool, error) {
		var list struct {
			Items []struct{} `json:"items"`
		}
		if err := s.kubectlJSON(&list, "get", "replicasets", "-n", "web", "-l", webSelector); err != nil {
			return false, err
		}
		kept = len(list.Items)
		return kept <= before.Spec.RevisionHistoryLimit+1, nil
	})
	result := traffic.finish()
	seen := watch.finish()

	after := b.web(t)
	made, _ := strconv.Atoi(after.Metadata.Annotations["deployment.kubernetes.io/revision"])
	if err != nil {
		t.Errorf("%d ReplicaSets kept, more than revisionHistoryLimit %d + the current one", kept, before.Spec.RevisionHistoryLimit)
	}
	if made <= before.Spec.RevisionHistoryLimit+1 {
		t.Errorf("only %d revisions made: not enough to show the limit of %d", made, before.Spec.RevisionHistoryLimit)
	}
	if image := after.Spec.Template.Spec.Containers[0].Image; image != goodImage {
		t.Errorf("after the undo the image is %s, want %s", image, goodImage)
	}
	// `rollout status` returns once the good pods are Ready; the broken ReplicaSet's pods are then
	// being deleted, and a pod that is being deleted is still listed until the kubelet lets it go.
	if err := eventually(2*time.Minute, "every web pod on "+goodImage+" after the undo", func() (bool, string, error) {
		pods := b.podsOf("web", webSelector)
		if len(pods) == 0 {
			return false, "no web pod listed", nil
		}
		var others []string
		for _, p := range pods {
			if p.image() != goodImage {
				others = append(others, fmt.Sprintf("%s runs %s%s", p.Metadata.Name, p.image(), deleting(p)))
			}
		}
		return len(others) == 0, strings.Join(others, "; "), nil
	}); err != nil {
		t.Error(err)
	}
	result.check(t)
	seen.checkAtLeast(t, replicas)

	b.record(t, behaviourResult{
		title:   "Rollback",
		concept: "rollbacks (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-back-a-deployment)",
		settings: []string{
			fmt.Sprintf("`lib/workloads/web.ts` `progressDeadlineSeconds`: %d (lowered to %d on the test cluster's copy, to keep the run short)", declaredDeadline, testDeadline),
			fmt.Sprintf("`lib/workloads/nginx-server.ts` `revisionHistoryLimit`: %d", before.Spec.RevisionHistoryLimit),
			"`lib/parts/autoscaling.ts` `surgeOneRollingUpdate`: maxUnavailable 0, so a new pod that never becomes Ready replaces nothing",
		},
		done: fmt.Sprintf("Set web's image to %d tags that do not exist, one after another (`kubectl set image`), waited for the "+
			"Deployment to report ProgressDeadlineExceeded, then `kubectl rollout undo --to-revision=%s`; requests from a client pod throughout.", badRevisions, goodRevision),
		measured: []string{
			fmt.Sprintf("stalled: ProgressDeadlineExceeded %.1fs after the last change", stalledAt.Seconds()),
			fmt.Sprintf("undo until rolled out %.1fs; image back to %s", undone.Seconds(), goodImage),
			fmt.Sprintf("%d revisions made, %d ReplicaSets kept (revisionHistoryLimit %d + the current one)", made, kept, before.Spec.RevisionHistoryLimit),
			result.String(),
			seen.String(replicas),
		},
	})
}

// writePage writes docs/behaviours.md from this run's results to LAB_TO_PROD_BEHAVIOURS_PAGE, if set
// and only if every check passed: the page shows promises kept, never a failed run.
func (b *behaviours) writePage(t *testing.T) {
	target := behavioursPageTarget(t)
	if target == "" {
		return
	}
	// TestLab's section of the page (lab_page.go) stays as that test last wrote it.
	old, err := os.ReadFile(target)
	if err != nil && !os.IsNotExist(err) {
		t.Errorf("reading the behaviours page: %v", err)
		return
	}
	page := behavioursPage(b.results, kubeVersion())
	if section := labSection(string(old)); section != "" {
		page = withLabSection(page, section)
	}
	if err := os.WriteFile(target, []byte(page), 0o644); err != nil {
		t.Errorf("writing the behaviours page: %v", err)
		return
	}
	t.Logf("wrote %s", target)
}

// behavioursPage is docs/behaviours.md: each promise, where it comes from, what makes it so, what was
// done and what was measured.
func behavioursPage(results []behaviourResult, kube string) string {
	var p strings.Builder
	p.WriteString("# Kubernetes' promises, shown on a real node\n\n")
	p.WriteString("<!-- Generated by TestBehaviours (test/cluster/behaviours_test.go) from its last run: do not edit.\n")
	p.WriteString("     Regenerate: LAB_TO_PROD_NODE_TESTS=TestBehaviours LAB_TO_PROD_BEHAVIOURS_PAGE=\"$PWD/docs/behaviours.md\" npm run test:node -->\n\n")
	fmt.Fprintf(&p, "The lab's own workloads, rendered and deployed as `dist/lab/` is (docs/cluster-tests.md, \"The real node\"), on one real node "+
		"(Kubernetes %s, containerd, runc). Traffic is a bounded loop of HTTP requests to the web Service from a client pod, "+
		"each on a fresh connection; every figure below is counted in that run, not sampled. Times vary from run to run; "+
		"the pass or fail of each check does not.\n\n", kube)
	for i, r := range results {
		fmt.Fprintf(&p, "## %d. %s\n\n", i+1, r.title)
		fmt.Fprintf(&p, "The concept: %s.\n\n", r.concept)
		p.WriteString("What makes it so:\n\n")
		for _, s := range r.settings {
			fmt.Fprintf(&p, "- %s\n", s)
		}
		fmt.Fprintf(&p, "\nWhat the test did: %s\n\nWhat it measured:\n\n", r.done)
		for _, m := range r.measured {
			fmt.Fprintf(&p, "- %s\n", m)
		}
		fmt.Fprintf(&p, "\nThe check took %.0f s.\n\n", r.took.Seconds())
	}
	return p.String()
}

// loopSummary matches the probe loop's summary line.
var loopSummary = regexp.MustCompile(`(?m)^ok (\d+) failed (\d+)$`)
