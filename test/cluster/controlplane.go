package cluster

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// controlPlane is one throwaway cluster: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok (which plays the nodes),
// all on 127.0.0.1, all state in one temporary folder.
type controlPlane struct {
	dir        string
	bin        string
	pki        *pki
	serverURL  string
	kubeconfig string // admin kubeconfig whose context is named after the environment
	api        *apiClient
	etcdURL    string

	mu        sync.Mutex
	processes []*process
}

const serviceCIDRs = "10.96.0.0/16,fd00:10:96::/108"

type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// controlPlaneOptions says what differs when a real node joins the control
// plane (realnode.go) instead of kwok's simulated ones.
type controlPlaneOptions struct {
	// nodeIP is the real node's address inside the test's network namespace:
	// the API server also listens there and advertises it, so the
	// "kubernetes" Service gets an endpoint pods can reach. Empty: kwok plays
	// the nodes and everything stays on 127.0.0.1.
	nodeIP string
	// etcdPKI is where etcd's certificates go, kubeadm's layout
	// (/etc/kubernetes/pki/etcd): etcd then serves TLS on 127.0.0.1:2379, as on
	// a kubeadm control-plane node, for the lab's etcd backup to reach it.
	etcdPKI string
	// aggregationLayer: the API server can proxy to extension API servers (metrics-server's
	// metrics.k8s.io), with kubeadm's front-proxy certificates and request-header flags.
	aggregationLayer bool
	// apiPort fixes the API server's secure port (kubeadm's 6443 for the three-node lab, whose
	// nodes reach it at nodeIP:6443); 0: a free port.
	apiPort int
}

