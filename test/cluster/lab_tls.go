package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// What the TLS check (lab_tls_test.go) needs: the lab's CA certificate as the cluster holds it,
// and an HTTPS client on the laptop that trusts that CA and nothing else.

// labCACertificate reads the public certificate of the CA a cert-manager CA issuer signs with:
// tls.crt of the Secret its spec.ca.secretName names, in the namespace cert-manager keeps a
// ClusterIssuer's Secrets in (its --cluster-resource-namespace, the controller's own namespace in
// dist/lab/01-cert-manager.yaml). Only tls.crt is read; the key never leaves the cluster.
func (l *labCluster) labCACertificate(namespace, secret string) (*x509.Certificate, error) {
	var s struct {
		Data map[string]string `json:"data"`
	}
	if err := l.cp.api.getJSON("/api/v1/namespaces/"+namespace+"/secrets/"+secret, &s); err != nil {
		return nil, fmt.Errorf("the CA Secret %s/%s: %w", namespace, secret, err)
	}
	raw, err := base64.StdEncoding.DecodeString(s.Data["tls.crt"])
	if err != nil {
		return nil, fmt.Errorf("the CA Secret %s/%s: tls.crt is not base64: %v", namespace, secret, err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("the CA Secret %s/%s: tls.crt holds no PEM certificate", namespace, secret)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the CA Secret %s/%s: tls.crt: %v", namespace, secret, err)
	}
	return cert, nil
}

// httpsAnswer is one HTTPS request from the laptop: the status and body, and the certificates the
// server presented (leaf first).
type httpsAnswer struct {
	status int
	body   string
	chain  []*x509.Certificate
}

// laptopHTTPS asks https://<serverName>/ from the laptop's network namespace, connecting to
// address (host:port: Traefik's LoadBalancer address) instead of resolving the name, as a laptop
// whose hosts file names that address would. The client trusts roots only (no system roots, no
// skipping verification) and checks the certificate against serverName, which it also sends as
// SNI and Host.
func laptopHTTPS(address, serverName string, roots *x509.CertPool, timeout time.Duration) (httpsAnswer, error) {
	var answer httpsAnswer
	transport := &http.Transport{
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialIn(ctx, labLaptop().name, network, address)
		},
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Timeout: timeout, Transport: transport}
	resp, err := client.Get("https://" + serverName + "/")
	if err != nil {
		return answer, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	answer.status, answer.body = resp.StatusCode, string(body)
	if resp.TLS != nil {
		answer.chain = resp.TLS.PeerCertificates
	}
	return answer, err
}
