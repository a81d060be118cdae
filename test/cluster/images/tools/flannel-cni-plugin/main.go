// flannel is the CNI plugin the lab's pod network installs on every node (/opt/cni/bin/flannel,
// from the image ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3), written here because
// the Go module proxy does not serve upstream's module (see ../../flannel-cni-plugin/FACTS.md).
// It does what upstream's README documents, and nothing else:
//
//   - flanneld writes the node's share of the pod network to a subnet file
//     (/run/flannel/subnet.env by default): FLANNEL_NETWORK and FLANNEL_SUBNET for IPv4,
//     FLANNEL_IPV6_NETWORK and FLANNEL_IPV6_SUBNET for IPv6, FLANNEL_MTU, FLANNEL_IPMASQ.
//   - On ADD the plugin turns that into the configuration of another plugin, the delegate
//     (bridge unless the "delegate" section names another), whose IP addresses come from
//     host-local in the node's subnets with a route to the whole pod network per family, and
//     runs it. The delegate's configuration is kept in the data folder (/var/lib/cni/flannel by
//     default) under the container's ID, so that DEL and CHECK run the same delegate the same
//     way after the subnet file has changed or gone.
//
// The version stamp is set at build time as upstream's build sets it (main.Program, main.Version,
// main.Commit), and printed when the plugin runs without CNI_COMMAND.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

var (
	Program = "flannel"
	Version = "unknown"
	Commit  = "unknown"
)

const (
	defaultSubnetFile = "/run/flannel/subnet.env"
	defaultDataDir    = "/var/lib/cni/flannel"
)

// netConf is the plugin's own section of the network configuration.
type netConf struct {
	types.PluginConf
	SubnetFile string                 `json:"subnetFile"`
	DataDir    string                 `json:"dataDir"`
	Delegate   map[string]interface{} `json:"delegate"`
	// IPAM is kept as given: what the delegate's ipam section starts from.
	IPAM          map[string]interface{} `json:"ipam"`
	RuntimeConfig map[string]interface{} `json:"runtimeConfig,omitempty"`
}

// subnetEnv is what flanneld wrote for this node; a family it does not run is nil.
type subnetEnv struct {
	network, subnet         *net.IPNet
	ipv6Network, ipv6Subnet *net.IPNet
	mtu                     int
	ipMasq                  bool
}

func main() {
	about := fmt.Sprintf("CNI Plugin %s version %s (%s/%s) commit %s", Program, Version, runtime.GOOS, runtime.GOARCH, Commit)
	skel.PluginMainFuncs(skel.CNIFuncs{Add: cmdAdd, Del: cmdDel, Check: cmdCheck}, version.All, about)
}

func loadNetConf(stdin []byte) (*netConf, error) {
	n := &netConf{SubnetFile: defaultSubnetFile, DataDir: defaultDataDir}
	if err := json.Unmarshal(stdin, n); err != nil {
		return nil, fmt.Errorf("network configuration: %w", err)
	}
	return n, nil
}

// readSubnetEnv reads flanneld's subnet file. Each family needs its network and its subnet
// together; at least one family, the MTU and the masquerade setting must be there.
func readSubnetEnv(path string) (*subnetEnv, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("subnet file (written by flanneld once it has a lease): %w", err)
	}
	defer f.Close()
	values := map[string]string{}
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		key, value, ok := strings.Cut(strings.TrimSpace(scanner.Text()), "=")
		if ok {
			values[key] = value
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	env := &subnetEnv{}
	cidr := func(key string) (*net.IPNet, error) {
		value, ok := values[key]
		if !ok {
			return nil, nil
		}
		_, n, err := net.ParseCIDR(value)
		if err != nil {
			return nil, fmt.Errorf("%s: %s=%q: want an address with a prefix length, such as 10.244.1.1/24", path, key, value)
		}
		return n, nil
	}
	for _, field := range []struct {
		key  string
		into **net.IPNet
	}{
		{"FLANNEL_NETWORK", &env.network}, {"FLANNEL_SUBNET", &env.subnet},
		{"FLANNEL_IPV6_NETWORK", &env.ipv6Network}, {"FLANNEL_IPV6_SUBNET", &env.ipv6Subnet},
	} {
		if *field.into, err = cidr(field.key); err != nil {
			return nil, err
		}
	}
	var missing []string
	if (env.network == nil) != (env.subnet == nil) {
		missing = append(missing, map[bool]string{true: "FLANNEL_NETWORK", false: "FLANNEL_SUBNET"}[env.network == nil])
	}
	if (env.ipv6Network == nil) != (env.ipv6Subnet == nil) {
		missing = append(missing, map[bool]string{true: "FLANNEL_IPV6_NETWORK", false: "FLANNEL_IPV6_SUBNET"}[env.ipv6Network == nil])
	}
	if env.network == nil && env.ipv6Network == nil {
		missing = append(missing, "FLANNEL_NETWORK and FLANNEL_SUBNET, or FLANNEL_IPV6_NETWORK and FLANNEL_IPV6_SUBNET")
	}
	mtu, hasMTU := values["FLANNEL_MTU"]
	if !hasMTU {
		missing = append(missing, "FLANNEL_MTU")
	}
	ipMasq, hasIPMasq := values["FLANNEL_IPMASQ"]
	if !hasIPMasq {
		missing = append(missing, "FLANNEL_IPMASQ")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: missing %s", path, strings.Join(missing, ", "))
	}
	if env.mtu, err = strconv.Atoi(mtu); err != nil || env.mtu <= 0 {
		return nil, fmt.Errorf("%s: FLANNEL_MTU=%q: want a positive number of bytes", path, mtu)
	}
	if env.ipMasq, err = strconv.ParseBool(ipMasq); err != nil {
		return nil, fmt.Errorf("%s: FLANNEL_IPMASQ=%q: want true or false", path, ipMasq)
	}
	return env, nil
}

