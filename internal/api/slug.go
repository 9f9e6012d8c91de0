package api

import (
	"net/http"
	"time"

	"github.com/bulut-bulut/bulut"
)

// slugJSON is Heroku's Slug shape (field names as heroku-go v5).
type slugJSON struct {
	Blob struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"blob"`
	BuildpackProvidedDescription *string           `json:"buildpack_provided_description"`
	Checksum                     *string           `json:"checksum"`
	Commit                       *string           `json:"commit"`
	CommitDescription            *string           `json:"commit_description"`
	CreatedAt                    time.Time         `json:"created_at"`
	ID                           string            `json:"id"`
	ProcessTypes                 map[string]string `json:"process_types"`
	Size                         *int64            `json:"size"`
	Stack                        idName            `json:"stack"`
	UpdatedAt                    time.Time         `json:"updated_at"`
}

// nonEmpty is a pointer to s, or nil (JSON null) when s is empty.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (h *Handler) newSlugJSON(s *bulut.Slug) slugJSON {
	j := slugJSON{BuildpackProvidedDescription: nonEmpty(s.BuildpackDescription), Checksum: nonEmpty(s.Checksum),
		Commit: nonEmpty(s.Commit), CommitDescription: nonEmpty(s.CommitDescription), CreatedAt: jsonTime(s.CreatedAt),
		ID: s.ID, ProcessTypes: s.ProcessTypes, Stack: stacks[bulut.DefaultStack],
		UpdatedAt: jsonTime(s.CreatedAt)}
	if st, ok := stacks[s.Stack]; ok {
		j.Stack = st
	} else if s.Stack != "" {
		j.Stack = idName{ID: s.Stack, Name: s.Stack}
	}
	if j.ProcessTypes == nil {
		j.ProcessTypes = map[string]string{}
	}
	if s.Size > 0 {
		size := s.Size
		j.Size = &size
	}
	j.Blob.Method, j.Blob.URL = "get", h.slugBlobURL(s.ID)
	return j
}

func (h *Handler) slugInfo(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("slug")
	if !bulut.IsID(id) {
		return bulut.NotFound("slug")
	}
	s, err := h.cfg.Slugs.FindSlug(r.Context(), r.PathValue("app"), id)
	if err != nil {
		return err
	}
	writeJSON(w, r, http.StatusOK, h.newSlugJSON(s))
	return nil
}
