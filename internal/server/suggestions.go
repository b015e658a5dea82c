package server

import (
	"context"
	"net/http"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
)

// Suggester finds accounts the caller may want to link (identity.Suggester).
type Suggester interface {
	Suggest(ctx context.Context, userID string) ([]identity.Suggestion, error)
}

// ListIdentitySuggestions implements GET /me/identities/suggestions.
func (s *server) ListIdentitySuggestions(w http.ResponseWriter, r *http.Request) {
	if s.deps.Suggestions == nil {
		s.fail(w, r, fault.New(fault.RouteNotFound, "This server offers no link suggestions."))
		return
	}
	found, err := s.deps.Suggestions.Suggest(r.Context(), s.caller(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := api.IdentitySuggestions{Suggestions: make([]api.IdentitySuggestion, len(found))}
	for i, sg := range found {
		out.Suggestions[i] = api.IdentitySuggestion{Provider: sg.Provider, Connection: sg.Connection, IsSocial: sg.IsSocial, Email: sg.Email}
		if sg.Name != "" {
			out.Suggestions[i].Name = &sg.Name
		}
	}
	writeJSON(w, http.StatusOK, out)
}
