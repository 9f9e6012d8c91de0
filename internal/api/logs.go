package api

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

// Log sessions, as Heroku's: POST /apps/{app}/log-sessions answers a
// logplex_url that streams the app's log without a token. bulut serves it
// on the API host:
//
//	APIURL/log-stream/{session_id}?app=APP_ID&dyno=web.1&exp=UNIX&lines=100&source=app&tail=1&type=web&sig=HMAC
//
// The signature covers the session ID and every other parameter (in
// url.Values order), so the URL is good for that app and those filters
// only, until exp (logSessionTTL after it was made). A tail started
// before then goes on after it.
//
// The stream is text/plain, one line per log line, or text/event-stream
// when the request's Accept asks for it: one `data:` event per line,
// with an `id:` a reconnecting client sends back as Last-Event-ID to
// resume after the last line it got. Without tail the stream ends after
// the recent lines; with it, it stays open and new lines are flushed as
// they arrive. A bad or expired URL answers 404, as Heroku's CLI expects
// ("Log stream timed out").
const (
	// logSessionTTL is how long a logplex_url may be opened.
	logSessionTTL = time.Hour
	// defaultLogLines is how many recent lines a session without "lines"
	// gets, and maxLogLines the most it may ask for (what is kept).
	defaultLogLines = 100
	maxLogLines     = 1500
	// sseKeepAlive is how often an idle event stream gets a comment, so
	// that proxies keep it open and a gone client is noticed.
	sseKeepAlive = 15 * time.Second
	// maxLinesPerFlush bounds how many lines are written between flushes
	// when many arrive at once.
	maxLinesPerFlush = 256
)

// logSessionJSON is Heroku's LogSession shape.
type logSessionJSON struct {
	CreatedAt  time.Time `json:"created_at"`
	ID         string    `json:"id"`
	LogplexURL string    `json:"logplex_url"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// logProcessPattern is what a dyno or process type filter may be: web,
// web.1, run.4821, router, api, heroku-postgres.
var logProcessPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// createLogSession is POST /apps/{app}/log-sessions {dyno, lines, source,
// tail}. Heroku's CLI also sends "type" for --process-type, and "heroku"
// as the platform's source.
func (h *Handler) createLogSession(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Dyno   *string `json:"dyno"`
		Type   *string `json:"type"`
		Lines  *int    `json:"lines"`
		Source *string `json:"source"`
		Tail   *bool   `json:"tail"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	app, err := h.cfg.Apps.FindApp(r.Context(), r.PathValue("app"))
	if err != nil {
		return err
	}
	q := url.Values{}
	q.Set("app", app.ID)
	for _, p := range []struct {
		name  string
		value *string
	}{{"dyno", body.Dyno}, {"type", body.Type}} {
		if p.value == nil || strings.TrimSpace(*p.value) == "" {
			continue
		}
		v := strings.TrimSpace(*p.value)
		if !logProcessPattern.MatchString(v) {
			return bulut.Errorf(bulut.EINVALID, "Invalid %s %q: give a dyno name (web.1) or a process type (web).", p.name, v)
		}
		q.Set(p.name, v)
	}
	if body.Source != nil {
		switch s := strings.ToLower(strings.TrimSpace(*body.Source)); s {
		case "":
		case bulut.SourceApp, bulut.SourcePlatform:
			q.Set("source", s)
		case "heroku": // Heroku's CLI names the platform's lines so
			q.Set("source", bulut.SourcePlatform)
		default:
			return bulut.Errorf(bulut.EINVALID, "Invalid source %q: give %s or %s.", *body.Source, bulut.SourceApp, bulut.SourcePlatform)
		}
	}
	lines := defaultLogLines
	if body.Lines != nil {
		if *body.Lines < 0 {
			return bulut.Errorf(bulut.EINVALID, "lines must be between 0 and %d.", maxLogLines)
		}
		lines = min(*body.Lines, maxLogLines)
	}
	q.Set("lines", strconv.Itoa(lines))
	if body.Tail != nil && *body.Tail {
		q.Set("tail", "1")
	}
	now := jsonTime(h.cfg.Now())
	q.Set("exp", strconv.FormatInt(now.Add(logSessionTTL).Unix(), 10))
	id := bulut.NewID()
	writeJSON(w, r, http.StatusCreated, logSessionJSON{CreatedAt: now, ID: id, LogplexURL: h.logStreamURL(id, q), UpdatedAt: now})
	return nil
}

