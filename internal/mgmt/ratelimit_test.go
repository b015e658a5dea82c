package mgmt_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/mgmt"
	"github.com/linkbff/linkbff/internal/testkit"
)

// fakeNow is the clock the client reads x-ratelimit-reset against, so no test
// has to wait for a real second to pass.
var fakeNow = time.Unix(1_700_000_000, 0)

func fakeClock(c *mgmt.Config) { c.Now = func() time.Time { return fakeNow } }

// sequence answers the n-th API request with handlers[n], repeating the last.
func sequence(handlers ...http.HandlerFunc) http.HandlerFunc {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := min(int(n.Add(1))-1, len(handlers)-1)
		handlers[i](w, r)
	}
}

// tooMany answers 429 with the given headers (name, value, name, value, …).
func tooMany(headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		writeJSON(w, http.StatusTooManyRequests, auth0Error(429, "Too Many Requests", "Global limit has been reached", "too_many_requests"))
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestRateLimitRetryThenSuccess(t *testing.T) {
	tests := []struct {
		name string
		hint http.HandlerFunc
	}{
		{"Retry-After 0", tooMany("Retry-After", "0")},
		{"x-ratelimit-reset now", tooMany("X-RateLimit-Limit", "2", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", unix(fakeNow))},
		{"x-ratelimit-reset in the past", tooMany("X-RateLimit-Reset", unix(fakeNow.Add(-time.Minute)))},
		{"Retry-After as an HTTP date", tooMany("Retry-After", fakeNow.UTC().Format(http.TimeFormat))},
		{"Retry-After wins over x-ratelimit-reset", tooMany("Retry-After", "0", "X-RateLimit-Reset", unix(fakeNow.Add(time.Hour)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, sequence(tt.hint, writeRaw(http.StatusOK, userJSON)))
			c := newClient(t, f, fakeClock)
			u, err := c.GetUser(t.Context(), "auth0|a")
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if u.UserID != "auth0|5f7c8ec7c33c6c004bbafe82" {
				t.Errorf("UserID = %q", u.UserID)
			}
			if n := f.apiRequests.Load(); n != 2 {
				t.Errorf("API requests = %d, want 2", n)
			}
		})
	}
}

// Retries apply to every method: a 429 means Auth0 did not act on the request.
func TestRateLimitRetriesLink(t *testing.T) {
	f := newFake(t, sequence(tooMany("Retry-After", "0"), writeRaw(http.StatusCreated, identitiesJSON)))
	c := newClient(t, f)
	got, err := c.LinkWithToken(t.Context(), "auth0|a", "tok")
	if err != nil {
		t.Fatalf("LinkWithToken: %v", err)
	}
	if diff := cmp.Diff(wantIdentities, got); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].Body != reqs[1].Body || reqs[1].Body != `{"link_with":"tok"}` {
		t.Errorf("requests = %+v, want the same body twice", reqs)
	}
}

func TestRateLimitExhausted(t *testing.T) {
	tests := []struct {
		name         string
		maxRetries   int
		wantRequests int32
	}{
		{"default: two retries", 0, 3},
		{"one retry", 1, 2},
		{"retries disabled", -1, 1},
	}
	for _, tt := range tests {
		// Each upstream answers 429 wantRequests times, then 200: a client
		// that retried once more would succeed.
		t.Run(tt.name+": stops after MaxRetries", func(t *testing.T) {
			var handlers []http.HandlerFunc
			for range tt.wantRequests {
				handlers = append(handlers, tooMany("Retry-After", "0"))
			}
			f := newFake(t, sequence(append(handlers, writeRaw(http.StatusOK, userJSON))...))
			c := newClient(t, f, func(c *mgmt.Config) { c.MaxRetries = tt.maxRetries })

			_, err := c.GetUser(t.Context(), "auth0|a")
			if _, ok := errors.AsType[*mgmt.RateLimitError](err); !ok {
				t.Fatalf("err = %v (%T), want *RateLimitError", err, err)
			}
			if n := f.apiRequests.Load(); n != tt.wantRequests {
				t.Errorf("API requests = %d, want %d", n, tt.wantRequests)
			}
		})
		// The last 429 asks for 7s; it is reported, never waited for.
		t.Run(tt.name+": reports the last Retry-After", func(t *testing.T) {
			var handlers []http.HandlerFunc
			for range tt.wantRequests - 1 {
				handlers = append(handlers, tooMany("Retry-After", "0"))
			}
			f := newFake(t, sequence(append(handlers, tooMany("Retry-After", "7"))...))
			c := newClient(t, f, func(c *mgmt.Config) { c.MaxRetries = tt.maxRetries })

			_, err := c.GetUser(t.Context(), "auth0|a")
			got, ok := errors.AsType[*mgmt.RateLimitError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *RateLimitError", err, err)
			}
			if diff := cmp.Diff(&mgmt.RateLimitError{RetryAfter: 7 * time.Second}, got); diff != "" {
				t.Errorf("RateLimitError (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(fault.Failure{Kind: fault.RateLimited, RetryAfter: 7 * time.Second}, fault.FailureOf(err)); diff != "" {
				t.Errorf("FailureOf (-want +got):\n%s", diff)
			}
			if n := f.apiRequests.Load(); n != tt.wantRequests {
				t.Errorf("API requests = %d, want %d", n, tt.wantRequests)
			}
			if n, ok := c.RateLimitRemaining(); ok {
				t.Errorf("RateLimitRemaining() = %d, true; no answer carried the header", n)
			}
		})
	}
}

// When the wait Auth0 asks for would run past the deadline, the client gives
// up at once instead of sleeping into a timeout. The ctx here would expire if
// the client slept; that it has not expired on return is the assertion.
func TestRateLimitWaitBeyondDeadline(t *testing.T) {
	tests := []struct {
		name         string
		handler      http.HandlerFunc
		callTimeout  time.Duration
		ctxTimeout   time.Duration // 0: no ctx deadline
		want         time.Duration
		wantRequests int32
	}{
		{
			name:         "Retry-After beyond ctx deadline",
			handler:      tooMany("Retry-After", "30"),
			callTimeout:  time.Second,
			ctxTimeout:   3 * time.Second,
			want:         30 * time.Second,
			wantRequests: 1,
		},
		{
			name:         "x-ratelimit-reset beyond ctx deadline",
			handler:      tooMany("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", unix(fakeNow.Add(time.Minute))),
			callTimeout:  time.Second,
			ctxTimeout:   3 * time.Second,
			want:         time.Minute,
			wantRequests: 1,
		},
		{
			name:         "second 429 asks too much",
			handler:      sequence(tooMany("Retry-After", "0"), tooMany("Retry-After", "30")),
			callTimeout:  time.Second,
			ctxTimeout:   3 * time.Second,
			want:         30 * time.Second,
			wantRequests: 2,
		},
		{
			name:         "no hint and no ctx deadline: CallTimeout bounds the default wait",
			handler:      tooMany(),
			callTimeout:  500 * time.Millisecond,
			want:         time.Second,
			wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handler)
			c := newClient(t, f, fakeClock, func(c *mgmt.Config) { c.CallTimeout = tt.callTimeout })
			ctx := t.Context()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}

			_, err := c.GetUser(ctx, "auth0|a")
			if ctx.Err() != nil {
				t.Errorf("returned only after the ctx expired; want an immediate answer")
			}
			got, ok := errors.AsType[*mgmt.RateLimitError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *RateLimitError", err, err)
			}
			if got.RetryAfter != tt.want {
				t.Errorf("RetryAfter = %v, want %v", got.RetryAfter, tt.want)
			}
			if n := f.apiRequests.Load(); n != tt.wantRequests {
				t.Errorf("API requests = %d, want %d", n, tt.wantRequests)
			}
			if n, ok := c.RateLimitRemaining(); tt.name == "x-ratelimit-reset beyond ctx deadline" && (!ok || n != 0) {
				t.Errorf("RateLimitRemaining() = %d, %v; want 0, true", n, ok)
			}
		})
	}
}

