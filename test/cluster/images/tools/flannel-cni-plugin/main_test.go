package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const dualStack = `FLANNEL_NETWORK=10.244.0.0/16
FLANNEL_SUBNET=10.244.1.1/24
FLANNEL_IPV6_NETWORK=fd00:10:244::/56
FLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64
FLANNEL_MTU=1450
FLANNEL_IPMASQ=true
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadSubnetEnvDualStack(t *testing.T) {
	env, err := readSubnetEnv(writeFile(t, "subnet.env", dualStack))
	if err != nil {
		t.Fatal(err)
	}
	// The subnet's own address (the bridge's, .1) is masked off: host-local refuses host bits.
	for got, want := range map[string]string{
		env.network.String(): "10.244.0.0/16", env.subnet.String(): "10.244.1.0/24",
		env.ipv6Network.String(): "fd00:10:244::/56", env.ipv6Subnet.String(): "fd00:10:244:1::/64",
	} {
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	if env.mtu != 1450 || !env.ipMasq {
		t.Errorf("mtu %d ipMasq %v, want 1450 true", env.mtu, env.ipMasq)
	}
}

func TestReadSubnetEnvRefusals(t *testing.T) {
	without := func(key string) string {
		var kept []string
		for _, line := range strings.Split(dualStack, "\n") {
			if !strings.HasPrefix(line, key+"=") {
				kept = append(kept, line)
			}
		}
		return strings.Join(kept, "\n")
	}
	for _, c := range []struct{ what, content, want string }{
		{"no MTU", without("FLANNEL_MTU"), "missing FLANNEL_MTU"},
		{"no masquerade setting", without("FLANNEL_IPMASQ"), "missing FLANNEL_IPMASQ"},
		{"an IPv4 subnet without its network", without("FLANNEL_NETWORK"), "missing FLANNEL_NETWORK"},
		{"an IPv6 network without its subnet", without("FLANNEL_IPV6_SUBNET"), "missing FLANNEL_IPV6_SUBNET"},
		{"no family", "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", "missing FLANNEL_NETWORK and FLANNEL_SUBNET, or FLANNEL_IPV6_NETWORK and FLANNEL_IPV6_SUBNET"},
		{"a subnet that is no CIDR", strings.Replace(dualStack, "10.244.1.1/24", "10.244.1.1", 1), `FLANNEL_SUBNET="10.244.1.1": want an address with a prefix length`},
		{"an MTU that is no number", strings.Replace(dualStack, "=1450", "=big", 1), `FLANNEL_MTU="big": want a positive number`},
		{"a masquerade setting that is no boolean", strings.Replace(dualStack, "IPMASQ=true", "IPMASQ=yes", 1), `FLANNEL_IPMASQ="yes": want true or false`},
	} {
		path := writeFile(t, "subnet.env", c.content)
		_, err := readSubnetEnv(path)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got error %v, want one naming %s and saying %q", c.what, err, path, c.want)
		}
	}
	if _, err := readSubnetEnv(filepath.Join(t.TempDir(), "absent")); err == nil || !strings.Contains(err.Error(), "subnet file") {
		t.Errorf("a missing subnet file: got %v", err)
	}
}

func TestDelegateConf(t *testing.T) {
	env, err := readSubnetEnv(writeFile(t, "subnet.env", dualStack))
	if err != nil {
		t.Fatal(err)
	}
	// The lab's conflist (dist/lab/01-flannel.yaml, cni-conf.json).
	n, err := loadNetConf([]byte(`{"name":"cbr0","cniVersion":"1.0.0","type":"flannel",
		"delegate":{"hairpinMode":true,"isDefaultGateway":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := delegateConf(n, env)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(d)
	want := `{"cniVersion":"1.0.0","hairpinMode":true,"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]],` +
		`"routes":[{"dst":"10.244.0.0/16"},{"dst":"fd00:10:244::/56"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}`
	if string(got) != want {
		t.Errorf("delegate configuration\n got %s\nwant %s", got, want)
	}

	// What the delegate section gives wins over the defaults; isGateway is the bridge's alone;
	// given routes are kept before the pod network's.
	n, _ = loadNetConf([]byte(`{"name":"n","cniVersion":"1.0.0","delegate":{"type":"ipvlan","mtu":1400,"ipMasq":true},
		"ipam":{"type":"static","routes":[{"dst":"192.0.2.0/24"}]}}`))
	d, err = delegateConf(n, env)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = json.Marshal(d)
	want = `{"cniVersion":"1.0.0","ipMasq":true,"ipam":{"ranges":[[{"subnet":"10.244.1.0/24"}],[{"subnet":"fd00:10:244:1::/64"}]],` +
		`"routes":[{"dst":"192.0.2.0/24"},{"dst":"10.244.0.0/16"},{"dst":"fd00:10:244::/56"}],"type":"static"},"mtu":1400,"name":"n","type":"ipvlan"}`
	if string(got) != want {
		t.Errorf("delegate configuration with overrides\n got %s\nwant %s", got, want)
	}

	n, _ = loadNetConf([]byte(`{"name":"n","cniVersion":"1.0.0","ipam":{"routes":"10.0.0.0/8"}}`))
	if _, err := delegateConf(n, env); err == nil || !strings.Contains(err.Error(), "ipam.routes: want a list") {
		t.Errorf("routes that are no list: got %v", err)
	}
}

// The plugin as the container runtime runs it: ADD runs the delegate (a stand-in bridge that
// records what it was given and answers with an address), keeps its configuration, and DEL
// runs the delegate with that same configuration and forgets it; a second DEL is no error.
func TestAddDelThroughADelegate(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "flannel")
	if out, err := exec.Command("go", "build", "-o", plugin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "bin")
	record := filepath.Join(dir, "record")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	bridge := `#!/bin/sh
cat > "` + record + `.$CNI_COMMAND"
[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","ips":[{"address":"10.244.1.5/24"}]}'
exit 0
`
	if err := os.WriteFile(filepath.Join(bin, "bridge"), []byte(bridge), 0o755); err != nil {
		t.Fatal(err)
	}
	subnetFile := writeFile(t, "subnet.env", dualStack)
	data := filepath.Join(dir, "data")
	conf := `{"name":"cbr0","cniVersion":"1.0.0","type":"flannel","subnetFile":"` + subnetFile + `","dataDir":"` + data + `"}`
	run := func(command string) string {
		cmd := exec.Command(plugin)
		// CNI_NETNS_OVERRIDE: the stand-in bridge makes no interface, so the test's own network
		// namespace will do, which the library refuses otherwise.
		cmd.Env = append(os.Environ(), "CNI_COMMAND="+command, "CNI_CONTAINERID=c1", "CNI_NETNS=/proc/self/ns/net",
			"CNI_NETNS_OVERRIDE=1", "CNI_IFNAME=eth0", "CNI_PATH="+bin)
		cmd.Stdin = strings.NewReader(conf)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", command, err, out)
		}
		return string(out)
	}
	if out := run("ADD"); !strings.Contains(out, `"10.244.1.5/24"`) {
		t.Errorf("ADD printed %s, want the delegate's address", out)
	}
	kept, err := os.ReadFile(filepath.Join(data, "c1"))
	if err != nil {
		t.Fatalf("ADD kept no delegate configuration: %v", err)
	}
	if given, _ := os.ReadFile(record + ".ADD"); string(given) != string(kept) || !strings.Contains(string(kept), `"type":"bridge"`) {
		t.Errorf("the bridge got %s; kept %s", given, kept)
	}
	// DEL must not need the subnet file: flanneld may be gone by then.
	if err := os.Remove(subnetFile); err != nil {
		t.Fatal(err)
	}
	run("DEL")
	if given, _ := os.ReadFile(record + ".DEL"); string(given) != string(kept) {
		t.Errorf("DEL gave the bridge %s, want the kept %s", given, kept)
	}
	if _, err := os.Stat(filepath.Join(data, "c1")); !os.IsNotExist(err) {
		t.Errorf("DEL left the kept configuration: %v", err)
	}
	run("DEL")
}