// startControlPlaneWith starts a fresh cluster. contextName names the kubeconfig
// context the tests hand to kubectl (the deploy command checks it against
// the environment). On error everything already started is stopped.
func startControlPlaneWith(bin, dir, contextName string, opts controlPlaneOptions) (cp *controlPlane, err error) {
	cp = &controlPlane{dir: dir, bin: bin}
	defer func() {
		if err != nil {
			cp.stop()
		}
	}()
	ports, err := freePorts(6)
	if err != nil {
		return cp, err
	}
	etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]
	if opts.apiPort != 0 {
		apiPort = opts.apiPort
	}
	cp.serverURL = fmt.Sprintf("https://127.0.0.1:%d", apiPort)

	var extraIPs []net.IP
	if opts.nodeIP != "" {
		extraIPs = append(extraIPs, net.ParseIP(opts.nodeIP))
	}
	if cp.pki, err = newPKI(dir, cp.serverURL, extraIPs...); err != nil {
		return cp, fmt.Errorf("generating certificates: %w", err)
	}
	cp.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err = writeKubeconfig(cp.kubeconfig, contextName, cp.serverURL, cp.pki.caCert,
		filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")); err != nil {
		return cp, err
	}
	if cp.api, err = newAPIClient(cp.serverURL, cp.pki.caCert, filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")); err != nil {
		return cp, err
	}

	// etcd: plain HTTP is acceptable because it listens on loopback only and
	// lives for one test. No fsync: the data is thrown away anyway. With a
	// real node, TLS on kubeadm's ports and certificate paths instead.
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	etcdArgs := []string{}
	etcdHealth := plainClient()
	var apiserverEtcdArgs []string
	if opts.etcdPKI != "" {
		etcdPKI, err := newEtcdPKI(opts.etcdPKI)
		if err != nil {
			return cp, fmt.Errorf("etcd certificates: %w", err)
		}
		etcdURL, peerURL = "https://127.0.0.1:2379", "https://127.0.0.1:2380"
		etcdArgs = etcdPKI.etcdArgs()
		apiserverEtcdArgs = etcdPKI.apiserverArgs()
		if etcdHealth, err = etcdPKI.healthClient(); err != nil {
			return cp, err
		}
	}
	cp.etcdURL = etcdURL
	if err = cp.start("etcd", append([]string{
		"--name=test",
		"--data-dir=" + filepath.Join(dir, "etcd"),
		"--listen-client-urls=" + etcdURL,
		"--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=test=" + peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}, etcdArgs...)...); err != nil {
		return cp, err
	}
	if err = waitHTTP(etcdHealth, etcdURL+"/health", 30*time.Second, cp.exited("etcd")); err != nil {
		return cp, cp.explain("etcd", err)
	}

	// kube-apiserver with the flags a kubeadm control plane gets
	// (cmd/kubeadm/app/phases/controlplane): Node and RBAC authorization,
	// NodeRestriction on top of the default admission plugins, which include
	// PodSecurity, LimitRanger, ResourceQuota, ServiceAccount,
	// DefaultStorageClass, Priority and the admission webhooks (off with kwok's
	// nodes: see below).
	apiserverArgs := []string{
		"--etcd-servers=" + etcdURL,
		fmt.Sprintf("--secure-port=%d", apiPort),
		"--cert-dir=" + filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file=" + cp.pki.serverCert,
		"--tls-private-key-file=" + cp.pki.serverKey,
		"--client-ca-file=" + cp.pki.caCert,
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		"--enable-bootstrap-token-auth=true",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + cp.pki.saPub,
		"--service-account-signing-key-file=" + cp.pki.saKey,
		// Dual-stack, as the lab and the dual-stack cloud clusters
		// (env.loadBalancing.ipFamilies); single-stack Services work too.
		"--service-cluster-ip-range=" + serviceCIDRs,
		"--profiling=false",
	}
	apiserverArgs = append(apiserverArgs, apiserverEtcdArgs...)
	if opts.nodeIP == "" {
		apiserverArgs = append(apiserverArgs,
			"--bind-address=127.0.0.1",
			"--advertise-address=127.0.0.1",
			// The only address is loopback, which the "kubernetes" Service's
			// endpoints may not carry; nothing in the tests needs that Service.
			"--endpoint-reconciler-type=none",
			// kwok's pods run no container: the add-ons' webhooks (cert-manager's, MetalLB's,
			// external-secrets') are Deployments whose pods are Ready on paper and serve nothing,
			// and their TLS certificates are made by controllers that never run. Left on, every
			// object a webhook admits (a ClusterIssuer, an IPAddressPool, a ClusterSecretStore)
			// would be refused on a failed call. Off, the API server admits them by the schema
			// alone: the webhook configurations are still applied, and deploy still waits for
			// their Services' endpoints; only the calls are not made. Running the controllers for
			// real is the real nodes' work (the next issue), where the plugins stay on.
			"--disable-admission-plugins=ValidatingAdmissionWebhook,MutatingAdmissionWebhook")
	} else {
		// Inside the test's own network namespace: every address there is the
		// test's. The kubelet's client certificate lets the API server proxy
		// logs and exec, as kubeadm's apiserver-kubelet-client does.
		apiserverArgs = append(apiserverArgs,
			"--bind-address=0.0.0.0",
			"--advertise-address="+opts.nodeIP,
			"--kubelet-client-certificate="+filepath.Join(dir, "apiserver-kubelet-client.crt"),
			"--kubelet-client-key="+filepath.Join(dir, "apiserver-kubelet-client.key"),
			"--kubelet-preferred-address-types=InternalIP")
	}
	if opts.aggregationLayer {
		frontProxy, err := frontProxyArgs(dir)
		if err != nil {
			return cp, fmt.Errorf("front-proxy certificates: %w", err)
		}
		apiserverArgs = append(apiserverArgs, frontProxy...)
		// Not a kubeadm flag: the API server reaches an extension server at its pods' addresses
		// instead of its Service's. The test node's network namespace has no default route, so
		// the API server, a process of the node, has no route to the Service range (kube-proxy's
		// rules rewrite a packet only once it has one); a kubeadm node sends it along its default
		// route and kube-proxy rewrites it on the way. Pods' addresses are on the node's bridge.
		apiserverArgs = append(apiserverArgs, "--enable-aggregator-routing=true")
	}
	if err = cp.start("kube-apiserver", apiserverArgs...); err != nil {
		return cp, err
	}
	if err = waitHTTP(cp.api.http, cp.serverURL+"/readyz", 90*time.Second, cp.exited("kube-apiserver")); err != nil {
		return cp, cp.explain("kube-apiserver", err)
	}

	kcmConfig := cp.pki.kubeconfigs["controller-manager"]
	var kcmArgs []string
	if opts.nodeIP != "" {
		// Each real node gets its pod subnets from the cluster's, as kubeadm sets it up (a /24 of
		// IPv4 and a /64 of IPv6 per node: lib/environments/lab.ts, bootstrap.podSubnets).
		kcmArgs = []string{"--allocate-node-cidrs=true", "--cluster-cidr=" + podSubnets,
			"--node-cidr-mask-size-ipv4=24", "--node-cidr-mask-size-ipv6=64"}
	}
	if err = cp.start("kube-controller-manager", append([]string{
		"--kubeconfig=" + kcmConfig,
		"--authentication-kubeconfig=" + kcmConfig,
		"--authorization-kubeconfig=" + kcmConfig,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", kcmPort),
		"--cert-dir=" + filepath.Join(dir, "kcm-certs"),
		"--client-ca-file=" + cp.pki.caCert,
		"--root-ca-file=" + cp.pki.caCert,
		"--cluster-signing-cert-file=" + cp.pki.caCert,
		"--cluster-signing-key-file=" + cp.pki.caKey,
		"--service-account-private-key-file=" + cp.pki.saKey,
		"--use-service-account-credentials=true",
		"--service-cluster-ip-range=" + serviceCIDRs,
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--leader-elect=false",
	}, kcmArgs...)...); err != nil {
		return cp, err
	}
	schedConfig := cp.pki.kubeconfigs["scheduler"]
	if err = cp.start("kube-scheduler",
		"--kubeconfig="+schedConfig,
		"--authentication-kubeconfig="+schedConfig,
		"--authorization-kubeconfig="+schedConfig,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", schedPort),
		"--cert-dir="+filepath.Join(dir, "scheduler-certs"),
		"--leader-elect=false",
	); err != nil {
		return cp, err
	}
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if err = waitHTTP(insecure, fmt.Sprintf("https://127.0.0.1:%d/healthz", kcmPort), 60*time.Second, cp.exited("kube-controller-manager")); err != nil {
		return cp, cp.explain("kube-controller-manager", err)
	}
	if err = waitHTTP(insecure, fmt.Sprintf("https://127.0.0.1:%d/healthz", schedPort), 60*time.Second, cp.exited("kube-scheduler")); err != nil {
		return cp, cp.explain("kube-scheduler", err)
	}

	if opts.nodeIP == "" {
		if err = cp.startKwok(kwokPort); err != nil {
			return cp, err
		}
	}

	// Pods need their namespace's "default" ServiceAccount, which the
	// controller manager creates; wait for the first one as a sign it runs.
	if err = waitFor(60*time.Second, func() (bool, error) {
		status, _, err := cp.api.get("/api/v1/namespaces/default/serviceaccounts/default")
		return status == http.StatusOK, err
	}); err != nil {
		return cp, cp.explain("kube-controller-manager", fmt.Errorf("the default ServiceAccount never appeared: %w", err))
	}
	return cp, nil
}

