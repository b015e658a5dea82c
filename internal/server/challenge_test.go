package server_test

import (
	"net/http"
	"testing"

	"github.com/linkbff/linkbff/internal/fault"
)

// A 401 decided below the HTTP edge (the identity rules refusing a credential that
// names no Auth0 user) still carries a Bearer challenge.
func TestEvery401CarriesAChallenge(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	s.ids.set(func(f *fakeIdentities) {
		f.err = fault.New(fault.InvalidToken, "The credential does not name an Auth0 user.")
	})
	r := s.do(t, "GET", "/me/identities", nil, map[string]string{"Authorization": s.bearer(t)})
	wantProblem(t, r, http.StatusUnauthorized, fault.InvalidToken)
	if got, want := r.header.Get("WWW-Authenticate"), `Bearer realm="linkbff", error="invalid_token"`; got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
}
