package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/linkbff/linkbff/internal/testkit"
	"github.com/linkbff/linkbff/internal/tracing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseEnv(t *testing.T) {
	both := []string{"tracecontext", "baggage"}
	for _, tc := range []struct {
		name        string
		env         map[string]string
		exporters   []string
		propagators []string
		protocol    string
		disabled    bool
		err         string // a part of the error; "" for none
	}{
		{name: "nothing set: off", env: nil},
		{name: "an OTLP endpoint turns otlp on", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, exporters: []string{"otlp"}, protocol: "http/protobuf", propagators: both},
		{name: "a traces endpoint too", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, exporters: []string{"otlp"}, protocol: "http/protobuf", propagators: both},
		{name: "otlp named", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, exporters: []string{"otlp"}, protocol: "http/protobuf", propagators: both},
		{name: "several, spaced", env: map[string]string{"OTEL_TRACES_EXPORTER": " otlp , console "}, exporters: []string{"otlp", "console"}, protocol: "http/protobuf", propagators: both},
		{name: "none wins over an endpoint", env: map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}},
		{name: "SDK disabled", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, disabled: true},
		{name: "SDK disabled, any case", env: map[string]string{"OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, disabled: true},
		{name: "SDK disabled ignores what else is wrong", env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "zipkin"}, disabled: true},
		{name: "SDK not disabled by false", env: map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "console"}, exporters: []string{"console"}, propagators: both},
		{name: "SDK not disabled by another value", env: map[string]string{"OTEL_SDK_DISABLED": "1", "OTEL_TRACES_EXPORTER": "console"}, exporters: []string{"console"}, propagators: both},
		{name: "propagators", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_PROPAGATORS": "tracecontext"}, exporters: []string{"otlp"}, protocol: "http/protobuf", propagators: []string{"tracecontext"}},
		{name: "http/protobuf", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, exporters: []string{"otlp"}, protocol: "http/protobuf", propagators: both},
		{name: "traces protocol first", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, exporters: []string{"otlp"}, protocol: "http/protobuf", propagators: both},
		{name: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, exporters: []string{"otlp"}, protocol: "grpc", propagators: both},
		{name: "protocol without otlp: unused", env: map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, exporters: []string{"console"}, propagators: both},
		{name: "http/json refused", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, err: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, err: "OTEL_TRACES_EXPORTER"},
		{name: "none beside another", env: map[string]string{"OTEL_TRACES_EXPORTER": "none,otlp"}, err: "OTEL_TRACES_EXPORTER"},
		{name: "unknown propagator", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_PROPAGATORS": "b3"}, err: "OTEL_PROPAGATORS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tracing.ParseEnv(env(tc.env))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tracing.Settings{Disabled: tc.disabled, Exporters: tc.exporters, Propagators: tc.propagators, Protocol: tc.protocol}, s); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
			if s.On() != (len(tc.exporters) > 0) {
				t.Errorf("On() = %v", s.On())
			}
		})
	}
}

