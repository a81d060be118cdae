package cluster

import (
	"reflect"
	"testing"
)

// TestNotEstablishedCRDs: a CRD whose conditions are still null (as the API server writes them
// until it has accepted the names), empty, or without Established=True is awaited; one answer or a
// List of them. No cluster needed.
func TestNotEstablishedCRDs(t *testing.T) {
	list := []byte(`{"kind": "List", "items": [
		{"kind": "CustomResourceDefinition", "metadata": {"name": "a.example.com"}, "status": {"conditions": null}},
		{"kind": "CustomResourceDefinition", "metadata": {"name": "b.example.com"}, "status": {"conditions": []}},
		{"kind": "CustomResourceDefinition", "metadata": {"name": "c.example.com"}, "status": {"conditions": [
			{"type": "NamesAccepted", "status": "False", "reason": "KindConflict"},
			{"type": "Established", "status": "False"}]}},
		{"kind": "CustomResourceDefinition", "metadata": {"name": "d.example.com"}, "status": {"conditions": [
			{"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "True"}]}}]}`)
	waiting, err := notEstablishedCRDs(list)
	want := []string{
		"a.example.com (conditions: none yet)",
		"b.example.com (conditions: none yet)",
		`c.example.com (conditions: [{"reason":"KindConflict","status":"False","type":"NamesAccepted"},{"status":"False","type":"Established"}])`,
	}
	if err != nil || !reflect.DeepEqual(waiting, want) {
		t.Fatalf("got %q, %v; want %q", waiting, err, want)
	}

	one := []byte(`{"kind": "CustomResourceDefinition", "metadata": {"name": "a.example.com"}, "status": {"conditions": null}}`)
	if waiting, err := notEstablishedCRDs(one); err != nil || len(waiting) != 1 {
		t.Fatalf("one CRD, conditions null: got %q, %v", waiting, err)
	}
	established := []byte(`{"kind": "CustomResourceDefinition", "metadata": {"name": "d.example.com"},
		"status": {"conditions": [{"type": "Established", "status": "True"}]}}`)
	if waiting, err := notEstablishedCRDs(established); err != nil || len(waiting) != 0 {
		t.Fatalf("one CRD, Established: got %q, %v", waiting, err)
	}
	if _, err := notEstablishedCRDs([]byte("not json")); err == nil {
		t.Fatal("an answer that is not JSON: no error")
	}
}
