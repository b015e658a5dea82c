package main

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

// TestAsideAddressInUseFailsTheStart: DEBUG_ADDR or METRICS_ADDR on a port already in
// use makes run fail with an error naming the variable, before linkbff says it
// listens anywhere and before it asks Auth0 for anything.
func TestAsideAddressInUseFailsTheStart(t *testing.T) {
	tenant := devtenanttest.Start(t, devtenant.Options{})
	taken := listenLoopback(t)
	for _, variable := range []string{"METRICS_ADDR", "DEBUG_ADDR"} {
		t.Run(variable, func(t *testing.T) {
			tenant.ResetRequests()
			stdout, stderr := &syncBuffer{}, &syncBuffer{}
			env := productionEnv(tenant, map[string]string{variable: taken.Addr().String(), "LOG_LEVEL": "debug", "LOG_FORMAT": "text"})
			err := run(testkit.Context(t), []string{"linkbff"}, env, stdout, stderr)
			if err == nil || !strings.Contains(err.Error(), variable) {
				t.Fatalf("run with %s on a port in use: %v, want an error naming %s", variable, err, variable)
			}
			if out := stdout.String() + stderr.String(); strings.Contains(out, "listening") {
				t.Errorf("linkbff said it listens before failing:\n%s", out)
			}
			if n := tenant.RequestCount(devtenant.EndpointToken) + tenant.RequestCount(devtenant.EndpointJWKS); n != 0 {
				t.Errorf("Auth0 was asked %d times before the start failed", n)
			}
		})
	}
}

// TestServeAsideLogsAFailure: a listener of its own that stops serving for any
// reason but its stop is logged as an error naming it, not thrown away.
func TestServeAsideLogsAFailure(t *testing.T) {
	ln := listenLoopback(t)
	ln.Close() // Serve's Accept fails at once
	logs := &syncBuffer{}
	stop := serveAside("METRICS_ADDR", ln, http.NotFoundHandler(), 0, slog.New(slog.NewTextHandler(logs, nil)))
	defer stop()
	line := testkit.Recv(t, logs.lineMatching(func(line string) (string, bool) { return line, strings.Contains(line, "level=ERROR") }), "the failure's log record")
	if !strings.Contains(line, "METRICS_ADDR") || !strings.Contains(line, "closed") {
		t.Errorf("log record %q, want one naming METRICS_ADDR and the error", line)
	}
}

// TestServeAsideStopIsNoFailure: stopping a listener of its own logs nothing.
func TestServeAsideStopIsNoFailure(t *testing.T) {
	ln := listenLoopback(t)
	logs := &syncBuffer{}
	stop := serveAside("DEBUG_ADDR", ln, http.NotFoundHandler(), 0, slog.New(slog.NewTextHandler(logs, nil)))
	res, _ := testkit.Get(t, testkit.HTTPClient(t), "http://"+ln.Addr().String()+"/")
	stop()
	if res.StatusCode != http.StatusNotFound || logs.String() != "" {
		t.Errorf("GET = %d, logs %q; want 404 and no record", res.StatusCode, logs.String())
	}
}
