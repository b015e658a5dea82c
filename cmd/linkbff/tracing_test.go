package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

// withSpanExporter turns tracing on with exp, which gets each span as it ends.
func withSpanExporter(exp sdktrace.SpanExporter) runOption {
	return func(h *runHooks) { h.tracing.Exporter = exp }
}

// spanRecorder is an in-memory exporter that tells when a span arrives, so that a
// test waits for the span of a request (which ends after its answer is sent)
// without sleeping.
type spanRecorder struct {
	mu      sync.Mutex
	spans   tracetest.SpanStubs
	arrived chan struct{} // one pending signal at most
}

func newSpanRecorder() *spanRecorder { return &spanRecorder{arrived: make(chan struct{}, 1)} }

func (r *spanRecorder) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	r.mu.Lock()
	r.spans = append(r.spans, tracetest.SpanStubsFromReadOnlySpans(spans)...)
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (r *spanRecorder) Shutdown(context.Context) error { return nil }

func (r *spanRecorder) all() tracetest.SpanStubs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(tracetest.SpanStubs(nil), r.spans...)
}

// waitFor returns the first span named name, waiting for it up to testkit.Timeout.
func (r *spanRecorder) waitFor(t *testing.T, name string) tracetest.SpanStub {
	t.Helper()
	return r.waitUntil(t, "named "+name, func(s tracetest.SpanStub) bool { return s.Name == name })
}

// waitUntil returns the first span match says yes to, waiting for it up to
// testkit.Timeout; what describes the span in the failure.
func (r *spanRecorder) waitUntil(t *testing.T, what string, match func(tracetest.SpanStub) bool) tracetest.SpanStub {
	t.Helper()
	deadline := time.After(testkit.Timeout)
	for {
		for _, s := range r.all() {
			if match(s) {
				return s
			}
		}
		select {
		case <-r.arrived:
		case <-deadline:
			t.Fatalf("no span %s within %v; spans: %v", what, testkit.Timeout, spanNames(r.all()))
		}
	}
}

// childrenOf lists the names and status codes of parent's child spans, in the
// order they ended.
func (r *spanRecorder) childrenOf(t *testing.T, parent tracetest.SpanStub) []string {
	t.Helper()
	var out []string
	for _, s := range r.all() {
		if s.Parent.SpanID() != parent.SpanContext.SpanID() {
			continue
		}
		if s.SpanContext.TraceID() != parent.SpanContext.TraceID() {
			t.Errorf("span %q: trace %s, its parent's %s", s.Name, s.SpanContext.TraceID(), parent.SpanContext.TraceID())
		}
		if s.SpanKind != trace.SpanKindClient {
			t.Errorf("span %q is of kind %v, want client", s.Name, s.SpanKind)
		}
		out = append(out, s.Name+" "+attr(s, "http.response.status_code"))
	}
	return out
}

func attr(s tracetest.SpanStub, key attribute.Key) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}

func spanNames(spans tracetest.SpanStubs) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	return names
}

