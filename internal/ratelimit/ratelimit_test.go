package ratelimit_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/go-chi/httprate"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/ratelimit"
)

// serve runs one request through ResolveClient, ByClient and ByUser (the user from the
// X-Test-User header) to a handler that answers 204 and counts its calls.
type harness struct {
	h     http.Handler
	calls int
}

func newHarness(cfg ratelimit.Config) *harness {
	hs := &harness{}
	cfg.OnError = func(w http.ResponseWriter, _ *http.Request, err error) {
		e, ok := errors.AsType[*fault.Error](err)
		if !ok || e.Code != fault.TooManyRequests {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds())))
		w.WriteHeader(http.StatusTooManyRequests)
	}
	l := ratelimit.New(cfg)
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.calls++
		w.Header().Set("X-Client", ratelimit.ClientAddr(r.Context()).String())
		w.WriteHeader(http.StatusNoContent)
	})
	user := func(r *http.Request) string { return r.Header.Get("X-Test-User") }
	hs.h = l.ResolveClient(l.ByClient(l.ByUser(user)(inner)))
	return hs
}

func (hs *harness) do(method, remote, user string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/me/identities", nil)
	r.RemoteAddr = remote
	r.Header.Set("X-Test-User", user)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, r)
	return w
}

func TestUserLimitRefusesWithRetryAfter(t *testing.T) {
	hs := newHarness(ratelimit.Config{UserWrites: 2, UserReads: 3})
	for i := range 2 {
		if w := hs.do("POST", "192.0.2.1:1000", "auth0|alice"); w.Code != http.StatusNoContent {
			t.Fatalf("write %d: %d", i, w.Code)
		}
	}
	w := hs.do("DELETE", "192.0.2.2:1000", "auth0|alice") // another address: still Alice
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("third write: %d, want 429", w.Code)
	}
	// A window and one request's share of it: 60s + 30s.
	if got := w.Header().Get("Retry-After"); got != "90" {
		t.Errorf("Retry-After = %q, want 90", got)
	}
	if hs.calls != 2 {
		t.Errorf("the handler ran %d times, want 2: a refused request does nothing", hs.calls)
	}
	// Reads are counted apart, and so is another user.
	for i := range 3 {
		if w := hs.do("GET", "192.0.2.1:1000", "auth0|alice"); w.Code != http.StatusNoContent {
			t.Fatalf("read %d: %d", i, w.Code)
		}
	}
	if w := hs.do("GET", "192.0.2.1:1000", "auth0|alice"); w.Code != http.StatusTooManyRequests {
		t.Errorf("fourth read: %d, want 429", w.Code)
	}
	if w := hs.do("POST", "192.0.2.1:1000", "auth0|bob"); w.Code != http.StatusNoContent {
		t.Errorf("Bob's first write: %d", w.Code)
	}
}

func TestAddressLimit(t *testing.T) {
	hs := newHarness(ratelimit.Config{IPWrites: 1, IPReads: 2})
	if w := hs.do("POST", "192.0.2.1:1000", "auth0|alice"); w.Code != http.StatusNoContent {
		t.Fatal(w.Code)
	}
	if w := hs.do("POST", "192.0.2.1:2000", "auth0|bob"); w.Code != http.StatusTooManyRequests {
		t.Errorf("second write from one address (another user): %d, want 429", w.Code)
	}
	if w := hs.do("POST", "192.0.2.9:1000", "auth0|bob"); w.Code != http.StatusNoContent {
		t.Errorf("a write from another address: %d", w.Code)
	}
	// An IPv6 client holds its /64: one count for all of it.
	if w := hs.do("POST", "[2001:db8:1:2::1]:1000", ""); w.Code != http.StatusNoContent {
		t.Fatal(w.Code)
	}
	if w := hs.do("POST", "[2001:db8:1:2::ffff]:1000", ""); w.Code != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64: %d, want 429", w.Code)
	}
}

