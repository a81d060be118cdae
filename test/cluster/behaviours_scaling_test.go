package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Horizontal scaling: metrics-server's resource metrics (testdata/node/metrics-server.yaml) feed
// web's HorizontalPodAutoscaler, as in the lab; CPU load from a client pod scales web up toward
// maxReplicas, and once the load ends the HPA scales it back down after its scale-down
// stabilization window, the lab's own (nothing of the HPA is changed for the test).

const (
	// The load: loadStreams runs of the probe's loop at a time, each loadCount requests with no
	// pause, each on a fresh connection, from a client pod of its own (the behaviours' client is
	// held to 100m of CPU, too little to load two nginx pods).
	loadStreams = 3
	loadCount   = 1000
	// How long the load may take to scale web up to maxReplicas, and how long it is held there
	// (so that the cap is shown while the load asks for more).
	scaleUpBound = 3 * time.Minute
	holdAtMax    = 30 * time.Second
	// How long after the stabilization window the scale-down may come: metrics-server's
	// resolution (15 s) and the HPA's sync period (15 s) delay both the last high recommendation
	// and the first low one.
	scaleDownSlack = 2 * time.Minute
)

// hpaObject is the part of a HorizontalPodAutoscaler (autoscaling/v2) the check reads.
type hpaObject struct {
	Spec struct {
		MinReplicas int `json:"minReplicas"`
		MaxReplicas int `json:"maxReplicas"`
		Metrics     []struct {
			Resource struct {
				Name   string `json:"name"`
				Target struct {
					AverageUtilization int `json:"averageUtilization"`
				} `json:"target"`
			} `json:"resource"`
		} `json:"metrics"`
		Behavior struct {
			ScaleDown struct {
				StabilizationWindowSeconds *int `json:"stabilizationWindowSeconds"`
			} `json:"scaleDown"`
		} `json:"behavior"`
	} `json:"spec"`
	Status struct {
		CurrentReplicas int `json:"currentReplicas"`
		DesiredReplicas int `json:"desiredReplicas"`
		CurrentMetrics  []struct {
			Resource struct {
				Current struct {
					AverageUtilization *int `json:"averageUtilization"`
				} `json:"current"`
			} `json:"resource"`
		} `json:"currentMetrics"`
		Conditions []struct{ Type, Status, Reason, Message string } `json:"conditions"`
	} `json:"status"`
}

// utilization is the HPA's last computed cpu utilization, in percent of the pods' requests (-1: none).
func (h hpaObject) utilization() int {
	for _, m := range h.Status.CurrentMetrics {
		if m.Resource.Current.AverageUtilization != nil {
			return *m.Resource.Current.AverageUtilization
		}
	}
	return -1
}

func (h hpaObject) condition(kind string) (status, reason string) {
	for _, c := range h.Status.Conditions {
		if c.Type == kind {
			return c.Status, c.Reason
		}
	}
	return "", ""
}

// objectWatch is `kubectl get --watch` of one object: every version the API server sends, with
// the time it arrived, so that each change is counted, not sampled.
type objectWatch struct {
	cancel   context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	versions []watchedVersion
	err      error
	stderr   bytes.Buffer
}

type watchedVersion struct {
	at  time.Time
	raw json.RawMessage
}

func (b *behaviours) watchObject(kind, namespace, name string) (*objectWatch, error) {
	ctx, cancel := context.WithCancel(context.Background())
	w := &objectWatch{cancel: cancel, done: make(chan struct{})}
	cmd := exec.CommandContext(ctx, b.n.s.c.kubectl, "get", kind, name, "-n", namespace, "--watch", "-o", "json")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+b.n.s.cp.kubeconfig)
	cmd.Stderr = &w.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, err
	}
	go func() {
		defer close(w.done)
		decoder := json.NewDecoder(stdout)
		for {
			var raw json.RawMessage
			if err := decoder.Decode(&raw); err != nil {
				if err != io.EOF && ctx.Err() == nil {
					w.mu.Lock()
					w.err = fmt.Errorf("watch of %s %s/%s: %v", kind, namespace, name, err)
					w.mu.Unlock()
				}
				break
			}
			w.mu.Lock()
			w.versions = append(w.versions, watchedVersion{at: time.Now(), raw: raw})
			w.mu.Unlock()
		}
		_ = cmd.Wait()
		if ctx.Err() == nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = fmt.Errorf("watch of %s %s/%s ended early: %s", kind, namespace, name, strings.TrimSpace(w.stderr.String()))
			}
			w.mu.Unlock()
		}
	}()
	return w, nil
}

