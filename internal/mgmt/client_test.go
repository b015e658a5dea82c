package mgmt_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/mgmt"
	"github.com/linkbff/linkbff/internal/testkit"
)

func TestNewValidatesConfig(t *testing.T) {
	valid := mgmt.Config{Domain: "https://tenant.auth0.com", ClientID: "id", ClientSecret: testSecret}
	tests := []struct {
		name string
		edit func(*mgmt.Config)
	}{
		{"no domain", func(c *mgmt.Config) { c.Domain = "" }},
		{"bare host", func(c *mgmt.Config) { c.Domain = "tenant.auth0.com" }},
		{"other scheme", func(c *mgmt.Config) { c.Domain = "ftp://tenant.auth0.com" }},
		{"query", func(c *mgmt.Config) { c.Domain = "https://tenant.auth0.com?x=1" }},
		{"userinfo", func(c *mgmt.Config) { c.Domain = "https://u:p@tenant.auth0.com" }},
		{"no client id", func(c *mgmt.Config) { c.ClientID = "" }},
		{"no client secret", func(c *mgmt.Config) { c.ClientSecret = "" }},
		{"negative call timeout", func(c *mgmt.Config) { c.CallTimeout = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			if _, err := mgmt.New(cfg); err == nil {
				t.Errorf("New(%+v) succeeded, want an error", cfg)
			} else if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error leaks the client secret: %v", err)
			}
		})
	}
	for _, domain := range []string{"https://tenant.auth0.com", "https://tenant.auth0.com/", "http://127.0.0.1:4000"} {
		cfg := valid
		cfg.Domain = domain
		if _, err := mgmt.New(cfg); err != nil {
			t.Errorf("New with Domain %q: %v", domain, err)
		}
	}
}

func TestTokenRequest(t *testing.T) {
	tests := []struct {
		name         string
		audience     string // Config.Audience
		wantAudience func(f *fake) string
	}{
		{"default audience", "", func(f *fake) string { return f.srv.URL + "/api/v2/" }},
		{"custom domain keeps the canonical audience", "https://tenant.auth0.com/api/v2/", func(*fake) string { return "https://tenant.auth0.com/api/v2/" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var basic atomic.Bool
			f := newFake(t, writeRaw(http.StatusOK, userJSON), func(f *fake) {
				f.token = func(w http.ResponseWriter, r *http.Request) {
					_, _, ok := r.BasicAuth()
					basic.Store(ok)
					writeJSON(w, http.StatusOK, map[string]any{"access_token": "mgmt-token-1", "expires_in": 86400, "token_type": "Bearer"})
				}
			})
			c := newClient(t, f, func(c *mgmt.Config) {
				c.Domain = f.srv.URL + "/" // a trailing slash must not double up
				c.Audience = tt.audience
			})
			if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			want := []url.Values{{
				"grant_type":    {"client_credentials"},
				"client_id":     {testClientID},
				"client_secret": {testSecret},
				"audience":      {tt.wantAudience(f)},
			}}
			if diff := cmp.Diff(want, f.forms()); diff != "" {
				t.Errorf("token request form (-want +got):\n%s", diff)
			}
			if basic.Load() {
				t.Error("credentials sent with HTTP Basic; want them in the form")
			}
			if got := f.requests()[0].RequestURI; got != "/api/v2/users/auth0%7Ca" {
				t.Errorf("API request URI = %q", got)
			}
		})
	}
}

func TestTokenCachedAcrossCalls(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusOK, userJSON))
	c := newClient(t, f)
	for range 5 {
		if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
			t.Fatalf("GetUser: %v", err)
		}
	}
	if n := f.tokenRequests.Load(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	for _, r := range f.requests() {
		if r.Auth != "Bearer mgmt-token-1" {
			t.Errorf("Authorization = %q, want the one cached token", r.Auth)
		}
	}
}

