package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// What the node itself says about a container: its processes (found by the container's cgroup,
// which the kubelet and runc name after the container ID), their status, mounts and environment.

// containerProcess is one process of a running container, as /proc shows it.
type containerProcess struct {
	pid       int
	namespace string
	pod       string
	container string
	cgroupCPU string // the process's path in the cpu hierarchy
	cgroupMem string // ... and in the memory hierarchy
}

// containerProcesses finds every process of every running container of the given pods: a process
// belongs to a container when its cgroup path ends with the container's ID.
func containerProcesses(t *testing.T, pods []pod) []containerProcess {
	t.Helper()
	byID := map[string]containerProcess{}
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			if id := strings.TrimPrefix(cs.ContainerID, "containerd://"); id != "" {
				byID[id] = containerProcess{namespace: p.Metadata.Namespace, pod: p.Metadata.Name, container: cs.Name}
			}
		}
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []containerProcess
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cgroups, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err != nil {
			continue // gone meanwhile
		}
		var cpu, mem string
		for _, line := range strings.Split(string(cgroups), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			for _, controller := range strings.Split(parts[1], ",") {
				switch controller {
				case "cpu":
					cpu = parts[2]
				case "memory":
					mem = parts[2]
				}
			}
		}
		if c, ok := byID[filepath.Base(cpu)]; ok {
			c.pid, c.cgroupCPU, c.cgroupMem = pid, cpu, mem
			found = append(found, c)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].pid < found[j].pid })
	return found
}

// statusFields reads /proc/<pid>/status into a map of its fields.
func statusFields(pid int) (map[string]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields, nil
}

// mount is one line of /proc/<pid>/mountinfo: where, what file system, and its options.
type mount struct {
	point, fsType, options, superOptions string
}

func mounts(pid int) ([]mount, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return nil, err
	}
	var out []mount
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		// id parent major:minor root point options [optional...] - fstype source superoptions
		before, after, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(before), strings.Fields(after)
		if len(f) < 6 || len(g) < 3 {
			continue
		}
		out = append(out, mount{point: f[4], options: f[5], fsType: g[0], superOptions: g[2]})
	}
	return out, nil
}

func mountAt(ms []mount, point string) (mount, bool) {
	found, ok := mount{}, false
	for _, m := range ms {
		if m.point == point {
			found, ok = m, true // the last one at a point is the one in effect
		}
	}
	return found, ok
}

func hasOption(options, option string) bool {
	for _, o := range strings.Split(options, ",") {
		if o == option {
			return true
		}
	}
	return false
}

// tmpfsBytes reads size=... from a tmpfs mount's options, in bytes (the kernel prints kibibytes).
func tmpfsBytes(superOptions string) (int64, bool) {
	for _, o := range strings.Split(superOptions, ",") {
		if v, ok := strings.CutPrefix(o, "size="); ok {
			unit := int64(1)
			switch {
			case strings.HasSuffix(v, "k"):
				unit, v = 1<<10, strings.TrimSuffix(v, "k")
			case strings.HasSuffix(v, "m"):
				unit, v = 1<<20, strings.TrimSuffix(v, "m")
			case strings.HasSuffix(v, "g"):
				unit, v = 1<<30, strings.TrimSuffix(v, "g")
			}
			n, err := strconv.ParseInt(v, 10, 64)
			return n * unit, err == nil
		}
	}
	return 0, false
}

// quantityBytes parses the binary-suffixed quantities the manifests use ("64Mi", "1Gi", "512").
func quantityBytes(q string) (int64, error) {
	units := []struct {
		suffix string
		bytes  int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1000}, {"M", 1000 * 1000}, {"G", 1000 * 1000 * 1000}}
	for _, u := range units {
		if v, ok := strings.CutSuffix(q, u.suffix); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n * u.bytes, err
		}
	}
	return strconv.ParseInt(q, 10, 64)
}

// readCgroup reads one value file of a cgroup v1 hierarchy.
func readCgroup(hierarchy, path, file string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", hierarchy, path, file))
	return strings.TrimSpace(string(b)), err
}
