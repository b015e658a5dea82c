package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/linkbff/linkbff"
	"github.com/linkbff/linkbff/internal/devtenant"
)

// TestAnswersMatchContract sends the requests behind the answers openapi.yaml lists,
// through the whole server (bearer tokens, the session cookie and its CSRF checks),
// and validates each answer against the contract: its status is one the operation
// lists itself (not only its default), its body and headers match that response, and
// it carries X-Request-Id, which a problem repeats as request_id. A sane X-Request-Id
// of the request is kept.
func TestAnswersMatchContract(t *testing.T) {
	tenant := startBrowserTenant(t)
	b := newBrowser(t, startBrowserApp(t, tenant, nil))
	router := contractRouter(t, browserBase)

	mint := func(scope string) http.Header {
		tok, err := tenant.Mint(devtenant.MintRequest{UserID: "auth0|alice", ClientID: testClientID, Audience: testAudience, Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		return http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
	}
	full, readOnly := mint(testScope), mint("openid read:identities")
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	cookie := with(sameOrigin(), "X-CSRF", "1") // what the page sends with its session
	large := `{"link_with":"` + strings.Repeat("a", 70<<10) + `"}`

	type exchange struct {
		name         string
		method, path string
		header       http.Header
		body         string
		status       int
		code         string // of a problem
	}
	signedOut := []exchange{
		{"health", "GET", "/healthz", nil, "", 200, ""},
		{"client config", "GET", "/config.json", nil, "", 200, ""},
		{"readiness", "GET", "/readyz", nil, "", 200, ""},
		{"no session", "GET", "/auth/session", nil, "", 200, ""},
		{"list", "GET", "/me/identities", full, "", 200, ""},
		{"no credential", "GET", "/me/identities", nil, "", 401, "invalid_token"},
		{"bad token", "GET", "/me/identities/suggestions", http.Header{"Authorization": {"Bearer nonsense"}}, "", 401, "invalid_token"},
		{"nonce", "POST", "/me/identities/nonce", full, "", 201, ""},
		{"nonce without write scope", "POST", "/me/identities/nonce", readOnly, "", 403, "insufficient_scope"},
		{"X-CSRF twice", "POST", "/me/identities/nonce", with(full, "X-CSRF", "1", "X-CSRF", "1"), "", 400, "invalid_path"},
		{"link as text", "POST", "/me/identities", with(full, "Content-Type", "text/plain"), "x", 415, "unsupported_media_type"},
		{"link too large", "POST", "/me/identities", with(full, "Content-Type", "application/json"), large, 413, "body_too_large"},
		{"link without link_with", "POST", "/me/identities", with(full, "Content-Type", "application/json"), "{}", 400, "invalid_body"},
		{"unlink unknown", "DELETE", "/me/identities/github/404404", full, "", 404, "identity_not_found"},
		{"unlink primary", "DELETE", "/me/identities/auth0/alice", full, "", 400, "primary_identity"},
		{"cross-site logout", "POST", "/auth/logout", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/x-www-form-urlencoded"}}, "", 403, "csrf_failed"},
		{"bad logout token", "POST", "/auth/backchannel-logout", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "logout_token=nonsense", 400, "invalid_logout_token"},
	}
	signedIn := []exchange{
		{"session", "GET", "/auth/session", nil, "", 200, ""},
		{"list by cookie", "GET", "/me/identities", nil, "", 200, ""},
		{"nonce by cookie", "POST", "/me/identities/nonce", cookie, "", 201, ""},
		{"nonce by cookie without X-CSRF", "POST", "/me/identities/nonce", sameOrigin(), "", 403, "csrf_failed"},
		{"link by cookie, wrong token", "POST", "/me/identities", with(cookie, "Content-Type", "application/json"), `{"link_with":"a.b.c"}`, 400, "invalid_link_token"},
	}
	check := func(x exchange) {
		t.Helper()
		r := b.do(x.method, x.path, strings.NewReader(x.body), x.header)
		if r.status != x.status {
			t.Errorf("%s: %s %s answered %d, want %d: %s", x.name, x.method, x.path, r.status, x.status, r.body)
			return
		}
		req, err := http.NewRequest(x.method, browserBase+x.path, strings.NewReader(x.body))
		if err != nil {
			t.Fatal(err)
		}
		maps.Copy(req.Header, x.header)
		validateAnswer(t, router, x.name, req, r)
		if x.code != "" {
			var p map[string]any
			if err := json.Unmarshal(r.body, &p); err != nil || p["code"] != x.code || p["request_id"] != r.header.Get("X-Request-Id") {
				t.Errorf("%s: problem %s, want code %s and request_id %q", x.name, r.body, x.code, r.header.Get("X-Request-Id"))
			}
		}
	}
	for _, x := range signedOut {
		check(x)
	}
	b.loginAsAlice()
	for _, x := range signedIn {
		check(x)
	}

	// The served contract names the tenant linkbff uses, where a tool obtains a token.
	if r := b.get("/openapi.yaml"); !bytes.Contains(r.body, []byte("authorizationUrl: "+tenant.URL()+"/authorize")) ||
		!bytes.Contains(r.body, []byte("openIdConnectUrl: "+tenant.URL()+"/.well-known/openid-configuration")) {
		t.Errorf("GET /openapi.yaml does not name the tenant %s in its security schemes", tenant.URL())
	}

	// The caller's own request id is kept; one the server would not log is replaced.
	for id, kept := range map[string]bool{"trace-42.a_b": true, "not a sane id": false} {
		r := b.do("GET", "/healthz", nil, http.Header{"X-Request-Id": {id}})
		if got := r.header.Get("X-Request-Id"); (got == id) != kept || got == "" {
			t.Errorf("X-Request-Id %q: answered with %q (kept: %v, want %v)", id, got, got == id, kept)
		}
	}
}

// contractRouter finds the operation of a request to linkbff at base in openapi.yaml.
func contractRouter(t *testing.T, base string) routers.Router {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(linkbff.OpenAPISpec())
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return router
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// validateAnswer checks r, the answer to req, against req's operation in the contract.
func validateAnswer(t *testing.T, router routers.Router, name string, req *http.Request, r response) {
	t.Helper()
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Errorf("%s: %s %s is no operation of openapi.yaml: %v", name, req.Method, req.URL.Path, err)
		return
	}
	if route.Operation.Responses.Status(r.status) == nil {
		t.Errorf("%s: %s %s answered %d, which the operation does not list", name, req.Method, req.URL.Path, r.status)
	}
	if id := r.header.Get("X-Request-Id"); !requestIDPattern.MatchString(id) {
		t.Errorf("%s: X-Request-Id %q", name, id)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s: %s %s answered %d against the contract: %v\n%s", name, req.Method, req.URL.Path, r.status, err, r.body)
	}
}
