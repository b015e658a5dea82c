package mgmt_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

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
