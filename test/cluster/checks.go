package cluster

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// kubeVersion is the version the control plane was built at, which the
// fake nodes report as their kubelet version.
func kubeVersion() string {
	if v := os.Getenv("LAB_TO_PROD_KUBE_VERSION"); v != "" {
		return v
	}
	return "v1.33.0"
}

// inManifest indexes the manifest's objects of one kind by namespace/name.
func inManifest(manifest []object, kind string) map[string]bool {
	names := map[string]bool{}
	for _, o := range manifest {
		if o.Kind == kind {
			names[o.Metadata.Namespace+"/"+o.Metadata.Name] = true
		}
	}
	return names
}

func nsName(o object) string { return o.Metadata.Namespace + "/" + o.Metadata.Name }

// waitConverged waits until every check passes and returns how many
// rollouts finished (Deployments, StatefulSets, DaemonSets, Jobs); on timeout it
// returns what is still wrong. A pod refused by Pod Security admission
// fails at once: waiting cannot fix it.
func (s *session) waitConverged(manifest []object) (int, []string) {
	var rollouts int
	var problems []string
	deadline := time.Now().Add(defaultTimeout)
	for {
		if refused := s.refusedPods(); len(refused) > 0 {
			return 0, refused
		}
		rollouts, problems = s.converged(manifest)
		if len(problems) == 0 || time.Now().After(deadline) {
			return rollouts, problems
		}
		time.Sleep(time.Second)
	}
}

