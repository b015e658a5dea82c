package main

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/testkit"
)

func TestUpstreamFaults(t *testing.T) {
	a := startApp(t, map[string]string{"MANAGEMENT_API_TIMEOUT": "300ms", "IDENTITY_CACHE_TTL": "0s"}, nil)
	alice := a.accessToken("auth0|alice")
	tests := []struct {
		name      string
		fault     devtenant.Fault
		status    int
		code      string
		upstream  int    // GET user requests the tenant saw
		retryAfer string // expected Retry-After
	}{
		{"429 then success", devtenant.Fault{Status: 429, Count: 1}, 200, "", 2, ""},
		{"500", devtenant.Fault{Status: 500, Count: 1}, 502, "upstream_unavailable", 1, ""},
		{"timeout", devtenant.Fault{Latency: devtenant.Duration(10 * time.Second), Count: 1}, 504, "upstream_timeout", 1, ""},
		{"connection reset", devtenant.Fault{Reset: true, Count: 1}, 502, "upstream_unavailable", 1, ""},
		{"400 from Auth0", devtenant.Fault{Status: 400, Count: 1}, 502, "upstream_error", 1, ""},
		// Last: the tenant then says no request is left for 30 seconds, and linkbff
		// sends none before that.
		{"429 storm", devtenant.Fault{Status: 429, RetryAfter: 30}, 503, "upstream_rate_limited", 1, "30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Cleanup(a.tenant.ClearFaults)
			a.tenant.ResetRequests()
			a.tenant.InjectFault(devtenant.EndpointGetUser, tt.fault)
			r := a.do("GET", "/me/identities", alice, nil)
			if tt.code == "" {
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
			} else {
				wantProblem(t, r, tt.status, tt.code)
			}
			if got := r.header.Get("Retry-After"); got != tt.retryAfer {
				t.Errorf("Retry-After = %q, want %q", got, tt.retryAfer)
			}
			if n := a.tenant.RequestCount(devtenant.EndpointGetUser); n != tt.upstream {
				t.Errorf("tenant saw %d user reads, want %d", n, tt.upstream)
			}
		})
	}
}

