package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/ratelimit"
	"github.com/linkbff/linkbff/internal/reqlog"
)

// The middlewares below each do one job; routes.go lists them in order. They pass
// what they know down the request as cheaply as they can: the request id travels in
// the response's X-Request-Id header (where the client sees it, so a problem's
// request_id can never differ from it), and the access log and the metrics share one
// statusWriter.

// requestIDHeader carries the request id in both directions.
const requestIDHeader = "X-Request-Id"

// requestID returns the id assignRequestID gave this request.
func requestID(w http.ResponseWriter) string { return w.Header().Get(requestIDHeader) }

// assignRequestID gives each request an id: a sane incoming X-Request-Id is kept, so
// ids follow a request through a proxy; anything else is replaced by a fresh one.
func assignRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(requestIDHeader, id)
		next.ServeHTTP(w, r)
	})
}

// attachLogger puts a logger carrying the request id and the client's address in the
// request's context, where every layer below finds it (reqlog.From).
func (s *server) attachLogger(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := s.log.With("request_id", requestID(w), "client_ip", clientIP(r))
		next.ServeHTTP(w, r.WithContext(reqlog.With(r.Context(), log)))
	})
}

// logAccess writes one "request" line per request, when it is done.
func logAccess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := observe(w)
		next.ServeHTTP(sw, r)
		reqlog.From(r.Context()).LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("route", routePattern(r)), slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(sw.start)))
	})
}

// recordMetrics counts each request and its latency by route pattern.
func (s *server) recordMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := observe(w)
		next.ServeHTTP(sw, r)
		s.metrics.observe(routePattern(r), r.Method, sw.status, time.Since(sw.start))
	})
}

// enforceDeadline ends the request's context after RequestTimeout, so that no call
// below can outlive what a client waits for.
func (s *server) enforceDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverPanic turns a panic into a logged 500 problem (when nothing was written
// yet) and lets the server go on. http.ErrAbortHandler, a handler's request to drop
// the connection, goes on to net/http.
func recoverPanic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := observe(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			reqlog.From(r.Context()).Error("panic", "panic", v)
			if !sw.wrote {
				problem.Write(sw, requestID(sw), fault.New(fault.Internal, "An unexpected error occurred."))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// routePattern is the pattern of the route that served r ("" if none matched). The
// router fills it in while serving, so a middleware reads it after next returns.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		return rc.RoutePattern()
	}
	return ""
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

// clientIP is the client's address as ResolveClient found it: the peer, or behind
// trusted proxies the address their X-Forwarded-For names.
func clientIP(r *http.Request) string {
	if a := ratelimit.ClientAddr(r.Context()); a.IsValid() {
		return a.String()
	}
	return r.RemoteAddr
}

// statusWriter records the status a handler answered with and whether it wrote
// anything, for the middlewares that report on a request after it is served.
type statusWriter struct {
	http.ResponseWriter
	start  time.Time // when the outermost observer saw the request
	status int
	wrote  bool
}

// observe returns w as the request's statusWriter, wrapping it only if no outer
// middleware has done so: one per request, however many middlewares observe it.
func observe(w http.ResponseWriter) *statusWriter {
	if sw, ok := w.(*statusWriter); ok {
		return sw
	}
	return &statusWriter{ResponseWriter: w, start: time.Now(), status: http.StatusOK}
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// securityHeaders sets headers every response should carry.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
