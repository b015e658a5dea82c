package identity_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/reqlog"
	"github.com/linkbff/linkbff/internal/store/memstore"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	alice    = "auth0|alice"
	clientID = "bff-client"
	cacheTTL = time.Minute
)

// fixture is a Service over a fake Management API, a fake token verifier and the
// memory store, all on one fake clock.
type fixture struct {
	clock *testkit.Clock
	up    *fakeUpstream
	ver   *fakeVerifier
	store *memstore.Store
	svc   *identity.Service
}

func newFixture(t *testing.T, configure func(*identity.Config)) *fixture {
	t.Helper()
	clock := testkit.NewClock()
	loggedIn := clock.Now().Add(-time.Minute)
	up := &fakeUpstream{
		users: map[string]*account.User{
			alice: {
				UserID: alice, Email: "alice@example.com", EmailVerified: true, Name: "Alice", Picture: "https://img.example/alice",
				Identities:   []account.Identity{{Provider: "auth0", UserID: "alice", Connection: "Username-Password-Authentication"}},
				UserMetadata: map[string]any{"theme": "dark"},
			},
			"google-oauth2|1077": {
				UserID:       "google-oauth2|1077",
				Identities:   []account.Identity{{Provider: "google-oauth2", UserID: "1077", Connection: "google-oauth2", IsSocial: true}},
				UserMetadata: map[string]any{"theme": "light", "lang": "fr"},
			},
			"github|4242": {
				UserID:       "github|4242",
				Identities:   []account.Identity{{Provider: "github", UserID: "4242", Connection: "github", IsSocial: true}},
				UserMetadata: map[string]any{"theme": "light"},
			},
			"oauth2|conn|id": {
				UserID:     "oauth2|conn|id",
				Identities: []account.Identity{{Provider: "oauth2", UserID: "conn|id", Connection: "conn"}},
			},
		},
		linked: []account.Identity{
			{Provider: "auth0", UserID: "alice", Connection: "Username-Password-Authentication"},
			{Provider: "google-oauth2", UserID: "1077", Connection: "google-oauth2", IsSocial: true,
				Profile: &account.Profile{Email: "alice@gmail.example", EmailVerified: true, Name: "Alice G", Picture: "https://img.example/g"}},
		},
	}
	ver := &fakeVerifier{tokens: map[string]account.IDToken{
		"tok-google": {Subject: "google-oauth2|1077", Audience: clientID, EmailVerified: true, IssuedAt: loggedIn},
		"tok-github": {Subject: "github|4242", Audience: clientID, EmailVerified: true, IssuedAt: loggedIn},
		"tok-native": {Subject: "oauth2|conn|id", Audience: "native-client", EmailVerified: true, IssuedAt: loggedIn},
	}}
	cfg := identity.Config{
		ClientID:             clientID,
		MaxAge:               5 * time.Minute,
		RequireVerifiedEmail: true,
		NonceTTL:             5 * time.Minute,
		CacheTTL:             cacheTTL,
		Now:                  clock.Now,
	}
	if configure != nil {
		configure(&cfg)
	}
	store := memstore.New(memstore.Options{Now: clock.Now})
	return &fixture{clock: clock, up: up, ver: ver, store: store, svc: identity.New(cfg, up, ver, store)}
}

func (f *fixture) wantCalls(t *testing.T, want ...string) {
	t.Helper()
	if diff := cmp.Diff(want, f.up.callLog()); diff != "" {
		t.Errorf("Management API calls (-want +got):\n%s", diff)
	}
}

// wantProblem checks that err is the fault a client sees as a status code problem
// (the HTTP edge's table gives each code its status).
func wantProblem(t *testing.T, err error, status int, code fault.Code) *fault.Error {
	t.Helper()
	p := fault.From(err)
	if got := problem.Status(p.Code); got != status || p.Code != code {
		t.Errorf("problem %d %s (%v), want %d %s", got, p.Code, p, status, code)
	}
	return p
}

// The views the service returns, sealed: every view it hands out carries its Doc.
var (
	aliceView = identity.Seal(identity.View{UserID: alice, Identities: []identity.Identity{
		{Provider: "auth0", UserID: "alice", Connection: "Username-Password-Authentication", Primary: true,
			Profile: identity.Profile{Email: "alice@example.com", EmailVerified: true, Name: "Alice", Picture: "https://img.example/alice"}},
	}})
	linkedView = identity.Seal(identity.View{UserID: alice, Identities: []identity.Identity{
		aliceView.Identities[0],
		{Provider: "google-oauth2", UserID: "1077", Connection: "google-oauth2", IsSocial: true,
			Profile: identity.Profile{Email: "alice@gmail.example", EmailVerified: true, Name: "Alice G", Picture: "https://img.example/g"}},
	}})
)

