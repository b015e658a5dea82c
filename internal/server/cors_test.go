package server_test

import (
	"net/http"
	"testing"

	"github.com/linkbff/linkbff/internal/fault"
)

// With no CORS_ALLOWED_ORIGINS no origin is allowed: go-chi/cors would read the empty
// list as "every origin".
func TestCORSWithoutAllowedOriginsAllowsNone(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	preflight := s.do(t, http.MethodOptions, "/me/identities", nil, map[string]string{
		"Origin":                         "https://evil.example",
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "authorization, content-type",
	})
	if got := preflight.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("preflight: Access-Control-Allow-Origin = %q, want none", got)
	}
	// Without the CORS middleware the preflight is an OPTIONS like any other.
	wantProblem(t, preflight, http.StatusMethodNotAllowed, fault.MethodNotAllowed)
	if got := preflight.header.Get("Allow"); got != "GET, POST" {
		t.Errorf("preflight: Allow = %q, want GET, POST", got)
	}

	get := s.do(t, http.MethodGet, "/me/identities", nil, map[string]string{"Origin": "https://evil.example", "Authorization": s.bearer(t)})
	if get.status != http.StatusOK {
		t.Errorf("GET: status %d, want 200", get.status)
	}
	if got := get.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("GET: Access-Control-Allow-Origin = %q, want none", got)
	}
}

func TestCORSAllowsConfiguredOriginsOnly(t *testing.T) {
	s := newTestServer(t, serverOptions{cors: []string{"https://spa.example"}})
	preflight := func(origin string) response {
		return s.do(t, http.MethodOptions, "/me/identities", nil, map[string]string{
			"Origin":                         origin,
			"Access-Control-Request-Method":  "POST",
			"Access-Control-Request-Headers": "authorization, content-type",
		})
	}
	if got := preflight("https://spa.example").header.Get("Access-Control-Allow-Origin"); got != "https://spa.example" {
		t.Errorf("configured origin: Access-Control-Allow-Origin = %q, want https://spa.example", got)
	}
	if got := preflight("https://evil.example").header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin: Access-Control-Allow-Origin = %q, want none", got)
	}
	get := s.do(t, http.MethodGet, "/me/identities", nil, map[string]string{"Origin": "https://spa.example", "Authorization": s.bearer(t)})
	if get.status != http.StatusOK || get.header.Get("Access-Control-Allow-Origin") != "https://spa.example" {
		t.Errorf("GET: status %d, Access-Control-Allow-Origin %q", get.status, get.header.Get("Access-Control-Allow-Origin"))
	}
}