// seen returns the versions so far (the watch goes on).
func (w *objectWatch) seen() []watchedVersion {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]watchedVersion(nil), w.versions...)
}

func (w *objectWatch) finish() ([]watchedVersion, error) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.versions, w.err
}

// replicaChange is one decision of the HPA, as the Deployment's spec.replicas shows it.
type replicaChange struct {
	at          time.Time
	from, to    int
	utilization int // the HPA's cpu utilization when it decided (-1: not known)
	allReadyAt  time.Time
}

// replicaTimeline reads, from every version of the Deployment and of the HPA, each change of the
// Deployment's replicas, when all of them were Ready, and the highest replicas and desired
// replicas ever seen.
type replicaTimeline struct {
	changes                 []replicaChange
	deploymentVersions      int
	hpaVersions             int
	maxReplicas, maxDesired int
	maxUtilization          int
	limitedAt               time.Time // first ScalingLimited True, TooManyReplicas
	limitedMessage          string
	observations            []hpaObservation // every status of the HPA, in order
}

// hpaObservation is one status the HPA wrote: when, over how many replicas, at what cpu utilization.
type hpaObservation struct {
	at              time.Time
	currentReplicas int
	utilization     int // -1: not known
}

// lastRecommendedAbove is when the HPA last recommended more than `replicas`, read from its
// statuses: the stabilization window of a scale-down counts from that recommendation, not from
// the end of the load. With the load generator at its own cpu limit, the utilization per pod falls
// below the target once the extra replicas share the load, so the last high recommendation can come
// well before the load ends. The recommendation is the HPA's own rule (the Kubernetes docs, Horizontal
// Pod Autoscaling, "Algorithm details"): ceil(currentReplicas × utilization / target), unless the ratio
// is within the 10% tolerance of 1, when it keeps currentReplicas. ok is false when no status
// recommended more.
func (tl replicaTimeline) lastRecommendedAbove(replicas, target int) (at time.Time, ok bool) {
	for _, o := range tl.observations {
		if o.utilization < 0 || target <= 0 {
			continue
		}
		ratio := float64(o.utilization) / float64(target)
		recommended := o.currentReplicas
		if math.Abs(ratio-1) > 0.1 {
			recommended = int(math.Ceil(ratio * float64(o.currentReplicas)))
		}
		if recommended > replicas {
			at, ok = o.at, true
		}
	}
	return at, ok
}

