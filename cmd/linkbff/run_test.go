package main

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

// TestDevModeBannerAndDemo runs linkbff as `make run` does (no AUTH0_DOMAIN): it
// starts the embedded tenant, prints the demo logins, and a token minted by that
// tenant lists identities.
func TestDevModeBannerAndDemo(t *testing.T) {
	stdout := &syncBuffer{}
	env := map[string]string{"LISTEN_ADDR": "127.0.0.1:0"}
	base := startRun(t, func(k string) string { return env[k] }, stdout, io.Discard)
	testkit.Recv(t, stdout.lineWith("    -d "), "the banner's last line")
	client := testkit.HTTPClient(t)
	out := stdout.String()
	for _, want := range []string{"DEVELOPMENT MODE", "alice@example.com", "alice-password", "github|4242", "/__dev/tokens", `"scope":"openid read:identities write:identities"`} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	tenantURL := ""
	for _, f := range strings.Fields(out) {
		if strings.HasSuffix(f, "/__dev/tokens") {
			tenantURL = strings.TrimSuffix(f, "/__dev/tokens")
		}
	}
	res, err := client.Post(tenantURL+"/__dev/tokens", "application/json", strings.NewReader(`{"user_id":"auth0|alice","client_id":"linkbff-dev-client","audience":"https://linkbff.example/api","scope":"openid read:identities write:identities"}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	decodeBody(t, res, &tok)
	req, _ := http.NewRequest("GET", base+"/me/identities", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		UserID string `json:"user_id"`
	}
	decodeBody(t, res, &list)
	if list.UserID != "auth0|alice" {
		t.Errorf("user_id = %q", list.UserID)
	}
	// The page and the contract are served.
	for _, path := range []string{"/", "/openapi.yaml", "/config.json", "/healthz", "/readyz"} {
		if res, _ := testkit.Get(t, client, base+path); res.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
	}

	// Metrics name routes by pattern and report Auth0's remaining rate limit.
	_, metrics := testkit.Get(t, client, base+"/metrics")
	for _, want := range []string{
		`linkbff_http_requests_total{method="GET",route="/me/identities",status="200"} 1`,
		`linkbff_management_api_ratelimit_remaining 1000`,
		"go_goroutines",
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The container HEALTHCHECK command finds it through LISTEN_ADDR.
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	var hc strings.Builder
	if err := run(testkit.Context(t), []string{"linkbff", "healthcheck"}, func(k string) string {
		if k == "LISTEN_ADDR" {
			return ":" + port
		}
		return ""
	}, &hc, io.Discard); err != nil || strings.TrimSpace(hc.String()) != "ok" {
		t.Errorf("healthcheck: %v %q", err, hc.String())
	}
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	env := map[string]string{"AUTH0_DOMAIN": "http://tenant.example.com", "LINK_MAX_AGE": "soon"}
	err := run(context.Background(), []string{"linkbff"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run accepted a bad configuration")
	}
	for _, name := range []string{"AUTH0_DOMAIN", "LINK_MAX_AGE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if err := run(context.Background(), []string{"linkbff", "serve"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
		t.Error("run accepted an unknown argument")
	}
}

// TestRunNeverStartsTheDevelopmentTenantByAccident: half a real configuration, or
// development mode on an address beyond loopback, is a start-up error naming the
// variables, before anything listens.
func TestRunNeverStartsTheDevelopmentTenantByAccident(t *testing.T) {
	for _, tt := range []struct {
		env   map[string]string
		names []string
	}{
		{map[string]string{"AUTH0_CLIENT_ID": "cid", "AUTH0_CLIENT_SECRET": "s"}, []string{"AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"}},
		{map[string]string{"AUTH0_DOMAIN": " ", "AUTH0_AUDIENCE": "https://api.example"}, []string{"AUTH0_DOMAIN", "AUTH0_AUDIENCE"}},
		{map[string]string{"LISTEN_ADDR": ":0"}, []string{"LISTEN_ADDR"}},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DEVTENANT_ADDR": "0.0.0.0:0"}, []string{"DEVTENANT_ADDR"}},
	} {
		stdout := &syncBuffer{}
		err := run(testkit.Context(t), []string{"linkbff"}, func(k string) string { return tt.env[k] }, stdout, io.Discard)
		if err == nil {
			t.Fatalf("%v: run started", tt.env)
		}
		for _, name := range tt.names {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("%v: error does not name %s: %v", tt.env, name, err)
			}
		}
		if out := stdout.String(); out != "" {
			t.Errorf("%v: run printed %q before refusing", tt.env, out)
		}
	}
}

// TestRunWarnsOfEachWeakenedSetting: against a real tenant, settings that weaken a
// check start only with LINKBFF_ALLOW_INSECURE=1, and then each is named in a warning.
func TestRunWarnsOfEachWeakenedSetting(t *testing.T) {
	tenant := devtenanttest.Start(t, devtenant.Options{})
	weak := map[string]string{"LINK_REQUIRE_NONCE": "false", "LINK_REQUIRE_VERIFIED_EMAIL": "false", "LINK_NONCE_TTL": "1h", "LINK_MAX_AGE": "2h", "REQUIRE_SCOPES": "false"}
	err := run(testkit.Context(t), []string{"linkbff"}, productionEnv(tenant, weak), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("run started with weakened settings and no LINKBFF_ALLOW_INSECURE")
	}
	for name := range weak {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}

	stderr := &syncBuffer{}
	startRun(t, productionEnv(tenant, weak, map[string]string{"LINKBFF_ALLOW_INSECURE": "1", "LOG_LEVEL": "warn"}), &syncBuffer{}, stderr)
	var warned []string
	for line := range strings.Lines(stderr.String()) {
		var rec struct {
			Level, Msg, Variable, AllowedBy string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec.Level == "WARN" && strings.Contains(rec.Msg, "insecure") {
			warned = append(warned, rec.Variable)
		}
	}
	slices.Sort(warned)
	if want := slices.Sorted(maps.Keys(weak)); !slices.Equal(warned, want) {
		t.Errorf("warnings name %v, want %v\n%s", warned, want, stderr)
	}
}