func TestTokenFetchedOnceForConcurrentCalls(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusOK, userJSON))
	c := newClient(t, f)
	const n = 32
	errs := testkit.Parallel(t, n, func(int) error {
		_, err := c.GetUser(context.Background(), "auth0|a")
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Errorf("GetUser: %v", err)
		}
	}
	if got := f.tokenRequests.Load(); got != 1 {
		t.Errorf("token requests = %d, want 1", got)
	}
	if got := f.apiRequests.Load(); got != n {
		t.Errorf("API requests = %d, want %d", got, n)
	}
}

// A token whose remaining life is inside oauth2's early-expiry window is not
// used again: the next call fetches a fresh one.
func TestTokenRefreshedNearExpiry(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusOK, userJSON), func(f *fake) { f.expiresIn = 5 })
	c := newClient(t, f)
	for range 2 {
		if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
			t.Fatalf("GetUser: %v", err)
		}
	}
	var got []string
	for _, r := range f.requests() {
		got = append(got, r.Auth)
	}
	if diff := cmp.Diff([]string{"Bearer mgmt-token-1", "Bearer mgmt-token-2"}, got); diff != "" {
		t.Errorf("Authorization headers (-want +got):\n%s", diff)
	}
}

func TestTokenEndpointFailure(t *testing.T) {
	tests := []struct {
		name        string
		token       http.HandlerFunc
		wantStatus  int
		wantTimeout bool
	}{
		{
			name: "access denied",
			token: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusForbidden, map[string]any{"error": "access_denied", "error_description": "Client is not authorized to access this API"})
			},
			wantStatus: http.StatusForbidden,
		},
		{
			name: "error description echoes the secret",
			token: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client", "error_description": "bad secret " + r.PostForm.Get("client_secret")})
			},
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "5xx with a body echoing the form",
			token: func(w http.ResponseWriter, r *http.Request) {
				writeRaw(http.StatusBadGateway, "upstream said: "+r.PostForm.Encode())(w, r)
			},
			wantStatus: http.StatusBadGateway,
		},
		{
			name:       "200 without a token",
			token:      writeRaw(http.StatusOK, `{"token_type":"Bearer"}`),
			wantStatus: 0,
		},
		{
			name:        "hangs",
			token:       hang,
			wantTimeout: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, writeRaw(http.StatusOK, userJSON), func(f *fake) { f.token = tt.token })
			c := newClient(t, f, func(c *mgmt.Config) { c.CallTimeout = 100 * time.Millisecond })
			_, err := c.GetUser(t.Context(), "auth0|a")
			ue, ok := errors.AsType[*mgmt.UnavailableError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *UnavailableError", err, err)
			}
			if ue.StatusCode != tt.wantStatus || ue.Timeout != tt.wantTimeout {
				t.Errorf("UnavailableError{StatusCode: %d, Timeout: %v}, want {%d, %v}", ue.StatusCode, ue.Timeout, tt.wantStatus, tt.wantTimeout)
			}
			wantKind := fault.Unavailable
			if tt.wantTimeout {
				wantKind = fault.Timeout
			}
			if k := fault.FailureOf(err).Kind; k != wantKind {
				t.Errorf("FailureOf(err).Kind = %s, want %s", k, wantKind)
			}
			if msg := fmt.Sprintf("%v %+v", err, err); strings.Contains(msg, testSecret) {
				t.Errorf("error leaks the client secret: %s", msg)
			}
			if n := f.apiRequests.Load(); n != 0 {
				t.Errorf("API requests = %d, want 0", n)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(context.Context, *mgmt.Client) error
		want    *mgmt.APIError
		kind    fault.Kind // what the refusal means to the linking rules
	}{
		{
			name: "user not found",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusNotFound, auth0Error(404, "Not Found", "The user does not exist.", "inexistent_user"))
			},
			call: func(ctx context.Context, c *mgmt.Client) error { _, err := c.GetUser(ctx, "auth0|nobody"); return err },
			want: &mgmt.APIError{StatusCode: 404, Message: "The user does not exist.", ErrorCode: "inexistent_user"},
			kind: fault.NotFound,
		},
		{
			name: "main identity",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusBadRequest, auth0Error(400, "Bad Request", "Main identity cannot be removed.", ""))
			},
			call: func(ctx context.Context, c *mgmt.Client) error {
				_, err := c.Unlink(ctx, "auth0|a", "auth0", "a")
				return err
			},
			want: &mgmt.APIError{StatusCode: 400, Message: "Main identity cannot be removed."},
			kind: fault.Invalid,
		},
		{
			name: "already linked",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusConflict, auth0Error(409, "Conflict", "Specified identity already exists.", ""))
			},
			call: func(ctx context.Context, c *mgmt.Client) error {
				_, err := c.LinkIdentity(ctx, "auth0|a", "github", "1")
				return err
			},
			want: &mgmt.APIError{StatusCode: 409, Message: "Specified identity already exists."},
			kind: fault.Conflict,
		},
		{
			name: "link_with audience",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusBadRequest, auth0Error(400, "Bad Request", "JWT (link_with) must have an aud claim that matches that of the calling token's azp.", "invalid_body"))
			},
			call: func(ctx context.Context, c *mgmt.Client) error {
				_, err := c.LinkWithToken(ctx, "auth0|a", "tok")
				return err
			},
			want: &mgmt.APIError{StatusCode: 400, Message: "JWT (link_with) must have an aud claim that matches that of the calling token's azp.", ErrorCode: "invalid_body"},
			kind: fault.Invalid,
		},
		{
			name: "insufficient scope",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusForbidden, auth0Error(403, "Forbidden", "Insufficient scope, expected any of: update:users", "insufficient_scope"))
			},
			call: func(ctx context.Context, c *mgmt.Client) error {
				return c.UpdateUserMetadata(ctx, "auth0|a", map[string]any{"a": 1})
			},
			want: &mgmt.APIError{StatusCode: 403, Message: "Insufficient scope, expected any of: update:users", ErrorCode: "insufficient_scope"},
			kind: fault.Refused,
		},
		{
			name:    "only an error title",
			handler: writeRaw(http.StatusBadRequest, `{"statusCode":400,"error":"Bad Request"}`),
			call:    func(ctx context.Context, c *mgmt.Client) error { _, err := c.GetUser(ctx, "auth0|a"); return err },
			want:    &mgmt.APIError{StatusCode: 400, Message: "Bad Request"},
			kind:    fault.Invalid,
		},
		{
			name:    "not Auth0-shaped",
			handler: writeRaw(http.StatusForbidden, `<html><body>blocked by proxy</body></html>`),
			call:    func(ctx context.Context, c *mgmt.Client) error { _, err := c.GetUser(ctx, "auth0|a"); return err },
			want:    &mgmt.APIError{StatusCode: 403, Message: "Forbidden"},
			kind:    fault.Refused,
		},
		{
			name:    "empty body",
			handler: writeRaw(http.StatusUnauthorized, ""),
			call:    func(ctx context.Context, c *mgmt.Client) error { _, err := c.GetUser(ctx, "auth0|a"); return err },
			want:    &mgmt.APIError{StatusCode: 401, Message: "Unauthorized"},
			kind:    fault.Refused,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handler)
			c := newClient(t, f)
			err := tt.call(t.Context(), c)
			got, ok := errors.AsType[*mgmt.APIError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(fault.Failure{Kind: tt.kind, Message: tt.want.Message}, fault.FailureOf(err)); diff != "" {
				t.Errorf("FailureOf (-want +got):\n%s", diff)
			}
			if msg := err.Error(); !strings.Contains(msg, strconv.Itoa(tt.want.StatusCode)) || !strings.Contains(msg, tt.want.Message) {
				t.Errorf("Error() = %q, want status and message in it", msg)
			}
			// A 4xx is not retried, but for a 401, which is sent again once with a
			// fresh token (TestUnauthorizedRenewsTheToken).
			want := int32(1)
			if tt.want.StatusCode == http.StatusUnauthorized {
				want = 2
			}
			if n := f.apiRequests.Load(); n != want {
				t.Errorf("API requests = %d, want %d", n, want)
			}
		})
	}
}

