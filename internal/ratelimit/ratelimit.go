// Package ratelimit owns linkbff's abuse limits: who the client is (the connection's
// peer, or behind trusted reverse proxies the address their X-Forwarded-For names) and
// how many requests per window a user and a client address may make, writes (nonce,
// link, unlink) and reads apart. The counting is go-chi/httprate's sliding window, in
// this process or, shared by replicas, in a counter the caller supplies (Redis); a
// shared counter that fails is replaced by this process's own count for a while, so
// that an outage of the counter neither stalls nor opens the API.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/httprate"

	"github.com/linkbff/linkbff/internal/fault"
)

// DefaultWindow is the window limits are counted over: the limits are per minute.
const DefaultWindow = time.Minute

// Config configures the limits. A limit of 0 is no limit.
type Config struct {
	// Per user (the authenticated subject) and per client address, per Window.
	UserWrites, UserReads int
	IPWrites, IPReads     int
	// Window is what the limits count over (default DefaultWindow).
	Window time.Duration
	// TrustedProxies are the networks of the reverse proxies in front of linkbff: a
	// request from one of them is from the right-most address of its X-Forwarded-For
	// outside them. Empty: the client is the connection's peer, whatever the
	// headers say.
	TrustedProxies []netip.Prefix
	// NewCounter returns a fresh counter for one limit, shared by replicas (e.g.
	// redisstore.NewRateCounter); nil counts in this process.
	NewCounter func() httprate.LimitCounter
	// Logger receives a warning when a shared counter fails (nil: discarded).
	Logger *slog.Logger
	// OnError writes an error (the 429 fault.TooManyRequests) as the response.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
}

// Limits are the limiters of one process. The zero Config gives Limits that limit
// nothing and take the client from the connection.
type Limits struct {
	cfg                   Config
	userWrites, userReads *limit // nil: no limit
	ipWrites, ipReads     *limit
}

// limit is one limiter and the name that starts its keys, so that limits sharing a
// counter store (Redis) never count each other's requests.
type limit struct {
	*httprate.RateLimiter
	name string
}

// key is the counter key of id: the limit's name, a colon, id.
func (l *limit) key(id string) string { return l.name + ":" + id }

// addrKey is the counter key of a client address: key(httprate.CanonicalizeIP(the
// address's text)), which counts an IPv6 client's whole /64 as one, made for an IPv4
// address (which it leaves as it is) in one allocation instead of two.
func (l *limit) addrKey(a netip.Addr) string {
	if !a.Is4() {
		return l.key(httprate.CanonicalizeIP(a.String()))
	}
	var buf [64]byte
	b := append(append(buf[:0], l.name...), ':')
	return string(a.AppendTo(b))
}

// New returns the limits of cfg.
func New(cfg Config) *Limits {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnError == nil {
		cfg.OnError = func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, err.Error(), http.StatusTooManyRequests)
		}
	}
	l := &Limits{cfg: cfg}
	l.userWrites = l.limiter(cfg.UserWrites, "this user", "user-writes")
	l.userReads = l.limiter(cfg.UserReads, "this user", "user-reads")
	l.ipWrites = l.limiter(cfg.IPWrites, "this address", "ip-writes")
	l.ipReads = l.limiter(cfg.IPReads, "this address", "ip-reads")
	return l
}

// limiter returns the limiter of one limit, nil for none. name tells the counter's
// keys apart from other limits'.
func (l *Limits) limiter(n int, who, name string) *limit {
	if n <= 0 {
		return nil
	}
	window := l.cfg.Window
	// httprate counts a sliding window: the previous window's count, weighted by how
	// much of it still overlaps, plus the current one. A client refused at any instant
	// that then waits a window plus one limit's share of it is admitted again, however
	// it had spread its requests.
	wait := window + time.Duration(math.Ceil(float64(window)/float64(n)))
	opts := []httprate.Option{
		// No X-RateLimit-* headers: the user and address limits would overwrite each
		// other's, and Retry-After on a 429 says what a client needs.
		httprate.WithResponseHeaders(httprate.ResponseHeaders{}),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			e := fault.New(fault.TooManyRequests, fmt.Sprintf("Too many requests from %s; retry in %d seconds.", who, int64(math.Ceil(wait.Seconds()))))
			e.RetryAfter = wait
			l.cfg.OnError(w, r, e)
		}),
		httprate.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			l.cfg.OnError(w, r, fault.Wrap(err, fault.Internal, "The request could not be counted."))
		}),
	}
	if l.cfg.NewCounter != nil {
		opts = append(opts, httprate.WithLimitCounter(newFailover(l.cfg.NewCounter(), name, l.cfg.Logger, time.Now)))
	}
	return &limit{httprate.NewRateLimiter(n, window, opts...), name}
}

