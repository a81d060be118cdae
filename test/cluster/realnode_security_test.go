package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// containerSpec finds a container (or init container) of a pod spec by name.
func containerSpec(podSpec map[string]any, name string) map[string]any {
	for _, list := range []string{"containers", "initContainers"} {
		for _, c := range asSlice(podSpec[list]) {
			if m := asMap(c); m["name"] == name {
				return m
			}
		}
	}
	return nil
}

// runAs is the UID and GID a container's process must have: the container's securityContext over
// the pod's.
func runAs(podSpec, container map[string]any) (uid, gid string) {
	for _, sc := range []map[string]any{asMap(podSpec["securityContext"]), asMap(container["securityContext"])} {
		if v, ok := sc["runAsUser"]; ok {
			uid = fmt.Sprint(v)
		}
		if v, ok := sc["runAsGroup"]; ok {
			gid = fmt.Sprint(v)
		}
	}
	return uid, gid
}

func isSandboxed(p pod) bool { return p.Spec["runtimeClassName"] != nil }

// security reads, for every process of every running container that runc runs, its user and
// group, effective capabilities, no_new_privs and seccomp mode from /proc/<pid>/status, and checks
// the root filesystem is mounted read-only and each memory-backed emptyDir has its declared size.
func (n *realNodeChecks) security(t *testing.T) {
	pods := n.s.runningPods()
	byName := map[string]pod{}
	for _, p := range pods {
		byName[p.Metadata.Namespace+"/"+p.Metadata.Name] = p
	}
	processes := containerProcesses(t, pods)
	checked := map[string]bool{}
	for _, proc := range processes {
		p := byName[proc.namespace+"/"+proc.pod]
		if isSandboxed(p) {
			continue // gVisor's processes are the sandbox's own; see the gVisor check
		}
		name := fmt.Sprintf("%s/%s[%s] pid %d", proc.namespace, proc.pod, proc.container, proc.pid)
		spec := containerSpec(p.Spec, proc.container)
		uid, gid := runAs(p.Spec, spec)
		status, err := statusFields(proc.pid)
		if err != nil {
			continue // the process ended meanwhile
		}
		want := map[string]string{"CapEff": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2"}
		for field, value := range want {
			if status[field] != value {
				t.Errorf("%s: %s is %q, want %q", name, field, status[field], value)
			}
		}
		// Uid: real, effective, saved, filesystem.
		if uid != "" && strings.Join(strings.Fields(status["Uid"]), " ") != strings.Repeat(uid+" ", 3)+uid {
			t.Errorf("%s: Uid %q, want %s everywhere", name, status["Uid"], uid)
		}
		if gid != "" && strings.Join(strings.Fields(status["Gid"]), " ") != strings.Repeat(gid+" ", 3)+gid {
			t.Errorf("%s: Gid %q, want %s everywhere", name, status["Gid"], gid)
		}
		ms, err := mounts(proc.pid)
		if err != nil {
			continue
		}
		if root, ok := mountAt(ms, "/"); !ok || !hasOption(root.options, "ro") {
			t.Errorf("%s: the root filesystem is not mounted read-only: %+v", name, root)
		}
		n.checkTmpfsSizes(t, name, p.Spec, spec, ms)
		checked[proc.namespace+"/"+proc.pod+"["+proc.container+"]"] = true
	}
	if len(checked) < 5 {
		t.Fatalf("only %d containers checked: %v", len(checked), checked)
	}
	// And a write really fails where a shell can try one.
	for _, target := range []struct{ ns, selector, container string }{
		{"web", "app.kubernetes.io/name=web", "nginx"}, {"db", "app.kubernetes.io/name=db", "postgres"},
	} {
		podName := n.firstPod(t, target.ns, target.selector)
		out, err := n.s.kubectl("exec", "-n", target.ns, podName, "-c", target.container, "--", "sh", "-c", "echo x > /written-by-the-test")
		if err == nil || !strings.Contains(out, "Read-only file system") {
			t.Errorf("%s/%s: a write to / did not fail as read-only (err %v): %s", target.ns, podName, err, out)
		}
	}
	t.Logf("checked from the node: %d containers (%d processes): CapEff 0, NoNewPrivs 1, Seccomp 2, declared UID/GID, read-only root, tmpfs sizes",
		len(checked), len(processes))
}

// checkTmpfsSizes: each emptyDir with medium Memory and a sizeLimit is a tmpfs of that size.
func (n *realNodeChecks) checkTmpfsSizes(t *testing.T, name string, podSpec, container map[string]any, ms []mount) {
	volumes := map[string]map[string]any{}
	for _, v := range asSlice(podSpec["volumes"]) {
		m := asMap(v)
		volumes[fmt.Sprint(m["name"])] = m
	}
	for _, vm := range asSlice(container["volumeMounts"]) {
		mountSpec := asMap(vm)
		volume := volumes[fmt.Sprint(mountSpec["name"])]
		emptyDir := asMap(volume["emptyDir"])
		if emptyDir["medium"] != "Memory" {
			continue
		}
		at := fmt.Sprint(mountSpec["mountPath"])
		m, ok := mountAt(ms, at)
		if !ok || m.fsType != "tmpfs" {
			t.Errorf("%s: %s is not a tmpfs: %+v", name, at, m)
			continue
		}
		if limit, ok := emptyDir["sizeLimit"].(string); ok {
			want, err := quantityBytes(limit)
			got, found := tmpfsBytes(m.superOptions)
			if err != nil || !found || got != want {
				t.Errorf("%s: tmpfs at %s has size %d (options %s), want sizeLimit %s = %d", name, at, got, m.superOptions, limit, want)
			}
		}
	}
}

func (n *realNodeChecks) firstPod(t *testing.T, namespace, selector string) string {
	out, err := n.s.kubectl("get", "pods", "-n", namespace, "-l", selector, "--field-selector=status.phase=Running", "-o", "jsonpath={.items[0].metadata.name}")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("no running pod in %s with %s: %v %s", namespace, selector, err, out)
	}
	return strings.TrimSpace(out)
}

