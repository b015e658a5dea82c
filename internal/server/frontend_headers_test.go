package server_test

import (
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/server"
	"github.com/linkbff/linkbff/internal/testkit"
)

func TestContentSecurityPolicy(t *testing.T) {
	tests := []struct {
		name   string
		client server.ClientConfig
		want   string
	}{
		{
			// The development tenant serves Lock's client configuration itself.
			"development tenant",
			server.ClientConfig{Domain: "http://127.0.0.1:4000", ConfigurationBaseURL: "http://127.0.0.1:4000"},
			"default-src 'self'; script-src 'self' http://127.0.0.1:4000; style-src 'self' 'unsafe-inline'; " +
				"img-src 'self' data: https:; connect-src 'self' http://127.0.0.1:4000; form-action 'self' http://127.0.0.1:4000; " +
				"object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
		},
		{
			// A hosted tenant: Lock loads the client configuration from Auth0's CDN, which
			// may run scripts but receives no fetch and no form.
			"hosted tenant",
			server.ClientConfig{Domain: "https://example.eu.auth0.com", ConfigurationBaseURL: "https://cdn.eu.auth0.com/"},
			"default-src 'self'; script-src 'self' https://example.eu.auth0.com https://cdn.eu.auth0.com; style-src 'self' 'unsafe-inline'; " +
				"img-src 'self' data: https:; connect-src 'self' https://example.eu.auth0.com; form-action 'self' https://example.eu.auth0.com; " +
				"object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
		},
		{
			// Only origins reach the policy: a path or query is dropped, and a value that
			// is not an http(s) URL adds no source at all.
			"paths and junk",
			server.ClientConfig{Domain: "https://login.example.com/some/path?x=1", ConfigurationBaseURL: "javascript:alert(1)"},
			"default-src 'self'; script-src 'self' https://login.example.com; style-src 'self' 'unsafe-inline'; " +
				"img-src 'self' data: https:; connect-src 'self' https://login.example.com; form-action 'self' https://login.example.com; " +
				"object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
		},
		{
			"no tenant",
			server.ClientConfig{Domain: "login.example.com; script-src *"},
			"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; " +
				"connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, server.ContentSecurityPolicy(tt.client)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// newPageServer serves server.New with client as the page's configuration and files as
// the page (nil: none). No request here needs a bearer token, so the tenant is never
// contacted.
func newPageServer(t *testing.T, client server.ClientConfig, files fs.FS) string {
	t.Helper()
	keys, err := auth.NewKeySource(auth.KeySourceConfig{Issuer: client.Issuer})
	if err != nil {
		t.Fatal(err)
	}
	bearer, err := auth.NewBearer(auth.BearerConfig{Issuer: client.Issuer, Audience: apiAudience, Keys: keys, OnError: server.WriteProblem})
	if err != nil {
		t.Fatal(err)
	}
	deps := server.Deps{Logger: slog.New(slog.DiscardHandler), Bearer: bearer, Frontend: files}
	h := server.New(server.Config{RequestTimeout: 10 * time.Second, Client: client}, deps)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func get(t *testing.T, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	return testkit.Do(t, nil, req)
}

// TestPageHeaders: every file of the page is served under exactly the policy
// ContentSecurityPolicy builds from the configuration /config.json reports, with the
// page's other headers, and revalidates by ETag.
func TestPageHeaders(t *testing.T) {
	client := server.ClientConfig{
		Domain: "https://example.eu.auth0.com", ConfigurationBaseURL: "https://cdn.eu.auth0.com",
		ClientID: clientID, Issuer: "https://example.eu.auth0.com/",
	}
	base := newPageServer(t, client, fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><title>linkbff</title>")},
		"app.js":               {Data: []byte("export {};")},
		"vendor/auth0-lock.js": {Data: []byte("window.Auth0Lock = function () {};")},
	})
	want := server.ContentSecurityPolicy(client)
	tags := map[string]string{}
	for _, path := range []string{"/", "/app.js", "/vendor/auth0-lock.js"} {
		res, _ := get(t, base+path, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, res.Status)
		}
		for name, value := range map[string]string{
			"Content-Security-Policy": want,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
			"Cache-Control":           "no-cache",
		} {
			if got := res.Header.Values(name); len(got) != 1 || got[0] != value {
				t.Errorf("GET %s: %s = %q, want exactly %q", path, name, got, value)
			}
		}
		tag := res.Header.Get("ETag")
		if len(tag) < 3 || tag[0] != '"' {
			t.Errorf("GET %s: ETag %q, want a strong ETag", path, tag)
		}
		tags[path] = tag
		res, body := get(t, base+path, http.Header{"If-None-Match": {tag}})
		if res.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("GET %s with its ETag: %s, %d bytes; want 304 and no body", path, res.Status, len(body))
		}
	}
	if tags["/"] == tags["/app.js"] || tags["/app.js"] == tags["/vendor/auth0-lock.js"] {
		t.Errorf("files with different contents share an ETag: %v", tags)
	}
	// The API is not the page: its responses carry no page policy.
	res, _ := get(t, base+"/config.json", nil)
	if csp := res.Header.Get("Content-Security-Policy"); csp != "" {
		t.Errorf("GET /config.json carries the page's Content-Security-Policy %q", csp)
	}
}

// TestClientConfigConnections: /config.json lists the connections the page may offer.
func TestClientConfigConnections(t *testing.T) {
	connections := []string{"Username-Password-Authentication", "github", "google-oauth2"}
	base := newPageServer(t, server.ClientConfig{
		Domain: "http://127.0.0.1:4000", ConfigurationBaseURL: "http://127.0.0.1:4000",
		ClientID: clientID, Issuer: "http://127.0.0.1:4000/", Connections: connections,
	}, nil)
	res, body := get(t, base+"/config.json", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /config.json: %s", res.Status)
	}
	var got struct {
		Connections []string `json:"connections"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(connections, got.Connections); diff != "" {
		t.Errorf("connections (-want +got):\n%s", diff)
	}
}

// TestClientConfigTenant: on a custom domain, /config.json names the tenant for
// Lock's overrides.__tenant; without one the member is absent.
func TestClientConfigTenant(t *testing.T) {
	for _, tt := range []struct{ tenant, want string }{{"example", `"tenant":"example"`}, {"", ""}} {
		base := newPageServer(t, server.ClientConfig{
			Domain: "https://login.example.com", Tenant: tt.tenant, ConfigurationBaseURL: "https://cdn.eu.auth0.com",
			ClientID: clientID, Issuer: "https://login.example.com/",
		}, nil)
		_, body := get(t, base+"/config.json", nil)
		if tt.want != "" && !strings.Contains(string(body), tt.want) {
			t.Errorf("config.json lacks %s: %s", tt.want, body)
		}
		if tt.want == "" && strings.Contains(string(body), `"tenant"`) {
			t.Errorf("config.json names a tenant without one configured: %s", body)
		}
	}
}
