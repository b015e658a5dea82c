package mgmt_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/mgmt"
	"github.com/linkbff/linkbff/internal/testkit"
)

// tokenBackoff is how long the client leaves the token endpoint alone after a
// failed token request.
const tokenBackoff = 5 * time.Second

// A valid token in hand is used as is: no trip through the token source, and so
// no goroutine per call (each call that reaches the source runs on its own).
func TestValidTokenTakesTheFastPath(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusOK, userJSON))
	c := newClient(t, f)
	sourceCalls := mgmt.CountTokenSourceCalls(c)
	const n = 20
	for range n {
		if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
			t.Fatalf("GetUser: %v", err)
		}
	}
	if got := f.tokenRequests.Load(); got != 1 {
		t.Errorf("token requests = %d, want 1", got)
	}
	if got := sourceCalls.Load(); got != 1 {
		t.Errorf("%d of %d calls went through the token source (one goroutine each), want only the first", got, n)
	}
	if got := f.apiRequests.Load(); got != n {
		t.Errorf("API requests = %d, want %d", got, n)
	}
}

// failingTokenEndpoint answers 503 while failing is set, else issues a token.
func failingTokenEndpoint(failing *atomic.Bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "temporarily_unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": "mgmt-token-ok", "expires_in": 86400, "token_type": "Bearer"})
	}
}

func wantTokenUnavailable(t *testing.T, err error, what string) {
	t.Helper()
	ue, ok := errors.AsType[*mgmt.UnavailableError](err)
	if !ok {
		t.Fatalf("%s: err = %v (%T), want *UnavailableError", what, err, err)
	}
	if ue.StatusCode != http.StatusServiceUnavailable || ue.Timeout {
		t.Errorf("%s: UnavailableError{StatusCode: %d, Timeout: %v}, want {503, false}", what, ue.StatusCode, ue.Timeout)
	}
}

// After a failed token request, calls fail at once with the same error for the
// back-off period instead of asking the token endpoint again.
func TestTokenEndpointFailureBacksOff(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	f := newFake(t, writeRaw(http.StatusOK, userJSON), func(f *fake) { f.token = failingTokenEndpoint(&failing) })
	clock := testkit.NewClock()
	c := newClient(t, f, func(c *mgmt.Config) { c.Now = clock.Now })

	_, err := c.GetUser(t.Context(), "auth0|a")
	wantTokenUnavailable(t, err, "first call")
	for _, step := range []time.Duration{0, time.Second, tokenBackoff - time.Second - time.Nanosecond} {
		clock.Advance(step)
		_, err := c.GetUser(t.Context(), "auth0|a")
		wantTokenUnavailable(t, err, "call within the back-off")
		if got := f.tokenRequests.Load(); got != 1 {
			t.Fatalf("token requests = %d within the back-off, want 1", got)
		}
	}

	// Once the back-off is over the endpoint is asked again.
	clock.Advance(time.Nanosecond)
	failing.Store(false)
	if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
		t.Fatalf("GetUser after the back-off: %v", err)
	}
	if got := f.tokenRequests.Load(); got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
	if got := f.apiRequests.Load(); got != 1 {
		t.Errorf("API requests = %d, want 1 (only the call that got a token)", got)
	}
}

// Calls queued behind a failing token request do not each repeat it.
func TestTokenEndpointFailureConcurrentCallsAskOnce(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	f := newFake(t, writeRaw(http.StatusOK, userJSON), func(f *fake) { f.token = failingTokenEndpoint(&failing) })
	clock := testkit.NewClock()
	c := newClient(t, f, func(c *mgmt.Config) { c.Now = clock.Now })
	const n = 16
	errs := testkit.Parallel(t, n, func(int) error {
		_, err := c.GetUser(context.Background(), "auth0|a")
		return err
	})
	for _, err := range errs {
		wantTokenUnavailable(t, err, "concurrent call")
	}
	if got := f.tokenRequests.Load(); got != 1 {
		t.Errorf("token requests = %d for %d concurrent calls, want 1", got, n)
	}
}

// refusingTokenEndpoint answers every token request with Auth0's OAuth error.
func refusingTokenEndpoint(status int, code, description string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, status, map[string]any{"error": code, "error_description": description})
	}
}

