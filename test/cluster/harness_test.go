package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The harness's pure helpers; everything else needs a cluster.

func TestWarningLines(t *testing.T) {
	out := "namespace/web serverside-applied\n" +
		"Warning: would violate PodSecurity \"restricted:latest\": privileged\n" +
		"  Warning: unknown field \"spec.foo\"\n" +
		"deployment.apps/web serverside-applied (no Warning: here)\n"
	got := warningLines(out)
	want := []string{
		"Warning: would violate PodSecurity \"restricted:latest\": privileged",
		"  Warning: unknown field \"spec.foo\"",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("warningLines = %q, want %q", got, want)
	}
	if got := warningLines("namespace/web serverside-applied\n"); len(got) != 0 {
		t.Fatalf("no warning expected, got %q", got)
	}
}

func TestIsEmptyDocument(t *testing.T) {
	for doc, empty := range map[string]bool{
		"":                         true,
		"\n  \n":                   true,
		"# only a comment\n":       true,
		"kind: Namespace\n":        false,
		"# c\napiVersion: v1\n":    false,
		"  # indented comment\n\n": true,
	} {
		if got := isEmptyDocument(doc); got != empty {
			t.Errorf("isEmptyDocument(%q) = %v, want %v", doc, got, empty)
		}
	}
}

func TestDocumentSeparator(t *testing.T) {
	yaml := "# header\n---\na: 1\n---\nb: 2\n--- \nc: '---'\n"
	var docs []string
	for _, d := range documentSeparator.Split(yaml, -1) {
		if !isEmptyDocument(d) {
			docs = append(docs, d)
		}
	}
	if len(docs) != 3 {
		t.Fatalf("want 3 documents, got %d: %q", len(docs), docs)
	}
}

func TestResourceArg(t *testing.T) {
	for _, c := range []struct {
		apiVersion, kind, want string
	}{
		{"v1", "ConfigMap", "configmap/x"},
		{"apps/v1", "Deployment", "deployment.apps/x"},
		{"metallb.io/v1beta1", "IPAddressPool", "ipaddresspool.metallb.io/x"},
	} {
		o := object{APIVersion: c.apiVersion, Kind: c.kind, Metadata: objectMeta{Name: "x"}}
		if got := resourceArg(o); got != c.want {
			t.Errorf("resourceArg(%s %s) = %q, want %q", c.apiVersion, c.kind, got, c.want)
		}
	}
}

func TestCondition(t *testing.T) {
	o := object{Status: map[string]any{"conditions": []any{
		map[string]any{"type": "Progressing", "status": "True"},
		map[string]any{"type": "Available", "status": "False"},
	}}}
	if got := condition(o, "Available"); got != "False" {
		t.Errorf("Available = %q", got)
	}
	if got := condition(o, "Complete"); got != "" {
		t.Errorf("missing condition = %q, want empty", got)
	}
}

func TestReadTimeline(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	v := func(s int, raw string) watchedVersion { return watchedVersion{at: at(s), raw: json.RawMessage(raw)} }
	deployments := []watchedVersion{
		v(0, `{"spec":{"replicas":2},"status":{"readyReplicas":2}}`),
		v(30, `{"spec":{"replicas":4},"status":{"readyReplicas":2}}`),
		v(40, `{"spec":{"replicas":4},"status":{"readyReplicas":3}}`),
		v(45, `{"spec":{"replicas":4},"status":{"readyReplicas":4}}`),
		v(400, `{"spec":{"replicas":2},"status":{"readyReplicas":4}}`),
		v(401, `{"spec":{"replicas":2},"status":{"readyReplicas":2}}`),
	}
	hpas := []watchedVersion{
		v(0, `{"status":{"desiredReplicas":2,"currentMetrics":[{"resource":{"current":{"averageUtilization":3}}}]}}`),
		v(15, `{"status":{"desiredReplicas":2,"currentMetrics":[{"resource":{"current":{"averageUtilization":32}}}]}}`),
		// The HPA's status, with the utilization that decided it, comes after the scale it set.
		v(31, `{"status":{"currentReplicas":2,"desiredReplicas":4,"currentMetrics":[{"resource":{"current":{"averageUtilization":190}}}]}}`),
		v(60, `{"status":{"currentReplicas":4,"desiredReplicas":4,"currentMetrics":[{"resource":{"current":{"averageUtilization":120}}}],
			"conditions":[{"type":"ScalingLimited","status":"True","reason":"TooManyReplicas","message":"the desired replica count is more than the maximum replica count"}]}}`),
		v(399, `{"status":{"currentReplicas":4,"desiredReplicas":2,"currentMetrics":[{"resource":{"current":{"averageUtilization":2}}}]}}`),
	}
	tl, err := readTimeline(deployments, hpas)
	if err != nil {
		t.Fatal(err)
	}
	want := []replicaChange{
		{at: at(30), from: 2, to: 4, utilization: 190, allReadyAt: at(45)},
		{at: at(400), from: 4, to: 2, utilization: 2, allReadyAt: at(401)},
	}
	if !reflect.DeepEqual(tl.changes, want) {
		t.Errorf("changes = %+v, want %+v", tl.changes, want)
	}
	if tl.maxReplicas != 4 || tl.maxDesired != 4 || tl.maxUtilization != 190 || !tl.limitedAt.Equal(at(60)) ||
		tl.deploymentVersions != 6 || tl.hpaVersions != 5 {
		t.Errorf("timeline = %+v", tl)
	}
	// Recommendations, by the HPA's rule: at 31 s, 190% of a 70% target over 2 replicas asks for 6;
	// at 60 s, 120% over 4 asks for 7; at 399 s, 2% asks for 1. The last above 2 is at 60 s.
	if last, ok := tl.lastRecommendedAbove(2, 70); !ok || !last.Equal(at(60)) {
		t.Errorf("lastRecommendedAbove(2, 70) = %v, %v; want %v", last, ok, at(60))
	}
	// The run where the load generator, at its cpu limit, spread over 4 replicas: each at 18% of
	// its request before the load ended, which recommends 2; the last recommendation above 2 is the
	// scale-up's, well before the load's end.
	spread := []watchedVersion{
		v(28, `{"status":{"currentReplicas":2,"desiredReplicas":4,"currentMetrics":[{"resource":{"current":{"averageUtilization":280}}}]}}`),
		v(45, `{"status":{"currentReplicas":4,"desiredReplicas":4,"currentMetrics":[{"resource":{"current":{"averageUtilization":18}}}]}}`),
		v(75, `{"status":{"currentReplicas":4,"desiredReplicas":4,"currentMetrics":[{"resource":{"current":{"averageUtilization":2}}}]}}`),
		// 75% against a 70% target over 2 replicas: within the 10% tolerance, so it keeps 2 (the
		// ratio alone would ask for ceil(1.07 × 2) = 3).
		v(90, `{"status":{"currentReplicas":2,"desiredReplicas":2,"currentMetrics":[{"resource":{"current":{"averageUtilization":75}}}]}}`),
	}
	tl2, err := readTimeline(nil, spread[:3])
	if err != nil {
		t.Fatal(err)
	}
	if last, ok := tl2.lastRecommendedAbove(2, 70); !ok || !last.Equal(at(28)) {
		t.Errorf("lastRecommendedAbove(2, 70) = %v, %v; want %v (the scale-up's)", last, ok, at(28))
	}
	tl3, _ := readTimeline(nil, spread)
	if last, _ := tl3.lastRecommendedAbove(2, 70); !last.Equal(at(28)) {
		t.Errorf("within the tolerance the HPA keeps its 2 replicas: lastRecommendedAbove(2, 70) = %v; want %v", last, at(28))
	}
	if _, ok := tl3.lastRecommendedAbove(10, 70); ok {
		t.Error("no status recommended more than 10 replicas")
	}
	if _, err := readTimeline([]watchedVersion{v(0, `{"spec":`)}, nil); err == nil {
		t.Error("a version that is not JSON must be an error")
	}
}