// delegateConf is the delegate's network configuration: the "delegate" section with the fields
// flannel always sets (name, cniVersion, ipam) and those it sets only when absent (type, ipMasq,
// mtu, and isGateway for the bridge).
func delegateConf(n *netConf, env *subnetEnv) (map[string]interface{}, error) {
	d := map[string]interface{}{}
	for k, v := range n.Delegate {
		d[k] = v
	}
	d["name"] = n.Name
	d["cniVersion"] = n.CNIVersion
	setDefault := func(key string, value interface{}) {
		if _, ok := d[key]; !ok {
			d[key] = value
		}
	}
	setDefault("type", "bridge")
	// flanneld masquerades itself when FLANNEL_IPMASQ is true, so the delegate must not as well.
	setDefault("ipMasq", !env.ipMasq)
	setDefault("mtu", env.mtu)
	if d["type"] == "bridge" {
		setDefault("isGateway", true)
	}
	if n.RuntimeConfig != nil {
		d["runtimeConfig"] = n.RuntimeConfig
	}

	ipam := map[string]interface{}{}
	for k, v := range n.IPAM {
		ipam[k] = v
	}
	if _, ok := ipam["type"]; !ok {
		ipam["type"] = "host-local"
	}
	var routes []interface{}
	if given, ok := ipam["routes"]; ok {
		list, isList := given.([]interface{})
		if !isList {
			return nil, fmt.Errorf("network configuration: ipam.routes: want a list of routes, got %v", given)
		}
		routes = append(routes, list...)
	}
	var ranges []interface{}
	for _, family := range []struct{ network, subnet *net.IPNet }{{env.network, env.subnet}, {env.ipv6Network, env.ipv6Subnet}} {
		if family.subnet == nil {
			continue
		}
		ranges = append(ranges, []interface{}{map[string]interface{}{"subnet": family.subnet.String()}})
		routes = append(routes, map[string]interface{}{"dst": family.network.String()})
	}
	ipam["ranges"] = ranges
	ipam["routes"] = routes
	d["ipam"] = ipam
	return d, nil
}

func cmdAdd(args *skel.CmdArgs) error {
	n, err := loadNetConf(args.StdinData)
	if err != nil {
		return err
	}
	env, err := readSubnetEnv(n.SubnetFile)
	if err != nil {
		return err
	}
	d, err := delegateConf(n, env)
	if err != nil {
		return err
	}
	conf, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := saveDelegate(n.DataDir, args.ContainerID, conf); err != nil {
		return err
	}
	result, err := invoke.DelegateAdd(context.TODO(), d["type"].(string), conf, nil)
	if err != nil {
		// Leave nothing behind for a DEL that will find no interface.
		_ = os.Remove(filepath.Join(n.DataDir, args.ContainerID))
		return err
	}
	return types.PrintResult(result, n.CNIVersion)
}

func cmdDel(args *skel.CmdArgs) error {
	n, err := loadNetConf(args.StdinData)
	if err != nil {
		return err
	}
	conf, err := os.ReadFile(filepath.Join(n.DataDir, args.ContainerID))
	if errors.Is(err, fs.ErrNotExist) {
		// DEL may come more than once, or for an ADD that failed: nothing to undo.
		return nil
	}
	if err != nil {
		return err
	}
	delegate, err := delegateType(conf)
	if err != nil {
		return err
	}
	if err := invoke.DelegateDel(context.TODO(), delegate, conf, nil); err != nil {
		return err
	}
	return os.Remove(filepath.Join(n.DataDir, args.ContainerID))
}

func cmdCheck(args *skel.CmdArgs) error {
	n, err := loadNetConf(args.StdinData)
	if err != nil {
		return err
	}
	conf, err := os.ReadFile(filepath.Join(n.DataDir, args.ContainerID))
	if err != nil {
		return fmt.Errorf("no delegate configuration kept for container %s: %w", args.ContainerID, err)
	}
	delegate, err := delegateType(conf)
	if err != nil {
		return err
	}
	return invoke.DelegateCheck(context.TODO(), delegate, conf, nil)
}

func saveDelegate(dir, containerID string, conf []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, containerID), conf, 0o600)
}

func delegateType(conf []byte) (string, error) {
	var d struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(conf, &d); err != nil || d.Type == "" {
		return "", fmt.Errorf("kept delegate configuration has no plugin type: %s", conf)
	}
	return d.Type, nil
}
