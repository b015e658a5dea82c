package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

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
		res, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
	}

	// Metrics name routes by pattern and report Auth0's remaining rate limit.
	res, err = client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
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
