package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"path/filepath"
	"time"
)

// gitServer serves the bare repositories of one folder over git's own smart HTTP protocol (`git
// http-backend`, the CGI program git ships for it, run by Go's net/http/cgi) on 127.0.0.1, over
// HTTPS with a certificate of its own test CA. HTTPS because the environment files accept only an
// https:// or ssh:// repository (lib/environment.ts, delivery.repository): a plain http:// URL
// would have to differ from what the synth renders. source-controller trusts the CA through
// SSL_CERT_FILE (Go's crypto/x509 reads it on Linux), so the rendered GitRepository needs no
// secretRef the environments do not have.
type gitServer struct {
	baseURL string // https://127.0.0.1:<port>
	caFile  string // the PEM of the CA that signed its certificate
	server  *http.Server
}

// startGitServer serves every bare repository under root as <baseURL>/<name>.git, read-only
// (git http-backend refuses a push unless http.receivepack is set; the tests push through the
// file system). certDir receives the CA and the server's key pair.
func startGitServer(root, certDir string) (*gitServer, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("the delivery tests serve a git repository with `git http-backend`: %w", err)
	}
	notBefore, notAfter := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	ca, err := newCA("lab-to-prod test git server CA", notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	serving, err := issue(ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore: notBefore, NotAfter: notAfter,
	})
	if err != nil {
		return nil, err
	}
	caFile, _, err := writePair(certDir, "git-server-ca", ca)
	if err != nil {
		return nil, err
	}
	certFile, keyFile, err := writePair(certDir, "git-server", serving)
	if err != nil {
		return nil, err
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	backend := &cgi.Handler{
		Path: git,
		Args: []string{"http-backend"},
		Dir:  root,
		// GIT_PROJECT_ROOT: the folder the URL paths are read in; GIT_HTTP_EXPORT_ALL: serve every
		// repository there, without a git-daemon-export-ok file in each (git-http-backend(1)).
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	s := &gitServer{
		baseURL: "https://" + listener.Addr().String(),
		caFile:  caFile,
		server: &http.Server{
			Handler:           backend,
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
			ReadHeaderTimeout: 10 * time.Second,
		},
	}
	go func() { _ = s.server.ServeTLS(listener, "", "") }()
	return s, nil
}

// url is the address of the bare repository <root>/<name>.
func (s *gitServer) url(name string) string { return s.baseURL + "/" + filepath.ToSlash(name) }

func (s *gitServer) stop() { _ = s.server.Close() }