func TestLinkCallsUpstreamInOrder(t *testing.T) {
	tests := []struct {
		name, token string
		want        []string
	}{
		{"own client: metadata merged first, then link_with", "tok-google", []string{
			"GetUser auth0|alice",
			"GetUser google-oauth2|1077",
			`UpdateUserMetadata auth0|alice {"lang":"fr"}`,
			"LinkWithToken auth0|alice tok-google",
		}},
		{"primary wins every key: no PATCH", "tok-github", []string{
			"GetUser auth0|alice",
			"GetUser github|4242",
			"LinkWithToken auth0|alice tok-github",
		}},
		{"other client: provider and user_id split at the first |", "tok-native", []string{
			"GetUser auth0|alice",
			"GetUser oauth2|conn|id",
			"LinkIdentity auth0|alice oauth2 conn|id",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			v, err := f.svc.Link(quietCtx(), alice, tt.token)
			if err != nil {
				t.Fatalf("Link: %v", err)
			}
			f.wantCalls(t, tt.want...)
			if diff := cmp.Diff(linkedView, v); diff != "" {
				t.Errorf("view (-want +got):\n%s", diff)
			}
			// The answer is cached: the next read needs no upstream call.
			f.up.resetCalls()
			if v, err := f.svc.List(quietCtx(), alice); err != nil || !cmp.Equal(linkedView, v) {
				t.Errorf("List after Link = %+v, %v; want the linked view", v, err)
			}
			f.wantCalls(t)
		})
	}
}

func TestLinkUpstreamFailures(t *testing.T) {
	full := []string{"GetUser auth0|alice", "GetUser google-oauth2|1077", `UpdateUserMetadata auth0|alice {"lang":"fr"}`, "LinkWithToken auth0|alice tok-google"}
	tests := []struct {
		name       string
		fail       map[string]error
		status     int
		code       fault.Code
		retryAfter time.Duration
		calls      []string
	}{
		{"link 409", map[string]error{"LinkWithToken": fault.Failure{Kind: fault.Conflict, Message: "Specified identity already exists."}},
			409, fault.IdentityExists, 0, full},
		{"link 400", map[string]error{"LinkWithToken": fault.Failure{Kind: fault.Invalid, Message: "JWT (link_with) must have an alg of RS256."}},
			400, fault.InvalidLinkToken, 0, full},
		{"link 403", map[string]error{"LinkWithToken": fault.Failure{Kind: fault.Refused, Message: "Insufficient scope"}},
			502, fault.UpstreamError, 0, full},
		{"link rate limited without a hint", map[string]error{"LinkWithToken": fault.Failure{Kind: fault.RateLimited}},
			503, fault.UpstreamRateLimited, time.Second, full},
		{"link rate limited for 7s", map[string]error{"LinkWithToken": fault.Failure{Kind: fault.RateLimited, RetryAfter: 7 * time.Second}},
			503, fault.UpstreamRateLimited, 7 * time.Second, full},
		{"link timeout", map[string]error{"LinkWithToken": fault.Failure{Kind: fault.Timeout}},
			504, fault.UpstreamTimeout, 0, full},
		{"link deadline", map[string]error{"LinkWithToken": fmt.Errorf("link: %w", context.DeadlineExceeded)},
			504, fault.UpstreamTimeout, 0, full},
		{"link 500", map[string]error{"LinkWithToken": fault.Failure{Kind: fault.Unavailable}},
			502, fault.UpstreamUnavailable, 0, full},
		{"primary read rate limited", map[string]error{"GetUser auth0|alice": fault.Failure{Kind: fault.RateLimited}},
			503, fault.UpstreamRateLimited, time.Second, full[:1]},
		{"secondary gone", map[string]error{"GetUser google-oauth2|1077": fault.Failure{Kind: fault.NotFound, Message: "The user does not exist."}},
			400, fault.InvalidLinkToken, 0, full[:2]},
		{"secondary read timeout", map[string]error{"GetUser google-oauth2|1077": fault.Failure{Kind: fault.Timeout}},
			504, fault.UpstreamTimeout, 0, full[:2]},
		{"PATCH fails: no link", map[string]error{"UpdateUserMetadata": fault.Failure{Kind: fault.Unavailable}},
			502, fault.UpstreamUnavailable, 0, full[:3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.up.fail = tt.fail
			_, err := f.svc.Link(quietCtx(), alice, "tok-google")
			p := wantProblem(t, err, tt.status, tt.code)
			if p.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", p.RetryAfter, tt.retryAfter)
			}
			f.wantCalls(t, tt.calls...)
		})
	}
}

