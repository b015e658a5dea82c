package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/reqlog"
	"github.com/linkbff/linkbff/internal/tracing"
)

// The middlewares below each do one job; routes.go lists them in order. They pass
// what they know down the request as cheaply as they can: the request id travels in
// the response's X-Request-Id header (where the client sees it, so a problem's
// request_id can never differ from it), and they share one per-request exchange
// (observe), which holds the status for the access log and the metrics, the log
// context and the deadline, so that a request answered from the caches allocates
// that struct once instead of a dozen small objects.

// requestIDHeader carries the request id in both directions.
const requestIDHeader = "X-Request-Id"

// requestID returns the id assignRequestID gave this request.
func requestID(w http.ResponseWriter) string { return w.Header().Get(requestIDHeader) }

// assignRequestID gives each request an id: a sane incoming X-Request-Id is kept, so
// ids follow a request through a proxy; anything else is replaced by a fresh one.
func assignRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := observe(w)
		id := r.Header.Get(requestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		ex.requestID[0] = id
		ex.Header()[requestIDHeader] = ex.requestID[:] // Set, without allocating the slice
		next.ServeHTTP(ex, r)
	})
}

// logAccess writes one "request" line per request to the access log, when it is
// done, with the request's attributes (set by scopeRequest, below it): at debug
// level for the probes and scrapes (/healthz, /readyz, /metrics), which would
// otherwise fill the log with lines nobody reads, at info for the rest. The request's
// context goes with it, for what the log adds from it.
func (s *server) logAccess(next http.Handler) http.Handler {
	log := s.deps.AccessLog
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := observe(w)
		next.ServeHTTP(ex, r)
		ctx := r.Context()
		route := ex.routePattern(r)
		level := slog.LevelInfo
		if route == "/healthz" || route == "/readyz" || route == "/metrics" {
			level = slog.LevelDebug
		}
		if !log.Enabled(ctx, level) {
			return
		}
		now := time.Now()
		ex.access = reqlog.Access{
			Time: now, Level: level, RequestID: ex.log.RequestID(), ClientIP: ex.log.ClientIP(),
			Method: r.Method, Route: route, Status: ex.status, Duration: now.Sub(ex.start),
		}
		log.Log(ctx, &ex.access) // in the exchange: a record of its own would be an allocation
	})
}

// recordMetrics counts each request and its latency by route pattern.
func (s *server) recordMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := observe(w)
		next.ServeHTTP(ex, r)
		s.metrics.observe(ex.routePattern(r), r.Method, ex.status, time.Since(ex.start))
	})
}

// nameSpan names the request's server span after its route, once the router has
// matched it (tracing.NameServerSpan), with the client's address as scopeRequest,
// below it, put it in the log context. With tracing off it is not installed.
func (s *server) nameSpan(next http.Handler) http.Handler {
	if s.deps.Tracing == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := observe(w)
		next.ServeHTTP(ex, r)
		tracing.NameServerSpan(r.Context(), r.Method, ex.routePattern(r), ex.log.ClientIP())
	})
}

// scopeRequest gives the request the context every layer below works in: the
// client's address (ratelimit.ClientAddr: the peer, or behind TRUSTED_PROXIES what
// their X-Forwarded-For names), its log context (its id and the client's address),
// where they find their logger (reqlog.From), and a deadline of RequestTimeout from
// the request's start, so that no call below can outlive what a client waits for. One requestContext carries
// them all: one request copy, no WithValue. The logger is made only if a layer logs, the deadline's timer only if
// something waits on it.
func (s *server) scopeRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := observe(w)
		ex.client = s.deps.Limits.Client(r)
		ex.log.Init(s.deps.Logger, requestID(ex), clientIP(ex.client, r))
		if s.deps.Tracing != nil {
			ex.log.BindContext(r.Context()) // holds the server span
		}
		ex.ctx.init(r.Context(), ex.start.Add(s.cfg.RequestTimeout), &ex.log, &ex.client)
		ex.ctx.principal = &ex.principal
		defer ex.ctx.end()
		next.ServeHTTP(ex, r.WithContext(&ex.ctx))
	})
}