// startKwok starts kwok, which plays the kubelets of the simulated nodes.
func (cp *controlPlane) startKwok(kwokPort int) error {
	// kwok plays the kubelets of the Nodes annotated kwok.x-k8s.io/node=fake,
	// with its "fast" stages (see build.sh): Nodes Ready, Pods Running and
	// Ready once scheduled, Job pods Succeeded. Pod IPs come from --cidr.
	return cp.start("kwok",
		"--kubeconfig="+cp.pki.kubeconfigs["admin"],
		"--config="+filepath.Join(cp.bin, "kwok-stages.yaml"),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--manage-nodes-with-label-selector=",
		"--manage-single-node=",
		"--cidr=10.244.0.0/16",
		"--node-ip=127.0.0.1",
		"--node-lease-duration-seconds=40",
		fmt.Sprintf("--server-address=127.0.0.1:%d", kwokPort),
	)
}

func (cp *controlPlane) start(name string, args ...string) error {
	return cp.startAt(name, filepath.Join(cp.bin, name), args...)
}

// startAt starts the program at path, logging to <dir>/<name>.log.
func (cp *controlPlane) startAt(name, path string, args ...string) error {
	return cp.startWithEnv(name, path, nil, args...)
}

// startWithEnv is startAt with environment variables added to the test's own.
func (cp *controlPlane) startWithEnv(name, path string, env []string, args ...string) error {
	logPath := filepath.Join(cp.dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Dir = cp.dir
	// Its own process group (a Ctrl-C in the terminal reaches the test, which
	// stops everything in order), and killed by the kernel should the test
	// process die without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		// How it ended goes at the end of its log: a component that dies mid-test says so there.
		ended := "exit status 0"
		if err := cmd.Wait(); err != nil {
			ended = err.Error()
		}
		fmt.Fprintf(logFile, "--- %s ended: %s\n", name, ended)
		logFile.Close()
		close(p.done)
	}()
	cp.mu.Lock()
	cp.processes = append(cp.processes, p)
	cp.mu.Unlock()
	return nil
}

// exited returns a channel closed when the named process ends, so that a
// wait for its health gives up at once instead of at its timeout.
func (cp *controlPlane) exited(name string) <-chan struct{} {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, p := range cp.processes {
		if p.name == name {
			return p.done
		}
	}
	return nil
}

// explain adds the end of a component's log to an error about it.
func (cp *controlPlane) explain(name string, err error) error {
	return fmt.Errorf("%s: %w\n--- last lines of %s.log ---\n%s", name, err, name, tail(filepath.Join(cp.dir, name+".log"), 30))
}

// stop ends every process, newest first (kwok before the API server, the API
// server before etcd): SIGTERM, then SIGKILL after a grace period.
func (cp *controlPlane) stop() {
	cp.mu.Lock()
	processes := cp.processes
	cp.processes = nil
	cp.mu.Unlock()
	for i := len(processes) - 1; i >= 0; i-- {
		p := processes[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

func plainClient() *http.Client { return &http.Client{Timeout: 5 * time.Second} }

// waitHTTP polls url until it answers 200, the process behind it exits, or
// the timeout passes.
func waitHTTP(client *http.Client, url string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("exited before %s answered", url)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within %s (last: %s)", url, timeout, last)
}

// waitFor polls check every half second until it reports done or the
// timeout passes; an error from check ends the wait at once.
func waitFor(timeout time.Duration, check func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := check()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// kubectlBinary is the kubectl the tests run: $KUBECTL if set, else the one build.sh built at the
// control plane's release (kubectl supports one minor of skew, and a machine's own kubectl may be
// older than the newest release an environment uses), else the kubectl on PATH.
func kubectlBinary() string {
	if v := os.Getenv("KUBECTL"); v != "" {
		return v
	}
	if bin := os.Getenv("LAB_TO_PROD_CLUSTER_BIN"); bin != "" {
		if _, err := os.Stat(filepath.Join(bin, "kubectl")); err == nil {
			return filepath.Join(bin, "kubectl")
		}
	}
	return "kubectl"
}
