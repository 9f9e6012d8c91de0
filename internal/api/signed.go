package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/bulut-bulut/bulut"
)

// Build output and slug downloads are served on URLs that need no token,
// as Heroku's (its CLI fetches output_stream_url without credentials):
// the URL carries an HMAC of what it names instead.

// newSigningKey returns a random key, for servers configured without one.
func newSigningKey() []byte {
	key := make([]byte, 32)
	rand.Read(key)
	return key
}

// signature is the hex HMAC-SHA256 of message under the handler's key.
func (h *Handler) signature(message string) string {
	mac := hmac.New(sha256.New, h.cfg.SigningKey)
	mac.Write([]byte(message))
	return hex.EncodeToString(mac.Sum(nil))
}

// validSignature reports whether sig is message's signature.
func (h *Handler) validSignature(message, sig string) bool {
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(h.signature(message))
	return hmac.Equal(got, want)
}

// The messages signed for each kind of URL. A build's is its ID alone.
func buildOutputMessage(buildID string) string { return buildID }
func slugBlobMessage(slugID string) string     { return "slug-blob:" + slugID }

// buildOutputURL is the signed URL streaming a build's output.
func (h *Handler) buildOutputURL(buildID string) string {
	return h.cfg.URLs.APIURL() + "/build-output/" + url.PathEscape(buildID) + "?sig=" + h.signature(buildOutputMessage(buildID))
}

// slugBlobURL is the signed URL downloading a slug's tar.gz.
func (h *Handler) slugBlobURL(slugID string) string {
	return h.cfg.URLs.APIURL() + "/slug-blobs/" + url.PathEscape(slugID) + "?sig=" + h.signature(slugBlobMessage(slugID))
}

// errNoSuchStream answers a bad signature, an unknown ID and a missing
// backend alike.
var errNoSuchStream = bulut.Errorf(bulut.ENOTFOUND, "Couldn't find that stream: the URL is wrong, or what it named is gone.")

// buildOutput streams a build's output as text/plain, flushing as it
// arrives, until the build ends.
func (h *Handler) buildOutput(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if h.cfg.BuildOutput == nil || !h.validSignature(buildOutputMessage(id), r.URL.Query().Get("sig")) {
		return errNoSuchStream
	}
	rc, err := h.cfg.BuildOutput.OpenBuildOutput(r.Context(), id)
	if err != nil {
		if bulut.ErrorCode(err) == bulut.ENOTFOUND {
			return errNoSuchStream
		}
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	return h.stream(w, r, rc)
}

// slugBlob sends a slug's tar.gz.
func (h *Handler) slugBlob(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if h.cfg.Blobs == nil || !bulut.IsID(id) || !h.validSignature(slugBlobMessage(id), r.URL.Query().Get("sig")) {
		return errNoSuchStream
	}
	rc, err := h.cfg.Blobs.OpenBlob(r.Context(), bulut.SlugBlobKey(id))
	if err != nil {
		if bulut.ErrorCode(err) == bulut.ENOTFOUND {
			return errNoSuchStream
		}
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/gzip")
	return h.stream(w, r, rc)
}

// stream copies src to the response, flushing after every read so that a
// live build's lines reach the client as they are written. Errors after
// the first byte can't change the status any more: they are logged.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, src io.Reader) error {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	rc.Flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return nil // the client went away
			}
			rc.Flush()
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if r.Context().Err() == nil {
				h.log.Warn("stream interrupted", "path", r.URL.Path, "error", err)
			}
			return nil
		}
	}
}
