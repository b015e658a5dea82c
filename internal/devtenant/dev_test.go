package devtenant_test

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

func TestDevTokens(t *testing.T) {
	tn := mtStart(t)
	t.Run("minted token calls the Management API", func(t *testing.T) {
		got := mtDo(t, tn, "POST", "/__dev/tokens", "",
			`{"user_id":"github|4242","client_id":"linkbff-dev-client","audience":"`+tn.ManagementAudience()+`","scope":"read:users"}`)
		body, _ := got.body.(map[string]any)
		at, _ := body["access_token"].(string)
		if got.status != 200 || at == "" || body["id_token"] == "" || body["expires_in"] != float64(86400) {
			t.Fatalf("got %d %v, want 200 with tokens", got.status, got.body)
		}
		if r := mtDo(t, tn, "GET", mtUserPath(mtGitHub)+"?fields=user_id", at, ""); r.status != 200 {
			t.Errorf("using the minted token: status %d, want 200", r.status)
		}
	})
	cases := []struct {
		name, body string
		wantStatus int
	}{
		{"unknown user", `{"user_id":"github|1","client_id":"linkbff-dev-client"}`, 404},
		{"unknown client", `{"user_id":"auth0|alice","client_id":"nope"}`, 404},
		{"missing client", `{"user_id":"auth0|alice"}`, 400},
		{"unknown field", `{"user_id":"auth0|alice","client_id":"linkbff-dev-client","scopes":"x"}`, 400},
		{"malformed", `{"user_id":`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mtDo(t, tn, "POST", "/__dev/tokens", "", tc.body)
			body, _ := got.body.(map[string]any)
			if got.status != tc.wantStatus || body["statusCode"] != float64(tc.wantStatus) || body["message"] == "" {
				t.Errorf("got %d %v, want %d with an error body", got.status, got.body, tc.wantStatus)
			}
		})
	}
}

func TestDevRequests(t *testing.T) {
	tn := mtStart(t)
	token := mtToken(t, tn, "read:users", nil)
	mtDo(t, tn, "GET", mtUserPath(mtAlice), token, "")
	mtDo(t, tn, "GET", mtUserPath(mtBob), token, "")
	mtDo(t, tn, "GET", "/api/v2/users-by-email?email=x%40example.com", token, "")

	want := map[string]any{
		"requests":            map[string]any{devtenant.EndpointGetUser: float64(2), devtenant.EndpointUsersByEmail: float64(1)},
		"management_requests": float64(3),
	}
	mtCheck(t, mtDo(t, tn, "GET", "/__dev/requests", "", ""), 200, want)
	if got := mtDo(t, tn, "DELETE", "/__dev/requests", "", ""); got.status != 204 {
		t.Errorf("DELETE: status %d, want 204", got.status)
	}
	mtCheck(t, mtDo(t, tn, "GET", "/__dev/requests", "", ""), 200,
		map[string]any{"requests": map[string]any{}, "management_requests": float64(0)})
}

func TestDevFaults(t *testing.T) {
	tn := mtStart(t)
	token := mtToken(t, tn, "read:users", nil)
	get := func() int { return mtDo(t, tn, "GET", mtUserPath(mtAlice)+"?fields=user_id", token, "").status }

	if got := mtDo(t, tn, "POST", "/__dev/faults", "", `{"endpoint":"GET /api/v2/users/{id}","status":503,"count":2}`); got.status != 204 {
		t.Fatalf("POST /__dev/faults: %d %v", got.status, got.body)
	}
	if got := []int{get(), get(), get()}; !cmp.Equal(got, []int{503, 503, 200}) {
		t.Errorf("statuses %v, want [503 503 200]", got)
	}

	if got := mtDo(t, tn, "POST", "/__dev/faults", "", `{"endpoint":"GET /api/v2/users/{id}","status":500}`); got.status != 204 {
		t.Fatalf("POST /__dev/faults: %d %v", got.status, got.body)
	}
	if got := []int{get(), get()}; !cmp.Equal(got, []int{500, 500}) {
		t.Errorf("statuses %v, want [500 500] until cleared", got)
	}
	if got := mtDo(t, tn, "DELETE", "/__dev/faults", "", ""); got.status != 204 {
		t.Errorf("DELETE /__dev/faults: status %d, want 204", got.status)
	}
	if got := get(); got != 200 {
		t.Errorf("after clearing: status %d, want 200", got)
	}

	bad := []struct{ name, body string }{
		{"unknown endpoint", `{"endpoint":"GET /api/v2/clients","status":500}`},
		{"not an error status", `{"endpoint":"GET /api/v2/users/{id}","status":200}`},
		{"no effect", `{"endpoint":"GET /api/v2/users/{id}","count":1}`},
		{"negative count", `{"endpoint":"GET /api/v2/users/{id}","status":500,"count":-1}`},
		{"bad latency", `{"endpoint":"GET /api/v2/users/{id}","latency":"soon"}`},
		{"unknown field", `{"endpoint":"GET /api/v2/users/{id}","status":500,"times":2}`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if got := mtDo(t, tn, "POST", "/__dev/faults", "", tc.body); got.status != 400 {
				t.Errorf("status %d, want 400 (%v)", got.status, got.body)
			}
			if got := get(); got != 200 {
				t.Errorf("a rejected fault took effect: status %d", got)
			}
		})
	}
}