// recoverPanic turns a panic into a logged 500 problem (when nothing was written
// yet) and lets the server go on. http.ErrAbortHandler, a handler's request to drop
// the connection, goes on to net/http.
func recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := observe(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			reqlog.From(r.Context()).Error("panic", "panic", v)
			if !ex.wrote {
				problem.Write(ex, requestID(ex), fault.New(fault.Internal, "An unexpected error occurred."))
			}
		}()
		next.ServeHTTP(ex, r)
	})
}

// routePattern is the pattern of the route that served r ("" if none matched),
// worked out once per request. The router fills it in while serving, so a
// middleware reads it after next returns. A route's single pattern is used as it
// is; chi's RoutePattern, which joins and rewrites several, allocates.
func (ex *exchange) routePattern(r *http.Request) string {
	if ex.routeKnown {
		return ex.route
	}
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePatterns; len(p) == 1 && plainPattern(p[0]) {
			ex.route = p[0]
		} else {
			ex.route = rc.RoutePattern()
		}
	}
	ex.routeKnown = true
	return ex.route
}

// plainPattern reports whether chi's RoutePattern would return p unchanged: no
// wildcard segment to drop and no trailing slash to trim.
func plainPattern(p string) bool {
	return p == "/" || (strings.HasPrefix(p, "/") && !strings.HasSuffix(p, "/") && !strings.Contains(p, "*"))
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// clientIP is the client's address a as the logs show it: r's RemoteAddr when it
// has none.
func clientIP(a netip.Addr, r *http.Request) string {
	if a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// exchange is the state of one request that the middlewares share: it records the
// status a handler answered with and whether it wrote anything (for the middlewares
// that report on a request after it is served), and holds, so that they cost no
// allocation of their own, the X-Request-Id value, the log context and the deadline.
type exchange struct {
	http.ResponseWriter
	start  time.Time // when the outermost observer saw the request
	status int
	wrote  bool

	route      string // see routePattern
	routeKnown bool

	requestID [1]string // the X-Request-Id header's value slice
	client    netip.Addr
	principal auth.PrincipalSlot
	log       reqlog.Request
	ctx       requestContext // carries log, and the deadline
	access    reqlog.Access  // the access record, made when the request is done
}

// observe returns w as the request's exchange, wrapping it only if no outer
// middleware has done so: one per request, however many middlewares observe it.
func observe(w http.ResponseWriter) *exchange {
	if ex, ok := w.(*exchange); ok {
		return ex
	}
	return &exchange{ResponseWriter: w, start: time.Now(), status: http.StatusOK}
}

func (w *exchange) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *exchange) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *exchange) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// securityHeaders sets headers every response should carry.
func (s *server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = s.hdr.nosniff
		h["Referrer-Policy"] = s.hdr.noReferrer
		h["X-Frame-Options"] = s.hdr.deny
		next.ServeHTTP(w, r)
	})
}

// headerValues are header values that many responses carry, each a one-element
// slice built once and shared: assigning one costs nothing, where Header.Set
// allocates a slice per header per request. net/http and the middlewares only ever
// replace or delete a header's values, never write into them, and a capacity of one
// makes an append (Header.Add) copy.
type headerValues struct {
	nosniff, noReferrer, deny            []string
	json, privateNoCache, varyCredential []string
}

func newHeaderValues() headerValues {
	return headerValues{
		nosniff:        []string{"nosniff"},
		noReferrer:     []string{"no-referrer"},
		deny:           []string{"DENY"},
		json:           []string{"application/json"},
		privateNoCache: []string{"private, no-cache"},
		varyCredential: []string{"Authorization, Cookie"},
	}
}

// addShared adds the values of shared to h's key: the shared slice itself when the
// header is not set yet, else appended (as Header.Add would, with canonical keys).
func addShared(h http.Header, key string, shared []string) {
	if old := h[key]; len(old) > 0 {
		h[key] = append(old, shared...)
		return
	}
	h[key] = shared
}