// A back-off that fits the deadline is still cut short when the caller goes
// away. The ctx is cancelled once the client has read and closed the 429
// answer, so the cancellation lands in the back-off, not in the request.
func TestRateLimitWaitHonoursCancel(t *testing.T) {
	f := newFake(t, tooMany("Retry-After", "30"))
	read := make(chan struct{}, 1)
	c := newClient(t, f, func(c *mgmt.Config) {
		c.CallTimeout = time.Minute
		c.HTTPClient = &http.Client{Transport: closeNotifier{base: f.srv.Client().Transport, closed: read}}
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	done := make(chan error, 1)
	go func() {
		_, err := c.GetUser(ctx, "auth0|a")
		done <- err
	}()
	testkit.Recv(t, read, "the client to read the 429 answer")
	cancel()
	// Bounded well below the 30s back-off asked for.
	err := testkit.Recv(t, done, "GetUser to return after its ctx was cancelled")
	ue, ok := errors.AsType[*mgmt.UnavailableError](err)
	if !ok || !errors.Is(err, context.Canceled) || ue.Timeout {
		t.Errorf("err = %v (%T), want UnavailableError wrapping context.Canceled", err, err)
	}
	if n := f.apiRequests.Load(); n != 1 {
		t.Errorf("API requests = %d, want 1", n)
	}
}

// closeNotifier signals on closed when an API answer's body is closed.
type closeNotifier struct {
	base   http.RoundTripper
	closed chan<- struct{}
}

func (n closeNotifier) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := n.base.RoundTrip(r)
	if err != nil || r.URL.Path == "/oauth/token" {
		return resp, err
	}
	resp.Body = notifyingBody{ReadCloser: resp.Body, closed: n.closed}
	return resp, nil
}

type notifyingBody struct {
	io.ReadCloser
	closed chan<- struct{}
}

func (b notifyingBody) Close() error {
	err := b.ReadCloser.Close()
	select {
	case b.closed <- struct{}{}:
	default:
	}
	return err
}
