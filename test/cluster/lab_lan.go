package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What the LAN checks (lab_lan_test.go) need: the laptop as a client on the LAN, the neighbour
// entries it learns, which node MetalLB announces a Service's addresses from, and a node that
// fails as a machine does.

// labLaptop is the laptop: on the LAN only, no route beyond it, no kubelet.
func labLaptop() labMachine {
	for _, m := range labMachines {
		if !m.node {
			return m
		}
	}
	panic("labMachines has no laptop")
}

// dialIn connects from inside a named network namespace (`ip netns add`'s /run/netns/<name>). A
// socket belongs to the namespace of the thread that made it, whichever thread uses it later, so
// one thread joins the namespace, dials, and joins its own namespace again before any other
// goroutine may run on it. The thread must not end instead: the test starts every node's
// processes with a parent-death signal, which the kernel sends when the thread that started them
// ends, and a goroutine locked to its thread at its end ends that thread.
func dialIn(ctx context.Context, netns, network, address string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{nil, err}
			return
		}
		defer own.Close()
		target, err := os.Open(filepath.Join("/run/netns", netns))
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{nil, err}
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			done <- result{nil, fmt.Errorf("joining the network namespace %s: %w", netns, err)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, address)
		if back := setns(own); back != nil {
			// Still in the laptop's namespace: the thread may serve no other goroutine, and may
			// not end either (see above), so this goroutine keeps it, idle, until the test ends.
			if conn != nil {
				conn.Close()
			}
			done <- result{nil, fmt.Errorf("returning from the network namespace %s: %w", netns, back)}
			select {}
		}
		runtime.UnlockOSThread()
		done <- result{conn, err}
	}()
	r := <-done
	return r.conn, r.err
}

// setns moves the calling thread into the network namespace f refers to.
func setns(f *os.File) error {
	call, ok := setnsCall[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("setns(2)'s number on %s is not known here (setnsCall)", runtime.GOARCH)
	}
	if _, _, errno := syscall.RawSyscall(call, f.Fd(), syscall.CLONE_NEWNET, 0); errno != 0 {
		return errno
	}
	return nil
}

// setnsCall is setns(2)'s number, which Go's syscall package does not name: the kernel's syscall
// tables (arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h for arm64).
var setnsCall = map[string]uintptr{"amd64": 308, "arm64": 268}

// laptopAnswer is one HTTP request from the laptop: the status, the size of the body, and the
// address the connection left from (the laptop's own, which shows it was made there).
type laptopAnswer struct {
	status int
	bytes  int
	from   string
}

// laptopGet asks url from the laptop's network namespace, a new connection each time (no
// keep-alive: each request finds its way to a node anew, as a new client would), within timeout.
func laptopGet(url string, timeout time.Duration) (laptopAnswer, error) {
	var answer laptopAnswer
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			conn, err := dialIn(ctx, labLaptop().name, network, address)
			if err == nil {
				answer.from = conn.LocalAddr().String()
			}
			return conn, err
		},
	}}
	resp, err := client.Get(url)
	if err != nil {
		return answer, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	answer.status, answer.bytes = resp.StatusCode, len(body)
	return answer, err
}

// neighbour is one entry of a namespace's neighbour table (ARP for IPv4, NDP for IPv6).
type neighbour struct {
	Dst    string   `json:"dst"`
	Dev    string   `json:"dev"`
	LLAddr string   `json:"lladdr"`
	State  []string `json:"state"`
}

// laptopNeighbour is the laptop's neighbour entry for an address ("" if it has none).
func laptopNeighbour(address string) (neighbour, error) {
	out, err := exec.Command("ip", "-n", labLaptop().name, "-j", "neigh", "show", "to", address).CombinedOutput()
	if err != nil {
		return neighbour{}, fmt.Errorf("ip -n %s neigh show to %s: %v\n%s", labLaptop().name, address, err, out)
	}
	var entries []neighbour
	if err := json.Unmarshal(out, &entries); err != nil {
		return neighbour{}, fmt.Errorf("ip -j neigh: %v\n%s", err, out)
	}
	for _, e := range entries {
		if e.Dst == address {
			return e, nil
		}
	}
	return neighbour{}, nil
}

// laptopRoutes lists the laptop's routes of both families, for messages and the log.
func laptopRoutes() string {
	var routes []string
	for _, family := range []string{"-4", "-6"} {
		out, _ := exec.Command("ip", "-n", labLaptop().name, family, "route", "show").CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" {
				routes = append(routes, strings.Join(strings.Fields(line), " "))
			}
		}
	}
	return strings.Join(routes, "; ")
}

// lanMAC is the hardware address of a node's LAN link (its eth0).
func (l *labCluster) lanMAC(n *labNode) (string, error) {
	out, err := l.runIn(n, "ip", "-j", "link", "show", "eth0")
	if err != nil {
		return "", fmt.Errorf("%s: ip link show eth0: %v\n%s", n.name, err, out)
	}
	var links []struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		return "", fmt.Errorf("%s: ip -j link show eth0: %v\n%s", n.name, err, out)
	}
	return links[0].Address, nil
}

// loadBalancerAddresses are the addresses MetalLB gave a Service (status.loadBalancer.ingress).
func (l *labCluster) loadBalancerAddresses(namespace, name string) ([]string, error) {
	var svc struct {
		Status struct {
			LoadBalancer struct {
				Ingress []struct {
					IP string `json:"ip"`
				} `json:"ingress"`
			} `json:"loadBalancer"`
		} `json:"status"`
	}
	if err := l.cp.api.getJSON("/api/v1/namespaces/"+namespace+"/services/"+name, &svc); err != nil {
		return nil, err
	}
	var out []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		out = append(out, in.IP)
	}
	return out, nil
}

