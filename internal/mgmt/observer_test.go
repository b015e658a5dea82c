package mgmt_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/mgmt"
)

// recorder is an Observer that writes down what it is told, one line per event.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) Request(ep mgmt.Endpoint, status int, took time.Duration) {
	if took <= 0 {
		r.add("request %s %d took %v", ep, status, took)
		return
	}
	r.add("request %s %d", ep, status)
}
func (r *recorder) Retry(ep mgmt.Endpoint, reason string) { r.add("retry %s %s", ep, reason) }
func (r *recorder) TokenFetch(result string)              { r.add("token fetch %s", result) }
func (r *recorder) Paced(_ time.Duration, refused bool) {
	if refused {
		r.add("paced: refused")
		return
	}
	r.add("paced")
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// The observer hears of every request by endpoint (never by path) with its status,
// of each retry and why, of each token fetch and of each pacing decision.
func TestObserverIsToldEverything(t *testing.T) {
	dropConnection := func(w http.ResponseWriter, _ *http.Request) {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}
	refuseToken := func(f *fake) {
		f.token = func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "access_denied", "error_description": "Unauthorized"})
		}
	}
	tests := []struct {
		name   string
		api    http.HandlerFunc
		opts   []func(*fake)
		budget mgmt.Budget
		call   func(context.Context, *mgmt.Client) error
		want   []string
	}{
		{
			name: "a 429 retried",
			api:  sequence(tooMany("Retry-After", "0"), writeRaw(http.StatusOK, userJSON)),
			call: func(ctx context.Context, c *mgmt.Client) error { _, err := c.GetUser(ctx, "auth0|a"); return err },
			want: []string{"paced", "request token 200", "token fetch ok", "request get_user 429", "retry get_user rate_limited", "paced", "request get_user 200"},
		},
		{
			name: "a 401 renews the token",
			api: func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Authorization") == "Bearer mgmt-token-1" {
					writeJSON(w, http.StatusUnauthorized, auth0Error(401, "Unauthorized", "Invalid token", ""))
					return
				}
				writeRaw(http.StatusOK, userJSON)(w, r)
			},
			call: func(ctx context.Context, c *mgmt.Client) error {
				return c.UpdateUserMetadata(ctx, "auth0|a", map[string]any{"k": "v"})
			},
			want: []string{"paced", "request token 200", "token fetch ok", "request patch_user 401", "retry patch_user token_renewed",
				"paced", "request token 200", "token fetch ok", "request patch_user 200"},
		},
		{
			name: "no answer",
			api:  dropConnection,
			call: func(ctx context.Context, c *mgmt.Client) error {
				_, err := c.LinkWithToken(ctx, "auth0|a", "tok")
				return err
			},
			want: []string{"paced", "request token 200", "token fetch ok", "request link 0"},
		},
		{
			name: "credentials refused",
			api:  writeRaw(http.StatusOK, identitiesJSON),
			opts: []func(*fake){refuseToken},
			call: func(ctx context.Context, c *mgmt.Client) error {
				_, err := c.Unlink(ctx, "auth0|a", "github", "1")
				return err
			},
			want: []string{"paced", "request token 401", "token fetch refused"},
		},
		{
			name:   "refused by the budget",
			api:    writeRaw(http.StatusOK, userJSON),
			budget: &fakeBudget{refuse: true, retryAfter: time.Second},
			call: func(ctx context.Context, c *mgmt.Client) error {
				_, err := c.UsersByEmail(ctx, "a@example.com")
				return err
			},
			want: []string{"paced: refused"},
		},
		{
			name: "users by email and unlink",
			api: func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodDelete {
					writeRaw(http.StatusOK, identitiesJSON)(w, r)
					return
				}
				writeRaw(http.StatusOK, "["+userJSON+"]")(w, r)
			},
			call: func(ctx context.Context, c *mgmt.Client) error {
				if _, err := c.UsersByEmail(ctx, "a@example.com"); err != nil {
					return err
				}
				_, err := c.Unlink(ctx, "auth0|a", "github", "1")
				return err
			},
			want: []string{"paced", "request token 200", "token fetch ok", "request users_by_email 200", "paced", "request unlink 200"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.api, tt.opts...)
			rec := &recorder{}
			c := newClient(t, f, fakeClock, func(cfg *mgmt.Config) { cfg.Observer, cfg.Budget = rec, tt.budget })
			_ = tt.call(t.Context(), c)
			if diff := cmp.Diff(tt.want, rec.got()); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}
