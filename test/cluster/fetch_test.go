package cluster

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildScripts are every script that builds what the cluster tests run; each has a --fetch-only
// mode (build-common.sh) that downloads and checks what its build reads from Go's module cache
// outside `go build`, and builds nothing.
var buildScripts = []string{"build.sh", "build-node.sh", "build-flux.sh", "images/build.sh", "images/build-addons.sh"}

// TestBuildScriptsFetchFromEmptyGoCaches runs every build script's --fetch-only mode with Go's
// module and build caches pointed at empty folders, as on a machine that never built anything. A
// step that reads the module cache before anything downloaded there (`go list -m -f '{{.Dir}}'`
// prints an empty path then) passes on a warm machine and fails here. run.sh runs this test before
// any build, so that a new machine learns it in seconds rather than after a long build.
func TestBuildScriptsFetchFromEmptyGoCaches(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the build scripts need Go on the PATH: %v", err)
	}
	caches := t.TempDir()
	// Go's module cache is read-only: make it writable again, so that TempDir can remove it.
	t.Cleanup(func() { makeWritable(t, caches) })
	env := append(withoutGoCaches(os.Environ()),
		"GOMODCACHE="+filepath.Join(caches, "mod"),
		"GOCACHE="+filepath.Join(caches, "build"))

	for _, script := range buildScripts {
		t.Run(script, func(t *testing.T) {
			started := time.Now()
			cmd := exec.Command("bash", script, "--fetch-only")
			cmd.Env = env
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s --fetch-only with empty Go caches: %v\n%s%s", script, err, stderr.String(), stdout.String())
			}
			report := fetchOnlyLines(stderr.String())
			if len(report) == 0 {
				t.Fatalf("%s --fetch-only reported nothing (want a line 'fetch-only: <what>: <value>' per thing its build reads)\n%s", script, stderr.String())
			}
			for _, line := range report {
				if problem := emptyFetchValue(line); problem != "" {
					t.Errorf("%s --fetch-only: %s", script, problem)
				}
			}
			t.Logf("%s --fetch-only: %.1fs\n%s", script, time.Since(started).Seconds(), strings.Join(report, "\n"))
		})
	}
}

// fetchOnlyLines are the lines of a --fetch-only report: "fetch-only: <what>: <value>" (build.sh,
// build-node.sh, images/build-addons.sh) or "images: fetch-only: <statement>" (images/build.sh).
func fetchOnlyLines(stderr string) []string {
	var lines []string
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "fetch-only: ") || strings.HasPrefix(line, "images: fetch-only: ") {
			lines = append(lines, line)
		}
	}
	return lines
}

// emptyFetchValue says what is wrong with a report line whose value is empty or names a path that
// does not exist; "" when it is fine.
func emptyFetchValue(line string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(line, "images: "), "fetch-only: ")
	i := strings.LastIndex(rest, ": ")
	if i < 0 {
		return ""
	}
	what, value := rest[:i], strings.TrimSpace(rest[i+2:])
	if value == "" {
		return what + ": empty value"
	}
	if strings.HasPrefix(value, "/") {
		if _, err := os.Stat(value); err != nil {
			return what + ": " + err.Error()
		}
	}
	return ""
}

// withoutGoCaches is the environment without the two settings the test replaces; the rest (GOFLAGS,
// GOPROXY, GOTOOLCHAIN) stays as the builds see it.
func withoutGoCaches(env []string) []string {
	var kept []string
	for _, e := range env {
		if strings.HasPrefix(e, "GOMODCACHE=") || strings.HasPrefix(e, "GOCACHE=") {
			continue
		}
		kept = append(kept, e)
	}
	return kept
}

func makeWritable(t *testing.T, root string) {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			return os.Chmod(path, 0o755)
		}
		return nil
	})
	if err != nil {
		t.Logf("making %s writable: %v", root, err)
	}
}

func TestEmptyFetchValue(t *testing.T) {
	for line, wantProblem := range map[string]bool{
		"fetch-only: kwok's Stage files: ":                      true,
		"fetch-only: kwok's Stage files: /no/such/folder/stage": true,
		"fetch-only: kwok's Stage files: " + os.TempDir():       false,
		"fetch-only: kwok version (tools/kwok/go.mod): v0.8.0":  false,
		"images: fetch-only: no step reads Go's module cache":   false,
	} {
		if got := emptyFetchValue(line); (got != "") != wantProblem {
			t.Errorf("emptyFetchValue(%q) = %q, want a problem: %v", line, got, wantProblem)
		}
	}
}

// The helpers' refusals (build-common.sh), each with what it names.
func TestBuildCommonRefusals(t *testing.T) {
	// A module that requires nothing, so that go has nothing to download for it.
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "go.mod"), []byte("module example.com/empty\n\ngo 1.24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(script string) (string, error) {
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(os.Environ(), "EMPTY_MODULE="+empty)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, c := range []struct{ what, script, want string }{
		// The function, not a build script: should the refusal break, nothing starts building.
		{"an unknown option", ". build-common.sh && read_fetch_only_flag --fetch", "unknown argument '--fetch'; the one option is --fetch-only"},
		{"a module go.mod does not require", ". build-common.sh && required_version tools/kwok/go.mod example.com/not-required",
			"tools/kwok/go.mod requires no version of example.com/not-required"},
		{"a module folder go cannot download", `. "$PWD/build-common.sh" && cd "$EMPTY_MODULE" && module_dir example.com/not-required`,
			"'go mod download example.com/not-required' failed in "},
	} {
		out, err := run(c.script)
		if err == nil || !strings.Contains(out, c.want) {
			t.Errorf("%s: want a failure saying %q, got (err %v):\n%s", c.what, c.want, err, out)
		}
	}
	if out, err := run(". build-common.sh && required_version tools/kwok/go.mod sigs.k8s.io/kwok"); err != nil || strings.TrimSpace(out) != "v0.8.0" {
		t.Errorf("required_version of kwok: %q (err %v), want v0.8.0 as tools/kwok/go.mod says", out, err)
	}
}

// images/build-addons.sh's refusals, before it builds anything: an option it does not know, and an
// add-on selection naming a fragment that does not exist (the message lists those that do).
func TestBuildAddonsRefusals(t *testing.T) {
	for _, c := range []struct{ what, env, arg, want string }{
		{"an unknown option", "", "--fetch", "unknown argument '--fetch'; the one option is --fetch-only"},
		{"an unknown add-on", "LAB_TO_PROD_ADDONS=flannel no-such-addon", "--fetch-only",
			"LAB_TO_PROD_ADDONS names 'no-such-addon', which has no fragment addons/no-such-addon.sh; there are: "},
	} {
		args := []string{"images/build-addons.sh"}
		if c.arg != "" {
			args = append(args, c.arg)
		}
		cmd := exec.Command("bash", args...)
		if c.env != "" {
			cmd.Env = append(os.Environ(), c.env)
		}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s: want a failure saying %q, got (err %v):\n%s", c.what, c.want, err, out)
		}
	}
}