func readTimeline(deployments, hpas []watchedVersion) (replicaTimeline, error) {
	tl := replicaTimeline{deploymentVersions: len(deployments), hpaVersions: len(hpas), maxUtilization: -1}
	type hpaAt struct {
		at time.Time
		h  hpaObject
	}
	var states []hpaAt
	for _, v := range hpas {
		var h hpaObject
		if err := json.Unmarshal(v.raw, &h); err != nil {
			return tl, err
		}
		states = append(states, hpaAt{v.at, h})
		tl.observations = append(tl.observations, hpaObservation{at: v.at, currentReplicas: h.Status.CurrentReplicas, utilization: h.utilization()})
		tl.maxDesired = max(tl.maxDesired, h.Status.DesiredReplicas)
		tl.maxUtilization = max(tl.maxUtilization, h.utilization())
		if status, reason := h.condition("ScalingLimited"); status == "True" && reason == "TooManyReplicas" && tl.limitedAt.IsZero() {
			tl.limitedAt = v.at
			for _, c := range h.Status.Conditions {
				if c.Type == "ScalingLimited" {
					tl.limitedMessage = c.Message
				}
			}
		}
	}
	// The HPA sets the scale first and then its status, with the utilization that decided it: the
	// first status that desires the new count, from shortly before the Deployment showed it on.
	utilizationFor := func(at time.Time, to int) int {
		for _, s := range states {
			if !s.at.Before(at.Add(-2*time.Second)) && s.h.Status.DesiredReplicas == to {
				return s.h.utilization()
			}
		}
		return -1
	}
	replicas := -1
	for _, v := range deployments {
		var d struct {
			Spec struct {
				Replicas int `json:"replicas"`
			} `json:"spec"`
			Status struct {
				ReadyReplicas int `json:"readyReplicas"`
			} `json:"status"`
		}
		if err := json.Unmarshal(v.raw, &d); err != nil {
			return tl, err
		}
		tl.maxReplicas = max(tl.maxReplicas, d.Spec.Replicas)
		if replicas >= 0 && d.Spec.Replicas != replicas {
			tl.changes = append(tl.changes, replicaChange{at: v.at, from: replicas, to: d.Spec.Replicas, utilization: utilizationFor(v.at, d.Spec.Replicas)})
		}
		replicas = d.Spec.Replicas
		if n := len(tl.changes); n > 0 && tl.changes[n-1].allReadyAt.IsZero() && d.Status.ReadyReplicas == d.Spec.Replicas {
			tl.changes[n-1].allReadyAt = v.at
		}
	}
	return tl, nil
}

// scalingRun is what the scale-up hands to the scale-down: the HPA's settings, the watches (still
// running) and what the load did.
type scalingRun struct {
	started                  time.Time
	target, window           int
	minReplicas, maxReplicas int
	cpuRequest               string
	metricsReady             time.Duration
	deployments, hpas        *objectWatch
	loadStart, loadEnd       time.Time
	reachedMax               time.Duration
	loadResult               trafficResult
	upEnded                  time.Time
}

func (sc *scalingRun) replicasNow() int {
	seen := sc.deployments.seen()
	if len(seen) == 0 {
		return -1
	}
	var d deployment
	_ = json.Unmarshal(seen[len(seen)-1].raw, &d)
	return d.Spec.Replicas
}

