package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// failingExporter fails every export.
type failingExporter struct{ tracetest.InMemoryExporter }

func (*failingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	return errors.New("collector down")
}

// records returns the JSON records logged into buf, as "msg failures spans".
func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON record: %q", l)
		}
		out = append(out, map[string]any{"level": m["level"], "msg": m["msg"], "failures": m["failures"], "spans": m["spans"]})
	}
	return out
}

// TestLoggedExporter: a failed export is reported to the processor as done and
// logged as a warning: the first at once, then at most one per interval that
// counts the failures and spans since the last; Shutdown tells what is left.
func TestLoggedExporter(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(1_000_000, 0)
	e := newLoggedExporter(&failingExporter{}, slog.New(slog.NewJSONHandler(&buf, nil)), time.Minute)
	e.now = func() time.Time { return now }
	spans := make([]sdktrace.ReadOnlySpan, 3)
	export := func() {
		if err := e.ExportSpans(t.Context(), spans); err != nil {
			t.Fatalf("ExportSpans = %v, want nil", err)
		}
	}
	export() // warned at once
	export() // counted
	now = now.Add(30 * time.Second)
	export() // counted
	now = now.Add(30 * time.Second)
	export() // a minute after the first warning: warned, with the two before
	export() // counted
	if err := e.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	warn := func(failures, spans float64) map[string]any {
		return map[string]any{"level": "WARN", "msg": "tracing: spans not exported", "failures": failures, "spans": spans}
	}
	if diff := cmp.Diff([]map[string]any{warn(1, 3), warn(3, 9), warn(1, 3)}, records(t, &buf)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// TestErrorHandler: what the SDK hands otel.Handle once tracing is set up is a
// record of the logger of the Tracing set up last, not a plain line on stderr; a
// sampler OTEL_TRACES_SAMPLER names that the SDK does not know is one.
func TestErrorHandler(t *testing.T) {
	t.Setenv("OTEL_TRACES_SAMPLER", "sometimes")
	var buf bytes.Buffer
	tr, err := Setup(t.Context(), func(string) string { return "" }, Options{
		Exporter: tracetest.NewInMemoryExporter(),
		Logger:   slog.New(slog.NewJSONHandler(&buf, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	otel.Handle(errors.New("something else"))
	got := records(t, &buf)
	if len(got) != 2 || got[0]["msg"] != "tracing: OpenTelemetry error" || got[0]["level"] != "WARN" {
		t.Errorf("records %v, want two warnings: the sampler's and the handled error", got)
	}
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	otel.Handle(errors.New("after shutdown"))
	if buf.Len() != 0 {
		t.Errorf("logged by a Tracing shut down: %s", buf.String())
	}
}

// TestSDKDiagnosticsLogged: what the SDK reports through its own logger (here, an
// OTEL_EXPORTER_OTLP_TIMEOUT that is no number, which it ignores) is a record of
// linkbff's logger, not a plain line on stderr.
func TestSDKDiagnosticsLogged(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "soon") // the exporter reads the process's environment
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"}
	var buf bytes.Buffer
	tr, err := Setup(t.Context(), func(k string) string { return env[k] }, Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	got := records(t, &buf)
	if len(got) != 1 || got[0]["level"] != "ERROR" || got[0]["msg"] != "parse duration" {
		t.Errorf("records %v, want the SDK's complaint about the timeout as one record", got)
	}
}