// secretsAsFiles: every Secret a container mounts is a tmpfs, and no process of any container
// holds a secret value in its environment.
func (n *realNodeChecks) secretsAsFiles(t *testing.T) {
	values := n.s.secretValues()
	if len(values) == 0 {
		t.Fatal("no Secret values found in the app namespaces: npm run lab-secrets made none?")
	}
	pods := n.s.runningPods()
	byName := map[string]pod{}
	for _, p := range pods {
		byName[p.Metadata.Namespace+"/"+p.Metadata.Name] = p
	}
	secretMounts := 0
	for _, proc := range containerProcesses(t, pods) {
		p := byName[proc.namespace+"/"+proc.pod]
		name := fmt.Sprintf("%s/%s[%s] pid %d", proc.namespace, proc.pod, proc.container, proc.pid)
		if environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", proc.pid)); err == nil {
			for secret, value := range values {
				if strings.Contains(string(environ), value) {
					t.Errorf("%s: the value of %s is in the process's environment", name, secret)
				}
			}
		}
		if isSandboxed(p) {
			continue
		}
		ms, err := mounts(proc.pid)
		if err != nil {
			continue
		}
		volumes := map[string]bool{}
		for _, v := range asSlice(p.Spec["volumes"]) {
			if m := asMap(v); m["secret"] != nil {
				volumes[fmt.Sprint(m["name"])] = true
			}
		}
		for _, vm := range asSlice(containerSpec(p.Spec, proc.container)["volumeMounts"]) {
			mountSpec := asMap(vm)
			if !volumes[fmt.Sprint(mountSpec["name"])] {
				continue
			}
			at := fmt.Sprint(mountSpec["mountPath"])
			if m, ok := mountAt(ms, at); !ok || m.fsType != "tmpfs" || !hasOption(m.options, "ro") {
				t.Errorf("%s: the Secret at %s is not a read-only tmpfs: %+v", name, at, m)
			} else {
				secretMounts++
			}
		}
	}
	if secretMounts == 0 {
		t.Errorf("no container mounts a Secret as a file: the database password must reach postgres as a file (POSTGRES_PASSWORD_FILE)")
	}
	t.Logf("%d Secret mounts are read-only tmpfs; %d secret values absent from every container's environment", secretMounts, len(values))
}

// gvisor: the sandboxed pods see gVisor's kernel, the others the node's.
func (n *realNodeChecks) gvisor(t *testing.T) {
	nodeVersion, err := os.ReadFile("/proc/version")
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []struct {
		ns, selector, container string
		sandboxed               bool
	}{
		{"sandboxed", "app.kubernetes.io/name=sandboxed", "nginx", true},
		{"web", "app.kubernetes.io/name=web", "nginx", false},
	} {
		podName := n.firstPod(t, target.ns, target.selector)
		out, err := n.s.kubectl("exec", "-n", target.ns, podName, "-c", target.container, "--", "cat", "/proc/version")
		if err != nil {
			t.Fatalf("%s/%s: %v %s", target.ns, podName, err, out)
		}
		sameKernel := strings.TrimSpace(out) == strings.TrimSpace(string(nodeVersion))
		if sameKernel == target.sandboxed {
			t.Errorf("%s/%s sees the kernel %q; the node's is %q (sandboxed: %v)", target.ns, podName, strings.TrimSpace(out), strings.TrimSpace(string(nodeVersion)), target.sandboxed)
		}
		if target.sandboxed {
			dmesg, _ := n.s.kubectl("exec", "-n", target.ns, podName, "-c", target.container, "--", "dmesg")
			if !strings.Contains(dmesg, "gVisor") {
				t.Errorf("%s/%s: dmesg does not show gVisor's kernel:\n%s", target.ns, podName, dmesg)
			}
			t.Logf("%s/%s runs on gVisor: /proc/version %q", target.ns, podName, strings.TrimSpace(out))
		}
	}
}

