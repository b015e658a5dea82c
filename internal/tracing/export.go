package tracing

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// exportWarnEvery is how often at most a failing exporter is warned about: a
// collector that is down fails every batch, and one line per batch would drown
// the log.
const exportWarnEvery = time.Minute

// loggedExporter is an exporter whose failures are linkbff's log records instead
// of the SDK's: the batch processor hands an export error to otel.Handle, whose
// default prints it as plain text on the process's stderr, ignoring LOG_FORMAT and
// LOG_LEVEL. A failed export is logged as a warning (the first at once, then at
// most one per every, counting the failures and lost spans in between) and
// reported to the processor as done: the spans are lost either way, the processor
// does not retry.
type loggedExporter struct {
	sdktrace.SpanExporter
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu              sync.Mutex
	last            time.Time // of the last warning; zero before the first
	failures, spans int       // since the last warning
}

func newLoggedExporter(exp sdktrace.SpanExporter, log *slog.Logger, every time.Duration) *loggedExporter {
	return &loggedExporter{SpanExporter: exp, log: log, every: every, now: time.Now}
}

func (e *loggedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures++
	e.spans += len(spans)
	if now := e.now(); e.last.IsZero() || now.Sub(e.last) >= e.every {
		e.warn(err)
		e.last = now
	}
	return nil
}

// warn logs the failures counted since the last warning, err the latest. Called
// with mu held.
func (e *loggedExporter) warn(err error) {
	e.log.Warn("tracing: spans not exported", "failures", e.failures, "spans", e.spans, "err", err)
	e.failures, e.spans = 0, 0
}

// Shutdown reports the failures no warning has told yet, so that none goes
// unsaid when the process ends.
func (e *loggedExporter) Shutdown(ctx context.Context) error {
	err := e.SpanExporter.Shutdown(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failures > 0 {
		e.log.Warn("tracing: spans not exported", "failures", e.failures, "spans", e.spans)
		e.failures, e.spans = 0, 0
	}
	return err
}

// The SDK still hands otel.Handle what is not an export: a sampler
// OTEL_TRACES_SAMPLER names that it does not know, a compression
// OTEL_EXPORTER_OTLP_COMPRESSION names that the gRPC exporter does not have, a
// span processor's failure to shut down. The handler is process-wide and can be
// set only once, so Setup installs one, once, that logs through the logger of the
// Tracing set up last (errorLog): a process runs one linkbff, and tests that run
// several only see another run's record in their log, in its format. Without a
// logger (a Tracing set up without Options.Logger) the error is dropped rather
// than printed as plain text.
var (
	errorLog         atomic.Pointer[slog.Logger]
	errorHandlerOnce sync.Once
)

func installErrorHandler(log *slog.Logger) {
	if log != nil {
		errorLog.Store(log)
	}
	errorHandlerOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			if l := errorLog.Load(); l != nil {
				l.Warn("tracing: OpenTelemetry error", "err", err)
			}
		}))
		// The SDK's own diagnostics (a malformed OTEL_EXPORTER_OTLP_* value, say) go
		// to its logger, by default plain text on stderr: through the same logger.
		otel.SetLogger(logr.FromSlogHandler(forwardHandler{}))
	})
}

// forwardHandler is a slog.Handler that hands each record to errorLog's handler as
// it is when the record comes (nothing when there is none), with the attributes and
// groups the SDK's logger added on the way.
type forwardHandler struct {
	ops []func(slog.Handler) slog.Handler
}

func (f forwardHandler) target() slog.Handler {
	l := errorLog.Load()
	if l == nil {
		return nil
	}
	h := l.Handler()
	for _, op := range f.ops {
		h = op(h)
	}
	return h
}

func (f forwardHandler) Enabled(ctx context.Context, level slog.Level) bool {
	h := f.target()
	return h != nil && h.Enabled(ctx, level)
}

func (f forwardHandler) Handle(ctx context.Context, r slog.Record) error {
	if h := f.target(); h != nil {
		return h.Handle(ctx, r)
	}
	return nil
}

func (f forwardHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return forwardHandler{ops: append(slices.Clip(f.ops), func(h slog.Handler) slog.Handler { return h.WithAttrs(attrs) })}
}

func (f forwardHandler) WithGroup(name string) slog.Handler {
	return forwardHandler{ops: append(slices.Clip(f.ops), func(h slog.Handler) slog.Handler { return h.WithGroup(name) })}
}