// TestTracing drives linkbff over run with tracing on, against the development
// tenant: a server span per request, named by its route, with a child client span
// per Management API call (the token request included) in its trace; the log
// records of a request carry its trace and span ids; no span names a user or
// carries a token.
func TestTracing(t *testing.T) {
	rec := newSpanRecorder()
	tenant := devtenanttest.Start(t, devtenant.Options{})
	a := startAppOn(t, tenant, map[string]string{"MANAGEMENT_API_TIMEOUT": "1s"}, withSpanExporter(rec))

	// The startup check gets the Management API token outside any request: a
	// trace of its own.
	if s := rec.waitFor(t, "auth0.management token"); s.Parent.IsValid() {
		t.Errorf("the startup token request has a parent span %s", s.Parent.SpanID())
	}

	// A cold list. Auth0 refuses the token once (as after a key rotation), so
	// linkbff gets a fresh one within the request: that token request is the
	// request's too.
	alice := a.accessToken("auth0|alice")
	tenant.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Status: http.StatusUnauthorized, Count: 1})
	if r := a.do("GET", "/me/identities", alice, nil); r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	list := rec.waitFor(t, "GET /me/identities")
	if list.SpanKind != trace.SpanKindServer || attr(list, "http.response.status_code") != "200" || attr(list, "http.route") != "/me/identities" {
		t.Errorf("list span: kind %v, attributes %v", list.SpanKind, list.Attributes)
	}
	wantList := []string{"auth0.management get_user 401", "auth0.management token 200", "auth0.management get_user 200"}
	if diff := cmp.Diff(wantList, rec.childrenOf(t, list)); diff != "" {
		t.Errorf("the list's Management API spans (-want +got):\n%s", diff)
	}

	// A link: nonce, then the link itself, each its own trace.
	nonce := a.nonce(alice)
	secondary := a.mint(devtenant.MintRequest{UserID: "github|4242", Nonce: nonce}).IDToken
	if r := a.do("POST", "/me/identities", alice, map[string]string{"link_with": secondary}); r.status != http.StatusCreated {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	rec.waitFor(t, "POST /me/identities/nonce")
	link := rec.waitFor(t, "POST /me/identities")
	if attr(link, "http.response.status_code") != "201" || link.SpanContext.TraceID() == list.SpanContext.TraceID() {
		t.Errorf("link span: trace %s, attributes %v", link.SpanContext.TraceID(), link.Attributes)
	}
	// Both users read, the primary's metadata merged, the link.
	wantLink := []string{"auth0.management get_user 200", "auth0.management get_user 200", "auth0.management patch_user 200", "auth0.management link 201"}
	if diff := cmp.Diff(wantLink, rec.childrenOf(t, link)); diff != "" {
		t.Errorf("the link's Management API spans (-want +got):\n%s", diff)
	}

	// A refusal, logged by the request's logger without a context of its own.
	r := a.do("GET", "/me/identities/suggestions", "", nil)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("unauthenticated suggestions: %d %s", r.status, r.body)
	}
	code, _ := strings.CutPrefix(r.json(t)["type"].(string), "urn:linkbff:problem:")
	refused := rec.waitFor(t, "GET /me/identities/suggestions")
	if attr(refused, "linkbff.problem.code") != code {
		t.Errorf("refused span attributes %v", refused.Attributes)
	}
	line := logLine(t, a.stderr.String(), func(m map[string]any) bool { return m["msg"] == "request refused" })
	if line["trace_id"] != refused.SpanContext.TraceID().String() {
		t.Errorf("request refused line trace_id %v, want %s", line["trace_id"], refused.SpanContext.TraceID())
	}

	// A Management API request Auth0 answers too late (bob's list, not cached
	// yet): its span's status carries the transport's error, which the scan below
	// reads.
	bob := a.accessToken("auth0|bob")
	tenant.InjectFault(devtenant.EndpointGetUser, devtenant.Fault{Latency: devtenant.Duration(2 * time.Second), Count: 1})
	a.do("GET", "/me/identities", bob, nil) // retried or refused: either will do
	failed := rec.waitUntil(t, "with an error status", func(s tracetest.SpanStub) bool {
		return s.SpanKind == trace.SpanKindClient && s.Status.Code == codes.Error && s.Status.Description != ""
	})
	t.Logf("a failed call's span: %q, status %q", failed.Name, failed.Status.Description)

	// No span holds a user id, an email address or a token: not in its name, its
	// attributes, its status or its events (an error recorded, and what it says).
	for _, s := range rec.all() {
		for _, kv := range spanTexts(s) {
			v := kv.Value.String()
			for _, secret := range []string{"alice", "bob", "4242", "%7C", alice, bob, secondary, "linkbff-dev-secret"} {
				if strings.Contains(v, secret) {
					t.Errorf("span %q: %s = %q holds %q", s.Name, kv.Key, v, secret)
				}
			}
		}
	}

	// The log records of a request carry its trace: the link's audit record
	// (logged at once), and the list's access line (buffered, and flushed before
	// the audit record).
	audit := logLine(t, a.stderr.String(), func(m map[string]any) bool { return m["msg"] == "audit link" })
	if audit["trace_id"] != link.SpanContext.TraceID().String() || audit["span_id"] != link.SpanContext.SpanID().String() {
		t.Errorf("audit record trace_id %v span_id %v, want the link span's %s %s", audit["trace_id"], audit["span_id"], link.SpanContext.TraceID(), link.SpanContext.SpanID())
	}
	access := logLine(t, a.stderr.String(), func(m map[string]any) bool {
		return m["msg"] == "request" && m["route"] == "/me/identities" && m["method"] == "GET"
	})
	if access["trace_id"] != list.SpanContext.TraceID().String() {
		t.Errorf("list access line trace_id %v, want %s", access["trace_id"], list.SpanContext.TraceID())
	}
}

