// Package tracing is linkbff's OpenTelemetry tracing: the SDK's tracer provider set
// up from the standard OTEL_* environment variables, the server span of a request
// and the client span of an upstream call (otelhttp), and the trace and span ids in
// log records.
//
// Tracing is off unless the environment asks for it (OTEL_TRACES_EXPORTER, or an
// OTLP endpoint), and off means nothing at all: Setup returns nil, no handler or
// transport is wrapped and no log handler added, so the hot path costs what it
// cost before; on, a warm list costs the allocations TestWarmListAllocationsTraced
// (cmd/linkbff) bounds. Nothing here sets OpenTelemetry's global providers: the
// tracer provider and propagator reach their users explicitly. The globals it sets
// are OpenTelemetry's error handler and its diagnostics logger, so that neither
// prints plain text (see installErrorHandler).
package tracing

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Options are what Setup takes besides the environment.
type Options struct {
	// Stdout is where the console exporter writes (OTEL_TRACES_EXPORTER=console).
	Stdout io.Writer
	// ServiceVersion is the resource's service.version ("" leaves it out).
	ServiceVersion string
	// Exporter, when set, replaces the exporters the environment names and turns
	// tracing on even when it names none (OTEL_SDK_DISABLED=true still wins). It
	// gets every span synchronously as it ends: for tests (sdk/trace/tracetest).
	Exporter sdktrace.SpanExporter
	// Logger gets what goes wrong in exporting spans (rate-limited warnings), in
	// linkbff's log format; nil drops it.
	Logger *slog.Logger
	// TrustParent reports whether the trace context a request carries may be
	// continued: true only for a request whose peer is a trusted reverse proxy
	// (TRUSTED_PROXIES). Any other request starts a trace of its own, linked to
	// the context it sent. nil trusts no one.
	TrustParent func(*http.Request) bool
}

// Tracing is tracing turned on: the tracer provider, and the propagator of trace
// context in HTTP headers.
type Tracing struct {
	Provider   *sdktrace.TracerProvider
	Propagator propagation.TextMapPropagator

	trustParent func(*http.Request) bool // never nil
	log         *slog.Logger             // Options.Logger
}

// Settings are what the environment says about tracing, as Setup reads it.
type Settings struct {
	// Disabled is OTEL_SDK_DISABLED=true: tracing is off, even with a test's
	// exporter (Options.Exporter), and nothing else is read.
	Disabled bool
	// Exporters are OTEL_TRACES_EXPORTER's values ("otlp", "console"), empty when
	// tracing is off.
	Exporters []string
	// Propagators are OTEL_PROPAGATORS' values ("tracecontext", "baggage").
	Propagators []string
	// Protocol is the OTLP exporter's: "http/protobuf" or "grpc" (with otlp only).
	Protocol string
}

// On reports whether the settings turn tracing on.
func (s Settings) On() bool { return len(s.Exporters) > 0 }

// defaultPropagators are the specification's default OTEL_PROPAGATORS. linkbff
// reads baggage but never uses it (no span, log record or upstream request gets
// it); it is kept so that the default is the specification's.
var defaultPropagators = []string{"tracecontext", "baggage"}

// ParseEnv reads the variables that say whether tracing is on and how it exports
// and propagates. Its errors name the variable. The rest of OTEL_* (the endpoint,
// headers, timeouts, the sampler, the batch processor, the resource) is read by
// the SDK itself, from the process environment.
func ParseEnv(getenv func(string) string) (Settings, error) {
	var s Settings
	// OTEL_SDK_DISABLED: only "true" disables (any other value is false, as the
	// specification says).
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		s.Disabled = true
		return s, nil
	}
	exporters := list(getenv("OTEL_TRACES_EXPORTER"))
	if len(exporters) == 0 {
		// The specification's default exporter is otlp; linkbff's default is none,
		// unless an OTLP endpoint is configured, which can only mean "export there".
		if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return s, nil
		}
		exporters = []string{"otlp"}
	}
	for _, e := range exporters {
		switch e {
		case "none":
			if len(exporters) > 1 {
				return s, fmt.Errorf("OTEL_TRACES_EXPORTER: %q names none beside other exporters", strings.Join(exporters, ","))
			}
			return s, nil
		case "otlp":
			p, err := protocol(getenv)
			if err != nil {
				return s, err
			}
			s.Protocol = p
		case "console":
		default:
			return s, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (otlp, console or none)", e)
		}
	}
	propagators := list(getenv("OTEL_PROPAGATORS"))
	if len(propagators) == 0 {
		propagators = slices.Clone(defaultPropagators)
	}
	for _, p := range propagators {
		switch p {
		case "tracecontext", "baggage", "none":
		default:
			return s, fmt.Errorf("OTEL_PROPAGATORS: %q is not supported (tracecontext, baggage or none)", p)
		}
	}
	s.Exporters, s.Propagators = exporters, propagators
	return s, nil
}

