package cli_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeAPI is a fake of the few Platform API endpoints the CLI uses, kept in
// memory, for tests of the CLI alone. It checks credentials like the real
// server but validates little else.
type fakeAPI struct {
	*httptest.Server
	port string

	mu         sync.Mutex
	passwords  map[string]string // e-mail -> password
	tokens     map[string]string // token -> e-mail
	sessions   map[string]*fakeSession
	apps       map[string]string // name -> owner e-mail
	gitURLs    map[string]string // name -> git URL, when not the usual one
	nextID     int
	lastLogin  string // description of the last token created
	signupOpen bool
}

type fakeSession struct {
	secret     string
	approvedBy string // e-mail, once approved
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{
		passwords:  map[string]string{},
		tokens:     map[string]string{},
		sessions:   map[string]*fakeSession{},
		apps:       map[string]string{},
		gitURLs:    map[string]string{},
		signupOpen: true,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /bulut/info", f.info)
	mux.HandleFunc("POST /account", f.signup)
	mux.HandleFunc("GET /account", f.authenticated(f.account))
	mux.HandleFunc("POST /oauth/authorizations", f.createAuthorization)
	mux.HandleFunc("DELETE /oauth/sessions/{id}", f.authenticated(f.deleteSession))
	mux.HandleFunc("POST /auth/cli", f.createLoginSession)
	mux.HandleFunc("GET /auth/cli/{id}", f.pollLoginSession)
	mux.HandleFunc("GET /apps", f.authenticated(f.listApps))
	mux.HandleFunc("POST /apps", f.authenticated(f.createApp))
	mux.HandleFunc("GET /apps/{app}", f.authenticated(f.ownApp(f.getApp)))
	mux.HandleFunc("PATCH /apps/{app}", f.authenticated(f.ownApp(f.renameApp)))
	mux.HandleFunc("DELETE /apps/{app}", f.authenticated(f.ownApp(f.deleteApp)))
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	_, f.port, _ = net.SplitHostPort(f.Listener.Addr().String())
	return f
}

// gitURL and webURL are the URLs the fake gives an app.
func (f *fakeAPI) gitURL(app string) string {
	if u, ok := f.gitURLs[app]; ok {
		return u
	}
	return "http://git.localhost:" + f.port + "/" + app + ".git"
}

// setGitURL makes app's git URL url (a local repository, say).
func (f *fakeAPI) setGitURL(app, url string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gitURLs[app] = url
}
func (f *fakeAPI) webURL(app string) string { return "http://" + app + ".localhost:" + f.port + "/" }

// addAccount creates an account and returns a token for it.
func (f *fakeAPI) addAccount(email, password string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.passwords[email] = password
	return f.newToken(email)
}

// addApp creates an app owned by email.
func (f *fakeAPI) addApp(name, email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.apps[name] = email
}

func (f *fakeAPI) hasApp(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.apps[name]
	return ok
}

func (f *fakeAPI) tokenValid(token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.tokens[token]
	return ok
}

// approve approves the login session whose browser URL is browserURL as
// the account email, as the dashboard would.
func (f *fakeAPI) approve(browserURL, email string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := browserURL[strings.LastIndex(browserURL, "/")+1:]
	s, ok := f.sessions[id]
	if !ok {
		return fmt.Errorf("no login session %q", id)
	}
	s.approvedBy = email
	return nil
}

// newToken must be called with f.mu held.
func (f *fakeAPI) newToken(email string) string {
	f.nextID++
	token := fmt.Sprintf("token-%d", f.nextID)
	f.tokens[token] = email
	return token
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, id, message string) {
	writeJSON(w, status, map[string]string{"id": id, "message": message})
}

func readJSON(r *http.Request) map[string]string {
	var in map[string]string
	json.NewDecoder(r.Body).Decode(&in)
	return in
}

type accountHandler func(w http.ResponseWriter, r *http.Request, email string)

// authenticated checks the Bearer token and passes its account's e-mail.
func (f *fakeAPI) authenticated(h accountHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		email, ok := f.tokens[token]
		f.mu.Unlock()
		if !ok {
			writeError(w, 401, "unauthorized", "Invalid credentials provided.")
			return
		}
		h(w, r, email)
	}
}

type appHandler func(w http.ResponseWriter, r *http.Request, app, email string)

// ownApp finds the app of the path (its name or "id-NAME", the fake's
// IDs) among the account's apps (404 otherwise).
func (f *fakeAPI) ownApp(h appHandler) accountHandler {
	return func(w http.ResponseWriter, r *http.Request, email string) {
		name := strings.TrimPrefix(r.PathValue("app"), "id-")
		f.mu.Lock()
		owner := f.apps[name]
		f.mu.Unlock()
		if owner != email {
			writeJSON(w, 404, map[string]string{"id": "not_found", "message": "Couldn't find that app.", "resource": "app"})
			return
		}
		h(w, r, name, email)
	}
}

func (f *fakeAPI) appJSON(name, email string) map[string]any {
	return map[string]any{
		"id": "id-" + name, "name": name, "web_url": f.webURL(name), "git_url": f.gitURL(name),
		"owner":      map[string]string{"id": "id-" + email, "email": email},
		"region":     map[string]string{"id": "r", "name": "local"},
		"stack":      map[string]string{"id": "s", "name": "heroku-24"},
		"created_at": time.Now().UTC(), "updated_at": time.Now().UTC(),
	}
}