// spanTexts are the texts of a span a leak could hide in: its name, attributes,
// status description, and its events' names and attributes.
func spanTexts(s tracetest.SpanStub) []attribute.KeyValue {
	out := append([]attribute.KeyValue{attribute.String("name", s.Name), attribute.String("status", s.Status.Description)}, s.Attributes...)
	for _, e := range s.Events {
		out = append(out, attribute.String("event", e.Name))
		for _, a := range e.Attributes {
			out = append(out, attribute.KeyValue{Key: "event " + a.Key, Value: a.Value})
		}
	}
	return out
}

// TestTracingHonoursTraceparent: the traceparent of a request from a trusted proxy
// (TRUSTED_PROXIES holds the test's address) is honoured: the request is served in
// the caller's trace. Anyone else's (TRUSTED_PROXIES names other networks, or
// nothing) starts a new trace, with a link to the caller's context.
func TestTracingHonoursTraceparent(t *testing.T) {
	const traceID, spanID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	tenant := devtenanttest.Start(t, devtenant.Options{})
	for name, tc := range map[string]struct {
		proxies string
		joined  bool
	}{
		"from a trusted proxy": {proxies: "127.0.0.1/32", joined: true},
		"from another network": {proxies: "10.0.0.0/8"},
		"no trusted proxies":   {},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := newSpanRecorder()
			url := startRun(t, productionEnv(tenant, map[string]string{"TRUSTED_PROXIES": tc.proxies}), &syncBuffer{}, &syncBuffer{}, withSpanExporter(rec))
			req, err := http.NewRequest(http.MethodGet, url+"/healthz", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("traceparent", "00-"+traceID+"-"+spanID+"-01")
			if res, _ := testkit.Do(t, testkit.HTTPClient(t), req); res.StatusCode != http.StatusOK {
				t.Fatalf("healthz: %d", res.StatusCode)
			}
			s := rec.waitFor(t, "GET /healthz")
			if tc.joined {
				if s.SpanContext.TraceID().String() != traceID || s.Parent.SpanID().String() != spanID {
					t.Errorf("span in trace %s under %s, want the caller's", s.SpanContext.TraceID(), s.Parent.SpanID())
				}
				return
			}
			if s.Parent.IsValid() || s.SpanContext.TraceID().String() == traceID {
				t.Errorf("span in trace %s under %s: an untrusted caller's trace was continued", s.SpanContext.TraceID(), s.Parent.SpanID())
			}
			if len(s.Links) != 1 || s.Links[0].SpanContext.TraceID().String() != traceID || s.Links[0].SpanContext.SpanID().String() != spanID {
				t.Errorf("links %v, want one to the caller's context", s.Links)
			}
		})
	}
}

// TestTracingOffByDefault: with no OTEL_* variable the router is served as it is,
// with nothing around it, and no log line carries a trace id, even for a request
// that sends a traceparent.
func TestTracingOffByDefault(t *testing.T) {
	tenant := devtenanttest.Start(t, devtenant.Options{})
	h := benchHandler(t, productionEnv(tenant))
	if _, ok := h.(*chi.Mux); !ok {
		t.Errorf("handler is %T, want the bare router", h)
	}

	stderr := &syncBuffer{}
	url := startRun(t, productionEnv(tenant, map[string]string{"LOG_LEVEL": "debug"}), &syncBuffer{}, stderr)
	req, err := http.NewRequest(http.MethodGet, url+"/me/identities", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if res, _ := testkit.Do(t, testkit.HTTPClient(t), req); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated list: %d", res.StatusCode)
	}
	// The refusal is logged (debug) at once, with the request's logger.
	line := logLine(t, stderr.String(), func(m map[string]any) bool { return m["msg"] == "request refused" })
	if _, ok := line["trace_id"]; ok || strings.Contains(stderr.String(), "4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Errorf("a trace id is logged with tracing off:\n%s", stderr.String())
	}
}

