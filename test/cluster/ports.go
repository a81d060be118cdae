package cluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Ports for the test's own servers (etcd, the API server, kwok, Flux's controllers, ...). A port is
// picked free here and bound by its server seconds later. Picked from the kernel's ephemeral range
// (what listening on port 0 gives), it could meanwhile become the source port of any outgoing
// connection (every kubectl call and HTTP client of the tests opens some, many at once), and the
// server would fail with "address already in use": a run failed so, kwok's port taken. So ports
// come from below that range, where the kernel never picks source ports, at random places, and
// never twice in one test process (four environments start control planes side by side).

// lowestListenPort: below it are the well-known and registered ports of the machine's services.
const lowestListenPort = 10000

var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// freePorts returns n ports of 127.0.0.1, free now, outside the ephemeral range, and not handed out
// before by this process.
func freePorts(n int) ([]int, error) {
	text, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return nil, fmt.Errorf("reading the ephemeral port range: %w", err)
	}
	low, high, err := listenPortRange(string(text))
	if err != nil {
		return nil, err
	}
	handedOut.Lock()
	defer handedOut.Unlock()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries == 10*(high-low) {
			return nil, fmt.Errorf("no %d free ports of 127.0.0.1 between %d and %d", n, low, high)
		}
		port := low + rand.IntN(high-low+1)
		if handedOut.ports[port] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // a server of the machine's or another test process's
		}
		l.Close()
		handedOut.ports[port] = true
		ports = append(ports, port)
	}
	return ports, nil
}

// listenPortRange is where freePorts picks: from lowestListenPort to just below the ephemeral range
// ("32768\t60999", the file's text), or above it when it starts too low to leave a thousand ports.
func listenPortRange(ephemeral string) (low, high int, err error) {
	fields := strings.Fields(ephemeral)
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("the ephemeral port range %q is not two numbers", ephemeral)
	}
	first, err1 := strconv.Atoi(fields[0])
	last, err2 := strconv.Atoi(fields[1])
	if err1 != nil || err2 != nil || first > last {
		return 0, 0, fmt.Errorf("the ephemeral port range %q is not two numbers, lowest first", ephemeral)
	}
	if first-lowestListenPort >= 1000 {
		return lowestListenPort, first - 1, nil
	}
	if 65535-last >= 1000 {
		return last + 1, 65535, nil
	}
	return 0, 0, fmt.Errorf("the ephemeral port range %q leaves no thousand ports above %d for the test's servers", ephemeral, lowestListenPort)
}