// A refused token request is a CredentialsError that says which part of the set-up
// is wrong, inside the UnavailableError every call returns; it never shows the secret.
func TestTokenRefusalIsClassified(t *testing.T) {
	tests := []struct {
		name              string
		status            int
		code, description string
		want              mgmt.Refusal
	}{
		{"wrong secret", 401, "access_denied", "Unauthorized", mgmt.RefusedClient},
		{"no client credentials grant", 403, "unauthorized_client", "Grant type 'client_credentials' not allowed for the client.", mgmt.RefusedGrant},
		{"not authorized for the API", 403, "access_denied", `Client is not authorized to access "https://t/api/v2/".`, mgmt.RefusedAudience},
		{"unknown audience", 403, "access_denied", "Service not found: https://t/api/v3/", mgmt.RefusedAudience},
		{"something else", 403, "invalid_request", "the secret " + testSecret + " is odd", mgmt.RefusedOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, writeRaw(http.StatusOK, userJSON), func(f *fake) { f.token = refusingTokenEndpoint(tt.status, tt.code, tt.description) })
			c := newClient(t, f)
			for _, err := range []error{c.CheckToken(t.Context()), c.Ready(t.Context())} {
				ue, ok := errors.AsType[*mgmt.UnavailableError](err)
				if !ok || ue.StatusCode != tt.status {
					t.Fatalf("err = %v (%T), want an UnavailableError with status %d", err, err, tt.status)
				}
				ce, ok := errors.AsType[*mgmt.CredentialsError](err)
				if !ok {
					t.Fatalf("err = %v, want a CredentialsError inside", err)
				}
				if ce.Refusal() != tt.want || ce.Code != tt.code {
					t.Errorf("Refusal() = %v, Code %q; want %v, %q", ce.Refusal(), ce.Code, tt.want, tt.code)
				}
				if strings.Contains(err.Error(), testSecret) {
					t.Errorf("the error shows the client secret: %v", err)
				}
			}
			if _, err := c.GetUser(t.Context(), "auth0|a"); err == nil {
				t.Error("GetUser succeeded without a token")
			} else if _, ok := errors.AsType[*mgmt.CredentialsError](err); !ok {
				t.Errorf("GetUser: %v, want the CredentialsError too", err)
			}
			if got := f.apiRequests.Load(); got != 0 {
				t.Errorf("%d API requests without a token", got)
			}
		})
	}
}

// Readiness fails while the credentials are refused, and for other token failures
// only until a first token was obtained: an Auth0 outage later must not take every
// replica out of service.
func TestReadyTellsCredentialsFromOutages(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	f := newFake(t, writeRaw(http.StatusOK, userJSON), func(f *fake) {
		f.token = failingTokenEndpoint(&failing)
	})
	clock := testkit.NewClock()
	c := newClient(t, f, func(c *mgmt.Config) { c.Now = clock.Now })
	if err := c.Ready(t.Context()); err == nil {
		t.Fatal("Ready before any token, with the token endpoint down: nil")
	}
	failing.Store(false)
	clock.Advance(tokenBackoff)
	if err := c.Ready(t.Context()); err != nil {
		t.Fatalf("Ready once a token can be had: %v", err)
	}
}

func TestReadyAfterATokenIgnoresOutages(t *testing.T) {
	var failing atomic.Bool
	f := newFake(t, writeRaw(http.StatusOK, userJSON), func(f *fake) {
		f.token = func(w http.ResponseWriter, r *http.Request) {
			if failing.Load() {
				writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "temporarily_unavailable"})
				return
			}
			// Expires at once (inside oauth2's early-expiry window): every call asks again.
			writeJSON(w, http.StatusOK, map[string]any{"access_token": "mgmt-token-short", "expires_in": 1, "token_type": "Bearer"})
		}
	})
	c := newClient(t, f)
	if err := c.Ready(t.Context()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	failing.Store(true)
	if err := c.CheckToken(t.Context()); err == nil {
		t.Fatal("CheckToken with the token endpoint down: nil")
	}
	if err := c.Ready(t.Context()); err != nil {
		t.Errorf("Ready after a first token, during an outage: %v, want nil", err)
	}
}

