// Package reqlog carries the request-scoped logger (holding request_id and client_ip)
// through the context, so that deeper layers log with the same attributes, and
// writes the access record of each request (access.go).
package reqlog

import (
	"context"
	"log/slog"
	"sync"
)

type key struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, key{}, l)
}

// Request is the log context of one request: a base logger and the request's
// attributes. The logger holding them (base.With) is made only when a layer first
// asks for it, because making it costs more than the rest of a request answered
// from the caches, which logs nothing but its access line (see Attrs).
type Request struct {
	base      *slog.Logger
	requestID string
	clientIP  string
	ctx       context.Context // nil: records keep the context they are logged with

	once   sync.Once
	logger *slog.Logger
}

// NewRequest returns the log context of a request.
func NewRequest(base *slog.Logger, requestID, clientIP string) *Request {
	q := &Request{}
	q.Init(base, requestID, clientIP)
	return q
}

// Init sets up q, a zero Request that the caller allocated as part of a larger
// per-request struct (an allocation saved on every request).
func (q *Request) Init(base *slog.Logger, requestID, clientIP string) {
	q.base, q.requestID, q.clientIP = base, requestID, clientIP
}

// BindContext makes the records of q's logger that are logged without a context
// (Info rather than InfoContext, as most are) go to the handler with ctx, the
// request's: a handler that reads the context, as tracing's adds the trace id,
// finds it there. Call it after Init, before the logger is first used.
func (q *Request) BindContext(ctx context.Context) { q.ctx = ctx }

// Attrs are the request's attributes, in the order Logger puts them first.
func (q *Request) Attrs() [2]slog.Attr {
	return [2]slog.Attr{slog.String("request_id", q.requestID), slog.String("client_ip", q.clientIP)}
}

// RequestID and ClientIP are the request's attributes' values.
func (q *Request) RequestID() string { return q.requestID }
func (q *Request) ClientIP() string  { return q.clientIP }

// Logger returns base with the request's attributes, made on first use.
func (q *Request) Logger() *slog.Logger {
	q.once.Do(func() {
		a := q.Attrs()
		q.logger = q.base.With(a[0], a[1])
		if q.ctx != nil {
			q.logger = slog.New(boundHandler{q.logger.Handler(), q.ctx})
		}
	})
	return q.logger
}

// boundHandler hands records logged without a context (context.Background, as
// slog's Info and the like pass) to its handler with ctx instead.
type boundHandler struct {
	slog.Handler
	ctx context.Context
}

func (h boundHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil || ctx == context.Background() {
		ctx = h.ctx
	}
	return h.Handler.Handle(ctx, r)
}

func (h boundHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return boundHandler{h.Handler.WithAttrs(attrs), h.ctx}
}

func (h boundHandler) WithGroup(name string) slog.Handler {
	return boundHandler{h.Handler.WithGroup(name), h.ctx}
}

// IsKey reports whether k is the key From looks a Request up by: a context type
// that carries the request's Request itself (saving a WithValue layer) answers
// Value(k) with it, and From finds it.
func IsKey(k any) bool {
	_, ok := k.(key)
	return ok
}

// From returns the request's logger, or slog.Default() outside a request.
func From(ctx context.Context) *slog.Logger {
	switch l := ctx.Value(key{}).(type) {
	case *Request:
		return l.Logger()
	case *slog.Logger:
		return l
	}
	return slog.Default()
}