func logStreamMessage(id string, q url.Values) string { return "log-stream:" + id + "?" + q.Encode() }

// logStreamURL is the signed URL of a log session with parameters q.
func (h *Handler) logStreamURL(id string, q url.Values) string {
	sig := h.signature(logStreamMessage(id, q))
	return h.cfg.URLs.APIURL() + "/log-stream/" + url.PathEscape(id) + "?" + q.Encode() + "&sig=" + sig
}

var (
	errLogStreamGone = bulut.Errorf(bulut.ENOTFOUND, "Couldn't find that log stream: its URL is wrong or has expired (log session URLs last an hour).")
	errNoLogs        = bulut.Errorf(bulut.ENOTFOUND, "This server keeps no logs.")
)

// logStream serves a log session's URL (see above).
func (h *Handler) logStream(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	q := r.URL.Query()
	sig := q.Get("sig")
	q.Del("sig")
	if !h.validSignature(logStreamMessage(id, q), sig) {
		return errLogStreamGone
	}
	if h.cfg.Logs == nil {
		return errNoLogs
	}
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	if err != nil || h.cfg.Now().Unix() > exp {
		return errLogStreamGone
	}
	appID := q.Get("app")
	if _, err := h.cfg.Apps.FindApp(bulut.NewSystemContext(r.Context()), appID); err != nil {
		if bulut.ErrorCode(err) == bulut.ENOTFOUND {
			return errLogStreamGone
		}
		return err
	}
	f := bulut.LogFilter{Dyno: q.Get("dyno"), ProcessType: q.Get("type"), Source: q.Get("source")}
	n, _ := strconv.Atoi(q.Get("lines"))
	tail := q.Get("tail") == "1"
	sse := wantsEventStream(r)
	var resume *eventID
	if sse {
		if id, ok := parseEventID(r.Header.Get("Last-Event-ID")); ok {
			resume, n = &id, maxLogLines
		}
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(h.closing, cancel)
	defer stop()

	var recent []bulut.LogLine
	var live <-chan bulut.LogLine
	var seen map[lineKey]bool // recent lines a tail started first may repeat
	switch {
	case !tail:
		recent = h.cfg.Logs.Recent(appID, n, f)
	case hasRecentAndTail(h.cfg.Logs):
		recent, live = h.cfg.Logs.(recentAndTailer).RecentAndTail(ctx, appID, n, f)
	default:
		live = h.cfg.Logs.Tail(ctx, appID, f)
		recent = h.cfg.Logs.Recent(appID, n, f)
		seen = make(map[lineKey]bool, len(recent))
		for _, l := range recent {
			seen[keyOf(l)] = true
		}
	}
	if resume != nil {
		recent = resume.after(recent)
	}

	if sse {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &logWriter{w: bufio.NewWriterSize(w, 32<<10), rc: http.NewResponseController(w), sse: sse}
	for _, l := range recent {
		out.line(l)
	}
	if err := out.flush(); err != nil || !tail {
		return nil
	}
	var keepAlive <-chan time.Time
	if sse {
		t := time.NewTicker(sseKeepAlive)
		defer t.Stop()
		keepAlive = t.C
	}
	for {
		select {
		case l, ok := <-live:
			if ok {
				seen = out.live(l, seen)
			}
			// Take what else is there without waiting, then flush.
			for i, more := 0, ok; more && i < maxLinesPerFlush; i++ {
				select {
				case l, ok = <-live:
					if more = ok; ok {
						seen = out.live(l, seen)
					}
				default:
					more = false
				}
			}
			if err := out.flush(); err != nil || !ok {
				return nil
			}
		case <-keepAlive:
			out.comment("keep-alive")
			if out.flush() != nil {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// recentAndTailer is a LogService that can start a tail right after the
// recent lines it returns, none missed and none repeated (the logplex).
type recentAndTailer interface {
	RecentAndTail(ctx context.Context, appID string, n int, f bulut.LogFilter) ([]bulut.LogLine, <-chan bulut.LogLine)
}

func hasRecentAndTail(s bulut.LogService) bool {
	_, ok := s.(recentAndTailer)
	return ok
}

// lineKey identifies a line for telling the recent lines from the same
// lines arriving on a tail started before them.
type lineKey struct {
	micros                int64
	source, process, text string
}

func keyOf(l bulut.LogLine) lineKey {
	return lineKey{l.Time.UnixMicro(), l.Source, l.Process, l.Text}
}

// wantsEventStream reports whether a request's Accept asks for
// text/event-stream.
func wantsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
				return true
			}
		}
	}
	return false
}

// eventID is the id of an event: the line's time in microseconds and,
// for the lines after the first of the same microsecond, their rank
// ("1733059320123456" or "1733059320123456-2").
type eventID struct {
	micros int64
	rank   int
}

func (e eventID) String() string {
	s := strconv.FormatInt(e.micros, 10)
	if e.rank > 0 {
		s += "-" + strconv.Itoa(e.rank)
	}
	return s
}

func parseEventID(s string) (eventID, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return eventID{}, false
	}
	m, r, hasRank := strings.Cut(s, "-")
	micros, err := strconv.ParseInt(m, 10, 64)
	if err != nil || micros < 0 {
		return eventID{}, false
	}
	rank := 0
	if hasRank {
		if rank, err = strconv.Atoi(r); err != nil || rank < 0 {
			return eventID{}, false
		}
	}
	return eventID{micros, rank}, true
}

// after returns the lines that come after the event e: later lines, and
// those of the same microsecond beyond e's rank.
func (e eventID) after(lines []bulut.LogLine) []bulut.LogLine {
	var out []bulut.LogLine
	rank := 0
	for i, l := range lines {
		m := l.Time.UnixMicro()
		if i > 0 && m == lines[i-1].Time.UnixMicro() {
			rank++
		} else {
			rank = 0
		}
		if m > e.micros || m == e.micros && rank > e.rank {
			out = append(out, l)
		}
	}
	return out
}

// logWriter writes log lines as text/plain or as events.
type logWriter struct {
	w   *bufio.Writer
	rc  *http.ResponseController
	sse bool

	last eventID // of the last event written
	err  error
}

func (lw *logWriter) line(l bulut.LogLine) {
	if lw.err != nil {
		return
	}
	s := l.String()
	if !lw.sse {
		lw.w.WriteString(s)
		lw.w.WriteByte('\n')
		return
	}
	id := eventID{micros: l.Time.UnixMicro()}
	if id.micros == lw.last.micros {
		id.rank = lw.last.rank + 1
	}
	lw.last = id
	lw.w.WriteString("id: " + id.String() + "\n")
	// A line holding line breaks (a stray \r) takes several data fields:
	// the client joins them with \n.
	for {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			break
		}
		lw.w.WriteString("data: " + s[:i] + "\n")
		s = s[i+1:]
	}
	lw.w.WriteString("data: " + s + "\n\n")
}

// live writes a line of the tail unless it is one of the recent lines
// already written (in seen), and returns what is left of seen: nothing
// once the tail is past them.
func (lw *logWriter) live(l bulut.LogLine, seen map[lineKey]bool) map[lineKey]bool {
	if k := keyOf(l); seen[k] {
		delete(seen, k)
		return seen
	}
	lw.line(l)
	return nil
}

func (lw *logWriter) comment(text string) {
	if lw.err == nil && lw.sse {
		lw.w.WriteString(": " + text + "\n\n")
	}
}

// flush sends what was written; an error means the client is gone.
func (lw *logWriter) flush() error {
	if lw.err != nil {
		return lw.err
	}
	if lw.err = lw.w.Flush(); lw.err == nil {
		lw.err = lw.rc.Flush()
	}
	return lw.err
}