func TestWrittenSince(t *testing.T) {
	dir := t.TempDir()
	created := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	for name, at := range map[string]time.Time{
		"etcd-snapshot-old.db":       created.Add(-6 * time.Hour),  // an earlier run's: not this Job's
		"etcd-snapshot-scheduled.db": created.Add(1 * time.Second), // the CronJob's own schedule, firing meanwhile
		"etcd-snapshot-ours.db":      created.Add(8 * time.Second),
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := writtenSince(t, filepath.Join(dir, "etcd-snapshot-*.db"), created)
	want := []string{filepath.Join(dir, "etcd-snapshot-ours.db"), filepath.Join(dir, "etcd-snapshot-scheduled.db")}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("writtenSince = %v, %v; want %v (newest first, the old one left out)", got, err, want)
	}
	if _, err := writtenSince(t, filepath.Join(dir, "etcd-snapshot-*.db"), created.Add(time.Hour)); err == nil ||
		!strings.Contains(err.Error(), "etcd-snapshot-old.db") {
		t.Errorf("nothing written since: want an error naming every match, got %v", err)
	}
}

func TestSplitDiscoveryErrors(t *testing.T) {
	out := "customresourcedefinition.apiextensions.k8s.io/widgets.example.org serverside-applied\n" +
		`E1207 07:00:00.000000   12345 memcache.go:265] "Unhandled Error" err="couldn't get resource list for metrics.k8s.io/v1beta1: stale GroupVersion discovery: metrics.k8s.io/v1beta1"` + "\n" +
		"  prune: not listing metrics.k8s.io/v1beta1: the API server cannot reach the server of that API now\n" +
		`E1207 07:00:00.000000   12345 memcache.go:265] "Unhandled Error" err="couldn't get resource list for custom.metrics.k8s.io/v1beta2: the server is currently unable to handle the request"` + "\n" +
		"deployment.apps/web serverside-applied\n"
	rest, explained, unexplained := splitDiscoveryErrors(out, map[string]bool{"metrics.k8s.io/v1beta1": true})
	if rest != "customresourcedefinition.apiextensions.k8s.io/widgets.example.org serverside-applied\ndeployment.apps/web serverside-applied\n" {
		t.Errorf("rest = %q", rest)
	}
	if len(explained) != 2 || !strings.Contains(explained[0], "metrics.k8s.io/v1beta1") || !strings.Contains(explained[1], "prune: not listing") {
		t.Errorf("explained = %q", explained)
	}
	if len(unexplained) != 1 || !strings.Contains(unexplained[0], "custom.metrics.k8s.io/v1beta2") {
		t.Errorf("unexplained = %q: an API no unavailable APIService explains must be reported", unexplained)
	}
	if _, explained, unexplained := splitDiscoveryErrors(out, nil); len(explained) != 0 || len(unexplained) != 3 {
		t.Errorf("with no APIService unavailable, every discovery error is unexplained: %q, %q", explained, unexplained)
	}
}
