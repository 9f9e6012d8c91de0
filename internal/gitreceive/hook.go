package gitreceive

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// exitCodeTrailer carries the hook's exit code after the streamed output.
const exitCodeTrailer = "Bulut-Exit-Code"

// quarantineEnv are the variables git gives its pre-receive hook so that
// the pushed objects (still in quarantine) can be read.
var quarantineEnv = []string{"GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"}

// hookRequest is what `bulut hook pre-receive` sends the server.
type hookRequest struct {
	PushID string            `json:"push_id"`
	Refs   []refUpdate       `json:"refs"`
	GitEnv map[string]string `json:"git_env"`
}

type refUpdate struct {
	Old  string `json:"old"`
	New  string `json:"new"`
	Name string `json:"name"`
}

const zeroSHA = "0000000000000000000000000000000000000000"

// writeHooks writes the pre-receive hook that runs command.
func writeHooks(dir string, command []string) error {
	if len(command) == 0 {
		return errors.New("gitreceive: no hook command")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	quoted := make([]string, len(command))
	for i, a := range command {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := "#!/bin/sh\n# Written by bulut server: builds pushes to main or master.\nexec " + strings.Join(quoted, " ") + "\n"
	path := filepath.Join(dir, "pre-receive")
	if old, err := os.ReadFile(path); err == nil && string(old) == script {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(script), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// PrivateHandler is served on the private unix socket; only hooks of
// pushes the server authenticated (known by their push ID) are answered.
func (s *Server) PrivateHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /pre-receive", s.preReceive)
	return mux
}

func (s *Server) preReceive(w http.ResponseWriter, r *http.Request) {
	var req hookRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad hook request", http.StatusBadRequest)
		return
	}
	p := s.lookupPush(req.PushID)
	if p == nil {
		http.Error(w, "unknown push", http.StatusForbidden)
		return
	}
	w.Header().Set("Trailer", exitCodeTrailer)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	code := s.handleRefs(r.Context(), p, req, flushWriter{w})
	w.Header().Set(exitCodeTrailer, strconv.Itoa(code))
}

// handleRefs decides what a push does: a new commit on main (or master)
// is built and released; other branches and tags are only stored.
func (s *Server) handleRefs(ctx context.Context, p *push, req hookRequest, out io.Writer) int {
	var deploy *refUpdate
	for i, ref := range req.Refs {
		branch, isBranch := strings.CutPrefix(ref.Name, "refs/heads/")
		switch {
		case !isBranch || ref.New == zeroSHA:
		case branch == "main" || branch == "master":
			if deploy == nil || branch == "main" {
				deploy = &req.Refs[i]
			}
		default:
			fmt.Fprintln(out, "Pushed to non-master branch, skipping build.")
		}
	}
	if deploy == nil {
		return 0
	}
	lock := s.appLock(p.app.ID)
	if !lock.TryLock() {
		fmt.Fprintf(out, " !     Another push to %s is building right now.\n !     Wait for it to finish, then push again.\n", p.app.Name)
		return 1
	}
	defer lock.Unlock()

	env := s.quarantine(p.repo, req.GitEnv)
	commit := deploy.New
	d := bulut.Deploy{
		App:     p.app,
		Account: p.account,
		Commit:  commit,
		Source: func(ctx context.Context, w io.Writer) error {
			cmd := s.repoGit(ctx, p.repo, env, "archive", "--format=tar", commit)
			cmd.Stdout = w
			return runWithStderr(cmd)
		},
		CommitDescription: s.commitSubject(ctx, p.repo, env, commit),
	}
	start := time.Now()
	rel, err := s.cfg.Deployer.Deploy(bulut.NewContextWithAccount(ctx, p.account), d, out)
	if err != nil {
		s.log.Info("push rejected", "app", p.app.Name, "commit", commit, "error", err)
		fmt.Fprintf(out, "Verifying deploy...\n\n !     Push rejected to %s.\n\n", p.app.Name)
		return 1
	}
	// Clones check out what was deployed.
	s.repoGit(ctx, p.repo, nil, "symbolic-ref", "HEAD", deploy.Name).Run()
	s.log.Info("deployed", "app", p.app.Name, "commit", commit, "release", rel.Version, "duration", time.Since(start))
	fmt.Fprintln(out, "Verifying deploy... done.")
	return 0
}

// quarantine keeps the object-directory variables of the hook, resolved
// against the repository, so the server's git sees the pushed objects.
func (s *Server) quarantine(repo string, gitEnv map[string]string) []string {
	var env []string
	for _, k := range quarantineEnv {
		v := gitEnv[k]
		if v == "" {
			continue
		}
		var paths []string
		for _, p := range filepath.SplitList(v) {
			if !filepath.IsAbs(p) {
				p = filepath.Join(repo, p)
			}
			if p = filepath.Clean(p); strings.HasPrefix(p, repo+string(filepath.Separator)) || p == repo {
				paths = append(paths, p)
			}
		}
		if len(paths) > 0 {
			env = append(env, k+"="+strings.Join(paths, string(filepath.ListSeparator)))
		}
	}
	return env
}

// repoGit runs git on a repository with fixed arguments.
func (s *Server) repoGit(ctx context.Context, repo string, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.cfg.Git, args...)
	cmd.Env = append(append(gitEnv(), "GIT_DIR="+repo), env...)
	return cmd
}

func (s *Server) commitSubject(ctx context.Context, repo string, env []string, commit string) string {
	out, err := s.repoGit(ctx, repo, env, "log", "-1", "--format=%s", commit).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func runWithStderr(cmd *exec.Cmd) error {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// RunPreReceiveHook is `bulut hook pre-receive`: git runs it during a push
// with the ref updates on stdin. It hands them to the server over the
// private socket and relays the server's output (the build) to stdout,
// which git shows the pusher as "remote:" lines. It returns the exit code.
func RunPreReceiveHook(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	socket, pushID := getenv(envSocket), getenv(envPushID)
	if socket == "" || pushID == "" {
		fmt.Fprintln(stderr, "bulut hook pre-receive: git runs this during a push to a bulut server; it is not for use by hand.")
		return 1
	}
	req := hookRequest{PushID: pushID, GitEnv: map[string]string{}}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 3 {
			req.Refs = append(req.Refs, refUpdate{Old: f[0], New: f[1], Name: f[2]})
		}
	}
	for _, k := range quarantineEnv {
		if v := getenv(k); v != "" {
			if !filepath.IsAbs(v) {
				if wd, err := os.Getwd(); err == nil {
					v = filepath.Join(wd, v)
				}
			}
			req.GitEnv[k] = v
		}
	}
	body, _ := json.Marshal(req)
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
	}}
	httpReq, _ := http.NewRequestWithContext(ctx, "POST", "http://bulut/pre-receive", strings.NewReader(string(body)))
	httpReq.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(httpReq)
	if err != nil {
		fmt.Fprintf(stdout, " !     The bulut server could not be reached to build this push: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		fmt.Fprintf(stdout, " !     The bulut server refused this push: %s\n", strings.TrimSpace(string(msg)))
		return 1
	}
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		fmt.Fprintf(stdout, " !     Lost the connection to the bulut server: %v\n", err)
		return 1
	}
	code, err := strconv.Atoi(resp.Trailer.Get(exitCodeTrailer))
	if err != nil {
		fmt.Fprintln(stdout, " !     The bulut server ended the build without a result.")
		return 1
	}
	return code
}
