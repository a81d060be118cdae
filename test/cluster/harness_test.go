package cluster

import (
	"reflect"
	"testing"
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