func TestDevRateLimit(t *testing.T) {
	tn := mtStart(t)
	token := mtToken(t, tn, "read:users", nil)
	if got := mtDo(t, tn, "PUT", "/__dev/rate-limit", "", `{"per_second":0.001,"burst":1}`); got.status != 204 {
		t.Fatalf("PUT: %d %v", got.status, got.body)
	}
	first := mtDo(t, tn, "GET", mtUserPath(mtAlice), token, "")
	second := mtDo(t, tn, "GET", mtUserPath(mtAlice), token, "")
	if first.status != 200 || second.status != 429 {
		t.Errorf("statuses %d, %d; want 200, 429", first.status, second.status)
	}
	if got := mtDo(t, tn, "PUT", "/__dev/rate-limit", "", `{"per_second":-1}`); got.status != 400 {
		t.Errorf("negative rate: status %d, want 400", got.status)
	}
	if got := mtDo(t, tn, "PUT", "/__dev/rate-limit", "", `{"per_second":0}`); got.status != 204 {
		t.Fatalf("turning it off: %d", got.status)
	}
	if got := mtDo(t, tn, "GET", mtUserPath(mtAlice), token, ""); got.status != 200 || got.header.Get("x-ratelimit-limit") == "" {
		t.Errorf("after turning it off: status %d, limit header %q", got.status, got.header.Get("x-ratelimit-limit"))
	}
}

func TestDevRotateKeys(t *testing.T) {
	tn := mtStart(t)
	before := tn.SigningKeyID()
	got := mtDo(t, tn, "POST", "/__dev/keys/rotate", "", `{"step":"switch"}`)
	body, _ := got.body.(map[string]any)
	if got.status != 200 || body["signing_kid"] == before || body["signing_kid"] != tn.SigningKeyID() {
		t.Errorf("got %d %v; want 200 and a new signing kid (was %s)", got.status, got.body, before)
	}
	if got := mtDo(t, tn, "POST", "/__dev/keys/rotate", "", `{"step":"sideways"}`); got.status != 400 {
		t.Errorf("unknown step: status %d, want 400", got.status)
	}
}

func TestDevUser(t *testing.T) {
	tn := mtStart(t)
	got := mtDo(t, tn, "GET", "/__dev/users/github%7C4242", "", "")
	ids, _ := got.body.(map[string]any)["identities"].([]any)
	if got.status != 200 || len(ids) != 1 || ids[0].(map[string]any)["access_token"] == nil {
		t.Errorf("got %d %v; want the user with its IdP token", got.status, got.body)
	}
	mtCheck(t, mtDo(t, tn, "GET", "/__dev/users/auth0%7Cnobody", "", ""), 404, mtError(404, "The user does not exist.", "inexistent_user"))
	if n := tn.ManagementRequests(); n != 0 {
		t.Errorf("ManagementRequests = %d, want 0: /__dev/ is not the Management API", n)
	}
}

func TestDevDisabled(t *testing.T) {
	tn := devtenanttest.Start(t, devtenant.Options{DisableDevEndpoints: true})
	for _, path := range []string{"/__dev/tokens", "/__dev/faults"} {
		if got := mtDo(t, tn, "POST", path, "", `{}`); got.status != 404 {
			t.Errorf("POST %s: status %d, want 404", path, got.status)
		}
	}
	if _, err := tn.Mint(devtenant.MintRequest{UserID: mtAlice, ClientID: mtClient}); err != nil {
		t.Errorf("the Go API still works: %v", err)
	}
}