func TestZeroLimitsLimitNothing(t *testing.T) {
	hs := newHarness(ratelimit.Config{})
	for i := range 1000 {
		if w := hs.do("POST", "192.0.2.1:1000", "auth0|alice"); w.Code != http.StatusNoContent {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
}

// TestClientAddress: the client is the peer unless the peer is a trusted proxy; then
// it is the right-most X-Forwarded-For address that is not a trusted proxy.
func TestClientAddress(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, tt := range []struct {
		name    string
		trusted []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"no proxies: the header is ignored", nil, "192.0.2.1:1234", []string{"203.0.113.9"}, "192.0.2.1"},
		{"no proxies, IPv6 peer", nil, "[2001:db8::1]:1234", nil, "2001:db8::1"},
		{"IPv4-mapped peer", nil, "[::ffff:192.0.2.1]:1234", nil, "192.0.2.1"},
		{"untrusted peer: the header is ignored", proxies, "192.0.2.1:1234", []string{"203.0.113.9"}, "192.0.2.1"},
		{"trusted peer: the header's client", proxies, "10.1.2.3:1234", []string{"203.0.113.9"}, "203.0.113.9"},
		{"right-most untrusted, skipping trusted hops", proxies, "10.1.2.3:1234", []string{"198.51.100.7, 203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"several header lines are one list", proxies, "10.1.2.3:1234", []string{"198.51.100.7", "203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"spoofed left part is not believed", proxies, "10.1.2.3:1234", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9"},
		{"IPv6 proxy", proxies, "[2001:db8:ffff::1]:1234", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"garbage: the proxy itself", proxies, "10.1.2.3:1234", []string{"203.0.113.9, not-an-ip"}, "10.1.2.3"},
		{"no header: the proxy itself", proxies, "10.1.2.3:1234", nil, "10.1.2.3"},
		{"only trusted hops: the proxy itself", proxies, "10.1.2.3:1234", []string{"10.4.4.4"}, "10.1.2.3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(ratelimit.Config{TrustedProxies: tt.trusted})
			var header []string
			for _, v := range tt.xff {
				header = append(header, "X-Forwarded-For", v)
			}
			if got := hs.do("GET", tt.remote, "", header...).Header().Get("X-Client"); got != tt.want {
				t.Errorf("client = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSpoofedForwardedForCountsAgainstThePeer: without TRUSTED_PROXIES, a client that
// varies X-Forwarded-For is still one address to the limit; behind a trusted proxy,
// the forwarded addresses are told apart.
func TestSpoofedForwardedForCountsAgainstThePeer(t *testing.T) {
	hs := newHarness(ratelimit.Config{IPWrites: 1})
	if w := hs.do("POST", "192.0.2.1:1000", "", "X-Forwarded-For", "203.0.113.1"); w.Code != http.StatusNoContent {
		t.Fatal(w.Code)
	}
	if w := hs.do("POST", "192.0.2.1:1000", "", "X-Forwarded-For", "203.0.113.2"); w.Code != http.StatusTooManyRequests {
		t.Errorf("a spoofed X-Forwarded-For won a fresh count: %d", w.Code)
	}

	hs = newHarness(ratelimit.Config{IPWrites: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}})
	for i := range 3 {
		client := fmt.Sprintf("203.0.113.%d", i)
		if w := hs.do("POST", "192.0.2.1:1000", "", "X-Forwarded-For", client); w.Code != http.StatusNoContent {
			t.Errorf("client %s behind the trusted proxy: %d", client, w.Code)
		}
	}
}

// failingCounter is a shared counter that is down.
type failingCounter struct{ calls int }

func (c *failingCounter) Config(int, time.Duration)         {}
func (c *failingCounter) Increment(string, time.Time) error { c.calls++; return errors.New("down") }
func (c *failingCounter) IncrementBy(string, time.Time, int) error {
	c.calls++
	return errors.New("down")
}
func (c *failingCounter) Get(string, time.Time, time.Time) (int, int, error) {
	c.calls++
	return 0, 0, errors.New("down")
}

// TestSharedCounterDownStillLimits: when the shared counter fails, the limits still
// hold, counted in this process, and no request is refused for the counter's sake.
func TestSharedCounterDownStillLimits(t *testing.T) {
	down := &failingCounter{}
	hs := newHarness(ratelimit.Config{UserWrites: 2, NewCounter: func() httprate.LimitCounter { return down }})
	for i := range 2 {
		if w := hs.do("POST", "192.0.2.1:1000", "auth0|alice"); w.Code != http.StatusNoContent {
			t.Fatalf("write %d with the counter down: %d", i, w.Code)
		}
	}
	if w := hs.do("POST", "192.0.2.1:1000", "auth0|alice"); w.Code != http.StatusTooManyRequests {
		t.Errorf("third write with the counter down: %d, want 429", w.Code)
	}
	if down.calls != 1 {
		t.Errorf("the failed counter was called %d times, want 1: it is left alone for a while", down.calls)
	}
}

// TestFromTrustedProxy: only a peer inside a trusted network is a trusted proxy,
// whatever X-Forwarded-For says; an IPv4-mapped peer counts as its IPv4 address;
// without networks no one is.
func TestFromTrustedProxy(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for _, tc := range []struct {
		proxies []netip.Prefix
		remote  string
		want    bool
	}{
		{proxies, "10.1.2.3:4711", true},
		{proxies, "[::ffff:10.1.2.3]:4711", true},
		{proxies, "[2001:db8::1]:4711", true},
		{proxies, "198.51.100.1:4711", false},
		{proxies, "garbage", false},
		{nil, "10.1.2.3:4711", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		r.Header.Set("X-Forwarded-For", "10.9.9.9")
		if got := ratelimit.FromTrustedProxy(tc.proxies)(r); got != tc.want {
			t.Errorf("proxies %v, peer %s: %v, want %v", tc.proxies, tc.remote, got, tc.want)
		}
	}
}
