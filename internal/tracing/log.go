package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler wraps h so that each record logged with a context that holds a valid
// span carries its trace_id and span_id (hex, as trace backends show them): a log
// line then leads to its trace, and a trace to its lines. linkbff installs it only
// when tracing is on. Records logged under a group (WithGroup) get the ids inside
// that group; linkbff logs no group.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ids := TraceAttrs(ctx, nil); ids != nil {
		r = r.Clone() // the caller's record is not ours to change
		r.AddAttrs(ids...)
	}
	return h.Handler.Handle(ctx, r)
}

// TraceAttrs appends to attrs the trace_id and span_id of the span in ctx, if any:
// what LogHandler adds to a record, for a log line written without a slog.Handler
// (reqlog.JSONAccess.Attrs).
func TraceAttrs(ctx context.Context, attrs []slog.Attr) []slog.Attr {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return attrs
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler {
	return logHandler{h.Handler.WithGroup(name)}
}
