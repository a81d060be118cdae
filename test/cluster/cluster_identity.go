package cluster

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// caCertHash is the test control plane's identity as the project's commands
// check it (lib/commands/context-guard.ts): "sha256:" and the hex SHA-256 of its CA
// certificate's public key, kubeadm's --discovery-token-ca-cert-hash form. The
// CA is made for each run, so no environment file records it: the commands
// are told it with --confirm-cluster, as a user confirms a cluster once.
func (s *session) caCertHash() string {
	s.t.Helper()
	b, err := os.ReadFile(s.cp.pki.caCert)
	if err != nil {
		s.t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		s.t.Fatalf("%s holds no PEM block", s.cp.pki.caCert)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		s.t.Fatalf("%s: %v", s.cp.pki.caCert, err)
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256(cert.RawSubjectPublicKeyInfo))
}

// pruneTestConfigMap is the object the prune test adds to a copy of the YAML
// and then removes again. One of its own rather than one of the environment's:
// the deploy command runs every guardrail check on a folder that is not the
// synth's own, and a copy without one of the rendered objects fails them (a
// Deployment without its PodDisruptionBudget, a pod without its ConfigMap).
const pruneTestConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: prune-test
  namespace: %s
  labels:
    app.kubernetes.io/name: prune-test
    app.kubernetes.io/instance: prune-test
    app.kubernetes.io/version: "1"
    app.kubernetes.io/component: test
    app.kubernetes.io/part-of: lab-to-prod
    app.kubernetes.io/managed-by: cdk8s
data:
  purpose: applied by a copy of the YAML, then pruned by the YAML itself
`

// withOneMoreObject copies the manifest's folder and adds one ConfigMap, in the
// manifest's first Namespace of our own (not an add-on's) and a file of its own
// that sorts last; it returns the ConfigMap and the copy.
func (s *session) withOneMoreObject(src string, manifest []object) (object, string) {
	s.t.Helper()
	namespace := ""
	for _, o := range manifest {
		if o.Kind == "Namespace" && o.Metadata.Labels["app.kubernetes.io/part-of"] == "lab-to-prod" {
			namespace = o.Metadata.Name
			break
		}
	}
	if namespace == "" {
		s.t.Fatalf("%s has no Namespace of ours (labelled app.kubernetes.io/part-of=lab-to-prod) for the prune test's ConfigMap", src)
	}
	out := s.t.TempDir()
	files, err := os.ReadDir(src)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, f := range files {
		if f.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, f.Name()))
		if err != nil {
			s.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, f.Name()), b, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(out, "99-prune-test.yaml"), []byte(fmt.Sprintf(pruneTestConfigMap, namespace)), 0o644); err != nil {
		s.t.Fatal(err)
	}
	extra := object{APIVersion: "v1", Kind: "ConfigMap", Metadata: objectMeta{Name: "prune-test", Namespace: namespace}}
	return extra, out
}