// protocol is the OTLP protocol the environment names, http/protobuf by default
// (as the specification's). http/json is refused: the exporters have no JSON, and
// a collector listening for it would never get a span.
func protocol(getenv func(string) string) (string, error) {
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		switch p := strings.TrimSpace(getenv(v)); p {
		case "":
			continue
		case "http/protobuf", "grpc":
			return p, nil
		default:
			return "", fmt.Errorf("%s: %q is not supported (http/protobuf or grpc)", v, p)
		}
	}
	return "http/protobuf", nil
}

// list splits a comma-separated value, trimmed and lowercased, empties dropped.
func list(v string) []string {
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Setup turns tracing on when the environment (or opts.Exporter) asks for it, and
// returns nil when it does not: then nothing of tracing is installed anywhere.
// Shutdown flushes what is left.
func Setup(ctx context.Context, getenv func(string) string, opts Options) (*Tracing, error) {
	s, err := ParseEnv(getenv)
	if err != nil {
		return nil, err
	}
	if s.Disabled || (!s.On() && opts.Exporter == nil) {
		return nil, nil
	}
	if len(s.Propagators) == 0 { // on by opts.Exporter alone
		s.Propagators = defaultPropagators
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Before the provider, which hands otel.Handle a sampler it does not know.
	installErrorHandler(opts.Logger)
	attrs := []attribute.KeyValue{attribute.String("service.name", "linkbff")}
	if opts.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", opts.ServiceVersion))
	}
	// Later options win: OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME override
	// the name and version given here.
	res, err := resource.New(ctx, resource.WithAttributes(attrs...), resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	// No sampler option: the SDK reads OTEL_TRACES_SAMPLER and its argument
	// (default parentbased_always_on), and OTEL_BSP_* for the batch processor.
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if opts.Exporter != nil {
		tpOpts = append(tpOpts, sdktrace.WithSyncer(opts.Exporter))
	} else {
		for _, name := range s.Exporters {
			exp, err := newExporter(ctx, name, s.Protocol, opts.Stdout)
			if err != nil {
				return nil, err
			}
			tpOpts = append(tpOpts, sdktrace.WithBatcher(newLoggedExporter(exp, log, exportWarnEvery)))
		}
	}
	var props []propagation.TextMapPropagator
	for _, p := range s.Propagators {
		switch p {
		case "tracecontext":
			props = append(props, propagation.TraceContext{})
		case "baggage":
			props = append(props, propagation.Baggage{})
		}
	}
	trust := opts.TrustParent
	if trust == nil {
		trust = func(*http.Request) bool { return false }
	}
	return &Tracing{
		Provider:    sdktrace.NewTracerProvider(tpOpts...),
		Propagator:  propagation.NewCompositeTextMapPropagator(props...),
		trustParent: trust,
		log:         opts.Logger,
	}, nil
}

func newExporter(ctx context.Context, name, protocol string, stdout io.Writer) (sdktrace.SpanExporter, error) {
	switch name {
	case "otlp":
		// Endpoint, headers, timeout, compression and TLS come from
		// OTEL_EXPORTER_OTLP_[TRACES_]* (default http://localhost:4318/v1/traces,
		// or localhost:4317 over gRPC).
		var (
			exp sdktrace.SpanExporter
			err error
		)
		if protocol == "grpc" {
			exp, err = otlptracegrpc.New(ctx)
		} else {
			exp, err = otlptracehttp.New(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_*: %w", err)
		}
		return exp, nil
	case "console":
		if stdout == nil {
			stdout = io.Discard
		}
		return stdouttrace.New(stdouttrace.WithWriter(stdout))
	}
	return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported", name)
}

// Shutdown ends tracing: the spans still buffered are exported, within ctx.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	err := t.Provider.Shutdown(ctx)
	if t.log != nil {
		errorLog.CompareAndSwap(t.log, nil)
	}
	return err
}
