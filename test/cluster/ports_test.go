package cluster

import (
	"os"
	"testing"
)

// TestFreePorts: the test's servers get ports outside the ephemeral range, free, never twice. No
// cluster needed.
func TestFreePorts(t *testing.T) {
	text, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		t.Fatal(err)
	}
	low, high, err := listenPortRange(string(text))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for round := 0; round < 50; round++ {
		ports, err := freePorts(6)
		if err != nil || len(ports) != 6 {
			t.Fatalf("round %d: %v, %v", round, ports, err)
		}
		for _, port := range ports {
			if port < low || port > high {
				t.Fatalf("port %d is outside %d to %d, where the kernel picks no source port (range %q)", port, low, high, text)
			}
			if seen[port] {
				t.Fatalf("port %d handed out twice", port)
			}
			seen[port] = true
		}
	}
}

// TestListenPortRange: below the ephemeral range, above it when below leaves too little, and a
// clear error for what cannot be read.
func TestListenPortRange(t *testing.T) {
	for _, c := range []struct {
		text      string
		low, high int
		fails     bool
	}{
		{text: "32768\t60999\n", low: 10000, high: 32767},
		{text: "10500 60000", low: 60001, high: 65535},
		{text: "1024 65000", fails: true},
		{text: "60999 32768", fails: true},
		{text: "32768", fails: true},
		{text: "a b", fails: true},
	} {
		low, high, err := listenPortRange(c.text)
		if c.fails != (err != nil) || (!c.fails && (low != c.low || high != c.high)) {
			t.Errorf("%q: got %d to %d, %v", c.text, low, high, err)
		}
	}
}