// converged runs each check once.
func (s *session) converged(manifest []object) (int, []string) {
	var problems []string
	rollouts := 0
	list := func(path string) []object {
		var l objectList
		if err := s.cp.api.getJSON(path, &l); err != nil {
			problems = append(problems, err.Error())
		}
		return l.Items
	}
	if err := s.provisioner.err(); err != nil {
		problems = append(problems, "volume provisioner: "+err.Error())
	}

	// Deployments: Available, every replica updated and ready.
	want := inManifest(manifest, "Deployment")
	for _, d := range list("/apis/apps/v1/deployments") {
		if !want[nsName(d)] {
			continue
		}
		replicas := intField(d.Spec, "replicas")
		ok := intField(d.Status, "observedGeneration") >= d.Metadata.Generation &&
			condition(d, "Available") == "True" &&
			intField(d.Status, "updatedReplicas") == replicas &&
			intField(d.Status, "readyReplicas") == replicas &&
			intField(d.Status, "availableReplicas") == replicas
		if !ok {
			problems = append(problems, fmt.Sprintf("Deployment %s: %d/%d ready, %d updated, Available=%q",
				nsName(d), intField(d.Status, "readyReplicas"), replicas, intField(d.Status, "updatedReplicas"), condition(d, "Available")))
			continue
		}
		delete(want, nsName(d))
		rollouts++
	}
	problems = append(problems, missing("Deployment", want)...)

	// StatefulSets: every replica ready, on the current revision.
	want = inManifest(manifest, "StatefulSet")
	for _, st := range list("/apis/apps/v1/statefulsets") {
		if !want[nsName(st)] {
			continue
		}
		replicas := intField(st.Spec, "replicas")
		ok := intField(st.Status, "observedGeneration") >= st.Metadata.Generation &&
			intField(st.Status, "readyReplicas") == replicas &&
			stringField(st.Status, "currentRevision") == stringField(st.Status, "updateRevision")
		if !ok {
			problems = append(problems, fmt.Sprintf("StatefulSet %s: %d/%d ready", nsName(st), intField(st.Status, "readyReplicas"), replicas))
			continue
		}
		delete(want, nsName(st))
		rollouts++
	}
	problems = append(problems, missing("StatefulSet", want)...)

	// DaemonSets (the add-ons' node agents: a CNI, MetalLB's speaker): on
	// every node they select, on the current template, ready.
	want = inManifest(manifest, "DaemonSet")
	for _, d := range list("/apis/apps/v1/daemonsets") {
		if !want[nsName(d)] {
			continue
		}
		desired := intField(d.Status, "desiredNumberScheduled")
		ok := intField(d.Status, "observedGeneration") >= d.Metadata.Generation && desired > 0 &&
			intField(d.Status, "updatedNumberScheduled") == desired &&
			intField(d.Status, "numberReady") == desired
		if !ok {
			problems = append(problems, fmt.Sprintf("DaemonSet %s: %d/%d ready, %d updated", nsName(d),
				intField(d.Status, "numberReady"), desired, intField(d.Status, "updatedNumberScheduled")))
			continue
		}
		delete(want, nsName(d))
		rollouts++
	}
	problems = append(problems, missing("DaemonSet", want)...)

	// Jobs (a migration, say): Complete.
	want = inManifest(manifest, "Job")
	for _, j := range list("/apis/batch/v1/jobs") {
		if !want[nsName(j)] {
			continue
		}
		if condition(j, "Complete") != "True" {
			problems = append(problems, fmt.Sprintf("Job %s: not complete (succeeded %d, failed %d)",
				nsName(j), intField(j.Status, "succeeded"), intField(j.Status, "failed")))
			continue
		}
		delete(want, nsName(j))
		rollouts++
	}
	problems = append(problems, missing("Job", want)...)

	// CronJobs: accepted, i.e. stored (the API server validated the schedule
	// and the job template).
	want = inManifest(manifest, "CronJob")
	for _, cj := range list("/apis/batch/v1/cronjobs") {
		delete(want, nsName(cj))
	}
	problems = append(problems, missing("CronJob", want)...)

	// HorizontalPodAutoscalers: accepted, and the controller found the
	// workload they scale (AbleToScale). No metrics server runs, so
	// ScalingActive stays False; that is expected here.
	want = inManifest(manifest, "HorizontalPodAutoscaler")
	for _, h := range list("/apis/autoscaling/v2/horizontalpodautoscalers") {
		if !want[nsName(h)] {
			continue
		}
		if condition(h, "AbleToScale") != "True" {
			problems = append(problems, fmt.Sprintf("HorizontalPodAutoscaler %s: AbleToScale=%q (does its scaleTargetRef exist?)", nsName(h), condition(h, "AbleToScale")))
			continue
		}
		delete(want, nsName(h))
	}
	problems = append(problems, missing("HorizontalPodAutoscaler", want)...)

	// Services: each one with a selector has endpoints, and they point at
	// pods that are Ready.
	readyPods := map[string]bool{}
	for _, p := range list("/api/v1/pods") {
		readyPods[nsName(p)] = condition(p, "Ready") == "True" && p.Metadata.DeletionTimestamp == nil
	}
	endpoints := map[string][]string{} // service namespace/name -> ready pod namespace/name
	for _, slice := range list("/apis/discovery.k8s.io/v1/endpointslices") {
		service := slice.Metadata.Namespace + "/" + slice.Metadata.Labels["kubernetes.io/service-name"]
		for _, e := range asSlice(slice.Raw["endpoints"]) {
			em := asMap(e)
			ready, _ := field(em, "conditions", "ready").(bool)
			target := asMap(em["targetRef"])
			if ready && target["kind"] == "Pod" {
				endpoints[service] = append(endpoints[service], fmt.Sprintf("%s/%s", target["namespace"], target["name"]))
			}
		}
	}
	for _, svc := range manifest {
		if svc.Kind != "Service" || len(asMap(svc.Spec["selector"])) == 0 || svc.Spec["type"] == "ExternalName" {
			continue
		}
		pods := endpoints[nsName(svc)]
		if len(pods) == 0 {
			problems = append(problems, fmt.Sprintf("Service %s: no ready endpoints", nsName(svc)))
			continue
		}
		for _, p := range pods {
			if !readyPods[p] {
				problems = append(problems, fmt.Sprintf("Service %s: endpoint pod %s is not Ready", nsName(svc), p))
			}
		}
	}
	return rollouts, problems
}

func missing(kind string, want map[string]bool) []string {
	var out []string
	for name := range want {
		out = append(out, fmt.Sprintf("%s %s: not found in the cluster", kind, name))
	}
	sort.Strings(out)
	return out
}