// logLine returns the first JSON log line of logs that match says yes to.
func logLine(t *testing.T, logs string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	for l := range strings.SplitSeq(logs, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && match(m) {
			return m
		}
	}
	t.Fatalf("no such log line in:\n%s", logs)
	return nil
}

// TestTracingShutdownFlushes: run flushes the spans the batch processor still
// holds when linkbff is stopped, before it returns (console exporter, a batch
// delay far beyond the test, so that only the shutdown exports the span). That an
// ended span waits in the processor until then is internal/tracing's
// TestShutdownFlushes: here the span of /healthz may end after its answer is read,
// so no check before the shutdown could tell.
func TestTracingShutdownFlushes(t *testing.T) {
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "600000") // read by the SDK from the process
	tenant := devtenanttest.Start(t, devtenant.Options{})
	getenv := productionEnv(tenant, map[string]string{"OTEL_TRACES_EXPORTER": "console", "SHUTDOWN_DRAIN_DELAY": "0s"})
	stdout := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"linkbff"}, getenv, stdout, &syncBuffer{}) }()
	url := testkit.Recv(t, stdout.servingURL("linkbff listening on", "linkbff listening"), "linkbff to listen")
	if res, _ := testkit.Get(t, testkit.HTTPClient(t), url+"/healthz"); res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
	cancel()
	if err := testkit.Recv(t, done, "run to return"); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(stdout.String(), `"Name":"GET /healthz"`) {
		t.Errorf("the request's span was not exported at shutdown; stdout:\n%s", stdout.String())
	}
}

// TestTracingMisconfigured: an exporter linkbff does not have stops it at startup,
// naming the variable.
func TestTracingMisconfigured(t *testing.T) {
	tenant := devtenanttest.Start(t, devtenant.Options{})
	err := run(t.Context(), []string{"linkbff"}, productionEnv(tenant, map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}), &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "OTEL_TRACES_EXPORTER") {
		t.Errorf("run = %v, want a configuration error naming OTEL_TRACES_EXPORTER", err)
	}
}

// TestTracingExportFailureLogged: spans that cannot be exported (the OTLP
// collector's port is closed) are told in linkbff's log, as a JSON record at WARN
// that LOG_LEVEL filters, never as a plain line: OpenTelemetry's default error
// handler prints with the standard logger onto the process's stderr, which the
// test points at run's stderr, as it is in production.
func TestTracingExportFailureLogged(t *testing.T) {
	ln := listenLoopback(t)
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	// Read by the exporter and the SDK from the process: the collector, how long
	// an export (its retries included) may take, and a batch delay that leaves the
	// export to the shutdown.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
	t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "500")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")
	prev := log.Writer()
	t.Cleanup(func() { log.SetOutput(prev) })

	tenant := devtenanttest.Start(t, devtenant.Options{})
	for _, level := range []string{"warn", "error"} {
		t.Run(level, func(t *testing.T) {
			stdout, stderr := &syncBuffer{}, &syncBuffer{}
			log.SetOutput(stderr)
			getenv := productionEnv(tenant, map[string]string{
				"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "LOG_FORMAT": "json", "LOG_LEVEL": level, "SHUTDOWN_DRAIN_DELAY": "0s",
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- run(ctx, []string{"linkbff"}, getenv, stdout, stderr) }()
			url := testkit.Recv(t, stdout.servingURL("linkbff listening on", "linkbff listening"), "linkbff to listen")
			if res, _ := testkit.Get(t, testkit.HTTPClient(t), url+"/healthz"); res.StatusCode != http.StatusOK {
				t.Fatalf("healthz: %d", res.StatusCode)
			}
			cancel() // the shutdown exports the spans, and fails
			if err := testkit.Recv(t, done, "run to return"); err != nil {
				t.Fatalf("run: %v", err)
			}
			var warned bool
			for l := range strings.Lines(stderr.String()) {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Errorf("a stderr line is not JSON: %q", l)
					continue
				}
				if m["msg"] == "tracing: spans not exported" {
					warned = true
					if m["level"] != "WARN" || m["failures"] == nil || m["spans"] == nil {
						t.Errorf("the export failure's record: %s", l)
					}
				}
			}
			if want := level == "warn"; warned != want {
				t.Errorf("LOG_LEVEL=%s: an export failure logged: %v, want %v; stderr:\n%s", level, warned, want, stderr.String())
			}
		})
	}
}
