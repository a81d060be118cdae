package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// etcdPKI is etcd's own CA and certificates in kubeadm's layout
// (/etc/kubernetes/pki/etcd: ca, server, peer, healthcheck-client; the API
// server's client certificate one folder up, as apiserver-etcd-client). The
// lab's etcd backup reads exactly these paths from the control-plane node.
type etcdPKI struct {
	dir string // .../pki/etcd
}

func newEtcdPKI(dir string) (*etcdPKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	notBefore := time.Now().Add(-time.Hour)
	notAfter := time.Now().Add(24 * time.Hour)
	ca, err := newCA("etcd-ca", notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	if _, _, err := writePair(dir, "ca", ca); err != nil {
		return nil, err
	}
	loopback := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	certs := []struct {
		dir, name, cn string
		usage         []x509.ExtKeyUsage
		ips           []net.IP
	}{
		{dir, "server", "etcd-server", both, loopback},
		{dir, "peer", "etcd-peer", both, loopback},
		{dir, "healthcheck-client", "kube-etcd-healthcheck-client", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil},
		{filepath.Dir(dir), "apiserver-etcd-client", "kube-apiserver-etcd-client", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil},
	}
	for _, c := range certs {
		kp, err := issue(ca, &x509.Certificate{
			Subject: pkix.Name{CommonName: c.cn}, DNSNames: []string{"localhost"}, IPAddresses: c.ips,
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: c.usage,
			NotBefore: notBefore, NotAfter: notAfter,
		})
		if err != nil {
			return nil, err
		}
		if _, _, err := writePair(c.dir, c.name, kp); err != nil {
			return nil, err
		}
	}
	return &etcdPKI{dir: dir}, nil
}

func (p *etcdPKI) file(name string) string { return filepath.Join(p.dir, name) }

// etcdArgs are the TLS flags kubeadm's etcd static pod gets.
func (p *etcdPKI) etcdArgs() []string {
	return []string{
		"--cert-file=" + p.file("server.crt"), "--key-file=" + p.file("server.key"),
		"--client-cert-auth=true", "--trusted-ca-file=" + p.file("ca.crt"),
		"--peer-cert-file=" + p.file("peer.crt"), "--peer-key-file=" + p.file("peer.key"),
		"--peer-client-cert-auth=true", "--peer-trusted-ca-file=" + p.file("ca.crt"),
	}
}

// apiserverArgs are the API server's flags for reaching this etcd.
func (p *etcdPKI) apiserverArgs() []string {
	parent := filepath.Dir(p.dir)
	return []string{
		"--etcd-cafile=" + p.file("ca.crt"),
		"--etcd-certfile=" + filepath.Join(parent, "apiserver-etcd-client.crt"),
		"--etcd-keyfile=" + filepath.Join(parent, "apiserver-etcd-client.key"),
	}
}

// healthClient asks etcd's /health with the health-check client's certificate.
func (p *etcdPKI) healthClient() (*http.Client, error) {
	cert, err := tls.LoadX509KeyPair(p.file("healthcheck-client.crt"), p.file("healthcheck-client.key"))
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(p.file("ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool},
	}}, nil
}
