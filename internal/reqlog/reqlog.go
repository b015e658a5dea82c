// Package reqlog carries the request-scoped logger (already holding request_id and
// client_ip) through the context, so that deeper layers log with the same attributes.
package reqlog

import (
	"context"
	"log/slog"
)

type key struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, key{}, l)
}

// From returns the request's logger, or slog.Default() outside a request.
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(key{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