// scaleUp: web's HPA, on metrics-server's metrics, scales web up under CPU load from a client pod,
// toward and never beyond maxReplicas. The watches go on, and scaleDown, a later subtest, checks
// the way back down: the HPA's scale-down stabilization window (300 s in the lab) is waited out
// while the batch and bin-packing checks run, which use neither web nor its CPU.
func (b *behaviours) scaleUp(t *testing.T) {
	s := b.n.s
	started := time.Now()
	var h hpaObject
	if err := s.kubectlJSON(&h, "get", "hpa", "web", "-n", "web"); err != nil {
		t.Fatal(err)
	}
	if len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource.Name != "cpu" {
		t.Fatalf("web's HPA is not on cpu alone: %+v", h.Spec.Metrics)
	}
	target := h.Spec.Metrics[0].Resource.Target.AverageUtilization
	// The API's default when the field is unset: 300 s.
	window := 300
	if w := h.Spec.Behavior.ScaleDown.StabilizationWindowSeconds; w != nil {
		window = *w
	}
	minReplicas, maxReplicas := h.Spec.MinReplicas, h.Spec.MaxReplicas
	cpuRequest, err := s.kubectl("get", "deployment", "web", "-n", "web", "-o", "jsonpath={.spec.template.spec.containers[?(@.name==\"nginx\")].resources.requests.cpu}")
	if err != nil || strings.TrimSpace(cpuRequest) == "" {
		t.Fatalf("web's cpu request: %v %s", err, cpuRequest)
	}
	cpuRequest = strings.TrimSpace(cpuRequest)
	if replicas := b.web(t).Spec.Replicas; replicas != minReplicas {
		t.Fatalf("web runs %d replicas before the load, not its HPA's minReplicas %d", replicas, minReplicas)
	}

	// The metrics pipeline: the API server serves metrics.k8s.io through metrics-server, and the
	// HPA has computed a utilization from it.
	err = waitFor(3*time.Minute, func() (bool, error) {
		if err := s.kubectlJSON(&h, "get", "hpa", "web", "-n", "web"); err != nil {
			return false, err
		}
		status, _ := h.condition("ScalingActive")
		return status == "True" && h.utilization() >= 0, nil
	})
	if err != nil {
		apiService, _ := s.kubectl("get", "apiservice", "v1beta1.metrics.k8s.io", "-o", "yaml")
		logs, _ := s.kubectl("logs", "-n", "kube-system", "deployment/metrics-server", "--tail=30")
		t.Fatalf("web's HPA never got cpu metrics (ScalingActive): %v\n%s\nmetrics-server:\n%s%s", err, apiService, logs, s.diagnose())
	}
	metricsReady := time.Since(started)
	// The HPA has a utilization once metrics-server has scraped some of web's pods; `kubectl top`
	// fails until it has scraped one, which on a busy node can be a little later.
	var top string
	if err := eventually(time.Minute, "kubectl top pods -n web", func() (bool, string, error) {
		out, err := s.kubectl("top", "pods", "-n", "web", "--no-headers")
		top = out
		return err == nil, fmt.Sprintf("%v: %s", err, strings.TrimSpace(out)), nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("the HPA computing a cpu utilization %.1fs into the check; kubectl top pods -n web:\n%s", metricsReady.Seconds(), top)

	// The Service's own address, not its name: a fresh connection per request would otherwise be
	// a DNS lookup per request too (and with the pod's search list, several), and CoreDNS, not
	// nginx, would take the load. kube-proxy still spreads the connections over web's pods.
	clusterIP, err := s.kubectl("get", "service", "web", "-n", "web", "-o", "jsonpath={.spec.clusterIP}")
	if ip := net.ParseIP(strings.TrimSpace(clusterIP)); err != nil || ip == nil || ip.To4() == nil {
		t.Fatalf("web's ClusterIP is not an IPv4 address (the probes' family here): %v %q", err, clusterIP)
	}
	loadURL := "http://" + strings.TrimSpace(clusterIP) + "/"
	load := client{namespace: b.client.namespace, pod: "load"}
	b.startLoadPod(t, load)
	defer s.kubectl("delete", "pod", "-n", load.namespace, load.pod, "--wait=false")

	deployments, err := b.watchObject("deployment", "web", "web")
	if err != nil {
		t.Fatal(err)
	}
	hpas, err := b.watchObject("hpa", "web", "web")
	if err != nil {
		deployments.finish()
		t.Fatal(err)
	}
	sc := &scalingRun{started: started, target: target, window: window, minReplicas: minReplicas, maxReplicas: maxReplicas,
		cpuRequest: cpuRequest, metricsReady: metricsReady, deployments: deployments, hpas: hpas}
	defer func() {
		if b.scaling != sc { // not handed to scaleDown: the check stopped early
			deployments.finish()
			hpas.finish()
		}
	}()
	replicasNow := sc.replicasNow

	// The load, until web runs maxReplicas (then held there a little longer) or the bound passes.
	loadStart := time.Now()
	var streams []*traffic
	for i := 0; i < loadStreams; i++ {
		streams = append(streams, b.startLoop(load, loadURL, loadCount, "0s"))
	}
	t.Logf("load started: %d loops of %d requests at a time", loadStreams, loadCount)
	var reachedMax time.Duration
	_ = waitFor(scaleUpBound, func() (bool, error) { return replicasNow() >= maxReplicas, nil })
	if replicasNow() >= maxReplicas {
		reachedMax = time.Since(loadStart)
		t.Logf("maxReplicas %d reached %.0fs into the load; holding the load %s", maxReplicas, reachedMax.Seconds(), holdAtMax)
		time.Sleep(holdAtMax)
	}
	top, _ = s.kubectl("top", "pods", "-n", "web", "--no-headers")
	loadTop, _ := s.kubectl("top", "pods", "-n", load.namespace, "--no-headers")
	t.Logf("at the end of the load, %d replicas; kubectl top pods -n web:\n%s%s", replicasNow(), top, loadTop)
	// All streams are told to stop at once; each ends after its current run.
	for _, st := range streams {
		close(st.stop)
	}
	var loadResult trafficResult
	for _, st := range streams {
		<-st.done
		r := st.res
		loadResult.ok += r.ok
		loadResult.failed += r.failed
		loadResult.runs += r.runs
		loadResult.execErrors = append(loadResult.execErrors, r.execErrors...)
	}
	loadEnd := time.Now()
	loadResult.took = loadEnd.Sub(loadStart)
	s.kubectl("delete", "pod", "-n", load.namespace, load.pod, "--wait=false")
	t.Logf("load ended after %.0fs: %d answered, %d failed; the scale-down (window %ds) is checked after the next checks", loadResult.took.Seconds(), loadResult.ok, loadResult.failed, window)
	sc.loadStart, sc.loadEnd, sc.reachedMax, sc.loadResult, sc.upEnded = loadStart, loadEnd, reachedMax, loadResult, time.Now()
	if len(loadResult.execErrors) > 0 {
		t.Errorf("%d runs of the load loop did not report (kubectl exec failed):\n  %s", len(loadResult.execErrors), strings.Join(loadResult.execErrors, "\n  "))
	}
	if replicasNow() <= minReplicas {
		t.Errorf("web was not scaled up within %s of the load: %d replicas%s", scaleUpBound, replicasNow(), s.diagnose())
	}
	b.scaling = sc
}

// scaleDown: after the load of scaleUp, web's HPA scales it back to minReplicas, no sooner than its
// scale-down stabilization window allows; the whole timeline is checked and recorded.
func (b *behaviours) scaleDown(t *testing.T) {
	sc := b.scaling
	if sc == nil {
		t.Fatal("the scale-up did not finish: nothing to scale down")
	}
	b.scaling = nil
	s := b.n.s
	target, window, minReplicas, maxReplicas := sc.target, sc.window, sc.minReplicas, sc.maxReplicas
	deployments, hpas := sc.deployments, sc.hpas
	loadStart, loadEnd, reachedMax, loadResult := sc.loadStart, sc.loadEnd, sc.reachedMax, sc.loadResult
	replicasNow := sc.replicasNow
	waitStarted := time.Now()

	// Back down: the HPA keeps the highest recommendation of the last `window` seconds, counted
	// from the load's end at the latest.
	scaleDownErr := waitFor(time.Until(loadEnd.Add(time.Duration(window)*time.Second+scaleDownSlack)), func() (bool, error) {
		return replicasNow() == minReplicas, nil
	})
	// One more sync period, to see that it stays there.
	time.Sleep(15 * time.Second)
	deploymentVersions, deploymentErr := deployments.finish()
	hpaVersions, hpaErr := hpas.finish()
	for _, err := range []error{deploymentErr, hpaErr} {
		if err != nil {
			t.Errorf("%v", err)
		}
	}
	tl, err := readTimeline(deploymentVersions, hpaVersions)
	if err != nil {
		t.Fatal(err)
	}
	rescales := b.rescaleEvents(t, loadStart)

	// What the HPA promised, checked against what it did.
	var firstUp, firstDown *replicaChange
	for i := range tl.changes {
		c := &tl.changes[i]
		if c.to > c.from && firstUp == nil {
			firstUp = c
		}
		if c.to < c.from && firstDown == nil {
			firstDown = c
		}
	}
	if firstUp == nil || firstUp.at.Sub(loadStart) > scaleUpBound {
		t.Errorf("web was not scaled up within %s of the load (changes: %v)%s", scaleUpBound, tl.changes, s.diagnose())
	}
	if tl.maxReplicas > maxReplicas || tl.maxDesired > maxReplicas {
		t.Errorf("web ran %d replicas (HPA desired at most %d), beyond maxReplicas %d", tl.maxReplicas, tl.maxDesired, maxReplicas)
	}
	if firstDown == nil {
		t.Errorf("web was never scaled back down after the load (%v): %v", scaleDownErr, tl.changes)
	} else {
		// The window counts from the HPA's last recommendation above the count it scaled down to
		// (lastRecommendedAbove), one sync period (15 s) of slack for a recommendation made at a
		// sync whose status did not change; without one seen, from the load's end.
		lastHigh, seen := tl.lastRecommendedAbove(firstDown.to, target)
		from := "the HPA's last recommendation above " + fmt.Sprint(firstDown.to) + " replicas"
		if !seen {
			lastHigh, from = loadEnd, "the load ended"
		}
		if after := firstDown.at.Sub(lastHigh); after < time.Duration(window-15)*time.Second {
			t.Errorf("web was scaled down %.0fs after %s (%.0fs after the load ended), sooner than the %ds stabilization window allows",
				after.Seconds(), from, firstDown.at.Sub(loadEnd).Seconds(), window)
		}
		if firstDown.at.Before(loadEnd) {
			t.Errorf("web was scaled down during the load (%d → %d)", firstDown.from, firstDown.to)
		}
	}
	if scaleDownErr != nil || replicasNow() != minReplicas {
		t.Errorf("web did not get back to minReplicas %d within %s of the load's end: %v", minReplicas, time.Duration(window)*time.Second+scaleDownSlack, tl.changes)
	}
	if tl.deploymentVersions < 2 || tl.hpaVersions < 2 {
		t.Errorf("the watches saw %d versions of the Deployment and %d of the HPA: too few to tell a timeline", tl.deploymentVersions, tl.hpaVersions)
	}

	since := func(at time.Time) string { return fmt.Sprintf("+%.0fs", at.Sub(loadStart).Seconds()) }
	timeline := []string{fmt.Sprintf("+0s: the load starts, %d replicas", minReplicas)}
	for _, c := range tl.changes {
		line := fmt.Sprintf("%s: replicas %d → %d", since(c.at), c.from, c.to)
		if c.utilization >= 0 {
			line += fmt.Sprintf(" (HPA's cpu utilization %d%% of requests, target %d%%)", c.utilization, target)
		}
		if !c.allReadyAt.IsZero() && c.to > c.from {
			line += fmt.Sprintf(", all %d Ready at %s", c.to, since(c.allReadyAt))
		}
		if c.at.After(loadEnd) {
			line += fmt.Sprintf(", %.0fs after the load ended", c.at.Sub(loadEnd).Seconds())
		}
		timeline = append(timeline, line)
	}
	timeline = append(timeline, fmt.Sprintf("%s: the load ends", since(loadEnd)))
	sortTimeline(timeline)
	for i := range timeline {
		timeline[i] = "timeline " + timeline[i]
	}

	measured := []string{
		fmt.Sprintf("metrics pipeline: the HPA computing web's cpu utilization from metrics-server (condition ScalingActive) %.0fs into the check", sc.metricsReady.Seconds()),
		fmt.Sprintf("watched: every version of the Deployment (%d) and of the HPA (%d); times from the start of the load", tl.deploymentVersions, tl.hpaVersions),
	}
	measured = append(measured, timeline...)
	measured = append(measured,
		fmt.Sprintf("highest: %d replicas, HPA desired %d, cpu utilization %d%% (maxReplicas %d)", tl.maxReplicas, tl.maxDesired, tl.maxUtilization, maxReplicas),
	)
	if reachedMax > 0 {
		measured = append(measured, fmt.Sprintf("maxReplicas reached %.0fs into the load, the load held %s longer", reachedMax.Seconds(), holdAtMax))
	}
	if !tl.limitedAt.IsZero() {
		measured = append(measured, fmt.Sprintf("capped: ScalingLimited TooManyReplicas at %s (%s)", since(tl.limitedAt), tl.limitedMessage))
	}
	measured = append(measured,
		fmt.Sprintf("load: %d answered, %d failed, over %.0fs (%.0f requests/s)", loadResult.ok, loadResult.failed, loadResult.took.Seconds(),
			float64(loadResult.ok+loadResult.failed)/loadResult.took.Seconds()),
		"the HPA's events: "+strings.Join(rescales, "; "),
		fmt.Sprintf("%.0fs of the check were the batch and bin-packing checks, run while the scale-down window passed", waitStarted.Sub(sc.upEnded).Seconds()),
	)
	b.record(t, behaviourResult{
		took:    time.Since(sc.started),
		title:   "Horizontal scaling",
		concept: "horizontal Pod autoscaling (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/)",
		settings: []string{
			fmt.Sprintf("`lib/parts/autoscaling.ts` `CpuAutoscaler`: `spec.minReplicas` %d, `spec.maxReplicas` %d, cpu `averageUtilization` %d%% of the pods' requests "+
				"(`lib/environments/lab.ts` `scale.web`: minReplicas, maxReplicas, targetCpuUtilization)", minReplicas, maxReplicas, target),
			fmt.Sprintf("`lib/parts/autoscaling.ts` `CpuAutoscaler`: `spec.behavior.scaleDown.stabilizationWindowSeconds` %d, as rendered (not changed for the test)", window),
			fmt.Sprintf("`lib/workloads/nginx-server.ts` `resources`: web's cpu request %s, what 100%% utilization means (`scale.web.requests.cpu`)", sc.cpuRequest),
			"`lib/environments/lab.ts` `observability.stack`: `metrics-server` (v0.8.0 here, installed as a kubeadm lab installs it, `test/cluster/testdata/node/metrics-server.yaml`)",
		},
		done: fmt.Sprintf("Sent GETs to the web Service's ClusterIP from a client pod of its own, %d loops of %d requests at a time with no pause, each on a fresh connection, "+
			"until web ran maxReplicas and %s longer (at most %s), then stopped; the batch and bin-packing checks ran while the HPA's scale-down window passed, "+
			"then the test waited for web to be back at minReplicas.", loadStreams, loadCount, holdAtMax, scaleUpBound),
		measured: measured,
	})
}

// sortTimeline orders "+Ns: ..." lines by N.
func sortTimeline(lines []string) {
	seconds := func(l string) float64 {
		var v float64
		fmt.Sscanf(l, "+%fs", &v)
		return v
	}
	sort.SliceStable(lines, func(i, j int) bool { return seconds(lines[i]) < seconds(lines[j]) })
}

// rescaleEvents are the HPA's SuccessfulRescale events since a moment (the controller's own
// account of each decision: the new size and why), in order.
func (b *behaviours) rescaleEvents(t *testing.T, since time.Time) []string {
	var list struct {
		Items []struct {
			Reason        string    `json:"reason"`
			Message       string    `json:"message"`
			Count         int       `json:"count"`
			LastTimestamp time.Time `json:"lastTimestamp"`
		} `json:"items"`
	}
	if err := b.n.s.kubectlJSON(&list, "get", "events", "-n", "web", "--sort-by=.lastTimestamp",
		"--field-selector=involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=web"); err != nil {
		t.Errorf("the HPA's events: %v", err)
		return nil
	}
	var out []string
	for _, e := range list.Items {
		// Event times are whole seconds.
		if e.Reason == "SuccessfulRescale" && !e.LastTimestamp.Before(since.Truncate(time.Second)) {
			if e.Count > 1 {
				e.Message += fmt.Sprintf(" (%d times)", e.Count)
			}
			out = append(out, e.Message)
		}
	}
	return out
}

// startLoadPod starts the pod the load comes from: the probe image, allowed a whole CPU.
func (b *behaviours) startLoadPod(t *testing.T, c client) {
	t.Helper()
	pod := testPod(c.namespace, c.pod, []map[string]any{{
		"requests": map[string]string{"cpu": "50m", "memory": "32Mi"},
		"limits":   map[string]string{"cpu": "1", "memory": "64Mi"},
	}})
	body, _ := json.Marshal(pod)
	if out, err := b.n.s.applyJSON(string(body)); err != nil {
		t.Fatalf("load pod: %v\n%s", err, out)
	}
	if out, err := b.n.s.kubectl("wait", "-n", c.namespace, "--for=condition=Ready", "pod/"+c.pod, "--timeout=120s"); err != nil {
		t.Fatalf("load pod not ready: %v %s%s", err, out, b.n.s.diagnose())
	}
}
