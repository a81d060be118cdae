package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki holds the files of a throwaway cluster PKI, laid out like kubeadm's
// /etc/kubernetes/pki but in a temporary folder.
type pki struct {
	dir        string
	caCert     string
	caKey      string
	serverCert string
	serverKey  string
	saKey      string // service-account signing key (private)
	saPub      string // its public half, for token verification
	// kubeconfigs by client name: "admin", "controller-manager", "scheduler".
	kubeconfigs map[string]string
}

// identity of each client, as kubeadm issues them: the user name in the CN and
// the groups in O. RBAC's bootstrap policy grants these names their roles.
var clientIdentities = map[string]pkix.Name{
	"admin":              {CommonName: "kubernetes-admin", Organization: []string{"system:masters"}},
	"controller-manager": {CommonName: "system:kube-controller-manager"},
	"scheduler":          {CommonName: "system:kube-scheduler"},
	// Used only with a real node (realnode.go): the node's kubelet (the Node
	// authorizer and NodeRestriction know it by this name and group), its
	// kube-proxy, and the API server's own client certificate for the kubelet
	// API (logs, exec), as kubeadm issues them.
	"kubelet":                  {CommonName: "system:node:" + realNodeName, Organization: []string{"system:nodes"}},
	"kube-proxy":               {CommonName: "system:kube-proxy"},
	"apiserver-kubelet-client": {CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}},
}

type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	der  []byte
}

func newPKI(dir, serverURL string, extraIPs ...net.IP) (*pki, error) {
	p := &pki{dir: dir, kubeconfigs: map[string]string{}}
	notBefore := time.Now().Add(-time.Hour)
	notAfter := time.Now().Add(24 * time.Hour)

	ca, err := newCA("kubernetes", notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	if p.caCert, p.caKey, err = writePair(dir, "ca", ca); err != nil {
		return nil, err
	}

	server, err := issue(ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		// 10.96.0.1 is the first address of --service-cluster-ip-range: the
		// in-cluster "kubernetes" Service.
		IPAddresses: append([]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1"), net.ParseIP("fd00:10:96::1")}, extraIPs...),
		NotBefore:   notBefore,
		NotAfter:    notAfter,
	})
	if err != nil {
		return nil, err
	}
	if p.serverCert, p.serverKey, err = writePair(dir, "apiserver", server); err != nil {
		return nil, err
	}

	for name, subject := range clientIdentities {
		client, err := issue(ca, &x509.Certificate{
			Subject:     subject,
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			NotBefore:   notBefore,
			NotAfter:    notAfter,
		})
		if err != nil {
			return nil, err
		}
		certFile, keyFile, err := writePair(dir, name, client)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, name+".kubeconfig")
		if err := writeKubeconfig(path, "cluster-test", serverURL, p.caCert, certFile, keyFile); err != nil {
			return nil, err
		}
		p.kubeconfigs[name] = path
	}

	// Service-account tokens: RSA, as kubeadm generates sa.key/sa.pub.
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p.saKey = filepath.Join(dir, "sa.key")
	p.saPub = filepath.Join(dir, "sa.pub")
	if err := writePEM(p.saKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)); err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if err := writePEM(p.saPub, "PUBLIC KEY", pub); err != nil {
		return nil, err
	}
	return p, nil
}

// issue creates a key and a certificate for template, signed by parent (or
// self-signed when parent is nil).
// newCA makes a self-signed certificate authority named commonName, valid from notBefore to notAfter.
func newCA(commonName string, notBefore, notAfter time.Time) (*keyPair, error) {
	return issue(nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: commonName}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:  x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		NotBefore: notBefore, NotAfter: notAfter,
	})
}

func issue(parent *keyPair, template *x509.Certificate) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	template.SerialNumber = serial
	signer, signerKey := template, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, signer, &key.PublicKey, signerKey)
	if err != nil {
		return nil, fmt.Errorf("certificate %q: %w", template.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key, der: der}, nil
}

func writePair(dir, name string, kp *keyPair) (certFile, keyFile string, err error) {
	certFile = filepath.Join(dir, name+".crt")
	keyFile = filepath.Join(dir, name+".key")
	keyDER, err := x509.MarshalECPrivateKey(kp.key)
	if err != nil {
		return "", "", err
	}
	if err := writePEM(certFile, "CERTIFICATE", kp.der); err != nil {
		return "", "", err
	}
	return certFile, keyFile, writePEM(keyFile, "EC PRIVATE KEY", keyDER)
}

func writePEM(path, blockType string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), 0o600)
}

// writeKubeconfig writes a kubeconfig with one cluster, one user and one
// context, all named contextName, the credentials embedded.
func writeKubeconfig(path, contextName, serverURL, caFile, certFile, keyFile string) error {
	read := func(f string) (string, error) {
		b, err := os.ReadFile(f)
		return base64.StdEncoding.EncodeToString(b), err
	}
	ca, err := read(caFile)
	if err != nil {
		return err
	}
	cert, err := read(certFile)
	if err != nil {
		return err
	}
	key, err := read(keyFile)
	if err != nil {
		return err
	}
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[1]s
  user:
    client-certificate-data: %[4]s
    client-key-data: %[5]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s
current-context: %[1]s
`, contextName, serverURL, ca, cert, key)
	return os.WriteFile(path, []byte(config), 0o600)
}

// frontProxyArgs makes the aggregation layer's PKI, kubeadm's front-proxy-ca and
// front-proxy-client, in dir, and returns the API server's flags for it (as kubeadm sets them):
// the API server proxies requests for an aggregated API (metrics.k8s.io) to the extension server
// with the front-proxy-client certificate and the user in the X-Remote-* headers, and the
// extension server trusts those headers only from a client that certificate's CA signed, with
// that name. A CA of its own, as kubeadm's, so that no other client of the cluster CA can pass as
// the proxy.
func frontProxyArgs(dir string) ([]string, error) {
	notBefore := time.Now().Add(-time.Hour)
	notAfter := time.Now().Add(24 * time.Hour)
	ca, err := newCA("front-proxy-ca", notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	caCert, _, err := writePair(dir, "front-proxy-ca", ca)
	if err != nil {
		return nil, err
	}
	client, err := issue(ca, &x509.Certificate{
		Subject:  pkix.Name{CommonName: "front-proxy-client"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		NotBefore: notBefore, NotAfter: notAfter,
	})
	if err != nil {
		return nil, err
	}
	clientCert, clientKey, err := writePair(dir, "front-proxy-client", client)
	if err != nil {
		return nil, err
	}
	return []string{
		"--requestheader-client-ca-file=" + caCert,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + clientCert,
		"--proxy-client-key-file=" + clientKey,
	}, nil
}