func TestLinkRefusalPassesAuth0Message(t *testing.T) {
	f := newFixture(t, nil)
	f.up.fail = map[string]error{"LinkWithToken": fault.Failure{Kind: fault.Invalid, Message: "JWT (link_with) must have the same issuer as the calling user."}}
	_, err := f.svc.Link(quietCtx(), alice, "tok-google")
	p := wantProblem(t, err, 400, fault.InvalidLinkToken)
	if !strings.Contains(p.Detail, "must have the same issuer as the calling user.") {
		t.Errorf("detail %q does not pass on Auth0's message", p.Detail)
	}
}

func TestLinkFailureDropsCachedView(t *testing.T) {
	f := newFixture(t, nil)
	if _, err := f.svc.List(quietCtx(), alice); err != nil {
		t.Fatal(err)
	}
	f.up.fail = map[string]error{"LinkWithToken": fault.Failure{Kind: fault.Unavailable}}
	if _, err := f.svc.Link(quietCtx(), alice, "tok-google"); err == nil {
		t.Fatal("Link succeeded")
	}
	// The PATCH may have changed the primary: the next read goes upstream.
	f.up.resetCalls()
	if _, err := f.svc.List(quietCtx(), alice); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, "GetUser auth0|alice")
}

func TestLinkRefusals(t *testing.T) {
	// token changes the claims the verifier returns for raw.
	token := func(raw string, change func(*account.IDToken)) func(*fixture) {
		return func(f *fixture) {
			tok := f.ver.tokens[raw]
			change(&tok)
			f.ver.tokens[raw] = tok
		}
	}
	tests := []struct {
		name      string
		configure func(*identity.Config)
		setup     func(*fixture)
		token     string
		status    int
		code      fault.Code
		calls     []string // Management API calls made before the refusal
	}{
		{name: "invalid ID token", token: "forged", status: 400, code: fault.InvalidLinkToken},
		{name: "JWKS unavailable: the verifier's answer is passed on", token: "tok-google",
			setup: func(f *fixture) {
				f.ver.err = fault.Wrap(errors.New("auth: fetching JWKS: connection refused"), fault.UpstreamUnavailable, "Auth0's signing keys cannot be fetched.")
			},
			status: 502, code: fault.UpstreamUnavailable},
		{name: "verifier fails without a kind", token: "tok-google",
			setup:  func(f *fixture) { f.ver.err = errors.New("a bug in the verifier") },
			status: 500, code: fault.Internal},
		{name: "login older than MaxAge", token: "tok-google",
			setup:  token("tok-google", func(tok *account.IDToken) { tok.IssuedAt = tok.IssuedAt.Add(-4*time.Minute - time.Second) }),
			status: 400, code: fault.LinkTokenTooOld},
		{name: "old auth_time wins over fresh iat", token: "tok-google",
			setup:  token("tok-google", func(tok *account.IDToken) { tok.AuthTime = tok.IssuedAt.Add(-5 * time.Minute) }),
			status: 400, code: fault.LinkTokenTooOld},
		{name: "the caller itself", token: "tok-google",
			setup:  token("tok-google", func(tok *account.IDToken) { tok.Subject = alice }),
			status: 409, code: fault.AlreadyLinked},
		{name: "unverified email", token: "tok-google",
			setup:  token("tok-google", func(tok *account.IDToken) { tok.EmailVerified = false }),
			status: 400, code: fault.EmailNotVerified},
		{name: "nonce required but absent", token: "tok-google",
			configure: func(c *identity.Config) { c.RequireNonce = true },
			status:    400, code: fault.NonceMismatch},
		{name: "nonce unknown", token: "tok-google",
			configure: func(c *identity.Config) { c.RequireNonce = true },
			setup:     token("tok-google", func(tok *account.IDToken) { tok.Nonce = "never-issued" }),
			status:    400, code: fault.NonceMismatch},
		{name: "identity already on the account", token: "tok-github",
			setup: func(f *fixture) {
				u := f.up.users[alice]
				u.Identities = append(u.Identities, account.Identity{Provider: "github", UserID: "4242", Connection: "github", IsSocial: true})
			},
			status: 409, code: fault.IdentityExists, calls: []string{"GetUser auth0|alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.configure)
			if tt.setup != nil {
				tt.setup(f)
			}
			_, err := f.svc.Link(quietCtx(), alice, tt.token)
			wantProblem(t, err, tt.status, tt.code)
			f.wantCalls(t, tt.calls...)
		})
	}
}