func TestManagementToken(t *testing.T) {
	tn := mtStart(t)
	tok, err := tn.ManagementToken(mtClient, "read:users", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := mtDo(t, tn, "GET", mtUserPath(mtAlice)+"?fields=user_id", tok, ""); got.status != 200 {
		t.Errorf("client credentials token: status %d, want 200", got.status)
	}
	expired, err := tn.ManagementToken(mtClient, "read:users", -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	mtCheck(t, mtDo(t, tn, "GET", mtUserPath(mtAlice), expired, ""), 401, mt401("Expired token received for JSON Web Token validation"))
	if _, err := tn.ManagementToken("nope", "read:users", 0); !errors.Is(err, devtenant.ErrUnknown) {
		t.Errorf("unknown client: err = %v, want ErrUnknown", err)
	}
}

func TestEndpointsAreRouted(t *testing.T) {
	tn := mtStart(t)
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, e := range devtenant.Endpoints() {
		method, path, _ := strings.Cut(e, " ")
		path = strings.NewReplacer("{id}", "x", "{provider}", "x", "{user_id}", "x", "{file}", "x.js").Replace(path)
		req, _ := http.NewRequest(method, tn.URL()+path, nil)
		testkit.Do(t, noRedirects, req)
		if n := tn.RequestCount(e); n != 1 {
			t.Errorf("%s: counted %d requests, want 1 (is it still a route?)", e, n)
		}
	}
}

// TestDevEndpointsOnlyForLocalJSON: the knobs refuse a Host that is not a loopback
// name (a DNS-rebinding page reaches 127.0.0.1 under its own name) and a body that is
// not JSON (a cross-site form post needs no preflight), before doing anything.
func TestDevEndpointsOnlyForLocalJSON(t *testing.T) {
	tn := mtStart(t)
	_, port, _ := net.SplitHostPort(tn.Addr())
	mint := `{"user_id":"` + mtAlice + `","client_id":"` + mtClient + `"}`
	send := func(method, path, host, contentType, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, tn.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, _ := testkit.Do(t, nil, req)
		return res.StatusCode
	}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port, "127.0.0.1", "[::1]", "127.1.2.3:" + port} {
		if got := send("POST", "/__dev/tokens", host, "application/json", mint); got != http.StatusOK {
			t.Errorf("Host %q: status %d, want 200", host, got)
		}
	}
	for _, host := range []string{"attacker.example:" + port, "attacker.example", "localhost.attacker.example", "10.0.0.1:" + port, "0.0.0.0:" + port} {
		for _, tc := range []struct{ method, path, body string }{
			{"POST", "/__dev/tokens", mint},
			{"GET", "/__dev/requests", ""},
			{"GET", "/__dev/users/" + url.PathEscape(mtAlice), ""},
			{"DELETE", "/__dev/faults", ""},
		} {
			if got := send(tc.method, tc.path, host, "application/json", tc.body); got != http.StatusForbidden {
				t.Errorf("%s %s with Host %q: status %d, want 403", tc.method, tc.path, host, got)
			}
		}
	}
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"} {
		if got := send("POST", "/__dev/faults", "127.0.0.1:"+port, ct, `{"endpoint":"GET /api/v2/users/{id}","status":500}`); got != http.StatusUnsupportedMediaType {
			t.Errorf("POST /__dev/faults as %q: status %d, want 415", ct, got)
		}
	}
	if got := send("PUT", "/__dev/rate-limit", "127.0.0.1:"+port, "text/plain", `{"per_second":1}`); got != http.StatusUnsupportedMediaType {
		t.Errorf("PUT /__dev/rate-limit as text/plain: status %d, want 415", got)
	}
	// Nothing refused took effect: no fault was set.
	tok, err := tn.ManagementToken(mtClient, "read:users", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := mtDo(t, tn, "GET", mtUserPath(mtAlice), tok, ""); got.status != http.StatusOK {
		t.Errorf("GET user: %d after refused knobs, want 200", got.status)
	}
	// The real endpoints answer any Host: the tenant may sit behind a proxy.
	if got := send("GET", "/.well-known/openid-configuration", "tenant.example", "", ""); got != http.StatusOK {
		t.Errorf("discovery with another Host: %d, want 200", got)
	}
}
