package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/devtenant"
)

// TestSuggestions: the demo tenant's Alice has a GitHub account with her verified
// email (github|5150). linkbff suggests it, shows nothing of it but how it signs in
// and its masked email, and stops suggesting it once it is linked. A user with an
// unverified email gets none, at the cost of no search.
func TestSuggestions(t *testing.T) {
	a := startApp(t, nil, grantIdPTokens)
	alice := a.accessToken("auth0|alice")

	r := a.do(http.MethodGet, "/me/identities/suggestions", alice, nil)
	if r.status != http.StatusOK {
		t.Fatalf("suggestions: %d %s", r.status, r.body)
	}
	want := map[string]any{"suggestions": []any{map[string]any{
		"provider": "github", "connection": "github", "is_social": true, "email": "a***e@example.com", "name": "Alice at work",
	}}}
	if diff := cmp.Diff(want, r.json(t)); diff != "" {
		t.Errorf("suggestions (-want +got):\n%s", diff)
	}
	// Nothing of the other account leaks: not its id, its metadata, its picture, the
	// unmasked email, nor any token the tenant sends with its identities.
	for _, secret := range []string{"5150", "platform", "team", "alice-work", "alice@example.com", "access_token", "idp-access-token", "user_id"} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("the suggestions carry %q: %s", secret, r.body)
		}
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}

	// Asking again within the minute costs Auth0 nothing.
	a.tenant.ResetRequests()
	a.do(http.MethodGet, "/me/identities/suggestions", alice, nil)
	if n := a.tenant.ManagementRequests(); n != 0 {
		t.Errorf("a second ask made %d Management API calls, want 0", n)
	}

	// The GitHub account is offered Alice's database account in return.
	r = a.do(http.MethodGet, "/me/identities/suggestions", a.accessToken("github|5150"), nil)
	want = map[string]any{"suggestions": []any{map[string]any{
		"provider": "auth0", "connection": "Username-Password-Authentication", "is_social": false, "email": "a***e@example.com", "name": "Alice Example",
	}}}
	if diff := cmp.Diff(want, r.json(t)); diff != "" {
		t.Errorf("suggestions for github|5150 (-want +got):\n%s", diff)
	}

	// Linked (with its own login, as always), it is no longer suggested, although
	// the search for the email is still cached.
	if r := a.link(alice, "github|5150"); r.status != http.StatusCreated {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	a.tenant.ResetRequests()
	r = a.do(http.MethodGet, "/me/identities/suggestions", alice, nil)
	if diff := cmp.Diff(map[string]any{"suggestions": []any{}}, r.json(t)); diff != "" {
		t.Errorf("suggestions after the link (-want +got):\n%s", diff)
	}
	if n := a.tenant.RequestCount(devtenant.EndpointUsersByEmail); n != 0 {
		t.Errorf("%d searches after the link, want the cached one", n)
	}
}

// TestSuggestionsNeedVerifiedEmail: Mallory's email is not verified; she is offered
// nothing, and no search is made for her email.
func TestSuggestionsNeedVerifiedEmail(t *testing.T) {
	a := startApp(t, nil, func(s *devtenant.Seed) {
		// Another account with her email, verified: it must still not be offered.
		s.Users = append(s.Users, devtenant.User{UserID: "google-oauth2|666", Connection: "google-oauth2",
			Email: "mallory@users.noreply.example", EmailVerified: true, Name: "Mallory G"})
	})
	a.tenant.ResetRequests()
	r := a.do(http.MethodGet, "/me/identities/suggestions", a.accessToken("github|9001"), nil)
	if r.status != http.StatusOK {
		t.Fatalf("suggestions: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(map[string]any{"suggestions": []any{}}, r.json(t)); diff != "" {
		t.Errorf("suggestions for an unverified email (-want +got):\n%s", diff)
	}
	if n := a.tenant.RequestCount(devtenant.EndpointUsersByEmail); n != 0 {
		t.Errorf("%d searches for an unverified email, want 0", n)
	}
	// Without credentials: 401 and no call at all.
	wantProblem(t, a.do(http.MethodGet, "/me/identities/suggestions", "", nil), http.StatusUnauthorized, "invalid_token")
	if n := a.tenant.RequestCount(devtenant.EndpointUsersByEmail); n != 0 {
		t.Errorf("%d searches without credentials", n)
	}
}
