package cluster

import (
	"fmt"
	"sort"
	"strings"
)

// The fake nodes kwok plays: two workers in each of three zones, so that
// topology spread constraints across zones and across nodes can be met
// (a rollout or a lost node then leaves replicas running elsewhere),
// and one kubeadm-style control-plane node, tainted, for workloads that must
// run there (the lab's etcd backup).
var zones = []string{"zone-a", "zone-b", "zone-c"}

const workersPerZone = 2

// nodeCapacity is generous: the tests check that objects are accepted and
// roll out, not bin packing; ResourceQuotas still apply to requests.
var nodeCapacity = map[string]string{"cpu": "32", "memory": "128Gi", "pods": "110", "ephemeral-storage": "500Gi"}

func node(name, zone string, labels map[string]string, taints []map[string]any) map[string]any {
	all := map[string]string{
		"kubernetes.io/hostname":        name,
		"kubernetes.io/os":              "linux",
		"kubernetes.io/arch":            "amd64",
		"topology.kubernetes.io/zone":   zone,
		"topology.kubernetes.io/region": "region-1",
		"type":                          "kwok",
	}
	for k, v := range labels {
		all[k] = v
	}
	spec := map[string]any{}
	if len(taints) > 0 {
		spec["taints"] = taints
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "Node",
		"metadata": map[string]any{
			"name":   name,
			"labels": all,
			// Marks the node as kwok's to play (see --manage-nodes-with-annotation-selector).
			"annotations": map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
		},
		"spec": spec,
		"status": map[string]any{
			"capacity":    nodeCapacity,
			"allocatable": nodeCapacity,
			"nodeInfo": map[string]string{
				"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": kubeVersion(),
				"containerRuntimeVersion": "kwok",
			},
		},
	}
}