func (f *fakeAPI) info(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]string{
		"domain": "localhost", "api_url": "http://api.localhost:" + f.port, "git_host": "git.localhost",
		"git_url_prefix": "http://git.localhost:" + f.port + "/", "dashboard_url": "http://dashboard.localhost:" + f.port + "/",
	})
}

func (f *fakeAPI) signup(w http.ResponseWriter, r *http.Request) {
	in := readJSON(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case !f.signupOpen:
		writeError(w, 403, "signup_closed", "Sign-up is closed on this server.")
	case f.passwords[in["email"]] != "":
		writeError(w, 409, "conflict", "That e-mail address is already registered.")
	case len(in["password"]) < 8:
		writeError(w, 422, "invalid_params", "Password must be at least 8 characters long.")
	default:
		f.passwords[in["email"]] = in["password"]
		writeJSON(w, 201, map[string]string{"id": "id-" + in["email"], "email": in["email"]})
	}
}

func (f *fakeAPI) account(w http.ResponseWriter, r *http.Request, email string) {
	writeJSON(w, 200, map[string]string{"id": "id-" + email, "email": email})
}

func (f *fakeAPI) createAuthorization(w http.ResponseWriter, r *http.Request) {
	email, password, _ := r.BasicAuth()
	in := readJSON(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if want, ok := f.passwords[email]; !ok || want != password {
		writeError(w, 401, "unauthorized", "Invalid credentials provided.")
		return
	}
	f.lastLogin = in["description"]
	token := f.newToken(email)
	writeJSON(w, 201, map[string]any{
		"id": "auth-" + token, "description": in["description"],
		"access_token": map[string]any{"id": "auth-" + token, "token": token, "expires_in": nil},
		"user":         map[string]string{"id": "id-" + email, "email": email},
	})
}

func (f *fakeAPI) deleteSession(w http.ResponseWriter, r *http.Request, email string) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	delete(f.tokens, token)
	f.mu.Unlock()
	writeJSON(w, 200, map[string]string{})
}

func (f *fakeAPI) createLoginSession(w http.ResponseWriter, r *http.Request) {
	in := readJSON(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("session-%d", f.nextID)
	f.sessions[id] = &fakeSession{secret: "secret-" + id}
	f.lastLogin = in["description"]
	writeJSON(w, 201, map[string]string{
		"id": id, "browser_url": "http://dashboard.localhost:" + f.port + "/cli-login/" + id,
		"cli_url": "/auth/cli/" + id, "token": "secret-" + id,
	})
}

func (f *fakeAPI) pollLoginSession(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[r.PathValue("id")]
	switch {
	case !ok:
		writeError(w, 404, "not_found", "Couldn't find that login session.")
	case r.Header.Get("Authorization") != "Bearer "+s.secret:
		writeError(w, 401, "unauthorized", "Invalid credentials provided.")
	case s.approvedBy == "":
		writeError(w, 202, "authorization_pending", "Waiting for the login to be approved.")
	default:
		delete(f.sessions, r.PathValue("id"))
		writeJSON(w, 200, map[string]any{
			"access_token": f.newToken(s.approvedBy),
			"user":         map[string]string{"id": "id-" + s.approvedBy, "email": s.approvedBy},
		})
	}
}

func (f *fakeAPI) listApps(w http.ResponseWriter, r *http.Request, email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := []map[string]any{}
	for name, owner := range f.apps {
		if owner == email {
			list = append(list, f.appJSON(name, owner))
		}
	}
	slices.SortFunc(list, func(a, b map[string]any) int { return strings.Compare(a["name"].(string), b["name"].(string)) })
	writeJSON(w, 200, list)
}

func (f *fakeAPI) createApp(w http.ResponseWriter, r *http.Request, email string) {
	name := readJSON(r)["name"]
	f.mu.Lock()
	defer f.mu.Unlock()
	if name == "" {
		f.nextID++
		name = fmt.Sprintf("serene-caverns-%05d", f.nextID)
	}
	if _, taken := f.apps[name]; taken {
		writeError(w, 422, "invalid_params", "Name "+name+" is already taken.")
		return
	}
	f.apps[name] = email
	writeJSON(w, 201, f.appJSON(name, email))
}

func (f *fakeAPI) getApp(w http.ResponseWriter, r *http.Request, app, email string) {
	writeJSON(w, 200, f.appJSON(app, email))
}

func (f *fakeAPI) renameApp(w http.ResponseWriter, r *http.Request, app, email string) {
	name := readJSON(r)["name"]
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, taken := f.apps[name]; taken {
		writeError(w, 422, "invalid_params", "Name "+name+" is already taken.")
		return
	}
	delete(f.apps, app)
	f.apps[name] = email
	writeJSON(w, 200, f.appJSON(name, email))
}

func (f *fakeAPI) deleteApp(w http.ResponseWriter, r *http.Request, app, email string) {
	f.mu.Lock()
	delete(f.apps, app)
	f.mu.Unlock()
	writeJSON(w, 200, f.appJSON(app, email))
}