// explainRow is one row of `npm run explain -- --json` (lib/review/explain.ts).
type explainRow struct {
	Workload  string `json:"workload"`
	Container string `json:"container"`
	CgroupV1  struct {
		CPUShares          int64 `json:"cpuShares"`
		CFSQuotaUs         int64 `json:"cfsQuotaUs"`
		CFSPeriodUs        int64 `json:"cfsPeriodUs"`
		MemoryLimitInBytes int64 `json:"memoryLimitInBytes"`
	} `json:"cgroupV1"`
}

// cgroups: the values the kubelet and runc wrote for every container and pod equal what
// `npm run explain` predicts from the YAML.
func (n *realNodeChecks) cgroups(t *testing.T) {
	cmd := exec.Command("node", filepath.Join(n.s.c.repo, "speed", "tsrun.js"), filepath.Join(n.s.c.repo, "lib", "commands", "explain.ts"),
		"--env", "lab", "--json", "--oom-floor", "0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("npm run explain -- --json: %v", err)
	}
	var byEnvironment map[string]struct {
		Containers []explainRow `json:"containers"`
		Pods       []explainRow `json:"pods"`
	}
	if err := json.Unmarshal(out, &byEnvironment); err != nil {
		t.Fatalf("reading explain's JSON: %v\n%s", err, out)
	}
	explained := byEnvironment["lab"]
	t.Logf("explain: %d container rows, %d pod rows", len(explained.Containers), len(explained.Pods))
	pods := n.s.runningPods()
	byName := map[string]pod{}
	for _, p := range pods {
		byName[p.Metadata.Namespace+"/"+p.Metadata.Name] = p
	}
	compared := 0
	seen := map[string]bool{}
	for _, proc := range containerProcesses(t, pods) {
		key := proc.namespace + "/" + proc.pod + "[" + proc.container + "]"
		p := byName[proc.namespace+"/"+proc.pod]
		if seen[key] || isSandboxed(p) {
			continue
		}
		seen[key] = true
		row, ok := findExplainRow(explained.Containers, proc.namespace, proc.container)
		if !ok {
			t.Errorf("%s: explain has no row for it", key)
			continue
		}
		compareCgroup(t, key, proc.cgroupCPU, proc.cgroupMem, row)
		// The pod's own cgroup is the container's parent.
		if podRow, ok := findExplainRow(explained.Pods, proc.namespace, ""); ok {
			compareCgroup(t, key+" (pod)", filepath.Dir(proc.cgroupCPU), filepath.Dir(proc.cgroupMem), podRow)
		}
		compared++
	}
	if compared < 4 {
		t.Fatalf("compared only %d containers", compared)
	}
}

func findExplainRow(rows []explainRow, namespace, container string) (explainRow, bool) {
	for _, r := range rows {
		// "Deployment web/web": the namespace is what precedes the slash.
		fields := strings.Fields(r.Workload)
		if len(fields) == 2 && strings.HasPrefix(fields[1], namespace+"/") && (container == "" || r.Container == container) {
			return r, true
		}
	}
	return explainRow{}, false
}

func compareCgroup(t *testing.T, name, cpuPath, memPath string, row explainRow) {
	check := func(hierarchy, path, file string, want int64) {
		got, err := readCgroup(hierarchy, path, file)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		if got != fmt.Sprint(want) {
			t.Errorf("%s: %s/%s is %s, explain predicts %d", name, hierarchy, file, got, want)
		}
	}
	check("cpu", cpuPath, "cpu.shares", row.CgroupV1.CPUShares)
	check("cpu", cpuPath, "cpu.cfs_quota_us", row.CgroupV1.CFSQuotaUs)
	check("cpu", cpuPath, "cpu.cfs_period_us", row.CgroupV1.CFSPeriodUs)
	check("memory", memPath, "memory.limit_in_bytes", row.CgroupV1.MemoryLimitInBytes)
}