// During a rotation both secrets are configured: the refused one is followed by the
// other, which is then tried first.
func TestPreviousSecretIsTriedWhenTheFirstIsRefused(t *testing.T) {
	const newSecret, oldSecret = "new-secret-value", "old-secret-value"
	var accepted atomic.Value
	accepted.Store(oldSecret)
	var issued atomic.Int32
	f := newFake(t, writeRaw(http.StatusOK, userJSON), func(f *fake) {
		f.token = func(w http.ResponseWriter, r *http.Request) {
			if r.PostForm.Get("client_secret") != accepted.Load().(string) {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "access_denied", "error_description": "Unauthorized"})
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"access_token": fmt.Sprintf("mgmt-token-%d", issued.Add(1)), "expires_in": 1, "token_type": "Bearer"})
		}
	})
	c := newClient(t, f, func(c *mgmt.Config) { c.ClientSecret, c.PreviousClientSecret = newSecret, oldSecret })
	secrets := func() []string {
		var out []string
		for _, form := range f.forms() {
			out = append(out, form.Get("client_secret"))
		}
		return out
	}
	// Before the change in Auth0: the new secret is refused, the old one works and
	// is tried first from then on.
	for range 2 {
		if err := c.CheckToken(t.Context()); err != nil {
			t.Fatalf("CheckToken: %v", err)
		}
	}
	if diff := cmp.Diff([]string{newSecret, oldSecret, oldSecret}, secrets()); diff != "" {
		t.Errorf("secrets sent before the rotation (-want +got):\n%s", diff)
	}
	// Auth0 now holds the new secret.
	accepted.Store(newSecret)
	if err := c.CheckToken(t.Context()); err != nil {
		t.Fatalf("CheckToken after the rotation: %v", err)
	}
	if diff := cmp.Diff([]string{newSecret, oldSecret, oldSecret, oldSecret, newSecret}, secrets()); diff != "" {
		t.Errorf("secrets sent (-want +got):\n%s", diff)
	}
	// Neither works: the refusal is reported, showing neither secret.
	accepted.Store("a third secret")
	err := c.CheckToken(t.Context())
	if _, ok := errors.AsType[*mgmt.CredentialsError](err); !ok {
		t.Fatalf("both secrets refused: %v, want a CredentialsError", err)
	}
	if strings.Contains(err.Error(), newSecret) || strings.Contains(err.Error(), oldSecret) {
		t.Errorf("the error shows a secret: %v", err)
	}
}

// A 401 means Auth0 no longer accepts the token (revoked, or signed with a key it
// rotated out): the token is thrown away and the call sent once more with a fresh
// one. A fresh token refused too is the answer, and the token endpoint is not asked
// again for a while, however many calls are refused.
func TestUnauthorizedRenewsTheToken(t *testing.T) {
	var refuse atomic.Value // the token the API refuses ("all": every token)
	refuse.Store("Bearer mgmt-token-1")
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if bad := refuse.Load().(string); bad == "all" || r.Header.Get("Authorization") == bad {
			writeJSON(w, http.StatusUnauthorized, auth0Error(401, "Unauthorized", "Invalid token", ""))
			return
		}
		writeRaw(http.StatusOK, userJSON)(w, r)
	})
	clock := testkit.NewClock()
	c := newClient(t, f, func(cfg *mgmt.Config) { cfg.Now = clock.Now })
	counts := func(what string, tokens, api int32) {
		t.Helper()
		if got := f.tokenRequests.Load(); got != tokens {
			t.Errorf("%s: %d token requests, want %d", what, got, tokens)
		}
		if got := f.apiRequests.Load(); got != api {
			t.Errorf("%s: %d API requests, want %d", what, got, api)
		}
	}

	if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
		t.Fatalf("GetUser with a revoked token: %v; want it renewed and the call sent again", err)
	}
	counts("revoked token", 2, 2)
	if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
		t.Fatalf("GetUser with the fresh token: %v", err)
	}
	counts("fresh token", 2, 3)

	refuse.Store("all")
	clock.Advance(30 * time.Second)
	wantUnauthorized := func(what string) {
		t.Helper()
		_, err := c.GetUser(t.Context(), "auth0|a")
		if ae, ok := errors.AsType[*mgmt.APIError](err); !ok || ae.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: err = %v, want the 401 APIError", what, err)
		}
	}
	wantUnauthorized("every token refused")
	counts("every token refused", 3, 5) // renewed once: both tokens refused
	for range 5 {
		wantUnauthorized("within the renewal interval")
	}
	counts("within the renewal interval", 3, 10) // no more token requests
	clock.Advance(30 * time.Second)
	wantUnauthorized("after the renewal interval")
	counts("after the renewal interval", 4, 12)
}
