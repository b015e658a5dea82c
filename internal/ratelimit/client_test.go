package ratelimit_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"

	"github.com/linkbff/linkbff/internal/ratelimit"
)

// chiClient is how the client address was found before Limits.Client: go-chi's
// middleware (ClientIPFromRemoteAddr, or ClientIPFromXFF with the trusted
// networks), and the connection's peer when it found none.
func chiClient(trusted []netip.Prefix, r *http.Request) netip.Addr {
	resolve := middleware.ClientIPFromRemoteAddr
	if len(trusted) > 0 {
		cidrs := make([]string, len(trusted))
		for i, p := range trusted {
			cidrs[i] = p.String()
		}
		resolve = middleware.ClientIPFromXFF(cidrs...)
	}
	var a netip.Addr
	resolve(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		a = middleware.GetClientIPAddr(r.Context())
	})).ServeHTTP(nil, r)
	if !a.IsValid() {
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			a = ap.Addr().Unmap()
		} else {
			a, _ = netip.ParseAddr(r.RemoteAddr)
			a = a.Unmap()
		}
	}
	return a
}

var trustedSets = [][]netip.Prefix{
	nil,
	{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")},
	{netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("fe80::/10")},
}

// checkClient compares Client with chiClient for one request under every set of
// trusted networks.
func checkClient(t *testing.T, remote string, xff ...string) {
	t.Helper()
	r := httptest.NewRequest("GET", "/me/identities", nil)
	r.RemoteAddr = remote
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	for _, trusted := range trustedSets {
		got, want := ratelimit.New(ratelimit.Config{TrustedProxies: trusted}).Client(r), chiClient(trusted, r)
		if got != want {
			t.Errorf("RemoteAddr %q, X-Forwarded-For %q, trusted %v: Client = %v, go-chi's middleware %v", remote, xff, trusted, got, want)
		}
	}
}

var remotes = []string{"192.0.2.1:1234", "10.1.2.3:1234", "[2001:db8::1]:1234", "[::ffff:10.1.2.3]:1234",
	"[2001:db8:ffff::1]:1", "[fe80::1%eth0]:1234", "fe80::1%eth0", "192.0.2.1", "10.9.9.9", "", "garbage", "[::1]", ":80"}

var forwarded = [][]string{nil, {""}, {"203.0.113.9"}, {"198.51.100.7, 203.0.113.9, 10.9.9.9"},
	{"198.51.100.7", "203.0.113.9, 10.9.9.9"}, {"203.0.113.9, not-an-ip"}, {"10.4.4.4"}, {" , 10.4.4.4 ,,"},
	{"::ffff:203.0.113.9"}, {"fe80::2%eth0, 10.1.1.1"}, {"2001:db8:1::5", "2001:db8:ffff::9"}, {"203.0.113.9:443"}}

// Client finds what go-chi's middleware found, for every peer and header.
func TestClientMatchesChi(t *testing.T) {
	for _, remote := range remotes {
		for _, xff := range forwarded {
			checkClient(t, remote, xff...)
		}
	}
}

func FuzzClientMatchesChi(f *testing.F) {
	for _, remote := range remotes {
		for _, xff := range forwarded {
			if len(xff) > 0 {
				f.Add(remote, xff[0])
			}
		}
	}
	f.Fuzz(func(t *testing.T, remote, xff string) { checkClient(t, remote, xff) })
}

// Client costs no allocation: it is on every request.
func TestClientAllocations(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:1234"
	r.Header.Set("X-Forwarded-For", "198.51.100.7, 203.0.113.9, 10.9.9.9")
	for _, trusted := range trustedSets {
		l := ratelimit.New(ratelimit.Config{TrustedProxies: trusted})
		if n := testing.AllocsPerRun(100, func() { l.Client(r) }); n != 0 {
			t.Errorf("trusted %v: %.0f allocations", trusted, n)
		}
	}
}

// A client address's counter key is the limit's name and httprate.CanonicalizeIP of
// the address's text, whatever the address: replicas of different versions sharing
// Redis count one client under one key.
func TestAddrKey(t *testing.T) {
	for _, s := range []string{"192.0.2.1", "10.0.0.255", "0.0.0.0", "2001:db8::1", "2001:db8:1:2:3:4:5:6", "::1", "fe80::1%eth0", "::ffff:192.0.2.1"} {
		a := netip.MustParseAddr(s)
		if got, want := ratelimit.AddrKey("ip-reads", a), "ip-reads:"+httprate.CanonicalizeIP(a.String()); got != want {
			t.Errorf("%s: key %q, want %q", s, got, want)
		}
	}
	if got, want := ratelimit.AddrKey("ip-reads", netip.Addr{}), "ip-reads:"+httprate.CanonicalizeIP(netip.Addr{}.String()); got != want {
		t.Errorf("no address: key %q, want %q", got, want)
	}
}