func TestLinkAtMaxAgeIsAccepted(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.ver.tokens["tok-google"]
	tok.IssuedAt = f.clock.Now().Add(-time.Hour)
	tok.AuthTime = f.clock.Now().Add(-5 * time.Minute) // a recent login in an older token
	f.ver.tokens["tok-google"] = tok
	if _, err := f.svc.Link(quietCtx(), alice, "tok-google"); err != nil {
		t.Fatalf("Link with auth_time exactly MaxAge ago: %v", err)
	}
}

func TestLinkWithoutVerifiedEmailPolicy(t *testing.T) {
	f := newFixture(t, func(c *identity.Config) { c.RequireVerifiedEmail = false })
	tok := f.ver.tokens["tok-google"]
	tok.EmailVerified = false
	f.ver.tokens["tok-google"] = tok
	if _, err := f.svc.Link(quietCtx(), alice, "tok-google"); err != nil {
		t.Fatalf("Link with the policy off: %v", err)
	}
}

func TestLinkNonceIsBoundToCallerAndUsedOnce(t *testing.T) {
	f := newFixture(t, func(c *identity.Config) { c.RequireNonce = true })
	withNonce := func(raw, nonce string) {
		tok := f.ver.tokens[raw]
		tok.Nonce = nonce
		tok.IssuedAt = f.clock.Now()
		f.ver.tokens[raw] = tok
	}
	bobs, err := f.svc.NewIntent(quietCtx(), "auth0|bob")
	if err != nil {
		t.Fatal(err)
	}
	withNonce("tok-google", bobs.Nonce)
	_, err = f.svc.Link(quietCtx(), alice, "tok-google")
	wantProblem(t, err, 400, fault.NonceMismatch)

	in, err := f.svc.NewIntent(quietCtx(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if in.ExpiresIn != 5*time.Minute || len(in.Nonce) < 32 || in.Nonce == bobs.Nonce {
		t.Errorf("intent %+v: want a fresh nonce of at least 32 characters that expires in 5m", in)
	}
	withNonce("tok-google", in.Nonce)
	if _, err := f.svc.Link(quietCtx(), alice, "tok-google"); err != nil {
		t.Fatalf("Link with alice's nonce: %v", err)
	}
	f.up.resetCalls()
	_, err = f.svc.Link(quietCtx(), alice, "tok-google")
	wantProblem(t, err, 400, fault.NonceMismatch)
	f.wantCalls(t)

	expiring, err := f.svc.NewIntent(quietCtx(), alice)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5*time.Minute + time.Second)
	withNonce("tok-github", expiring.Nonce)
	_, err = f.svc.Link(quietCtx(), alice, "tok-github")
	wantProblem(t, err, 400, fault.NonceMismatch)
}

// TestConcurrentLinksOfOneUserAreSerialized lets Management API calls through one at
// a time and checks that at every step only one call is in progress: a second link of
// the same user waits for the whole first link, not just for one of its calls.
func TestConcurrentLinksOfOneUserAreSerialized(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, nil)
		f.up.gate = make(chan struct{})
		errs := make(chan error, 2)
		for _, tok := range []string{"tok-google", "tok-github"} {
			go func() {
				_, err := f.svc.Link(quietCtx(), alice, tok)
				errs <- err
			}()
		}
		for done := 0; ; {
			synctest.Wait() // every goroutine is parked: at the gate, in Lock, or finished
			for finished := true; finished; {
				select {
				case err := <-errs:
					if err != nil {
						t.Errorf("Link: %v", err)
					}
					done++
				default:
					finished = false
				}
			}
			if done == 2 {
				break
			}
			if n := f.up.inFlight.Load(); n != 1 {
				t.Fatalf("%d Management API calls in progress, want 1; calls so far: %q", n, f.up.callLog())
			}
			f.up.gate <- struct{}{} // let the one waiting call through
		}
		google := []string{"GetUser auth0|alice", "GetUser google-oauth2|1077", `UpdateUserMetadata auth0|alice {"lang":"fr"}`, "LinkWithToken auth0|alice tok-google"}
		github := []string{"GetUser auth0|alice", "GetUser github|4242", "LinkWithToken auth0|alice tok-github"}
		got := f.up.callLog()
		if !cmp.Equal(append(google[:len(google):len(google)], github...), got) && !cmp.Equal(append(github[:len(github):len(github)], google...), got) {
			t.Errorf("the two links' calls interleaved: %q", got)
		}
	})
}

