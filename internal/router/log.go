package router

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Heroku's router error codes that this router answers, and their
// descriptions as logged.
const (
	codeAppCrashed = "H10"
	codeNoWeb      = "H14"
	codeBlankApp   = "H81"
	codeBackend    = "H13"
)

var codeDescriptions = map[string]string{
	codeAppCrashed: "App crashed",
	codeNoWeb:      "No web processes running",
	codeBlankApp:   "Blank app",
	codeBackend:    "Connection closed without response",
}

// requestLog is what the router line of one request says.
type requestLog struct {
	start     time.Time
	requestID string
	dyno      string
	code      string
	connect   time.Duration
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9+/=_-]{20,200}$`)

// requestID keeps a well-formed incoming X-Request-Id, as Heroku's router
// does, or makes one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); requestIDPattern.MatchString(id) {
		return id
	}
	return bulut.NewID()
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequest writes the request's line to the app's log stream, in
// Heroku's router format.
func (rt *Router) logRequest(app *bulut.App, r *http.Request, w *recorder, l *requestLog) {
	if rt.cfg.Logs == nil {
		return
	}
	fwd, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		fwd = r.RemoteAddr
	}
	if prior := r.Header.Get("X-Forwarded-For"); prior != "" {
		fwd = prior + ", " + fwd
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	var text string
	if l.code != "" {
		text = fmt.Sprintf(`at=error code=%s desc="%s" method=%s path="%s" host=%s request_id=%s fwd="%s" dyno=%s connect= service= status=%d bytes= protocol=%s`,
			l.code, codeDescriptions[l.code], r.Method, r.URL.RequestURI(), r.Host, l.requestID, fwd, l.dyno, status, protocol(r))
	} else {
		total := time.Since(l.start)
		text = fmt.Sprintf(`at=info method=%s path="%s" host=%s request_id=%s fwd="%s" dyno=%s connect=%s service=%s status=%d bytes=%d protocol=%s`,
			r.Method, r.URL.RequestURI(), r.Host, l.requestID, fwd, l.dyno, millis(l.connect), millis(total-l.connect), status, w.bytes, protocol(r))
	}
	rt.cfg.Logs.Log(app.ID, bulut.LogLine{Source: bulut.SourcePlatform, Process: "router", Text: text})
}

func millis(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) + "ms" }

func protocol(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
