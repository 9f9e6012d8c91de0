// Package api serves the Platform API: Heroku's v3 paths, JSON field names,
// error shape and protocol headers, so that Heroku's own clients (heroku-go,
// the heroku CLI) and bulut's CLI work against it.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Config holds the services and settings the API needs.
type Config struct {
	bulut.Services
	URLs       bulut.URLs
	SignupOpen bool
	Logger     *slog.Logger

	// BuildOutput serves builds' output_stream_url; nil: those URLs
	// answer 404.
	BuildOutput bulut.BuildOutput
	BuildCache  bulut.BuildCache // nil: build-cache purges are accepted and do nothing
	// Blobs serves slug downloads; nil: those URLs answer 404.
	Blobs bulut.BlobStore
	// SigningKey is the HMAC key of the unauthenticated build output and
	// slug download URLs. Keep it across restarts so that URLs given out
	// stay valid (default: a random key for this process).
	SigningKey []byte

	// MaxBodyBytes caps request bodies (default 1 MB).
	MaxBodyBytes int64
	// RateLimit is the size of each account's request bucket (default
	// 4500), refilled at RateLimit per hour, as Heroku's.
	RateLimit int
	// LoginPollWait is how long GET /auth/cli/{id} waits for approval
	// before answering "pending" (default 20 s).
	LoginPollWait time.Duration
	// Now returns the current time (tests may replace it).
	Now func() time.Time

	// DrainsChanged, if set, is called with an app's ID after one of its
	// log drains was added or removed, for the log router to re-read
	// them.
	DrainsChanged func(appID string)

	// DynoUsage reports free dyno hours (GET /apps/{app}/usage); nil:
	// none used. FreeDynoHours is the monthly allowance (0: 750).
	DynoUsage     bulut.DynoUsageService
	FreeDynoHours int
}

// Handler is the Platform API's http.Handler.
type Handler struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	limiter *rateLimiter
	// drainByURL serves GET and DELETE of a log drain named by an
	// unescaped URL, which the mux can't match.
	drainByURL map[string]http.Handler

	// closing ends open log streams (see Close).
	closing      context.Context
	closeStreams context.CancelFunc
}

// New returns the API handler for cfg.
func New(cfg Config) *Handler {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 4500
	}
	if cfg.LoginPollWait == 0 {
		cfg.LoginPollWait = 20 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if len(cfg.SigningKey) == 0 {
		cfg.SigningKey = newSigningKey()
	}
	h := &Handler{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "api"),
		mux:     http.NewServeMux(),
		limiter: newRateLimiter(cfg.RateLimit, time.Hour, cfg.Now),
	}
	h.closing, h.closeStreams = context.WithCancel(context.Background())
	h.routes()
	return h
}

// Close ends the log streams being served (tails never end on their
// own), so that a server shutting down need not wait for them. The
// handler goes on serving other requests.
func (h *Handler) Close() {
	h.closeStreams()
}

// access says who may call an endpoint.
type access int

const (
	public        access = iota // anyone, no Accept version needed
	anonymous                   // anyone, with the v3 Accept header
	authenticated               // a valid token
)

