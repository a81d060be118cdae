package cluster

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// servedRepository is the delivery tests' copy of this repository: a working clone the test
// commits in (work), and the bare repository the git server serves (<root>/lab-to-prod.git), which
// the clone pushes to through the file system, as a merge lands on the remote's branch.
type servedRepository struct {
	root   string // the git server's folder
	work   string // the working clone
	bare   string
	branch string
	mu     sync.Mutex // one commit at a time
}

const servedRepositoryName = "lab-to-prod.git"

// gitRun runs git in dir and returns its combined output; an error names the command and shows it.
func gitRun(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	// The test's commits are its own, whatever the machine's git configuration says.
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("git %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, out.String())
	}
	return out.String(), nil
}

// newServedRepository clones the repository at repo into root/work on branch, lays the files of
// repo's working tree over it (tracked and untracked, not ignored: what the other cluster tests read
// too) and commits them if they differ from HEAD, then makes the bare repository the server serves.
// node_modules is linked, so that `npm run synth` and `npm run promote` run in the clone.
func newServedRepository(repo, root, branch string) (*servedRepository, string, error) {
	r := &servedRepository{root: root, work: filepath.Join(root, "work"), bare: filepath.Join(root, servedRepositoryName), branch: branch}
	if _, err := gitRun(root, "clone", "--quiet", "--no-hardlinks", repo, r.work); err != nil {
		return nil, "", err
	}
	for _, args := range [][]string{
		{"checkout", "--quiet", "-B", branch},
		{"config", "user.name", "lab-to-prod delivery test"},
		{"config", "user.email", "delivery-test@lab-to-prod.invalid"},
	} {
		if _, err := gitRun(r.work, args...); err != nil {
			return nil, "", err
		}
	}
	listed, err := gitRun(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	if err != nil {
		return nil, "", err
	}
	for _, name := range strings.Split(strings.TrimRight(listed, "\x00"), "\x00") {
		if name == "" || name == "node_modules" { // linked below (a link to it is not ignored as a folder is)
			continue
		}
		if err := copyOver(filepath.Join(repo, name), filepath.Join(r.work, name)); err != nil {
			return nil, "", err
		}
	}
	if err := os.Symlink(filepath.Join(repo, "node_modules"), filepath.Join(r.work, "node_modules")); err != nil {
		return nil, "", err
	}
	// .gitignore's "node_modules/" matches a folder, not a link to one: keep the link out of the commits.
	exclude := filepath.Join(r.work, ".git", "info", "exclude")
	if err := os.MkdirAll(filepath.Dir(exclude), 0o755); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(exclude, []byte("/node_modules\n"), 0o644); err != nil {
		return nil, "", err
	}
	note := "the clone is the repository's HEAD"
	if changed, err := gitRun(r.work, "status", "--porcelain"); err != nil {
		return nil, "", err
	} else if strings.TrimSpace(changed) != "" {
		n := len(strings.Split(strings.TrimSpace(changed), "\n"))
		if _, err := r.commitAll("the working tree under test"); err != nil {
			return nil, "", err
		}
		note = fmt.Sprintf("the clone is the repository's HEAD plus %d file(s) of its working tree not committed yet", n)
	}
	if _, err := gitRun(root, "clone", "--quiet", "--bare", r.work, r.bare); err != nil {
		return nil, "", err
	}
	if _, err := gitRun(r.work, "remote", "set-url", "origin", r.bare); err != nil {
		return nil, "", err
	}
	return r, note, nil
}

// copyOver copies src to dst (a file, or a symbolic link as a link); a src that does not exist (a
// tracked file deleted in the working tree) removes dst.
func copyOver(src, dst string) error {
	info, err := os.Lstat(src)
	if os.IsNotExist(err) {
		return os.RemoveAll(dst)
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	_ = os.RemoveAll(dst)
	if info.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return os.Symlink(target, dst)
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// commitAll commits every change of the clone with message and returns the new commit.
func (r *servedRepository) commitAll(message string) (string, error) {
	if _, err := gitRun(r.work, "add", "--all"); err != nil {
		return "", err
	}
	if _, err := gitRun(r.work, "commit", "--quiet", "--no-verify", "-m", message); err != nil {
		return "", err
	}
	return r.head()
}

func (r *servedRepository) head() (string, error) {
	out, err := gitRun(r.work, "rev-parse", "HEAD")
	return strings.TrimSpace(out), err
}

// push sends the clone's branch to the served repository and returns when it is there.
func (r *servedRepository) push() (time.Time, error) {
	if _, err := gitRun(r.work, "push", "--quiet", "origin", r.branch); err != nil {
		return time.Time{}, err
	}
	return time.Now(), nil
}

// npm runs `npm run -s <script> -- args...` in the clone and returns its combined output.
func (r *servedRepository) npm(env []string, script string, args ...string) (string, error) {
	cmd := exec.Command("npm", append([]string{"run", "-s", script, "--"}, args...)...)
	cmd.Dir = r.work
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("npm run %s -- %s (in the clone): %v\n%s", script, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// replaceOnce replaces the one occurrence of old in the clone's file path (relative) with new; it
// fails when old is not there exactly once, naming the file and what it looked for.
func (r *servedRepository) replaceOnce(path, old, new string) error {
	full := filepath.Join(r.work, path)
	b, err := os.ReadFile(full)
	if err != nil {
		return err
	}
	if n := strings.Count(string(b), old); n != 1 {
		return fmt.Errorf("%s holds %q %d times, want once: the test edits that line", path, old, n)
	}
	return os.WriteFile(full, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}