func TestListCachesViews(t *testing.T) {
	f := newFixture(t, nil)
	for i := range 2 {
		v, err := f.svc.List(quietCtx(), alice)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(aliceView, v); diff != "" {
			t.Errorf("List #%d (-want +got):\n%s", i+1, diff)
		}
	}
	f.wantCalls(t, "GetUser auth0|alice")

	f.clock.Advance(cacheTTL + time.Nanosecond)
	if _, err := f.svc.List(quietCtx(), alice); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, "GetUser auth0|alice", "GetUser auth0|alice")
}

func TestListWithoutCache(t *testing.T) {
	f := newFixture(t, func(c *identity.Config) { c.CacheTTL = 0 })
	for range 2 {
		if _, err := f.svc.List(quietCtx(), alice); err != nil {
			t.Fatal(err)
		}
	}
	f.wantCalls(t, "GetUser auth0|alice", "GetUser auth0|alice")
	if _, ok, _ := f.store.GetView(context.Background(), alice); ok {
		t.Error("a view was stored with the cache disabled")
	}
}

func TestListViewOfLinkedAccount(t *testing.T) {
	f := newFixture(t, nil)
	u := f.up.users[alice]
	u.Identities = f.up.linked
	v, err := f.svc.List(quietCtx(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(linkedView, v); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}
}

func TestListMapsUpstreamErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       fault.Code
		retryAfter time.Duration
	}{
		{"rate limited without a hint", fault.Failure{Kind: fault.RateLimited}, 503, fault.UpstreamRateLimited, time.Second},
		{"rate limited for 500ms", fault.Failure{Kind: fault.RateLimited, RetryAfter: 500 * time.Millisecond}, 503, fault.UpstreamRateLimited, time.Second},
		{"rate limited for 3s", fault.Failure{Kind: fault.RateLimited, RetryAfter: 3 * time.Second}, 503, fault.UpstreamRateLimited, 3 * time.Second},
		{"timeout", fault.Failure{Kind: fault.Timeout}, 504, fault.UpstreamTimeout, 0},
		{"deadline", fmt.Errorf("get: %w", context.DeadlineExceeded), 504, fault.UpstreamTimeout, 0},
		{"5xx", fault.Failure{Kind: fault.Unavailable}, 502, fault.UpstreamUnavailable, 0},
		{"connection refused", fault.Failure{Kind: fault.Unavailable, Message: "connection refused"}, 502, fault.UpstreamUnavailable, 0},
		// The caller's own user is gone: the caller's concern (sign in again), not Auth0's.
		{"caller's user not found", fault.Failure{Kind: fault.NotFound, Message: "The user does not exist."}, 404, fault.AccountNotFound, 0},
		{"refused by Auth0", fault.Failure{Kind: fault.Refused, Message: "Insufficient scope"}, 502, fault.UpstreamError, 0},
		{"anything else", errors.New("boom"), 500, fault.Internal, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.up.fail = map[string]error{"GetUser": tt.err}
			_, err := f.svc.List(quietCtx(), alice)
			p := wantProblem(t, err, tt.status, tt.code)
			if p.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", p.RetryAfter, tt.retryAfter)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("problem %v lost its cause %v", err, tt.err)
			}
			// Failures are not cached.
			f.up.fail = nil
			if _, err := f.svc.List(quietCtx(), alice); err != nil {
				t.Errorf("List after recovery: %v", err)
			}
			f.wantCalls(t, "GetUser auth0|alice", "GetUser auth0|alice")
		})
	}
}

func TestListCoalescesConcurrentMisses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, nil)
		f.up.gate = make(chan struct{})
		const n = 5
		views := make(chan identity.View, n)
		for range n {
			go func() {
				v, err := f.svc.List(quietCtx(), alice)
				if err != nil {
					t.Error(err)
				}
				views <- v
			}()
		}
		synctest.Wait()
		f.wantCalls(t, "GetUser auth0|alice")
		close(f.up.gate)
		for range n {
			if diff := cmp.Diff(aliceView, <-views); diff != "" {
				t.Errorf("view (-want +got):\n%s", diff)
			}
		}
		f.wantCalls(t, "GetUser auth0|alice")
	})
}

