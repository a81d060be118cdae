package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The deploy command applies in stages (lib/commands/deploy.ts): the add-ons' CRDs, a wait until
// each is Established; the add-ons' controllers, a wait until they roll out and their webhooks'
// Services have ready endpoints; then the rest. These tests break each wait on a real API server and
// check that deploy stops there, in time, naming what is not ready and what it saw, and applies
// nothing of the later stages.

// TestDeployStopsAtACRDNeverEstablished: two CRDs claim one kind; the API server accepts one, and
// the other is never Established.
func TestDeployStopsAtACRDNeverEstablished(t *testing.T) {
	c := loadConfig(t)
	s := newSession(t, c, "lab")
	dir := filepath.Join(c.repo, "test", "cluster", "testdata", "stages-crd-conflict")
	started := time.Now()
	out, err := s.deploy(dir, "20s")
	t.Logf("deploy output:\n%s", out)
	if err == nil {
		t.Fatal("deploy succeeded although a CRD is never Established")
	}
	if took := time.Since(started); took > 2*time.Minute {
		t.Errorf("deploy took %s to give up; its --timeout was 20s", took.Round(time.Second))
	}
	for _, want := range []string{
		"NOT Established after",
		"NamesAccepted=False",
		"stopped before the add-ons: not every CRD is Established; nothing pruned",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy's output does not say %q", want)
		}
	}
	if s.exists(object{APIVersion: "v1", Kind: "ConfigMap", Metadata: objectMeta{Name: "after-the-crds", Namespace: "default"}}) {
		t.Error("ConfigMap default/after-the-crds, of the stage after the CRDs, was applied")
	}
}

// TestDeployStopsAtAnAddonNeverReady: an add-on's controller whose pods ask for a node that does not
// exist, and a webhook whose Service therefore never has an endpoint.
func TestDeployStopsAtAnAddonNeverReady(t *testing.T) {
	c := loadConfig(t)
	s := newSession(t, c, "lab")
	dir := filepath.Join(c.repo, "test", "cluster", "testdata", "stages-addon-not-ready")
	s.prepare(s.readManifest(dir))
	started := time.Now()
	out, err := s.deploy(dir, "20s")
	t.Logf("deploy output:\n%s", out)
	if err == nil {
		t.Fatal("deploy succeeded although an add-on's controller never becomes ready")
	}
	if took := time.Since(started); took > 2*time.Minute {
		t.Errorf("deploy took %s to give up; its --timeout was 20s", took.Round(time.Second))
	}
	for _, want := range []string{
		"Deployment stuck-addon/stuck-controller NOT rolled out after",
		"Service stuck-addon/stuck-webhook (called by ValidatingWebhookConfiguration stuck-webhook) has NO ready endpoint after",
		"stopped before the rest: the add-ons are not ready; nothing pruned",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy's output does not say %q", want)
		}
	}
	if s.exists(object{APIVersion: "v1", Kind: "ConfigMap", Metadata: objectMeta{Name: "after-the-add-ons", Namespace: "default"}}) {
		t.Error("ConfigMap default/after-the-add-ons, of the stage after the add-ons, was applied")
	}
}

// TestCRDsFromTheRepository: the cluster tests' CRD loading needs nothing beside the repository. It
// runs in a copy of the repository's rendered environments, alone in a fresh temporary folder:
// loadConfig accepts it, and every environment's CRDs
// (dist/<env>/00-<addon>-crds.yaml) install and are Established.
func TestCRDsFromTheRepository(t *testing.T) {
	c := loadConfig(t)
	root := t.TempDir()
	copyRepo := filepath.Join(root, "lab-to-prod")
	var envs []string
	for _, env := range selectedEnvironments(t, c) {
		src := filepath.Join(c.dist, env)
		files, err := crdFiles(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			copyFile(t, f, filepath.Join(copyRepo, "dist", env, filepath.Base(f)))
		}
		envs = append(envs, env)
	}
	if err := os.MkdirAll(filepath.Join(copyRepo, "test", "cluster"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LAB_TO_PROD_TEST_DIR", filepath.Join(copyRepo, "test", "cluster"))
	t.Setenv("LAB_TO_PROD_DIST", "")
	copied := loadConfig(t)
	if copied.repo != copyRepo || copied.dist != filepath.Join(copyRepo, "dist") {
		t.Fatalf("loadConfig in the copy: repository %s, dist %s; want %s", copied.repo, copied.dist, copyRepo)
	}

	s := newSession(t, c, "lab")
	total := 0
	for _, env := range envs {
		names := s.installCRDs(filepath.Join(copied.dist, env))
		if len(names) == 0 {
			t.Errorf("%s: no CRD installed", env)
		}
		total += len(names)
		t.Logf("%s: %d CRDs installed and Established from %s", env, len(names), filepath.Join("dist", env))
	}
	addSummary(fmt.Sprintf("CRDs from the repository alone: %d CRDs of %s, from dist/<env>/00-<addon>-crds.yaml, Established",
		total, strings.Join(envs, ", ")))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
