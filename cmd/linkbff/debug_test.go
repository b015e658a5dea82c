package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

// pprof is served only on DEBUG_ADDR, never on the main listener.
func TestPprofOnlyOnDebugAddr(t *testing.T) {
	tenant := devtenanttest.Start(t, devtenant.Options{})
	client := testkit.HTTPClient(t)
	get := func(url string) (int, string) {
		t.Helper()
		res, body := testkit.Get(t, client, url)
		return res.StatusCode, string(body)
	}

	t.Run("off by default", func(t *testing.T) {
		stdout := &syncBuffer{}
		base := startRun(t, productionEnv(tenant), stdout, io.Discard)
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap"} {
			if status, _ := get(base + path); status != http.StatusNotFound {
				t.Errorf("main listener: GET %s = %d, want 404", path, status)
			}
		}
		if strings.Contains(stdout.String(), "pprof") {
			t.Errorf("banner mentions pprof without DEBUG_ADDR:\n%s", stdout)
		}
	})

	t.Run("on DEBUG_ADDR only", func(t *testing.T) {
		stdout := &syncBuffer{}
		base := startRun(t, productionEnv(tenant, map[string]string{"DEBUG_ADDR": "127.0.0.1:0"}), stdout, io.Discard)
		debugURL := testkit.Recv(t, stdout.servingURL("pprof (DEBUG_ADDR) on", "pprof listening"), "the pprof line in the banner")
		if !strings.HasPrefix(debugURL, "http://127.0.0.1:") || strings.HasPrefix(debugURL, base) {
			t.Fatalf("pprof at %q, want its own loopback listener (main: %s)", debugURL, base)
		}
		if status, body := get(debugURL); status != http.StatusOK || !strings.Contains(body, "heap") {
			t.Errorf("GET %s = %d, want the profile index", debugURL, status)
		}
		if status, body := get(debugURL + "cmdline"); status != http.StatusOK || body == "" {
			t.Errorf("GET %scmdline = %d %q", debugURL, status, body)
		}
		if status, _ := get(base + "/debug/pprof/"); status != http.StatusNotFound {
			t.Errorf("main listener: GET /debug/pprof/ = %d, want 404", status)
		}
	})

	t.Run("refused on a non-loopback address", func(t *testing.T) {
		err := run(t.Context(), []string{"linkbff"}, productionEnv(tenant, map[string]string{"DEBUG_ADDR": "0.0.0.0:0"}), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "DEBUG_ADDR") {
			t.Errorf("run with DEBUG_ADDR=0.0.0.0:0: %v, want a configuration error naming DEBUG_ADDR", err)
		}
	})
}
