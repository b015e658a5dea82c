package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/reqlog"
	"github.com/linkbff/linkbff/internal/tracing"
)

// loggers are linkbff's two loggers, over one output: log writes every record at
// once; access, the one "request" line per request, is buffered (see logSink). In
// JSON, the access line is written by hand (reqlog.JSONAccess), exactly as slog's
// JSON handler would write it; in text, by slog's text handler.
type loggers struct {
	log    *slog.Logger
	access reqlog.AccessLog
	// flush writes out what access buffered: at shutdown.
	flush func()
}

func newLoggers(cfg config.Config, w io.Writer) loggers {
	sink := newLogSink(w, accessFlushEvery)
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var handler slog.Handler = slog.NewJSONHandler(sink, opts)
	// In JSON the access line does not pass through a slog.Handler: what a handler
	// wrapper adds to every record (trace ids from the context, say) goes into
	// JSONAccess.Attrs for it.
	var access reqlog.AccessLog = &reqlog.JSONAccess{Out: sink, Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		handler = slog.NewTextHandler(sink, opts)
		access = reqlog.SlogAccess{Logger: slog.New(handler)} // unflushed: see logSink
	}
	return loggers{
		log:    slog.New(flushingHandler{Handler: handler, sink: sink}),
		access: access,
		flush:  func() { _ = sink.Flush() },
	}
}

// startupLines are what linkbff tells on stdout as it starts (where it listens; in
// development, how to sign in): lines for a person with LOG_FORMAT=text, one JSON
// record each with LOG_FORMAT=json, so that a log pipeline reads every line of the
// output. They are written whatever LOG_LEVEL says, as the text is.
type startupLines struct {
	w    io.Writer
	json *slog.Logger // nil: text
}

func newStartupLines(cfg config.Config, w io.Writer) startupLines {
	out := startupLines{w: w}
	if cfg.LogFormat == "json" {
		out.json = slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return out
}

// serving says that something serves at url: the line "text url", or the record
// {"msg": msg, "url": url}.
func (o startupLines) serving(text, msg, url string) {
	if o.json != nil {
		o.json.Info(msg, "url", url)
		return
	}
	fmt.Fprintf(o.w, "%s %s\n", text, url)
}

// traced returns the loggers with every record logged in a traced context carrying
// its trace_id and span_id (tracing.LogHandler): with tracing on only.
func (l loggers) traced() loggers {
	l.log = slog.New(tracing.LogHandler(l.log.Handler()))
	switch a := l.access.(type) {
	case *reqlog.JSONAccess:
		traced := *a
		traced.Attrs = tracing.TraceAttrs
		l.access = &traced
	case reqlog.SlogAccess:
		l.access = reqlog.SlogAccess{Logger: slog.New(tracing.LogHandler(a.Logger.Handler()))}
	}
	return l
}

// accessFlushEvery is how late an access line may reach the output.
const accessFlushEvery = 100 * time.Millisecond

// logSink buffers log output, so that the access line of a request costs a copy into
// a buffer instead of a write(2) of its own under the handler's lock. Under load that
// lock queued requests, each holding its goroutine and memory: with 1,000 connections
// the synchronous line cost 13 MiB of peak RSS, a fifth of the process.
//
// What is buffered reaches the output within accessFlushEvery, when the 64 KiB
// buffer fills, before any record of the other logger (flushingHandler flushes after
// each, so the output keeps the order of the records), and at shutdown. A crash can
// lose at most the access lines of the last accessFlushEvery.
type logSink struct {
	mu    sync.Mutex
	w     *bufio.Writer
	timer *time.Timer // armed while something is buffered
	armed bool
	every time.Duration
}

func newLogSink(out io.Writer, every time.Duration) *logSink {
	s := &logSink{w: bufio.NewWriterSize(out, 64<<10), every: every}
	s.timer = time.AfterFunc(time.Hour, func() { _ = s.Flush() })
	s.timer.Stop()
	return s
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(p)
	if s.w.Buffered() > 0 && !s.armed {
		s.armed = true
		s.timer.Reset(s.every)
	}
	return n, err
}

// Flush writes out everything buffered.
func (s *logSink) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.armed {
		s.armed = false
		s.timer.Stop()
	}
	return s.w.Flush()
}

// flushingHandler flushes the sink after every record it writes: errors, warnings,
// audit records and the like reach the output at once, in order after the access
// lines buffered before them.
type flushingHandler struct {
	slog.Handler
	sink *logSink
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if ferr := h.sink.Flush(); err == nil {
		err = ferr
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{Handler: h.Handler.WithAttrs(attrs), sink: h.sink}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{Handler: h.Handler.WithGroup(name), sink: h.sink}
}