// TestSetup: without the environment asking, Setup installs nothing, and the SDK's
// disabling wins even over a test's exporter; both OTLP protocols build an exporter
// (which connects only to export); an unknown exporter is an error.
func TestSetup(t *testing.T) {
	for name, tc := range map[string]struct {
		env map[string]string
		opt tracing.Options
	}{
		"no OTEL_* set":                  {},
		"exporter none":                  {env: map[string]string{"OTEL_TRACES_EXPORTER": "none"}},
		"SDK disabled":                   {env: map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}},
		"SDK disabled, exporter in hand": {env: map[string]string{"OTEL_SDK_DISABLED": "true"}, opt: tracing.Options{Exporter: tracetest.NewInMemoryExporter()}},
	} {
		tr, err := tracing.Setup(t.Context(), env(tc.env), tc.opt)
		if err != nil || tr != nil {
			t.Errorf("%s: Setup = %v, %v; want nil, nil", name, tr, err)
		}
	}
	for _, p := range []string{"http/protobuf", "grpc"} {
		tr, err := tracing.Setup(t.Context(), env(map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": p}), tracing.Options{})
		if err != nil || tr == nil {
			t.Errorf("otlp over %s: Setup = %v, %v", p, tr, err)
			continue
		}
		if err := tr.Shutdown(t.Context()); err != nil {
			t.Errorf("otlp over %s: Shutdown: %v", p, err)
		}
	}
	if _, err := tracing.Setup(t.Context(), env(map[string]string{"OTEL_TRACES_EXPORTER": "jaeger"}), tracing.Options{}); err == nil {
		t.Error("Setup accepted an unknown exporter")
	}
}

// TestConsoleExporter: OTEL_TRACES_EXPORTER=console writes the spans to Stdout,
// at the latest when Shutdown flushes them; the resource names linkbff and its
// version unless OTEL_SERVICE_NAME says otherwise.
func TestConsoleExporter(t *testing.T) {
	var out bytes.Buffer
	tr, err := tracing.Setup(t.Context(), env(map[string]string{"OTEL_TRACES_EXPORTER": "console"}), tracing.Options{Stdout: &out, ServiceVersion: "v1.2.3"})
	if err != nil || tr == nil {
		t.Fatalf("Setup = %v, %v", tr, err)
	}
	_, span := tr.Provider.Tracer("test").Start(t.Context(), "work")
	span.End()
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"Name":"work"`, `"Value":"linkbff"`, `"Value":"v1.2.3"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console output lacks %s:\n%s", want, out.String())
		}
	}
}

func TestResourceFromEnv(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "linkbff-eu")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging")
	tr, exp := setup(t)
	_, span := tr.Provider.Tracer("test").Start(t.Context(), "work")
	span.End()
	res := exp.GetSpans()[0].Resource
	for _, want := range []attribute.KeyValue{
		attribute.String("service.name", "linkbff-eu"),
		attribute.String("deployment.environment.name", "staging"),
	} {
		if !slices.Contains(res.Attributes(), want) {
			t.Errorf("resource %v lacks %v", res.Attributes(), want)
		}
	}
}

// setup turns tracing on with an in-memory exporter that gets each span as it ends;
// opts may add TrustParent.
func setup(t *testing.T, opts ...tracing.Options) (*tracing.Tracing, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	var o tracing.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	o.Exporter = exp
	tr, err := tracing.Setup(t.Context(), env(nil), o)
	if err != nil || tr == nil {
		t.Fatalf("Setup = %v, %v", tr, err)
	}
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr, exp
}

func attrs(s tracetest.SpanStub) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, a := range s.Attributes {
		m[a.Key] = a.Value.String()
	}
	return m
}

// TestServerSpan: the span of a request from a trusted proxy continues the
// caller's trace (traceparent), is named by method and route, records the route
// rather than the path and the client linkbff resolved, and a 5xx marks it an error.
func TestServerSpan(t *testing.T) {
	tr, exp := setup(t, tracing.Options{TrustParent: func(*http.Request) bool { return true }})
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		tracing.MarkProblem(r.Context(), "upstream_unavailable")
		tracing.NameServerSpan(r.Context(), r.Method, "/me/identities/{provider}/{user_id}", "203.0.113.7")
	}))
	req := httptest.NewRequest(http.MethodDelete, "/me/identities/github/4242", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	h.ServeHTTP(httptest.NewRecorder(), req)

	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Name != "DELETE /me/identities/{provider}/{user_id}" || s.SpanKind != trace.SpanKindServer {
		t.Errorf("span %q of kind %v", s.Name, s.SpanKind)
	}
	if got := s.Parent.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" || s.SpanContext.TraceID() != s.Parent.TraceID() {
		t.Errorf("parent trace %s, span trace %s: the traceparent was not honoured", got, s.SpanContext.TraceID())
	}
	if s.Status.Code != codes.Error {
		t.Errorf("status %v, want Error for a 502", s.Status)
	}
	a := attrs(s)
	for k, want := range map[attribute.Key]string{
		"http.route":                "/me/identities/{provider}/{user_id}",
		"url.path":                  "/me/identities/{provider}/{user_id}",
		"http.response.status_code": "502",
		"client.address":            "203.0.113.7",
		"linkbff.problem.code":      "upstream_unavailable",
	} {
		if a[k] != want {
			t.Errorf("%s = %q, want %q", k, a[k], want)
		}
	}
	for k, v := range a {
		if strings.Contains(v, "4242") {
			t.Errorf("%s = %q names the identity", k, v)
		}
	}
}