// TestFailedStepsLoseNothing: a link whose metadata PATCH fails leaves both users as
// they were; a link whose link call fails leaves the secondary and its metadata, and
// the primary holds the merged metadata. Either way a retry succeeds.
func TestFailedStepsLoseNothing(t *testing.T) {
	a := startApp(t, nil, nil)
	alice := a.accessToken("auth0|alice")
	aliceBefore, _ := a.tenant.UserSnapshot("auth0|alice")
	ghBefore, _ := a.tenant.UserSnapshot("github|4242")
	link := func() response { return a.link(alice, "github|4242") }

	a.tenant.InjectFault(devtenant.EndpointPatchUser, devtenant.Fault{Status: 500, Count: 1})
	wantProblem(t, link(), 502, "upstream_unavailable")
	aliceAfter, _ := a.tenant.UserSnapshot("auth0|alice")
	ghAfter, ok := a.tenant.UserSnapshot("github|4242")
	if !ok {
		t.Fatal("secondary removed although the PATCH failed")
	}
	if diff := cmp.Diff(aliceBefore["user_metadata"], aliceAfter["user_metadata"]); diff != "" {
		t.Errorf("primary metadata changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(ghBefore["user_metadata"], ghAfter["user_metadata"]); diff != "" {
		t.Errorf("secondary metadata changed (-before +after):\n%s", diff)
	}
	if n := a.tenant.RequestCount(devtenant.EndpointLinkIdentity); n != 0 {
		t.Errorf("link called %d times after a failed PATCH", n)
	}

	a.tenant.InjectFault(devtenant.EndpointLinkIdentity, devtenant.Fault{Status: 503, Count: 1})
	wantProblem(t, link(), 502, "upstream_unavailable")
	merged := map[string]any{"theme": "dark", "locale": "en", "github_handle": "alice-gh"}
	aliceAfter, _ = a.tenant.UserSnapshot("auth0|alice")
	if diff := cmp.Diff(merged, aliceAfter["user_metadata"]); diff != "" {
		t.Errorf("primary metadata after failed link (-want +got):\n%s", diff)
	}
	if _, ok := a.tenant.UserSnapshot("github|4242"); !ok {
		t.Fatal("secondary removed although the link failed")
	}
	if r := a.do("GET", "/me/identities", alice, nil); len(identityKeys(t, r.json(t))) != 1 {
		t.Errorf("identities after failed link: %s", r.body)
	}

	a.tenant.ResetRequests()
	if r := link(); r.status != http.StatusCreated {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	if n := a.tenant.RequestCount(devtenant.EndpointPatchUser); n != 0 {
		t.Errorf("retry PATCHed %d times; metadata was already merged", n)
	}
}

// TestConcurrentMissesShareOneRead: many cold reads of one user cost one upstream read.
func TestConcurrentMissesShareOneRead(t *testing.T) {
	a := startApp(t, nil, nil)
	alice := a.accessToken("auth0|alice")
	a.tenant.ResetRequests()
	// A slow Auth0: the first read is answered after every request has been sent.
	// (Requests that arrive after it would find the cache warm: the count below can
	// pass without coalescing on a very slow machine, never fail with it. The exact
	// proof is identity's TestListCoalescesConcurrentMisses, in a synctest bubble.)
	a.tenant.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Latency: devtenant.Duration(300 * time.Millisecond), Count: 1})
	const n = 20
	errs := testkit.Parallel(t, n, func(i int) error {
		req, err := http.NewRequest("GET", a.url+"/me/identities", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+alice)
		res, err := a.client.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("request %d: status %d", i, res.StatusCode)
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Error(err)
	}
	if got := a.tenant.RequestCount(devtenant.EndpointGetUser); got != 1 {
		t.Errorf("%d upstream reads for %d concurrent misses, want 1", got, n)
	}
	// linkbff got its Management API token at startup.
	if got := a.tenant.RequestCount(devtenant.EndpointToken); got != 0 {
		t.Errorf("%d Management API token requests, want 0 (fetched at startup)", got)
	}
}

// The caller's own account gone from Auth0 after its token was issued (here: linked
// into another account) is the caller's concern: 404 account_not_found on every
// operation that reads or changes it, never a 502.
func TestCallerAccountGoneIsAccountNotFound(t *testing.T) {
	a := startApp(t, map[string]string{"IDENTITY_CACHE_TTL": "0s"}, nil)
	alice := a.accessToken("auth0|alice")
	nonce := a.nonce(alice)
	secondary := a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: nonce}).IDToken
	if err := a.tenant.LinkUsers("auth0|bob", "auth0|alice"); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, a.do("GET", "/me/identities", alice, nil), http.StatusNotFound, "account_not_found")
	wantProblem(t, a.do("POST", "/me/identities", alice, map[string]string{"link_with": secondary}), http.StatusNotFound, "account_not_found")
	wantProblem(t, a.do("DELETE", "/me/identities/github/4242", alice, nil), http.StatusNotFound, "account_not_found")
	// Signing in again as alice yields bob, the account alice now belongs to.
	if r := a.do("GET", "/me/identities", a.accessToken("auth0|alice"), nil); r.status != http.StatusOK || r.json(t)["user_id"] != "auth0|bob" {
		t.Errorf("after signing in again: %d %s, want bob's identities", r.status, r.body)
	}
}

// A Management API token Auth0 stops accepting (its signing key rotated out) is
// replaced once and the call sent again: the caller sees its answer, not a 401 or
// 502. A fresh token refused too is the answer (502 upstream_error), and the token
// endpoint is not asked again for every request.
func TestManagementTokenRenewedOnce(t *testing.T) {
	a := startApp(t, map[string]string{"IDENTITY_CACHE_TTL": "0s"}, nil)
	if r := a.do("GET", "/me/identities", a.accessToken("auth0|alice"), nil); r.status != http.StatusOK {
		t.Fatalf("warm-up: %d %s", r.status, r.body)
	}
	for _, step := range []devtenant.KeyRotationStep{devtenant.SwitchSigningKey, devtenant.RevokeOldKeys} {
		if err := a.tenant.RotateKeys(step); err != nil {
			t.Fatal(err)
		}
	}
	alice := a.accessToken("auth0|alice") // signed with the new key
	a.tenant.ResetRequests()
	if r := a.do("GET", "/me/identities", alice, nil); r.status != http.StatusOK {
		t.Fatalf("after the rotation: %d %s, want 200", r.status, r.body)
	}
	if got := a.tenant.RequestCount(devtenant.EndpointToken); got != 1 {
		t.Errorf("%d token requests, want 1 (the revoked token renewed once)", got)
	}
	if got := a.tenant.RequestCount(devtenant.EndpointGetUser); got != 2 {
		t.Errorf("%d user reads, want 2 (refused, then sent again)", got)
	}

	// Every token refused (a fault that answers 401 whatever the token).
	a.tenant.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Status: http.StatusUnauthorized})
	t.Cleanup(a.tenant.ClearFaults)
	a.tenant.ResetRequests()
	for range 3 {
		wantProblem(t, a.do("GET", "/me/identities", alice, nil), http.StatusBadGateway, "upstream_error")
	}
	if got := a.tenant.RequestCount(devtenant.EndpointToken); got != 0 {
		t.Errorf("%d token requests within 30s of the last renewal, want 0", got)
	}
}