// 5xx is not retried: link and unlink are not idempotent, and a failing
// upstream needs less traffic, not more.
func TestServerErrorNotRetried(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "0")
				writeJSON(w, status, auth0Error(status, http.StatusText(status), "oops", ""))
			})
			c := newClient(t, f)
			_, err := c.LinkWithToken(t.Context(), "auth0|a", "tok")
			ue, ok := errors.AsType[*mgmt.UnavailableError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *UnavailableError", err, err)
			}
			if ue.StatusCode != status || ue.Timeout {
				t.Errorf("UnavailableError{StatusCode: %d, Timeout: %v}, want {%d, false}", ue.StatusCode, ue.Timeout, status)
			}
			if n := f.apiRequests.Load(); n != 1 {
				t.Errorf("API requests = %d, want 1", n)
			}
		})
	}
}

func TestUndecodableAnswer(t *testing.T) {
	tests := map[string]string{
		"not JSON":      `<html>maintenance</html>`,
		"trailing data": `{"user_id":"auth0|a"} {"user_id":"auth0|b"}`,
		"wrong shape":   `[1,2,3]`,
		"too large":     `{"user_id":"auth0|a","name":"` + strings.Repeat("x", 1<<20) + `"}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFake(t, writeRaw(http.StatusOK, body))
			c := newClient(t, f)
			_, err := c.GetUser(t.Context(), "auth0|a")
			ue, ok := errors.AsType[*mgmt.UnavailableError](err)
			if !ok || ue.StatusCode != http.StatusOK || ue.Timeout {
				t.Fatalf("err = %#v, want UnavailableError{StatusCode: 200}", err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	t.Run("call timeout", func(t *testing.T) {
		f := newFake(t, hang)
		c := newClient(t, f, func(c *mgmt.Config) { c.CallTimeout = 50 * time.Millisecond })
		_, err := c.GetUser(t.Context(), "auth0|a")
		assertTimeout(t, err)
	})
	t.Run("caller deadline shorter than call timeout", func(t *testing.T) {
		f := newFake(t, hang)
		c := newClient(t, f, func(c *mgmt.Config) { c.CallTimeout = time.Minute })
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Unlink(ctx, "auth0|a", "github", "1")
		assertTimeout(t, err)
	})
}

func assertTimeout(t *testing.T, err error) {
	t.Helper()
	ue, ok := errors.AsType[*mgmt.UnavailableError](err)
	if !ok {
		t.Fatalf("err = %v (%T), want *UnavailableError", err, err)
	}
	if !ue.Timeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("UnavailableError{Timeout: %v, Err: %v}, want a timeout wrapping context.DeadlineExceeded", ue.Timeout, ue.Err)
	}
}

func TestConnectionDropped(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	})
	c := newClient(t, f)
	_, err := c.LinkWithToken(t.Context(), "auth0|a", "tok")
	ue, ok := errors.AsType[*mgmt.UnavailableError](err)
	if !ok || ue.Timeout || ue.StatusCode != 0 || ue.Err == nil {
		t.Fatalf("err = %#v, want UnavailableError{StatusCode: 0, Timeout: false, Err: …}", err)
	}
	if n := f.apiRequests.Load(); n != 1 {
		t.Errorf("API requests = %d, want 1 (a POST is never resent)", n)
	}
}

func TestRateLimitRemaining(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "50")
		w.Header().Set("X-RateLimit-Remaining", "41")
		w.Header().Set("X-RateLimit-Reset", "1700000000")
		writeRaw(http.StatusOK, userJSON)(w, r)
	})
	c := newClient(t, f)
	if n, ok := c.RateLimitRemaining(); ok {
		t.Errorf("before any call: RateLimitRemaining() = %d, true; want not ok", n)
	}
	if _, err := c.GetUser(t.Context(), "auth0|a"); err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if n, ok := c.RateLimitRemaining(); !ok || n != 41 {
		t.Errorf("RateLimitRemaining() = %d, %v; want 41, true", n, ok)
	}
}
