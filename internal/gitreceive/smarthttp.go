package gitreceive

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"

	"github.com/bulut-bulut/bulut"
)

// Environment variables the server gives receive-pack, for the hook.
const (
	envSocket = "BULUT_HOOK_SOCKET"
	envPushID = "BULUT_PUSH_ID"
)

var repoPathPattern = regexp.MustCompile(`^/([a-z][a-z0-9-]{1,28}[a-z0-9])\.git/(info/refs|git-upload-pack|git-receive-pack)$`)

// ServeHTTP answers git's smart HTTP protocol for APP.git.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := repoPathPattern.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.Error(w, "Not found: git URLs look like "+s.cfg.URLs.GitURL("APP"), http.StatusNotFound)
		return
	}
	name, action := m[1], m[2]
	service := ""
	switch {
	case action == "info/refs" && r.Method == http.MethodGet:
		service = strings.TrimPrefix(r.URL.Query().Get("service"), "git-")
	case action != "info/refs" && r.Method == http.MethodPost:
		service = strings.TrimPrefix(action, "git-")
	}
	if service != "upload-pack" && service != "receive-pack" {
		http.Error(w, "Only git's smart HTTP protocol is served here.", http.StatusForbidden)
		return
	}
	app, acct, ok := s.authorize(w, r, name)
	if !ok {
		return
	}
	repo, err := s.ensureRepo(r.Context(), app)
	if err != nil {
		s.log.Error("create repository", "app", app.Name, "error", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	if action == "info/refs" {
		s.advertiseRefs(w, r, service, repo)
		return
	}
	s.serviceRPC(w, r, service, repo, &push{app: app, account: acct, repo: repo})
}

// authorize checks HTTP Basic credentials (any user name, the API token as
// password) and that the account owns the app. Apps of other accounts are
// "not found", as in the API.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, name string) (*bulut.App, *bulut.Account, bool) {
	_, token, ok := r.BasicAuth()
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="bulut"`)
		http.Error(w, "Authentication required: log in with `bulut login` (the token is kept in ~/.netrc).", http.StatusUnauthorized)
		return nil, nil, false
	}
	acct, _, err := s.cfg.Authorizations.AuthenticateToken(r.Context(), token)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="bulut"`)
		http.Error(w, "Invalid credentials: log in again with `bulut login`.", http.StatusUnauthorized)
		return nil, nil, false
	}
	app, err := s.cfg.Apps.FindApp(bulut.NewContextWithAccount(r.Context(), acct), name)
	if err != nil {
		http.Error(w, "App "+name+" not found: check the name with `bulut apps`.", http.StatusNotFound)
		return nil, nil, false
	}
	return app, acct, true
}

// ensureRepo returns an app's bare repository, creating it if needed.
func (s *Server) ensureRepo(ctx context.Context, app *bulut.App) (string, error) {
	repo := s.repoPath(app)
	if _, err := os.Stat(repo); err == nil {
		return repo, nil
	}
	tmp := repo + ".tmp-" + bulut.NewID()
	out, err := exec.CommandContext(ctx, s.cfg.Git, "init", "--quiet", "--bare", "--initial-branch=main", tmp).CombinedOutput()
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("git init: %v: %s", err, out)
	}
	if err := os.Rename(tmp, repo); err != nil {
		os.RemoveAll(tmp)
		if _, statErr := os.Stat(repo); statErr == nil {
			return repo, nil // created meanwhile by a concurrent request
		}
		return "", err
	}
	return repo, nil
}

// gitCommand runs a git service on a repository. Only fixed arguments are
// passed: nothing a user sends becomes an option. hooksPath points git at
// the server's hooks.
func (s *Server) gitCommand(ctx context.Context, service, repo string, extra ...string) *exec.Cmd {
	args := []string{"-c", "core.hooksPath=" + s.cfg.HooksDir, service, "--stateless-rpc"}
	args = append(append(args, extra...), repo)
	cmd := exec.CommandContext(ctx, s.cfg.Git, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = gitEnv()
	return cmd
}

// gitEnv is the environment of git processes: the server's PATH and HOME,
// no user configuration.
func gitEnv() []string {
	env := []string{"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"}
	for _, k := range []string{"PATH", "HOME", "LANG", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func (s *Server) advertiseRefs(w http.ResponseWriter, r *http.Request, service, repo string) {
	w.Header().Set("Content-Type", "application/x-git-"+service+"-advertisement")
	w.Header().Set("Cache-Control", "no-cache")
	cmd := s.gitCommand(r.Context(), service, repo, "--advertise-refs")
	out, err := cmd.Output()
	if err != nil {
		s.log.Error("advertise refs", "service", service, "error", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	pktLine(w, "# service=git-"+service+"\n")
	io.WriteString(w, "0000")
	w.Write(out)
}

// pktLine writes one pkt-line.
func pktLine(w io.Writer, s string) {
	fmt.Fprintf(w, "%04x%s", len(s)+4, s)
}

// serviceRPC streams a request into upload-pack or receive-pack and its
// answer back. receive-pack runs the pre-receive hook, which finds the
// push (app and account) by the ID in its environment.
func (s *Server) serviceRPC(w http.ResponseWriter, r *http.Request, service, repo string, p *push) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-git-"+service+"-request" {
		http.Error(w, "Unexpected Content-Type "+ct, http.StatusBadRequest)
		return
	}
	body := io.Reader(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "Bad gzip body.", http.StatusBadRequest)
			return
		}
		defer gz.Close()
		body = gz
	}
	cmd := s.gitCommand(r.Context(), service, repo)
	if service == "receive-pack" {
		id := s.registerPush(p)
		defer s.unregisterPush(id)
		cmd.Env = append(cmd.Env, envSocket+"="+s.cfg.SocketPath, envPushID+"="+id)
	}
	cmd.Stdin = body
	w.Header().Set("Content-Type", "application/x-git-"+service+"-result")
	w.Header().Set("Cache-Control", "no-cache")
	cmd.Stdout = flushWriter{w}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil && r.Context().Err() == nil {
		s.log.Warn("git "+service, "app", p.app.Name, "error", err, "stderr", stderr.String())
	}
}

// flushWriter flushes after every write, so that progress (and the build's
// output) reaches the client as it happens.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(b []byte) (int, error) {
	n, err := f.w.Write(b)
	http.NewResponseController(f.w).Flush()
	return n, err
}