type clientKey struct{}

// Client returns r's client address (see Config.TrustedProxies) without touching
// its context: the connection's peer, or from a trusted proxy the right-most
// X-Forwarded-For address outside TrustedProxies; the proxy itself when the header
// names none, or when the first address it has to read there is not one. (This is
// go-chi's ClientIPFromRemoteAddr and ClientIPFromXFF, TestClientMatchesChi, without
// the two request copies they make to carry the address.)
func (l *Limits) Client(r *http.Request) netip.Addr {
	p, ok := parseRemoteAddr(r.RemoteAddr)
	if !ok {
		return peer(r)
	}
	if len(l.cfg.TrustedProxies) == 0 || !l.trusted(p.WithZone("")) {
		return p
	}
	for _, h := range slices.Backward(r.Header["X-Forwarded-For"]) {
		for h != "" {
			var v string
			if i := strings.LastIndexByte(h, ','); i >= 0 {
				v, h = h[i+1:], h[:i]
			} else {
				v, h = h, ""
			}
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			a, err := netip.ParseAddr(v)
			if err != nil {
				return peer(r) // fail closed: the proxy is the client
			}
			if a = a.Unmap().WithZone(""); !l.trusted(a) {
				return a
			}
		}
	}
	return peer(r)
}

func (l *Limits) trusted(a netip.Addr) bool {
	for _, p := range l.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseRemoteAddr is the address of a RemoteAddr: host:port, or a bare address (as
// tests set it).
func parseRemoteAddr(remoteAddr string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// IsClientKey reports whether k is the key ClientAddr looks up: a context that
// answers Value(k) with a *netip.Addr carries the client address (Client) without a
// WithValue layer, as linkbff's server's request context does.
func IsClientKey(k any) bool {
	_, ok := k.(clientKey)
	return ok
}

// ClientAddr returns the client address the context carries (see IsClientKey; the
// zero Addr when it carries none or the connection has no IP address).
func ClientAddr(ctx context.Context) netip.Addr {
	if a, ok := ctx.Value(clientKey{}).(*netip.Addr); ok {
		return *a
	}
	return netip.Addr{}
}

// FromTrustedProxy returns whether a request's peer (the connection's, whatever
// the headers say) is in one of proxies: the test Client applies before it
// believes X-Forwarded-For, for whatever else a trusted proxy's word decides (the
// trace context tracing continues). No proxies: false for every request.
func FromTrustedProxy(proxies []netip.Prefix) func(*http.Request) bool {
	return func(r *http.Request) bool {
		a := peer(r).WithZone("") // as chi's check: a zoned address matches no prefix
		for _, p := range proxies {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
}

// peer is the connection's peer address.
func peer(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		a, _ := netip.ParseAddr(r.RemoteAddr)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

// isRead tells the reads from the writes: safe methods read.
func isRead(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
}

// ByClient limits requests per client address: IPReads for reads, IPWrites for the
// rest. It belongs before authentication, so that a flood costs no token check.
func (l *Limits) ByClient(next http.Handler) http.Handler {
	return limitBy(l.ipReads, l.ipWrites, func(rl *limit, r *http.Request) string {
		return rl.addrKey(ClientAddr(r.Context()))
	})(next)
}

// ByUser limits requests per user, UserReads for reads and UserWrites for the rest;
// user returns the authenticated user of a request, so it belongs after
// authentication.
func (l *Limits) ByUser(user func(*http.Request) string) func(http.Handler) http.Handler {
	return limitBy(l.userReads, l.userWrites, func(rl *limit, r *http.Request) string {
		return rl.key(user(r))
	})
}

// limitBy counts each request against reads or writes (nil: no limit) under the key
// key makes, and answers 429 instead of passing it on when that limit is over.
func limitBy(reads, writes *limit, key func(*limit, *http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if reads == nil && writes == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rl := writes
			if isRead(r) {
				rl = reads
			}
			if rl != nil && rl.RespondOnLimit(w, r, key(rl, r)) {
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
