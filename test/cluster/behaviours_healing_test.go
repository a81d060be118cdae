package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nginxMaster finds a web pod's nginx master process on the node, from /proc (realnode_proc_test.go).
func (b *behaviours) nginxMaster(t *testing.T, podName string) int {
	t.Helper()
	var target []pod
	for _, p := range b.n.s.pods("web") {
		if p.Metadata.Name == podName {
			target = append(target, p)
		}
	}
	for _, proc := range containerProcesses(t, target) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", proc.pid))
		if strings.HasPrefix(string(cmdline), "nginx: master process") {
			return proc.pid
		}
	}
	t.Fatalf("no nginx master process of pod %s on the node", podName)
	return 0
}

// podNamed returns the web pod of that name, if it is there.
func (b *behaviours) podNamed(name string) (watchedPod, bool) {
	for _, p := range b.podsOf("web", webSelector) {
		if p.Metadata.Name == name {
			return p, true
		}
	}
	return watchedPod{}, false
}

// waitAllReady waits until the web Deployment's replicas are all Ready again.
func (b *behaviours) waitAllReady(t *testing.T, replicas int) time.Duration {
	t.Helper()
	started := time.Now()
	err := eventually(3*time.Minute, fmt.Sprintf("web back to %d Ready pods", replicas), func() (bool, string, error) {
		ready, listed := 0, b.podsOf("web", webSelector)
		for _, p := range listed {
			if p.ready() && p.Metadata.DeletionTimestamp == "" {
				ready++
			}
		}
		return ready == replicas, fmt.Sprintf("%d of %d listed pods Ready and not being deleted", ready, len(listed)), nil
	})
	if err != nil {
		t.Fatalf("%v%s", err, b.n.s.diagnose())
	}
	return time.Since(started)
}