// addressPool is one of MetalLB's IPAddressPools: its name and address ranges as written.
type addressPool struct {
	name   string
	ranges []string
}

// metallbPool reads a MetalLB IPAddressPool as the cluster holds it.
func (l *labCluster) metallbPool(name string) (addressPool, error) {
	var pool struct {
		Spec struct {
			Addresses []string `json:"addresses"`
		} `json:"spec"`
	}
	if err := l.cp.api.getJSON("/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/"+name, &pool); err != nil {
		return addressPool{}, err
	}
	return addressPool{name: name, ranges: pool.Spec.Addresses}, nil
}

// contains says whether an address is in one of the pool's ranges: a CIDR or "low-high", as
// MetalLB's IPAddressPool accepts them.
func (p addressPool) contains(address string) bool {
	a, err := netip.ParseAddr(address)
	if err != nil {
		return false
	}
	for _, r := range p.ranges {
		if low, high, ok := strings.Cut(r, "-"); ok {
			lo, err1 := netip.ParseAddr(strings.TrimSpace(low))
			hi, err2 := netip.ParseAddr(strings.TrimSpace(high))
			if err1 == nil && err2 == nil && lo.BitLen() == a.BitLen() && lo.Compare(a) <= 0 && a.Compare(hi) <= 0 {
				return true
			}
			continue
		}
		if prefix, err := netip.ParsePrefix(r); err == nil && prefix.Contains(a) {
			return true
		}
	}
	return false
}

// announcingNodes are the nodes MetalLB's speakers say they announce a Service from in layer 2:
// each speaker that wins a Service's election writes a ServiceL2Status naming its node and
// removes the others' (MetalLB's layer2 status controller), so one name is the normal answer.
func (l *labCluster) announcingNodes(namespace, service string) ([]string, error) {
	var list struct {
		Items []struct {
			Status struct {
				Node             string `json:"node"`
				ServiceName      string `json:"serviceName"`
				ServiceNamespace string `json:"serviceNamespace"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := l.cp.api.getJSON("/apis/metallb.io/v1beta1/namespaces/metallb-system/servicel2statuses", &list); err != nil {
		return nil, err
	}
	var nodes []string
	for _, item := range list.Items {
		if item.Status.ServiceName == service && item.Status.ServiceNamespace == namespace {
			nodes = append(nodes, item.Status.Node)
		}
	}
	return nodes, nil
}

// announcementEvents are the Service's events of MetalLB's speakers saying where they announce
// from ("nodeAssigned"), oldest first, for messages.
func (l *labCluster) announcementEvents(namespace, service string) []string {
	var list struct {
		Items []struct {
			Reason        string `json:"reason"`
			Message       string `json:"message"`
			LastTimestamp string `json:"lastTimestamp"`
		} `json:"items"`
	}
	path := "/api/v1/namespaces/" + namespace + "/events?fieldSelector=involvedObject.kind%3DService,involvedObject.name%3D" + service
	if err := l.cp.api.getJSON(path, &list); err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range list.Items {
		if e.Reason == "nodeAssigned" {
			out = append(out, e.LastTimestamp+" "+e.Message)
		}
	}
	return out
}

// killNode ends a node as a machine that loses its power: every process of it at once, with
// SIGKILL, and its LAN link down. Stopping only its kubelet and containerd would leave its
// containers running (their shims outlive containerd), MetalLB's speaker among them, still
// answering ARP for the addresses it announces, which no failed machine does. Its processes are
// those in its mount namespace (the holder, containerd, the kubelet, kube-proxy, the policy
// agent, the shims containerd started) and those under its cgroup root (every container). It
// returns what it killed, by name.
func (l *labCluster) killNode(n *labNode) ([]string, error) {
	if n.netns == "" {
		return nil, fmt.Errorf("%s runs the control plane in the test's own namespaces: only a worker can be lost", n.name)
	}
	mountNS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", n.holder))
	if err != nil {
		return nil, fmt.Errorf("%s: its namespaces' holder (pid %d): %w", n.name, n.holder, err)
	}
	var killed []string
	for round := 0; round < 5; round++ {
		pids := nodeProcesses(mountNS, n.cgroupRoot)
		if len(pids) == 0 {
			break
		}
		for pid, name := range pids {
			if syscall.Kill(pid, syscall.SIGKILL) == nil && round == 0 {
				killed = append(killed, name)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if left := nodeProcesses(mountNS, n.cgroupRoot); len(left) > 0 {
		return killed, fmt.Errorf("%s: processes left after SIGKILL: %v", n.name, left)
	}
	if err := ip("-n", n.netns, "link", "set", "eth0", "down"); err != nil {
		return killed, err
	}
	return killed, nil
}

// nodeProcesses finds a node's processes in the run's /proc (run-lab.sh's PID namespace): those in
// the node's mount namespace and those in a cgroup under its cgroup root, by PID, with their names.
func nodeProcesses(mountNS, cgroupRoot string) map[int]string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	found := map[int]string{}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		ns, _ := os.Readlink(filepath.Join(dir, "ns", "mnt"))
		cgroups, _ := os.ReadFile(filepath.Join(dir, "cgroup"))
		if ns != mountNS && !underCgroup(string(cgroups), cgroupRoot) {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(dir, "comm"))
		found[pid] = strings.TrimSpace(string(comm))
	}
	return found
}

// underCgroup says whether a /proc/<pid>/cgroup file places the process under a top-level cgroup
// (the kubelet's cgroup root) in any hierarchy.
func underCgroup(file, root string) bool {
	for _, line := range strings.Split(file, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[2] == "/"+root || strings.HasPrefix(parts[2], "/"+root+"/") {
			return true
		}
	}
	return false
}
