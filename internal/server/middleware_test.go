package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/reqlog"
)

// serve sends one request to h in-process: the handler has returned, and so has
// written every log line of the request, when serve returns.
func serve(h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil) // RemoteAddr 192.0.2.1:1234
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// logLines decodes JSON log lines.
func logLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(b)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// ignoreTimeAndDuration drops the members no test can predict.
var ignoreTimeAndDuration = cmpopts.IgnoreMapEntries(func(k string, _ any) bool { return k == "time" || k == "duration_seconds" })

// TestRequestScope: every request gets an id, a logger carrying it and the client's
// address (used by the layers below through the context), a deadline, and one access
// log line.
func TestRequestScope(t *testing.T) {
	var logs bytes.Buffer
	h, ids, issuer := newHandler(t, serverOptions{log: &logs})
	var deadline time.Time
	var hadDeadline bool
	ids.set(func(f *fakeIdentities) {
		f.seen = func(ctx context.Context) {
			deadline, hadDeadline = ctx.Deadline()
			reqlog.From(ctx).Info("deep inside")
		}
	})
	before := time.Now()
	rec := serve(h, http.MethodGet, "/me/identities", map[string]string{
		"Authorization": "Bearer " + accessToken(t, issuer, "auth0|alice"),
		"X-Request-Id":  "req-1",
	})
	if rec.Code != http.StatusOK || rec.Header().Get("X-Request-Id") != "req-1" {
		t.Fatalf("status %d, X-Request-Id %q: want 200 and req-1", rec.Code, rec.Header().Get("X-Request-Id"))
	}
	if !hadDeadline || deadline.Before(before) || deadline.After(time.Now().Add(10*time.Second)) {
		t.Errorf("handler context deadline %v (set %v), want within the 10s request timeout", deadline, hadDeadline)
	}
	lines := logLines(t, &logs)
	want := []map[string]any{
		{"level": "INFO", "msg": "deep inside", "request_id": "req-1", "client_ip": "192.0.2.1"},
		{"level": "INFO", "msg": "request", "request_id": "req-1", "client_ip": "192.0.2.1",
			"method": "GET", "route": "/me/identities", "status": 200.0},
	}
	if diff := cmp.Diff(want, lines, ignoreTimeAndDuration); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
	if d, ok := lines[len(lines)-1]["duration_seconds"].(float64); !ok || d <= 0 || d > time.Since(before).Seconds() {
		t.Errorf("access log duration_seconds = %v, want a positive number of seconds, at most %v", lines[len(lines)-1]["duration_seconds"], time.Since(before).Seconds())
	}
}

// TestPanicIsLoggedCountedAndAnswered: a panic is logged once with the request id,
// answered with a 500 problem, and counted and access-logged as a 500.
func TestPanicIsLoggedCountedAndAnswered(t *testing.T) {
	var logs bytes.Buffer
	h, ids, issuer := newHandler(t, serverOptions{log: &logs})
	ids.set(func(f *fakeIdentities) { f.panic = "kaboom" })
	rec := serve(h, http.MethodGet, "/me/identities", map[string]string{
		"Authorization": "Bearer " + accessToken(t, issuer, "auth0|alice"),
		"X-Request-Id":  "panic-1",
	})
	wantProblem(t, response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}, 500, fault.Internal)
	lines := logLines(t, &logs)
	want := []map[string]any{
		{"level": "ERROR", "msg": "panic", "panic": "kaboom", "request_id": "panic-1", "client_ip": "192.0.2.1"},
		{"level": "INFO", "msg": "request", "request_id": "panic-1", "client_ip": "192.0.2.1",
			"method": "GET", "route": "/me/identities", "status": 500.0},
	}
	if diff := cmp.Diff(want, lines, ignoreTimeAndDuration); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
	metrics := serve(h, http.MethodGet, "/metrics", nil).Body.String()
	if want := `linkbff_http_requests_total{method="GET",route="/me/identities",status="500"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s:\n%s", want, metrics)
	}
}

// A handler that aborts with http.ErrAbortHandler asks the server to drop the
// connection: the panic goes on to net/http.
func TestAbortHandlerPanicPropagates(t *testing.T) {
	h, ids, issuer := newHandler(t, serverOptions{})
	ids.set(func(f *fakeIdentities) { f.panic = http.ErrAbortHandler })
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
	}()
	serve(h, http.MethodGet, "/me/identities", map[string]string{"Authorization": "Bearer " + accessToken(t, issuer, "auth0|alice")})
	t.Error("ServeHTTP returned normally")
}

// accessRecorder keeps the access records it is given.
type accessRecorder struct {
	mu      sync.Mutex
	records []reqlog.Access
}

func (a *accessRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (a *accessRecorder) Log(_ context.Context, r *reqlog.Access) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.records = append(a.records, *r)
}

// The access lines of probes and scrapes are at debug level, every other at info; an
// unknown path under a probe's is not a probe.
func TestAccessLevels(t *testing.T) {
	var access accessRecorder
	h, _, issuer := newHandler(t, serverOptions{access: &access})
	bearer := map[string]string{"Authorization": "Bearer " + accessToken(t, issuer, "auth0|alice")}
	for _, tc := range []struct {
		method, path string
		header       map[string]string
		route        string
		status       int
		level        slog.Level
	}{
		{"GET", "/healthz", nil, "/healthz", 200, slog.LevelDebug},
		{"GET", "/readyz", nil, "/readyz", 200, slog.LevelDebug},
		{"GET", "/metrics", nil, "/metrics", 200, slog.LevelDebug},
		{"POST", "/healthz", nil, "", 405, slog.LevelInfo}, // not a probe
		{"GET", "/healthz/x", nil, "", 404, slog.LevelInfo},
		{"GET", "/me/identities", bearer, "/me/identities", 200, slog.LevelInfo},
		{"GET", "/me/identities", nil, "/me/identities", 401, slog.LevelInfo},
		{"GET", "/openapi.yaml", nil, "/openapi.yaml", 200, slog.LevelInfo},
	} {
		access.records = nil
		rec := serve(h, tc.method, tc.path, tc.header)
		if len(access.records) != 1 {
			t.Fatalf("%s %s: %d access records, want 1", tc.method, tc.path, len(access.records))
		}
		got := access.records[0]
		if got.Level != tc.level || got.Route != tc.route || got.Status != tc.status || rec.Code != tc.status ||
			got.Method != tc.method || got.RequestID != rec.Header().Get("X-Request-Id") || got.ClientIP != "192.0.2.1" || got.Duration <= 0 {
			t.Errorf("%s %s (answered %d): access record %+v, want level %v, route %q, status %d", tc.method, tc.path, rec.Code, got, tc.level, tc.route, tc.status)
		}
	}
}
