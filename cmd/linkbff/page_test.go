package main

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/frontend"
	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/server"
	"github.com/linkbff/linkbff/internal/testkit"
)

// pageConfig is what the page reads from /config.json.
type pageConfig struct {
	Domain               string   `json:"domain"`
	ConfigurationBaseURL string   `json:"configuration_base_url"`
	Connections          []string `json:"connections"`
}

func getPageConfig(t *testing.T, base string) pageConfig {
	t.Helper()
	res, body := testkit.Get(t, nil, base+"/config.json")
	var c pageConfig
	if err := json.Unmarshal(body, &c); res.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /config.json: %d %v %s", res.StatusCode, err, body)
	}
	return c
}

// TestPageAsMakeRunServesIt: in development mode (what `make run` starts) the page,
// its modules and the Lock bundle are served from the binary, under the policy that
// server.ContentSecurityPolicy builds from the settings /config.json reports, and
// /config.json offers every connection of the development tenant.
func TestPageAsMakeRunServesIt(t *testing.T) {
	base := startDevRun(t, nil)

	c := getPageConfig(t, base)
	var want []string
	for _, conn := range devtenant.DemoSeed().Connections {
		want = append(want, conn.Name)
	}
	if diff := cmp.Diff(want, c.Connections); diff != "" {
		t.Errorf("connections (-want +got):\n%s", diff)
	}
	csp := server.ContentSecurityPolicy(server.ClientConfig{Domain: c.Domain, ConfigurationBaseURL: c.ConfigurationBaseURL})
	if !strings.Contains(csp, "script-src 'self' "+c.Domain+";") {
		t.Fatalf("the policy does not let the tenant %s run Lock's client script: %s", c.Domain, csp)
	}
	for path, contentType := range map[string]string{
		"/":                     "text/html",
		"/app.js":               "text/javascript", // a module script needs a JavaScript type
		"/vendor/auth0-lock.js": "text/javascript",
		"/logo.svg":             "image/svg+xml",
	} {
		res, body := testkit.Get(t, nil, base+path)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), contentType) {
			t.Errorf("GET %s: %s %q, want 200 %s", path, res.Status, res.Header.Get("Content-Type"), contentType)
		}
		if got := res.Header.Get("Content-Security-Policy"); got != csp {
			t.Errorf("GET %s: Content-Security-Policy\n%s\nwant\n%s", path, got, csp)
		}
		if path == "/vendor/auth0-lock.js" && !strings.Contains(string(body), "Auth0Lock") {
			t.Errorf("GET %s: %d bytes without Auth0Lock: not the Lock bundle", path, len(body))
		}
	}
}

// TestPageConnectionsFromLinkConnections: with a real tenant the page offers what
// LINK_CONNECTIONS lists, and with nothing listed leaves the choice to Lock.
func TestPageConnectionsFromLinkConnections(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want []string
	}{
		{"github, google-oauth2", []string{"github", "google-oauth2"}},
		{"", []string{}},
	} {
		a := startApp(t, map[string]string{"LINK_CONNECTIONS": tt.env}, nil)
		if diff := cmp.Diff(tt.want, getPageConfig(t, a.url).Connections); diff != "" {
			t.Errorf("LINK_CONNECTIONS=%q: connections (-want +got):\n%s", tt.env, diff)
		}
	}
}

// TestPageHasWordsForEveryProblemCode: every code linkbff can answer with (the
// problem table, which openapi.yaml's ProblemCode enum is held to) has its own entry
// in the page's messages (frontend/static/messages.js), so a person never sees a
// problem's bare title where the page could say what happened and what to do.
func TestPageHasWordsForEveryProblemCode(t *testing.T) {
	js, err := fs.ReadFile(frontend.Files(), "messages.js")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)\nconst messages = \{\n(.*?)\n\};\n`).FindSubmatch(js)
	if block == nil {
		t.Fatal("messages.js has no `const messages = {…};` block: update this test with the page")
	}
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z_]+):`).FindAllSubmatch(block[1], -1) {
		keys[string(m[1])] = true
	}
	if len(keys) < 10 {
		t.Fatalf("found only %d keys in messages.js's messages: the pattern no longer matches the page", len(keys))
	}
	for _, code := range problem.Codes() {
		switch code {
		case fault.ClientClosed: // only ever logged: its client has gone away
			continue
		case fault.InvalidLogoutToken, fault.LogoutFailed: // answers to Auth0's back-channel posts, never to the page
			continue
		}
		if !keys[string(code)] {
			t.Errorf("messages.js has no message for problem code %s", code)
		}
	}
}