// createNodes creates the worker and control-plane nodes, plus one node per
// zone for every RuntimeClass that schedules its pods onto dedicated nodes
// (scheduling.nodeSelector, e.g. a gVisor node pool), labelled and tainted
// the way such a pool is so that its tolerations match.
func (cp *controlPlane) createNodes(manifest []object) ([]string, error) {
	var names []string
	add := func(n map[string]any) error {
		names = append(names, n["metadata"].(map[string]any)["name"].(string))
		return cp.api.create("/api/v1/nodes", n)
	}
	for _, zone := range zones {
		for i := 1; i <= workersPerZone; i++ {
			if err := add(node(fmt.Sprintf("worker-%s-%d", zone, i), zone, nil, nil)); err != nil {
				return nil, err
			}
		}
	}
	controlPlaneTaint := []map[string]any{{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}}
	if err := add(node("control-plane-1", zones[0],
		map[string]string{"node-role.kubernetes.io/control-plane": "", "node.kubernetes.io/exclude-from-external-load-balancers": ""},
		controlPlaneTaint)); err != nil {
		return nil, err
	}

	for _, o := range manifest {
		if o.Kind != "RuntimeClass" {
			continue
		}
		// RuntimeClass keeps scheduling at the top level; it has no spec.
		scheduling := asMap(o.Raw["scheduling"])
		if scheduling == nil {
			continue
		}
		labels := map[string]string{}
		for k, v := range asMap(scheduling["nodeSelector"]) {
			labels[k] = fmt.Sprint(v)
		}
		var taints []map[string]any
		for _, t := range asSlice(scheduling["tolerations"]) {
			tm := asMap(t)
			if tm["key"] == nil {
				continue
			}
			effect, _ := tm["effect"].(string)
			if effect == "" {
				effect = "NoSchedule"
			}
			taint := map[string]any{"key": tm["key"], "effect": effect}
			if v, ok := tm["value"].(string); ok && v != "" {
				taint["value"] = v
			}
			taints = append(taints, taint)
		}
		for _, zone := range zones {
			if err := add(node(fmt.Sprintf("%s-%s", o.Metadata.Name, zone), zone, labels, taints)); err != nil {
				return nil, err
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// waitNodesReady waits until kwok has marked every node Ready.
func (cp *controlPlane) waitNodesReady(names []string) error {
	var notReady []string
	kwokExited := cp.exited("kwok")
	err := waitFor(defaultTimeout, func() (bool, error) {
		select {
		case <-kwokExited:
			return false, fmt.Errorf("kwok exited")
		default:
		}
		var list struct {
			Items []object `json:"items"`
		}
		if err := cp.api.getJSON("/api/v1/nodes", &list); err != nil {
			return false, err
		}
		ready := map[string]bool{}
		for _, n := range list.Items {
			ready[n.Metadata.Name] = condition(n, "Ready") == "True"
		}
		notReady = notReady[:0]
		for _, n := range names {
			if !ready[n] {
				notReady = append(notReady, n)
			}
		}
		return len(notReady) == 0, nil
	})
	if err != nil {
		return cp.explain("kwok", fmt.Errorf("nodes not Ready: %s: %w", strings.Join(notReady, ", "), err))
	}
	return nil
}

// createWhatTheClusterProvides creates what the manifest uses but does not
// define, because a real cluster brings it: the namespaces of add-ons
// installed beforehand (MetalLB's, cert-manager's, external-secrets'), the
// RuntimeClasses a managed cloud offers (GKE Sandbox's gvisor, AKS's
// kata-vm-isolation) and the StorageClasses of the cluster's storage (the
// lab's local-path provisioner, a cloud's default class). Stand-ins are
// minimal: a RuntimeClass whose handler is its name, a StorageClass that
// waits for the first consumer like those do (the volume provisioner then
// serves its claims). It returns what it created, for the log.
func (cp *controlPlane) createWhatTheClusterProvides(manifest []object) ([]string, error) {
	defined := map[string]bool{} // "Kind/name"
	for _, o := range manifest {
		defined[o.Kind+"/"+o.Metadata.Name] = true
	}
	for _, builtin := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		defined["Namespace/"+builtin] = true
	}
	var wanted []object
	want := func(kind, name string, raw map[string]any) {
		if name == "" || defined[kind+"/"+name] {
			return
		}
		defined[kind+"/"+name] = true
		wanted = append(wanted, object{Kind: kind, Metadata: objectMeta{Name: name}, Raw: raw})
	}
	for _, o := range manifest {
		want("Namespace", o.Metadata.Namespace, map[string]any{"apiVersion": "v1", "kind": "Namespace",
			"metadata": map[string]any{"name": o.Metadata.Namespace}})
		podSpec := asMap(field(o.Spec, "template", "spec"))
		if o.Kind == "CronJob" {
			podSpec = asMap(field(o.Spec, "jobTemplate", "spec", "template", "spec"))
		}
		if name, _ := podSpec["runtimeClassName"].(string); name != "" {
			want("RuntimeClass", name, map[string]any{"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
				"metadata": map[string]any{"name": name}, "handler": name})
		}
		var classes []string
		for _, t := range asSlice(o.Spec["volumeClaimTemplates"]) {
			classes = append(classes, stringField(asMap(t), "spec", "storageClassName"))
		}
		if o.Kind == "PersistentVolumeClaim" {
			classes = append(classes, stringField(o.Spec, "storageClassName"))
		}
		for _, name := range classes {
			want("StorageClass", name, map[string]any{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
				"metadata": map[string]any{"name": name}, "provisioner": "stand-in.cluster-test",
				"volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Delete"})
		}
	}
	paths := map[string]string{
		"Namespace":    "/api/v1/namespaces",
		"RuntimeClass": "/apis/node.k8s.io/v1/runtimeclasses",
		"StorageClass": "/apis/storage.k8s.io/v1/storageclasses",
	}
	var created []string
	for _, o := range wanted {
		if err := cp.api.create(paths[o.Kind], o.Raw); err != nil {
			return nil, err
		}
		created = append(created, o.Kind+" "+o.Metadata.Name)
	}
	return created, nil
}