// newUnlinkFixture gives alice a linked GitHub identity; unlinking it leaves her alone.
func newUnlinkFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, nil)
	u := f.up.users[alice]
	u.Identities = append(u.Identities, account.Identity{Provider: "github", UserID: "4242", Connection: "github", IsSocial: true,
		Profile: &account.Profile{Name: "alice-gh"}})
	f.up.unlinked = u.Identities[:1]
	return f
}

func TestUnlinkRefusals(t *testing.T) {
	tests := []struct {
		name, provider, userID string
		status                 int
		code                   fault.Code
		calls                  []string
	}{
		{"primary identity", "auth0", "alice", 400, fault.PrimaryIdentity, []string{"GetUser auth0|alice"}},
		{"identity the caller lacks", "google-oauth2", "1077", 404, fault.IdentityNotFound, []string{"GetUser auth0|alice"}},
		{"another user's primary", "auth0", "bob", 404, fault.IdentityNotFound, []string{"GetUser auth0|alice"}},
		{"provider of a linked user_id", "gitlab", "4242", 404, fault.IdentityNotFound, []string{"GetUser auth0|alice"}},
		{"invalid path", "github", "..", 400, fault.InvalidPath, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newUnlinkFixture(t)
			_, err := f.svc.Unlink(quietCtx(), alice, tt.provider, tt.userID)
			wantProblem(t, err, tt.status, tt.code)
			f.wantCalls(t, tt.calls...)
		})
	}
}

func TestUnlinkUpdatesCache(t *testing.T) {
	f := newUnlinkFixture(t)
	if _, err := f.svc.List(quietCtx(), alice); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.Unlink(quietCtx(), alice, "github", "4242")
	if err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	if diff := cmp.Diff(aliceView, v); diff != "" {
		t.Errorf("Unlink view (-want +got):\n%s", diff)
	}
	f.wantCalls(t, "GetUser auth0|alice", "Unlink auth0|alice github 4242")

	f.up.resetCalls()
	v, err = f.svc.List(quietCtx(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(aliceView, v); diff != "" {
		t.Errorf("List after Unlink (-want +got):\n%s", diff)
	}
	f.wantCalls(t)
}

func TestUnlinkFailureDropsCachedView(t *testing.T) {
	f := newUnlinkFixture(t)
	f.up.fail = map[string]error{"Unlink": fault.Failure{Kind: fault.Timeout}}
	_, err := f.svc.Unlink(quietCtx(), alice, "github", "4242")
	wantProblem(t, err, 504, fault.UpstreamTimeout)
	f.up.fail = nil
	f.up.resetCalls()
	if _, err := f.svc.List(quietCtx(), alice); err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t, "GetUser auth0|alice")
}

func TestLinkAndUnlinkWriteOneAuditRecordWithoutTokens(t *testing.T) {
	f := newFixture(t, nil)
	const secret = "eyJhbGciOiJSUzI1NiJ9.secret-link-token.sig"
	f.ver.tokens[secret] = f.ver.tokens["tok-google"]
	var buf bytes.Buffer
	ctx := reqlog.With(context.Background(), slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))

	if _, err := f.svc.Link(ctx, alice, secret); err != nil {
		t.Fatal(err)
	}
	f.up.fail = map[string]error{"Unlink": fault.Failure{Kind: fault.Invalid, Message: "Main identity cannot be removed."}}
	f.up.users[alice].Identities = f.up.linked
	if err := f.store.DeleteView(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Unlink(ctx, alice, "google-oauth2", "1077"); err == nil {
		t.Fatal("Unlink succeeded")
	}

	if strings.Contains(buf.String(), "secret-link-token") {
		t.Errorf("the link token was logged:\n%s", buf.String())
	}
	type record struct {
		Audit    bool   `json:"audit"`
		Event    string `json:"event"`
		UserID   string `json:"user_id"`
		Identity string `json:"identity"`
		Outcome  string `json:"outcome"`
		Code     string `json:"code"`
	}
	var got []record
	for line := range strings.Lines(buf.String()) {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r.Audit {
			got = append(got, r)
		}
	}
	want := []record{
		{Audit: true, Event: "link", UserID: alice, Identity: "google-oauth2|1077", Outcome: "success"},
		{Audit: true, Event: "unlink", UserID: alice, Identity: "google-oauth2|1077", Outcome: "failure", Code: "upstream_error"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit records (-want +got):\n%s", diff)
	}
}