// TestServerSpanWithoutRoute: a request no route matched (a 404, or a 405 whose
// path names an identity) keeps the method as its name, an unknown method is not
// copied into it, and no attribute holds the path: url.path is "unmatched".
func TestServerSpanWithoutRoute(t *testing.T) {
	tr, exp := setup(t)
	h := tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusMethodNotAllowed)
		tracing.NameServerSpan(r.Context(), r.Method, "", "")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/me/identities/github/4242?x=ada", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/pot/4242", nil))
	var names []string
	for _, s := range exp.GetSpans() {
		names = append(names, s.Name)
		a := attrs(s)
		if a["url.path"] != "unmatched" {
			t.Errorf("span %q: url.path = %q, want unmatched", s.Name, a["url.path"])
		}
		for k, v := range a {
			if strings.Contains(v, "4242") || strings.Contains(v, "/pot") || strings.Contains(v, "/me/identities") || strings.Contains(v, "ada") {
				t.Errorf("span %q: %s = %q holds the path", s.Name, k, v)
			}
		}
	}
	if diff := cmp.Diff([]string{"GET", "HTTP"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

// TestServerSpanTrust: a traceparent is continued only when TrustParent trusts the
// request (a trusted proxy's); anyone else's request starts a new trace, linked to
// the context it sent. Without TrustParent no one is trusted.
func TestServerSpanTrust(t *testing.T) {
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	fromProxy := func(r *http.Request) bool { return strings.HasPrefix(r.RemoteAddr, "10.0.0.1:") }
	for name, tc := range map[string]struct {
		trust  func(*http.Request) bool
		remote string
		joined bool
	}{
		"trusted proxy":          {trust: fromProxy, remote: "10.0.0.1:4711", joined: true},
		"anyone else":            {trust: fromProxy, remote: "198.51.100.1:4711"},
		"no TrustParent: no one": {remote: "10.0.0.1:4711"},
	} {
		t.Run(name, func(t *testing.T) {
			tr, exp := setup(t, tracing.Options{TrustParent: tc.trust})
			h := tr.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			req.RemoteAddr = tc.remote
			req.Header.Set("traceparent", "00-"+traceID+"-"+spanID+"-01")
			h.ServeHTTP(httptest.NewRecorder(), req)
			s := exp.GetSpans()[0]
			if tc.joined {
				if s.SpanContext.TraceID().String() != traceID || s.Parent.SpanID().String() != spanID || len(s.Links) != 0 {
					t.Errorf("span in trace %s under %s with %d links, want the caller's trace", s.SpanContext.TraceID(), s.Parent.SpanID(), len(s.Links))
				}
				return
			}
			if s.Parent.IsValid() || s.SpanContext.TraceID().String() == traceID {
				t.Errorf("span in trace %s under %s: the caller's traceparent was continued", s.SpanContext.TraceID(), s.Parent.SpanID())
			}
			if len(s.Links) != 1 || s.Links[0].SpanContext.TraceID().String() != traceID || s.Links[0].SpanContext.SpanID().String() != spanID {
				t.Errorf("links %v, want one to the caller's context", s.Links)
			}
		})
	}
}

// TestClientSpan: an upstream request is a child of the span of its context, named
// by its operation; its url.full has the path template instead of the path and no
// query; neither the Authorization header nor a traceparent is sent or recorded
// beyond what the request had.
func TestClientSpan(t *testing.T) {
	tr, exp := setup(t)
	var got http.Header
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer upstream.Close()
	op := func(r *http.Request) (string, string) { return "users_by_email", "/api/v2/users-by-email" }
	client := &http.Client{Transport: tr.Transport(http.DefaultTransport, "auth0.management", op)}

	ctx, parent := tr.Provider.Tracer("test").Start(t.Context(), "GET /me/identities")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, upstream.URL+"/api/v2/users-by-email?email=ada%40example.com", nil)
	req.Header.Set("Authorization", "Bearer mgmt-token-secret")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	parent.End()

	if got.Get("traceparent") != "" || got.Get("baggage") != "" {
		t.Errorf("trace context sent upstream: %v", got)
	}
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	s := spans[0]
	if s.Name != "auth0.management users_by_email" || s.SpanKind != trace.SpanKindClient {
		t.Errorf("span %q of kind %v", s.Name, s.SpanKind)
	}
	if s.Parent.SpanID() != spans[1].SpanContext.SpanID() || s.SpanContext.TraceID() != spans[1].SpanContext.TraceID() {
		t.Error("the client span is not a child of the caller's span")
	}
	a := attrs(s)
	if want := upstream.URL + "/api/v2/users-by-email"; a["url.full"] != want {
		t.Errorf("url.full = %q, want %q", a["url.full"], want)
	}
	if a["http.response.status_code"] != "404" {
		t.Errorf("status code %q", a["http.response.status_code"])
	}
	for k, v := range a {
		if strings.Contains(v, "ada") || strings.Contains(v, "mgmt-token") {
			t.Errorf("%s = %q leaks the request", k, v)
		}
	}
}

// TestLogHandler: a record logged in a traced context carries the trace and span
// ids; one logged without does not.
func TestLogHandler(t *testing.T) {
	tr, _ := setup(t)
	var buf bytes.Buffer
	log := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil))).With("request_id", "r1")
	ctx, span := tr.Provider.Tracer("test").Start(t.Context(), "work")
	log.InfoContext(ctx, "traced")
	log.Info("untraced")
	span.End()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	var traced, untraced map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &traced)
	_ = json.Unmarshal([]byte(lines[1]), &untraced)
	sc := span.SpanContext()
	if traced["trace_id"] != sc.TraceID().String() || traced["span_id"] != sc.SpanID().String() || traced["request_id"] != "r1" {
		t.Errorf("traced line: %s", lines[0])
	}
	if _, ok := untraced["trace_id"]; ok {
		t.Errorf("untraced line: %s", lines[1])
	}
}

var _ sdktrace.SpanExporter = (*tracetest.InMemoryExporter)(nil)

// TestShutdownFlushes: an exporter the environment names is behind the batch
// processor (a span that has ended is not exported yet under a batch delay far
// beyond the test), and Shutdown exports what the processor still holds.
func TestShutdownFlushes(t *testing.T) {
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "600000") // read by the SDK from the process
	var out testkit.Buffer
	tr, err := tracing.Setup(t.Context(), env(map[string]string{"OTEL_TRACES_EXPORTER": "console"}), tracing.Options{Stdout: &out})
	if err != nil || tr == nil {
		t.Fatalf("Setup = %v, %v", tr, err)
	}
	_, span := tr.Provider.Tracer("test").Start(t.Context(), "work")
	span.End()
	if strings.Contains(out.String(), `"Name":"work"`) {
		t.Fatal("the span was exported as it ended: the exporter is not behind the batch processor")
	}
	if err := tr.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"Name":"work"`) {
		t.Errorf("the span was not exported at shutdown; output:\n%s", out.String())
	}
}