func (h *Handler) routes() {
	h.handle("GET /bulut/info", public, h.info)

	h.handle("POST /account", anonymous, h.signup)
	h.handle("GET /account", authenticated, h.accountInfo)
	h.handle("POST /oauth/authorizations", anonymous, h.createAuthorization)
	h.handle("DELETE /oauth/authorizations/{id}", authenticated, h.deleteAuthorization)
	h.handle("DELETE /oauth/sessions/{id}", authenticated, h.deleteSession)
	h.handle("POST /auth/cli", anonymous, h.createLoginSession)
	h.handle("GET /auth/cli/{id}", anonymous, h.pollLoginSession)

	h.handle("POST /apps", authenticated, h.createApp)
	h.handle("GET /apps", authenticated, h.listApps)
	h.handle("GET /users/{account}/apps", authenticated, h.listUserApps)
	h.handle("GET /apps/{app}", authenticated, h.appInfo)
	h.handle("PATCH /apps/{app}", authenticated, h.updateApp)
	h.handle("DELETE /apps/{app}", authenticated, h.deleteApp)

	h.handle("GET /apps/{app}/releases", authenticated, h.listReleases)
	h.handle("POST /apps/{app}/releases", authenticated, h.createRelease)
	h.handle("GET /apps/{app}/releases/{release}", authenticated, h.releaseInfo)
	h.handle("GET /apps/{app}/releases/{release}/config-vars", authenticated, h.releaseConfigVars)
	h.handle("GET /apps/{app}/config-vars", authenticated, h.configVars)
	h.handle("PATCH /apps/{app}/config-vars", authenticated, h.updateConfigVars)
	h.handle("GET /apps/{app}/builds", authenticated, h.listBuilds)
	h.handle("GET /apps/{app}/builds/{build}", authenticated, h.buildInfo)
	h.handle("DELETE /apps/{app}/build-cache", authenticated, h.deleteBuildCache)
	h.handle("GET /apps/{app}/slugs/{slug}", authenticated, h.slugInfo)
	h.handle("GET /apps/{app}/usage", authenticated, h.appUsage)
	h.handle("GET /apps/{app}/formation", authenticated, h.listFormation)
	h.handle("GET /apps/{app}/formation/{formation}", authenticated, h.formationInfo)
	h.handle("PATCH /apps/{app}/formation", authenticated, h.batchUpdateFormation)
	h.handle("PATCH /apps/{app}/formation/{formation}", authenticated, h.updateFormationType)
	h.handle("GET /apps/{app}/buildpack-installations", authenticated, h.listBuildpacks)
	h.handle("PUT /apps/{app}/buildpack-installations", authenticated, h.updateBuildpacks)

	if h.cfg.Dynos != nil {
		h.handle("GET /apps/{app}/dynos", authenticated, h.listDynos)
		h.handle("POST /apps/{app}/dynos", authenticated, h.createDyno)
		h.handle("DELETE /apps/{app}/dynos", authenticated, h.restartAllDynos)
		h.handle("GET /apps/{app}/dynos/{dyno}", authenticated, h.dynoInfo)
		h.handle("DELETE /apps/{app}/dynos/{dyno}", authenticated, h.restartDyno)
		h.handle("POST /apps/{app}/dynos/{dyno}/actions/stop", authenticated, h.stopDyno)
		// The heroku CLI's sdk variants acting on a process type.
		h.handle("DELETE /apps/{app}/formations/{formation}", authenticated, h.restartFormation)
		h.handle("POST /apps/{app}/formations/{formation}/actions/stop", authenticated, h.stopFormation)
	}

	h.handle("POST /apps/{app}/log-sessions", authenticated, h.createLogSession)
	if h.cfg.Domains != nil {
		h.handle("GET /apps/{app}/domains", authenticated, h.listDomains)
		h.handle("POST /apps/{app}/domains", authenticated, h.createDomain)
		h.handle("GET /apps/{app}/domains/{domain}", authenticated, h.domainInfo)
		h.handle("DELETE /apps/{app}/domains/{domain}", authenticated, h.deleteDomain)
	}
	if h.cfg.LogDrains != nil {
		h.handle("GET /apps/{app}/log-drains", authenticated, h.listLogDrains)
		h.handle("POST /apps/{app}/log-drains", authenticated, h.createLogDrain)
		h.handle("GET /apps/{app}/log-drains/{drain}", authenticated, h.logDrainInfo)
		h.handle("DELETE /apps/{app}/log-drains/{drain}", authenticated, h.deleteLogDrain)
		h.drainByURL = map[string]http.Handler{
			http.MethodGet:    h.wrap(authenticated, h.logDrainInfo),
			http.MethodDelete: h.wrap(authenticated, h.deleteLogDrain),
		}
	}

	// Signed URLs, fetched without a token.
	h.handle("GET /build-output/{id}", public, h.buildOutput)
	h.handle("GET /slug-blobs/{id}", public, h.slugBlob)
	h.handle("GET /dyno-attach/{id}", public, h.attachDyno)
	h.handle("GET /log-stream/{id}", public, h.logStream)

	h.handle("/", anonymous, func(w http.ResponseWriter, r *http.Request) error {
		return bulut.Errorf(bulut.ENOTFOUND, "The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?")
	})
}

// handlerFunc is an endpoint: it writes a response or returns an error,
// which ServeHTTP renders in Heroku's error shape.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h *Handler) handle(pattern string, a access, fn handlerFunc) {
	h.mux.Handle(pattern, h.wrap(a, fn))
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if fn := h.drainByURL[r.Method]; fn != nil {
		if app, key, ok := drainPathKey(r.URL.Path); ok {
			r.SetPathValue("app", app)
			r.SetPathValue("drain", key)
			fn.ServeHTTP(w, r)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// wrap applies the protocol around an endpoint: request IDs, the Accept
// version check, body limits, authentication, rate limiting, error
// rendering and a log line.
func (h *Handler) wrap(a access, fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := h.cfg.Now()
		requestID := requestIDFrom(r)
		w.Header().Set("Request-Id", requestID)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		r.Body = http.MaxBytesReader(rec, r.Body, h.cfg.MaxBodyBytes)
		err := h.serve(rec, r, a, fn)
		if err != nil {
			h.writeError(rec, r, requestID, err)
		}
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Duration("duration", h.cfg.Now().Sub(start)), slog.String("request_id", requestID))
	})
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, a access, fn handlerFunc) error {
	if a != public && !acceptsV3(r.Header.Values("Accept")) {
		return bulut.Errorf(bulut.ENOTACCEPTABLE, "Please specify a version along with Heroku's API MIME type. For example, `Accept: application/vnd.heroku+json; version=3`.")
	}
	key := "ip:" + clientIP(r)
	if a == authenticated {
		ctx, err := h.authenticate(r)
		if err != nil {
			return err
		}
		r = r.WithContext(ctx)
		key = "account:" + bulut.AccountIDFromContext(ctx)
	}
	remaining, ok := h.limiter.take(key)
	w.Header().Set("RateLimit-Remaining", itoa(remaining))
	if !ok {
		return bulut.Errorf(bulut.ERATELIMIT, "Your account reached the API rate limit. Please wait a few minutes before making new requests.")
	}
	return fn(w, r)
}

// statusRecorder remembers the status written, for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
