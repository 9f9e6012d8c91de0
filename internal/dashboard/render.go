package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/bulut-bulut/bulut"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// styleVersion changes with the stylesheet, so its URL can be cached long.
var styleVersion = func() string {
	sum := sha256.Sum256(styleCSS)
	return hex.EncodeToString(sum[:4])
}()

// pages holds one template set per page: the shared layout plus the page's
// own "content" block.
var pages = parsePages()

func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"styleURL": func() string { return "/static/style.css?v=" + styleVersion },
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	sets := make(map[string]*template.Template)
	for _, name := range names {
		page := strings.TrimSuffix(path.Base(name), ".html")
		if page == "layout" {
			continue
		}
		sets[page] = template.Must(template.New(page).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", name))
	}
	return sets
}

// page is what every template gets: the layout's fields, an error or notice
// to show, and the page's own Data.
type page struct {
	Title   string
	Account *bulut.Account // nil when logged out
	CSRF    string         // the session's csrf field value
	Error   string         // shown by the page's form
	Notice  string         // a one-off message, e.g. after deleting an app
	Data    any
}

// render writes the page template name with p at status. It renders into a
// buffer first, so a template error becomes a clean 500.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if s := sessionFrom(r.Context()); s != nil {
		p.Account, p.CSRF = s.Account, s.csrfToken()
	}
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.logger.Error("render template", "template", name, "path", r.URL.Path, "error", err)
		if name == "message" {
			http.Error(w, "Something went wrong.", http.StatusInternalServerError)
			return
		}
		h.renderMessage(w, r, http.StatusInternalServerError, "Error", "Something went wrong.")
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// message is the Data of the "message" page: a heading, a sentence and an
// optional link onwards.
type message struct {
	Text     string
	LinkURL  string
	LinkText string
}

// renderMessage shows a page that is only a title and a sentence: errors,
// 404s and confirmations.
func (h *Handler) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	m := message{Text: text}
	if status >= 400 {
		m.LinkURL, m.LinkText = "/", "Back to your apps"
	}
	h.render(w, r, status, "message", page{Title: title, Data: m})
}

// serveStyle serves the stylesheet with an ETag and a day of caching; pages
// link it with a version query, so a new build is picked up at once.
func serveStyle(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/css; charset=utf-8")
	hdr.Set("Cache-Control", "public, max-age=86400")
	hdr.Set("ETag", `"`+styleVersion+`"`)
	http.ServeContent(w, r, "style.css", time.Time{}, bytes.NewReader(styleCSS))
}
