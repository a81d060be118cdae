package cluster

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What the behaviour checks watch while they act: requests from the client pod, and how many pods
// are Ready.

// trafficCap bounds any one stream of requests, whatever happens to the check that started it.
const trafficCap = 6 * time.Minute

// traffic is a stream of requests from the client pod to one URL, made in short bounded runs of
// the probe's loop (20 requests, 100 ms apart, each on a fresh connection with a 2 s limit) until
// the check stops it.
type traffic struct {
	stop chan struct{}
	done chan struct{}
	res  trafficResult
}

type trafficResult struct {
	ok, failed int
	runs       int
	execErrors []string // runs whose outcome is unknown (kubectl exec itself failed)
	failures   []string // the probe's line for each failed request
	capped     bool
	took       time.Duration
}

func (b *behaviours) startTraffic(t *testing.T, url string) *traffic {
	return b.startLoop(b.client, url, 20, "100ms")
}

// startLoop is a stream of runs of the probe's loop (count requests, interval apart) from pod c,
// repeated until the check stops it or trafficCap passes.
func (b *behaviours) startLoop(c client, url string, count int, interval string) *traffic {
	tr := &traffic{stop: make(chan struct{}), done: make(chan struct{})}
	started := time.Now()
	go func() {
		defer close(tr.done)
		for {
			select {
			case <-tr.stop:
				tr.res.took = time.Since(started)
				return
			default:
			}
			if time.Since(started) > trafficCap {
				tr.res.capped = true
				tr.res.took = time.Since(started)
				return
			}
			out, _ := b.n.s.kubectl("exec", "-n", c.namespace, c.pod, "--",
				"probe", "--timeout=2s", "--family=4", "loop", url, fmt.Sprint(count), interval)
			tr.res.runs++
			m := loopSummary.FindStringSubmatch(out)
			if m == nil {
				tr.res.execErrors = append(tr.res.execErrors, strings.TrimSpace(out))
				continue
			}
			ok, _ := strconv.Atoi(m[1])
			failed, _ := strconv.Atoi(m[2])
			tr.res.ok += ok
			tr.res.failed += failed
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "failure ") {
					tr.res.failures = append(tr.res.failures, time.Since(started).Truncate(100*time.Millisecond).String()+" "+line)
				}
			}
		}
	}()
	return tr
}

// finish stops the stream after its current run and returns what it saw.
func (tr *traffic) finish() trafficResult {
	close(tr.stop)
	<-tr.done
	return tr.res
}

func (r trafficResult) String() string {
	return fmt.Sprintf("requests: %d answered, %d failed, over %.1fs", r.ok, r.failed, r.took.Seconds())
}

// check: every request answered, and the stream really ran the whole time.
func (r trafficResult) check(t *testing.T) {
	t.Helper()
	if r.failed > 0 {
		t.Errorf("%d of %d requests failed:\n  %s", r.failed, r.ok+r.failed, strings.Join(r.failures, "\n  "))
	}
	if len(r.execErrors) > 0 {
		t.Errorf("%d of %d runs of the request loop did not report (kubectl exec failed):\n  %s", len(r.execErrors), r.runs, strings.Join(r.execErrors, "\n  "))
	}
	if r.capped {
		t.Errorf("the request stream reached its cap of %s", trafficCap)
	}
	if r.ok == 0 {
		t.Errorf("no request was answered")
	}
}

// watchedPod is the part of a Pod the behaviour checks read.
type watchedPod struct {
	Metadata struct {
		Name              string            `json:"name"`
		Annotations       map[string]string `json:"annotations"`
		DeletionTimestamp string            `json:"deletionTimestamp"`
	} `json:"metadata"`
	Spec struct {
		Containers []struct {
			Image string `json:"image"`
		} `json:"containers"`
	} `json:"spec"`
	Status struct {
		Phase      string `json:"phase"`
		PodIP      string `json:"podIP"`
		Conditions []struct {
			Type, Status string
		} `json:"conditions"`
		ContainerStatuses []containerStatus `json:"containerStatuses"`
	} `json:"status"`
}

func (p watchedPod) ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// deleting is " (being deleted)" for a pod that has a deletion timestamp, for messages.
func deleting(p watchedPod) string {
	if p.Metadata.DeletionTimestamp != "" {
		return " (being deleted)"
	}
	return ""
}