// refusedPods lists the FailedCreate events of pods that Pod Security
// admission refused (the ReplicaSet, StatefulSet or Job controller reports
// them; the workload object itself was accepted).
func (s *session) refusedPods() []string {
	var events objectList
	if err := s.cp.api.getJSON("/api/v1/events?fieldSelector=reason%3DFailedCreate", &events); err != nil {
		return []string{err.Error()}
	}
	seen := map[string]bool{}
	var refused []string
	for _, e := range events.Items {
		message, _ := e.Raw["message"].(string)
		if !strings.Contains(message, "violates PodSecurity") {
			continue
		}
		involved := asMap(e.Raw["involvedObject"])
		line := fmt.Sprintf("%s %s/%s: %s", involved["kind"], involved["namespace"], involved["name"], message)
		if !seen[line] {
			seen[line] = true
			refused = append(refused, line)
		}
	}
	sort.Strings(refused)
	return refused
}

// diagnose describes what is stuck, for a failure message: pods that are
// not Ready and the cluster's recent Warning events.
func (s *session) diagnose() string {
	var b strings.Builder
	var pods objectList
	if err := s.cp.api.getJSON("/api/v1/pods", &pods); err == nil {
		for _, p := range pods.Items {
			if condition(p, "Ready") != "True" && stringField(p.Status, "phase") != "Succeeded" {
				fmt.Fprintf(&b, "\n  pod %s: phase %s, node %q", nsName(p), stringField(p.Status, "phase"), stringField(p.Spec, "nodeName"))
			}
		}
	}
	var events objectList
	if err := s.cp.api.getJSON("/api/v1/events?fieldSelector=type%3DWarning", &events); err == nil {
		seen := map[string]bool{}
		for _, e := range events.Items {
			involved := asMap(e.Raw["involvedObject"])
			line := fmt.Sprintf("%s %s/%s %s: %s", involved["kind"], involved["namespace"], involved["name"], e.Raw["reason"], e.Raw["message"])
			if !seen[line] && len(seen) < 40 {
				seen[line] = true
				b.WriteString("\n  event " + line)
			}
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "\nwhat the cluster says:" + b.String()
}

// eventually waits, at most timeout, for a state the cluster reaches in its own time (a pod gone, a
// condition set, an endpoint listed, an event recorded). check says whether the state is there and
// describes what it saw. One read right after an action can catch the cluster on its way there, and
// on a busy machine it does; so every such check polls, and on timeout says what it awaited and the
// last thing it saw. An error from check ends the wait at once.
func eventually(timeout time.Duration, what string, check func() (done bool, seen string, err error)) error {
	var last string
	err := waitFor(timeout, func() (bool, error) {
		done, seen, err := check()
		last = seen
		return done, err
	})
	if err != nil {
		return fmt.Errorf("%s: %v; last seen: %s", what, err, last)
	}
	return nil
}

// apiService is one APIService of the manifest as the cluster reports it.
type apiService struct {
	name         string
	groupVersion string // what it serves: metrics.k8s.io/v1beta1
	available    string // its Available condition: "True", "False", or "" (not reported yet)
	why          string // the condition's reason and message
}

// apiServices reads the manifest's APIServices (metrics-server's v1beta1.metrics.k8s.io) from the
// cluster, with their Available condition; one missing is a problem. On kwok's nodes nothing can
// serve them, and runEnvironment requires them reported unavailable.
func (s *session) apiServices(manifest []object) ([]apiService, []string) {
	var found []apiService
	var problems []string
	for _, o := range manifest {
		if o.Kind != "APIService" {
			continue
		}
		var live object
		if err := s.cp.api.getJSON("/apis/apiregistration.k8s.io/v1/apiservices/"+o.Metadata.Name, &live); err != nil {
			problems = append(problems, fmt.Sprintf("APIService %s: %v", o.Metadata.Name, err))
			continue
		}
		a := apiService{name: o.Metadata.Name, groupVersion: stringField(live.Spec, "group") + "/" + stringField(live.Spec, "version"),
			available: condition(live, "Available")}
		for _, c := range asSlice(live.Status["conditions"]) {
			if cm := asMap(c); cm["type"] == "Available" {
				a.why = fmt.Sprintf("%v: %v", cm["reason"], cm["message"])
			}
		}
		found = append(found, a)
	}
	return found, problems
}
