package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// testPod is a pod of the probe image, hardened so that Pod Security's restricted level admits it,
// with the containers' resources given (nil: none declared).
func testPod(namespace, name string, resources []map[string]any) map[string]any {
	var containers []any
	for i, r := range resources {
		c := map[string]any{
			"name": fmt.Sprintf("c%d", i), "image": probeImage, "command": []string{"probe", "wait"},
			"securityContext": map[string]any{"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
				"capabilities": map[string]any{"drop": []string{"ALL"}}},
		}
		if r != nil {
			c["resources"] = r
		}
		containers = append(containers, c)
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"automountServiceAccountToken":  false,
			"terminationGracePeriodSeconds": 1,
			"securityContext": map[string]any{"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
				"seccompProfile": map[string]any{"type": "RuntimeDefault"}},
			"containers": containers,
		},
	}
}

func cpuAndMemory(cpu, memory string) map[string]any {
	return map[string]any{"requests": map[string]string{"cpu": cpu, "memory": memory}, "limits": map[string]string{"cpu": cpu, "memory": memory}}
}

// binPacking: the namespace's ResourceQuota refuses a pod that would exceed it, with the quota's
// message; the LimitRange's defaults reach a container that declares none, down to its cgroup on the
// node; a pod that fits on no node stays Pending with the scheduler's reason.
func (b *behaviours) binPacking(t *testing.T) {
	s := b.n.s
	var quota struct {
		Spec struct {
			Hard map[string]string `json:"hard"`
		} `json:"spec"`
	}
	if err := s.kubectlJSON(&quota, "get", "resourcequota", "app-quota", "-n", "batch"); err != nil {
		t.Fatal(err)
	}

	// Three containers at the LimitRange's per-container maximum CPU (1) ask for more than the
	// namespace's requests.cpu.
	over := testPod("batch", "over-quota", []map[string]any{cpuAndMemory("1", "64Mi"), cpuAndMemory("1", "64Mi"), cpuAndMemory("1", "64Mi")})
	body, _ := json.Marshal(over)
	refusal, err := s.applyJSON(string(body))
	if err == nil {
		s.kubectl("delete", "pod", "-n", "batch", "over-quota", "--wait=false")
		t.Errorf("a pod asking for 3 CPUs was admitted in a namespace whose quota is requests.cpu %s", quota.Spec.Hard["requests.cpu"])
	} else if !strings.Contains(refusal, "exceeded quota: app-quota") {
		t.Errorf("the refusal does not name the quota:\n%s", refusal)
	}

	// No resources declared: the LimitRange's defaults are written into the pod at admission, and
	// the kubelet turns them into the container's cgroup.
	bare := testPod("batch", "no-resources", []map[string]any{nil})
	body, _ = json.Marshal(bare)
	if out, err := s.applyJSON(string(body)); err != nil {
		t.Fatalf("a pod with no resources: %v\n%s", err, out)
	}
	defer s.kubectl("delete", "pod", "-n", "batch", "no-resources", "--wait=false")
	if out, err := s.kubectl("wait", "-n", "batch", "--for=condition=Ready", "pod/no-resources", "--timeout=120s"); err != nil {
		t.Fatalf("%v: %s%s", err, out, s.diagnose())
	}
	var got []pod
	for _, p := range s.pods("batch") {
		if p.Metadata.Name == "no-resources" {
			got = append(got, p)
		}
	}
	containers := asSlice(got[0].Spec["containers"])
	resources, _ := json.Marshal(asMap(containers[0])["resources"])
	procs := containerProcesses(t, got)
	if len(procs) == 0 {
		t.Fatal("no process of the no-resources pod on the node")
	}
	quotaUs, _ := readCgroup("cpu", procs[0].cgroupCPU, "cpu.cfs_quota_us")
	memLimit, _ := readCgroup("memory", procs[0].cgroupMem, "memory.limit_in_bytes")
	// The LimitRange's default limits: 250m CPU (25000 µs per 100000 µs period) and 128Mi.
	if string(resources) != `{"limits":{"cpu":"250m","memory":"128Mi"},"requests":{"cpu":"50m","memory":"64Mi"}}` {
		t.Errorf("the container's resources after admission are %s, not the LimitRange's defaults", resources)
	}
	if quotaUs != "25000" || memLimit != fmt.Sprint(128<<20) {
		t.Errorf("the container's cgroup: cpu.cfs_quota_us %s, memory.limit_in_bytes %s; want 25000 and %d", quotaUs, memLimit, 128<<20)
	}

	// More CPU than the node can allocate, in a namespace with no quota (the test's own): the
	// scheduler leaves it Pending and says why.
	var node struct {
		Status struct {
			Allocatable map[string]string `json:"allocatable"`
		} `json:"status"`
	}
	if err := s.kubectlJSON(&node, "get", "node", realNodeName); err != nil {
		t.Fatal(err)
	}
	allocatable := node.Status.Allocatable["cpu"]
	// Whole cores ("2") or millicores ("1950m"): ask for one core more than the node has, rounded up.
	cores, err := quantityBytes(strings.TrimSuffix(allocatable, "m"))
	if strings.HasSuffix(allocatable, "m") {
		cores = (cores + 999) / 1000
	}
	if err != nil {
		t.Fatalf("node allocatable cpu %q: %v", allocatable, err)
	}
	huge := testPod(b.client.namespace, "fits-nowhere", []map[string]any{cpuAndMemory(fmt.Sprint(cores+1), "64Mi")})
	body, _ = json.Marshal(huge)
	if out, err := s.applyJSON(string(body)); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	defer s.kubectl("delete", "pod", "-n", b.client.namespace, "fits-nowhere", "--wait=false")
	var reason, message string
	err = waitFor(time.Minute, func() (bool, error) {
		var p struct {
			Status struct {
				Phase      string                                           `json:"phase"`
				Conditions []struct{ Type, Status, Reason, Message string } `json:"conditions"`
			} `json:"status"`
		}
		if err := s.kubectlJSON(&p, "get", "pod", "fits-nowhere", "-n", b.client.namespace); err != nil {
			return false, err
		}
		for _, c := range p.Status.Conditions {
			if c.Type == "PodScheduled" && c.Status == "False" {
				reason, message = c.Reason, c.Message
			}
		}
		return p.Status.Phase == "Pending" && reason != "", nil
	})
	if err != nil || reason != "Unschedulable" || !strings.Contains(message, "Insufficient cpu") {
		t.Errorf("the pod that fits nowhere: %s %q (%v), want Unschedulable, Insufficient cpu", reason, message, err)
	}

	b.record(t, behaviourResult{
		title:   "Bin packing and quotas",
		concept: "requests, bin packing and quotas (https://kubernetes.io/docs/concepts/policy/resource-quotas/)",
		settings: []string{
			fmt.Sprintf("`lib/platform/app-namespace.ts` `KubeResourceQuota`: requests.cpu %s, limits.cpu %s per app namespace", quota.Spec.Hard["requests.cpu"], quota.Spec.Hard["limits.cpu"]),
			"`lib/platform/app-namespace.ts` `KubeLimitRange`: default limits 250m and 128Mi, default requests 50m and 64Mi, at most 1 CPU per container",
		},
		done: "Asked for a pod of three 1-CPU containers in the batch namespace; started a pod that declares no resources there; " +
			fmt.Sprintf("asked for a pod of %d CPUs in a namespace with no quota, on a node that can allocate %s.", cores+1, allocatable),
		measured: []string{
			"over the quota: refused, " + firstLine(refusal),
			fmt.Sprintf("no resources declared: admitted with %s; on the node cpu.cfs_quota_us %s, memory.limit_in_bytes %s", resources, quotaUs, memLimit),
			fmt.Sprintf("fits nowhere: Pending, %s: %s", reason, message),
		},
	})
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