// settledPods waits until the web Deployment has exactly its replicas, all Ready, none terminating,
// each with an address, and returns them: a pod left over from an earlier subtest (a rollout's
// terminating pod) must not be the one a behaviour is shown on.
func (b *behaviours) settledPods(t *testing.T, replicas int) []watchedPod {
	t.Helper()
	var pods []watchedPod
	err := waitFor(3*time.Minute, func() (bool, error) {
		pods = b.podsOf("web", webSelector)
		if len(pods) != replicas {
			return false, nil
		}
		for _, p := range pods {
			if !p.ready() || p.Metadata.DeletionTimestamp != "" || p.Status.PodIP == "" {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("web did not settle at %d Ready pods (have %d): %v%s", replicas, len(pods), err, b.n.s.diagnose())
	}
	return pods
}

// selfHealing: (1) a pod whose probes stop answering is first taken out of the Service's endpoints by
// readiness, with no failed request, then restarted by liveness; (2) a killed nginx is restarted.
func (b *behaviours) selfHealing(t *testing.T) {
	s := b.n.s
	replicas := b.web(t).Spec.Replicas
	if replicas < 2 {
		t.Fatalf("want at least 2 web replicas, have %d", replicas)
	}
	pods := b.settledPods(t, replicas)
	probed, killed := pods[0], pods[1]

	// (1) The kubelet probes from the node; clients reach the pod through the bridge. A REJECT of
	// the node's own packets to this pod's port (in the node's network namespace, the OUTPUT chain)
	// fails its probes while every client's request still reaches it: a process that stopped
	// answering its probes, without losing the requests already routed to it.
	rule := []string{"OUTPUT", "-d", probed.Status.PodIP, "-p", "tcp", "--dport", "8080", "-j", "REJECT", "--reject-with", "tcp-reset"}
	iptables := func(action string) error {
		out, err := exec.Command("iptables", append([]string{"-w", action}, rule...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("iptables %s: %v: %s", action, err, out)
		}
		return nil
	}
	traffic := b.startTraffic(t, webURL)
	started := time.Now()
	if err := iptables("-I"); err != nil {
		traffic.finish()
		t.Fatal(err)
	}
	ruleIn := true
	defer func() {
		if ruleIn {
			_ = iptables("-D")
		}
	}()
	var notReady, outOfEndpoints, restarted time.Duration
	err := waitFor(3*time.Minute, func() (bool, error) {
		p, ok := b.podNamed(probed.Metadata.Name)
		if !ok {
			return false, fmt.Errorf("pod %s is gone", probed.Metadata.Name)
		}
		if notReady == 0 && !p.ready() {
			notReady = time.Since(started)
		}
		if endpoints, err := b.readyEndpoints("web", "web"); err == nil && outOfEndpoints == 0 && !endpoints[probed.Metadata.Name] {
			outOfEndpoints = time.Since(started)
		}
		if restarted == 0 && p.restarts() > 0 {
			restarted = time.Since(started)
		}
		return restarted != 0 && outOfEndpoints != 0, nil
	})
	if err == nil {
		err = iptables("-D")
		ruleIn = false
	}
	if err != nil {
		traffic.finish()
		p, _ := b.podNamed(probed.Metadata.Name)
		t.Fatalf("%v (pod %s at %s: Ready %v, restarts %d; seen not Ready after %s, out of the endpoints after %s, restarted after %s)%s",
			err, probed.Metadata.Name, probed.Status.PodIP, p.ready(), p.restarts(), notReady, outOfEndpoints, restarted, s.diagnose())
	}
	back := b.waitAllReady(t, replicas)
	probeResult := traffic.finish()
	p, _ := b.podNamed(probed.Metadata.Name)
	if p.restarts() != 1 {
		t.Errorf("pod %s restarted %d times, want 1", p.Metadata.Name, p.restarts())
	}
	if outOfEndpoints >= restarted {
		t.Errorf("the pod left the Service's endpoints at %s, not before its restart at %s", outOfEndpoints, restarted)
	}
	// The kubelet sends its events to the API server in the background: wait for this one.
	if err := eventually(time.Minute, "a Killing event for a failed liveness probe on "+probed.Metadata.Name, func() (bool, string, error) {
		events, err := s.kubectl("get", "events", "-n", "web", "--field-selector", "involvedObject.name="+probed.Metadata.Name+",reason=Killing",
			"-o", "jsonpath={.items[*].message}")
		if err != nil {
			return false, fmt.Sprintf("kubectl get events: %v: %s", err, events), nil
		}
		return strings.Contains(events, "failed liveness probe"), fmt.Sprintf("Killing events %q", events), nil
	}); err != nil {
		t.Error(err)
	}
	probeResult.check(t)

	// (2) nginx's master process is the container's first process: killed, the container ends, and
	// the kubelet starts it again (restartPolicy Always). Requests the Service sends it until
	// readiness notices are lost: counted, not asserted.
	master := b.nginxMaster(t, killed.Metadata.Name)
	crashTraffic := b.startTraffic(t, webURL)
	killedAt := time.Now()
	if err := syscall.Kill(master, syscall.SIGKILL); err != nil {
		crashTraffic.finish()
		t.Fatalf("kill -9 %d: %v", master, err)
	}
	var crashRestart time.Duration
	err = waitFor(2*time.Minute, func() (bool, error) {
		p, ok := b.podNamed(killed.Metadata.Name)
		if ok && p.restarts() > 0 && crashRestart == 0 {
			crashRestart = time.Since(killedAt)
		}
		return ok && p.restarts() > 0 && p.ready(), nil
	})
	crashBack := time.Since(killedAt)
	crashResult := crashTraffic.finish()
	if err != nil {
		t.Fatalf("pod %s did not restart and become Ready after its nginx was killed: %v%s", killed.Metadata.Name, err, s.diagnose())
	}
	if p, _ := b.podNamed(killed.Metadata.Name); p.restarts() != 1 {
		t.Errorf("pod %s restarted %d times, want 1", p.Metadata.Name, p.restarts())
	}

	b.record(t, behaviourResult{
		title:   "Self-healing",
		concept: "self-healing: probes and restarts (https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/)",
		settings: []string{
			"`lib/workloads/nginx-server.ts` `readinessProbe`: GET `/` every 5 s, 2 failures take the pod out of the Service",
			"`lib/workloads/nginx-server.ts` `livenessProbe`: GET `/healthz` every 10 s, 3 failures restart the container",
		},
		done: "(1) Cut the kubelet's probes to one web pod (an iptables REJECT of the node's own packets to it; clients' requests still reach it), " +
			"requests from a client pod throughout, until liveness restarted it. (2) Killed another pod's nginx master process from the node (`kill -9`, found in /proc).",
		measured: []string{
			fmt.Sprintf("probes cut: not Ready after %.1fs, out of the Service's endpoints after %.1fs, restarted by liveness after %.1fs (restartCount 1, Killing event \"failed liveness probe\"); all %d Ready again %.1fs later",
				notReady.Seconds(), outOfEndpoints.Seconds(), restarted.Seconds(), replicas, back.Seconds()),
			"while the probes were cut, " + probeResult.String(),
			fmt.Sprintf("nginx killed: container restarted after %.1fs (restartCount 1), Ready again after %.1fs", crashRestart.Seconds(), crashBack.Seconds()),
			"while it crashed (not a promise: requests already routed to a dead process are lost), " + crashResult.String(),
		},
	})
}

// gracefulShutdown: a deleted web pod leaves the Service's endpoints first, keeps serving through
// its preStop pause, ends well within its grace period, and is replaced; no request fails.
func (b *behaviours) gracefulShutdown(t *testing.T) {
	s := b.n.s
	d := b.web(t)
	replicas := d.Spec.Replicas
	grace := time.Duration(d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	victim := b.settledPods(t, replicas)[0]
	master := b.nginxMaster(t, victim.Metadata.Name)

	traffic := b.startTraffic(t, webURL)
	started := time.Now()
	if out, err := s.kubectl("delete", "pod", "-n", "web", victim.Metadata.Name, "--wait=false"); err != nil {
		traffic.finish()
		t.Fatalf("%v: %s", err, out)
	}
	var outOfEndpoints, exited, gone time.Duration
	err := waitFor(grace+time.Minute, func() (bool, error) {
		if endpoints, err := b.readyEndpoints("web", "web"); err == nil && outOfEndpoints == 0 && !endpoints[victim.Metadata.Name] {
			outOfEndpoints = time.Since(started)
		}
		if exited == 0 {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", master)); os.IsNotExist(err) {
				exited = time.Since(started)
			}
		}
		if _, ok := b.podNamed(victim.Metadata.Name); !ok && gone == 0 {
			gone = time.Since(started)
		}
		return outOfEndpoints != 0 && exited != 0 && gone != 0, nil
	})
	if err != nil {
		traffic.finish()
		t.Fatalf("pod %s: out of endpoints %s, nginx exited %s, pod gone %s: %v%s", victim.Metadata.Name, outOfEndpoints, exited, gone, err, s.diagnose())
	}
	replaced := time.Since(started) + b.waitAllReady(t, replicas)
	result := traffic.finish()

	if outOfEndpoints >= exited {
		t.Errorf("nginx exited (%s) before the pod left the endpoints (%s)", exited, outOfEndpoints)
	}
	if gone >= grace {
		t.Errorf("the pod took %s to go, beyond its grace period of %s", gone, grace)
	}
	result.check(t)

	b.record(t, behaviourResult{
		title:   "Graceful shutdown",
		concept: "signals and graceful termination (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination)",
		settings: []string{
			"`lib/workloads/nginx-server.ts` `preStop`: `sleep 10` before nginx is told to stop",
			fmt.Sprintf("`lib/workloads/nginx-server.ts` `terminationGracePeriodSeconds`: %d; the image's stop signal SIGQUIT lets nginx finish its requests", int(grace.Seconds())),
		},
		done: "Deleted a serving web pod (`kubectl delete pod`), requests from a client pod throughout; watched its endpoint, its nginx master process on the node (/proc) and the pod object.",
		measured: []string{
			fmt.Sprintf("out of the Service's endpoints %.1fs after the delete; nginx exited after %.1fs; pod gone after %.1fs (grace period %s)",
				outOfEndpoints.Seconds(), exited.Seconds(), gone.Seconds(), grace),
			fmt.Sprintf("replaced: %d pods Ready again %.1fs after the delete", replicas, replaced.Seconds()),
			result.String(),
		},
	})
}