func (p watchedPod) image() string {
	if len(p.Spec.Containers) == 0 {
		return ""
	}
	return p.Spec.Containers[0].Image
}

func (p watchedPod) restarts() int {
	n := 0
	for _, cs := range p.Status.ContainerStatuses {
		n += cs.RestartCount
	}
	return n
}

// podsOf lists the pods matching selector, by name; an error listing them is an empty list (the
// callers poll and decide).
func (b *behaviours) podsOf(namespace, selector string) []watchedPod {
	var list struct {
		Items []watchedPod `json:"items"`
	}
	if err := b.n.s.kubectlJSON(&list, "get", "pods", "-n", namespace, "-l", selector); err != nil {
		return nil
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Metadata.Name < list.Items[j].Metadata.Name })
	return list.Items
}

// readyEndpoints are the addresses the Service's IPv4 EndpointSlices list as ready, by pod name.
func (b *behaviours) readyEndpoints(namespace, service string) (map[string]bool, error) {
	var list struct {
		Items []struct {
			AddressType string `json:"addressType"`
			Endpoints   []struct {
				Conditions struct {
					Ready *bool `json:"ready"`
				} `json:"conditions"`
				TargetRef struct {
					Name string `json:"name"`
				} `json:"targetRef"`
			} `json:"endpoints"`
		} `json:"items"`
	}
	if err := b.n.s.kubectlJSON(&list, "get", "endpointslices", "-n", namespace, "-l", "kubernetes.io/service-name="+service); err != nil {
		return nil, err
	}
	ready := map[string]bool{}
	for _, slice := range list.Items {
		if slice.AddressType != "IPv4" {
			continue
		}
		for _, e := range slice.Endpoints {
			// An unset ready means ready (the EndpointSlice API's rule).
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				ready[e.TargetRef.Name] = true
			}
		}
	}
	return ready, nil
}

// readyWatch looks, every 300 ms, at how many pods are Ready (and not being deleted) and how many
// addresses the Service lists as ready, and keeps the least of each.
type readyWatch struct {
	stop, done chan struct{}
	seen       readySeen
}

type readySeen struct {
	looks                 int
	minPods, minEndpoints int
	maxPods               int
	errors                int
	minPodsAt, minEndAt   time.Duration
}

func (b *behaviours) watchReady(namespace, selector, service string) *readyWatch {
	w := &readyWatch{stop: make(chan struct{}), done: make(chan struct{}), seen: readySeen{minPods: 1 << 30, minEndpoints: 1 << 30}}
	started := time.Now()
	go func() {
		defer close(w.done)
		for time.Since(started) < trafficCap {
			select {
			case <-w.stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			pods := b.podsOf(namespace, selector)
			endpoints, err := b.readyEndpoints(namespace, service)
			if pods == nil || err != nil {
				w.seen.errors++
				continue
			}
			ready := 0
			for _, p := range pods {
				if p.ready() && p.Metadata.DeletionTimestamp == "" {
					ready++
				}
			}
			w.seen.looks++
			if ready < w.seen.minPods {
				w.seen.minPods, w.seen.minPodsAt = ready, time.Since(started)
			}
			if ready > w.seen.maxPods {
				w.seen.maxPods = ready
			}
			if len(endpoints) < w.seen.minEndpoints {
				w.seen.minEndpoints, w.seen.minEndAt = len(endpoints), time.Since(started)
			}
		}
	}()
	return w
}

func (w *readyWatch) finish() readySeen {
	close(w.stop)
	<-w.done
	return w.seen
}

func (s readySeen) String(replicas int) string {
	return fmt.Sprintf("pods Ready (not being deleted), looked at %d times: at least %d, at most %d (replicas %d); ready Service endpoints: at least %d",
		s.looks, s.minPods, s.maxPods, replicas, s.minEndpoints)
}

// checkAtLeast: never fewer Ready pods than minimum, and the watch really looked.
func (s readySeen) checkAtLeast(t *testing.T, minimum int) {
	t.Helper()
	if s.looks < 10 {
		t.Errorf("the Ready watch looked only %d times (%d errors)", s.looks, s.errors)
	}
	if s.minPods < minimum {
		t.Errorf("only %d pods Ready at %s into the watch; the minimum is %d", s.minPods, s.minPodsAt.Truncate(100*time.Millisecond), minimum)
	}
}
