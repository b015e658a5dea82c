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
func (r *recorder) Paced(_ time.Duration, outcome string) {
	if outcome != mgmt.PaceGranted {
		r.add("paced: %s", outcome)
		return
	}
	r.add("paced")
}

// budgetFunc is a Budget that answers what take says.
type budgetFunc func(ctx context.Context) (bool, time.Duration, error)

func (f budgetFunc) Take(ctx context.Context) (bool, time.Duration, error) { return f(ctx) }

// grantThen grants the first n slots, then answers every Take with refused or err.
func grantThen(n int, err error) mgmt.Budget {
	var mu sync.Mutex
	return budgetFunc(func(context.Context) (bool, time.Duration, error) {
		mu.Lock()
		defer mu.Unlock()
		if n > 0 {
			n--
			return true, 0, nil
		}
		return false, time.Minute, err
	})
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
			want: []string{"paced", "request token 200", "token fetch ok", "request get_user 429", "paced", "retry get_user rate_limited", "request get_user 200"},
		},
		{
			// No retry is counted when its slot is refused: nothing was sent again.
			name:   "a 429 whose retry the budget refuses",
			api:    sequence(tooMany("Retry-After", "0"), writeRaw(http.StatusOK, userJSON)),
			budget: grantThen(1, nil),
			call:   func(ctx context.Context, c *mgmt.Client) error { _, err := c.GetUser(ctx, "auth0|a"); return err },
			want:   []string{"paced", "request token 200", "token fetch ok", "request get_user 429", "paced: refused"},
		},
		{
			name: "a 401 whose retry the budget refuses",
			api: func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusUnauthorized, auth0Error(401, "Unauthorized", "Invalid token", ""))
			},
			budget: grantThen(1, nil),
			call:   func(ctx context.Context, c *mgmt.Client) error { _, err := c.GetUser(ctx, "auth0|a"); return err },
			want:   []string{"paced", "request token 200", "token fetch ok", "request get_user 401", "paced: refused"},
		},
		{
			name:   "the caller gone while waiting for the budget",
			api:    writeRaw(http.StatusOK, userJSON),
			budget: grantThen(0, context.Canceled),
			call:   func(ctx context.Context, c *mgmt.Client) error { _, err := c.GetUser(ctx, "auth0|a"); return err },
			want:   []string{"paced: cancelled"},
		},
		{
			// The first answer says no request is left until 1s from now: the
			// next waits for that, and its caller is gone.
			name: "the caller gone while waiting for the tenant's rate limit",
			api: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", unix(fakeNow.Add(time.Second)))
				writeRaw(http.StatusOK, userJSON)(w, r)
			},
			call: func(ctx context.Context, c *mgmt.Client) error {
				if _, err := c.GetUser(ctx, "auth0|a"); err != nil {
					return err
				}
				gone, cancel := context.WithCancel(ctx)
				cancel()
				_, err := c.GetUser(gone, "auth0|a")
				return err
			},
			want: []string{"paced", "request token 200", "token fetch ok", "request get_user 200", "paced: cancelled"},
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
			want: []string{"paced", "request token 200", "token fetch ok", "request patch_user 401",
				"paced", "request token 200", "token fetch ok", "retry patch_user token_renewed", "request patch_user 200"},
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
