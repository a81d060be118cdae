package cluster

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Flux's two controllers run as processes beside the test control plane, as `flux install
// --components=source-controller,kustomize-controller` would run them as pods: each with the admin
// kubeconfig, its namespace in RUNTIME_NAMESPACE, leader election off (one replica), and its ports
// on 127.0.0.1 ports the kernel chose. source-controller serves the artifacts it fetched from git
// over HTTP (--storage-addr) at the address it advertises (--storage-adv-addr), where
// kustomize-controller downloads them.

// fluxControllers is where the two binaries are (build-flux.sh's bin folder).
type fluxControllers struct {
	bin string
}

// fluxBinFromEnv is LAB_TO_PROD_FLUX_BIN, which run.sh sets from build-flux.sh.
func fluxBinFromEnv() (string, error) {
	bin := os.Getenv("LAB_TO_PROD_FLUX_BIN")
	if bin == "" {
		return "", fmt.Errorf("LAB_TO_PROD_FLUX_BIN is not set: run the cluster tests with `npm run test:cluster` " +
			"(test/cluster/run.sh), which builds Flux's controllers (build-flux.sh) and sets it")
	}
	for _, name := range []string{"source-controller", "kustomize-controller"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return "", fmt.Errorf("LAB_TO_PROD_FLUX_BIN=%s has no %s: %w", bin, name, err)
		}
	}
	return bin, nil
}

// startFlux starts source-controller and kustomize-controller against cp, watching every
// namespace, with namespace as their RUNTIME_NAMESPACE. gitCA is the CA source-controller trusts
// for https (the test's git server's). It waits for both health endpoints.
func startFlux(cp *controlPlane, bin, namespace, gitCA string) error {
	ports, err := freePorts(6)
	if err != nil {
		return err
	}
	storage, sourceMetrics, sourceHealth, kustomizeMetrics, kustomizeHealth := ports[0], ports[1], ports[2], ports[3], ports[4]
	env := []string{
		"KUBECONFIG=" + cp.pki.kubeconfigs["admin"],
		"RUNTIME_NAMESPACE=" + namespace,
		// Go's crypto/x509 reads the roots from this file on Linux, instead of the system's.
		"SSL_CERT_FILE=" + gitCA,
	}
	common := func(metrics, health int) []string {
		return []string{
			fmt.Sprintf("--metrics-addr=127.0.0.1:%d", metrics),
			fmt.Sprintf("--health-addr=127.0.0.1:%d", health),
			"--enable-leader-election=false",
			"--watch-all-namespaces=true",
			"--log-level=info",
			"--log-encoding=json",
		}
	}
	storagePath := filepath.Join(cp.dir, "flux-storage")
	if err := os.MkdirAll(storagePath, 0o755); err != nil {
		return err
	}
	if err := cp.startWithEnv("source-controller", filepath.Join(bin, "source-controller"), env, append(common(sourceMetrics, sourceHealth),
		"--storage-path="+storagePath,
		fmt.Sprintf("--storage-addr=127.0.0.1:%d", storage),
		fmt.Sprintf("--storage-adv-addr=127.0.0.1:%d", storage),
	)...); err != nil {
		return err
	}
	if err := cp.startWithEnv("kustomize-controller", filepath.Join(bin, "kustomize-controller"), env,
		common(kustomizeMetrics, kustomizeHealth)...); err != nil {
		return err
	}
	// controller-runtime's health probe: /readyz answers 200 once the manager runs.
	for name, port := range map[string]int{"source-controller": sourceHealth, "kustomize-controller": kustomizeHealth} {
		if err := waitHTTP(plainClient(), fmt.Sprintf("http://127.0.0.1:%d/readyz", port), 60*time.Second, cp.exited(name)); err != nil {
			return cp.explain(name, err)
		}
	}
	return nil
}

// fluxKustomization is what the tests read of a Kustomization's status.
type fluxKustomization struct {
	Metadata struct {
		Name        string            `json:"name"`
		Generation  int64             `json:"generation"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Suspend bool `json:"suspend"`
	} `json:"spec"`
	Status struct {
		ObservedGeneration    int64           `json:"observedGeneration"`
		LastAppliedRevision   string          `json:"lastAppliedRevision"`
		LastAttemptedRevision string          `json:"lastAttemptedRevision"`
		LastHandledReconcile  string          `json:"lastHandledReconcileAt"`
		Conditions            []fluxCondition `json:"conditions"`
		Inventory             *struct {
			Entries []struct {
				ID string `json:"id"`
			} `json:"entries"`
		} `json:"inventory"`
	} `json:"status"`
}

type fluxCondition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason"`
	Message            string    `json:"message"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

func (k fluxKustomization) condition(t string) (fluxCondition, bool) {
	for _, c := range k.Status.Conditions {
		if c.Type == t {
			return c, true
		}
	}
	return fluxCondition{}, false
}

// ready: Ready=True for the object's current generation.
func (k fluxKustomization) ready() bool {
	c, ok := k.condition("Ready")
	return ok && c.Status == "True" && k.Status.ObservedGeneration == k.Metadata.Generation
}

// describe is one line of what the Kustomization reports, for a wait's "last seen".
func (k fluxKustomization) describe() string {
	c, _ := k.condition("Ready")
	message := c.Message
	if len(message) > 300 {
		message = message[:300] + "..."
	}
	return fmt.Sprintf("%s Ready=%s %s (applied %q, attempted %q): %s", k.Metadata.Name, c.Status, c.Reason,
		k.Status.LastAppliedRevision, k.Status.LastAttemptedRevision, message)
}

// getKustomization reads one Flux Kustomization through the API server; found is false on 404.
func getKustomization(cp *controlPlane, namespace, name string) (k fluxKustomization, found bool, err error) {
	status, body, err := cp.api.get(fmt.Sprintf("/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/%s/kustomizations/%s", namespace, name))
	if err != nil || status == http.StatusNotFound {
		return k, false, err
	}
	if status != http.StatusOK {
		return k, false, fmt.Errorf("reading Kustomization %s/%s: HTTP %d: %s", namespace, name, status, body)
	}
	return k, true, json.Unmarshal(body, &k)
}

// revisionOf is the commit of a Flux revision string (Flux's format since source-controller v1):
// "main@sha1:<40 hex>" for a branch, "sha1:<40 hex>" for a GitRepository that names a commit. Anything
// else gives "".
var fluxRevision = regexp.MustCompile(`(?:^|@)sha1:([0-9a-f]{40})$`)

func revisionOf(revision string) string {
	if m := fluxRevision.FindStringSubmatch(revision); m != nil {
		return m[1]
	}
	return ""
}

// requestReconcile sets reconcile.fluxcd.io/requestedAt, what `flux reconcile` does: the controller
// reconciles the object at once instead of at its next interval.
func requestReconcile(s *session, kind, namespace, name string) (string, error) {
	at := time.Now().UTC().Format(time.RFC3339Nano)
	out, err := s.kubectl("annotate", "--overwrite", "-n", namespace, kind, name, "reconcile.fluxcd.io/requestedAt="+at)
	if err != nil {
		return "", fmt.Errorf("kubectl annotate %s %s/%s: %v\n%s", kind, namespace, name, err, out)
	}
	return at, nil
}
