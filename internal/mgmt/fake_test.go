package mgmt_test

import (
	"encoding/json"
	"fmt"
	"github.com/google/go-cmp/cmp"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/mgmt"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	testClientID = "bff-client-id"
	testSecret   = "s3cr3t-client-secret-value"
)

// fake is a small stand-in for an Auth0 tenant: /oauth/token issues numbered
// tokens, everything else goes to the test's api handler after the bearer
// token is checked. It deliberately uses no ServeMux: a mux would clean or
// redirect the escaped paths that some tests send on purpose.
type fake struct {
	srv *httptest.Server

	api       http.HandlerFunc // API requests, after the token check
	token     http.HandlerFunc // nil: issue mgmt-token-N
	expiresIn int              // of issued tokens; 0: 86400

	tokenRequests atomic.Int32
	apiRequests   atomic.Int32

	mu         sync.Mutex
	tokenForms []url.Values
	seen       []seenRequest
}

// seenRequest is what the fake recorded about one API request.
type seenRequest struct {
	Method      string
	RequestURI  string // exactly as sent on the wire
	EscapedPath string
	Auth        string
	ContentType string
	UserAgent   string
	Body        string
}

// wantOneRequest checks that f saw exactly one Management API request: method to
// path (sent and escaped alike) with linkbff's token and user agent and, when body is
// not empty, that JSON body.
func (f *fake) wantOneRequest(t *testing.T, method, path, body string) {
	t.Helper()
	want := seenRequest{Method: method, RequestURI: path, EscapedPath: path, Auth: "Bearer mgmt-token-1", UserAgent: "linkbff"}
	if body != "" {
		want.ContentType, want.Body = "application/json", body
	}
	if diff := cmp.Diff([]seenRequest{want}, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// newFake starts a fake tenant; opts may set fields before it serves.
func newFake(t testing.TB, api http.HandlerFunc, opts ...func(*fake)) *fake {
	t.Helper()
	f := &fake{api: api}
	for _, o := range opts {
		o(f)
	}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	// The client under test bounds its own calls; this bounds them if it does not.
	f.srv.Client().Timeout = testkit.Timeout
	return f
}

// hang answers nothing until the client goes away (or testkit.Timeout passes, so
// that a client that never does cannot keep the server's Close waiting forever).
func hang(_ http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(testkit.Timeout):
	}
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" {
		n := f.tokenRequests.Add(1)
		if err := r.ParseForm(); err == nil {
			f.mu.Lock()
			f.tokenForms = append(f.tokenForms, r.PostForm)
			f.mu.Unlock()
		}
		if f.token != nil {
			f.token(w, r)
			return
		}
		exp := f.expiresIn
		if exp == 0 {
			exp = 86400
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": fmt.Sprintf("mgmt-token-%d", n),
			"expires_in":   exp,
			"scope":        "read:users update:users",
			"token_type":   "Bearer",
		})
		return
	}
	f.apiRequests.Add(1)
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{
		Method:      r.Method,
		RequestURI:  r.RequestURI,
		EscapedPath: r.URL.EscapedPath(),
		Auth:        r.Header.Get("Authorization"),
		ContentType: r.Header.Get("Content-Type"),
		UserAgent:   r.Header.Get("User-Agent"),
		Body:        string(body),
	})
	f.mu.Unlock()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer mgmt-token-") {
		writeJSON(w, http.StatusUnauthorized, auth0Error(401, "Unauthorized", "Missing authentication", ""))
		return
	}
	f.api(w, r)
}

func (f *fake) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func (f *fake) forms() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.tokenForms...)
}

// newClient builds a client for f with test-friendly defaults; edit may change
// the config.
func newClient(t testing.TB, f *fake, edit ...func(*mgmt.Config)) *mgmt.Client {
	t.Helper()
	cfg := mgmt.Config{
		Domain:       f.srv.URL,
		ClientID:     testClientID,
		ClientSecret: testSecret,
		HTTPClient:   f.srv.Client(),
		CallTimeout:  2 * time.Second,
	}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := mgmt.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeRaw(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func auth0Error(status int, title, message, code string) map[string]any {
	m := map[string]any{"statusCode": status, "error": title, "message": message}
	if code != "" {
		m["errorCode"] = code
	}
	return m
}

// IdP token values planted in the fixtures; none may come back out.
var idpSecrets = []string{
	"GOOGLE-ACCESS-TOKEN", "GOOGLE-REFRESH-TOKEN", "GITHUB-ACCESS-TOKEN",
	"TWITTER-ACCESS-TOKEN", "TWITTER-TOKEN-SECRET", "PROFILE-NESTED-TOKEN", "APP-METADATA-ROLE",
}

// identitiesJSON is an identities array as Auth0 sends it, IdP tokens and a
// numeric GitHub user_id included.
const identitiesJSON = `[
  {"connection": "Username-Password-Authentication", "user_id": "5f7c8ec7c33c6c004bbafe82", "provider": "auth0", "isSocial": false},
  {"connection": "google-oauth2", "user_id": "108091299999329986433", "provider": "google-oauth2", "isSocial": true,
   "access_token": "ya29.GOOGLE-ACCESS-TOKEN", "refresh_token": "1//GOOGLE-REFRESH-TOKEN", "expires_in": 3599,
   "profileData": {"email": "ada@gmail.com", "email_verified": true, "name": "Ada G", "picture": "https://lh3.example/ada.jpg",
                   "given_name": "Ada", "access_token": "PROFILE-NESTED-TOKEN"}},
  {"connection": "github", "user_id": 12345678901234, "provider": "github", "isSocial": true,
   "access_token": "gho_GITHUB-ACCESS-TOKEN",
   "profileData": {"name": "ada-gh", "email": "ada@users.noreply.github.com", "email_verified": false}},
  {"connection": "twitter", "user_id": "987654", "provider": "twitter", "isSocial": true,
   "access_token": "TWITTER-ACCESS-TOKEN", "access_token_secret": "TWITTER-TOKEN-SECRET",
   "profileData": {"name": "Ada T"}}
]`

const userJSON = `{
  "user_id": "auth0|5f7c8ec7c33c6c004bbafe82",
  "email": "ada@example.com",
  "email_verified": true,
  "name": "Ada Lovelace",
  "picture": "https://example.com/ada.png",
  "created_at": "2024-01-02T03:04:05.000Z",
  "app_metadata": {"roles": ["APP-METADATA-ROLE"]},
  "user_metadata": {"theme": "dark", "visits": 12345678901234567, "nested": {"ratio": 0.5}},
  "identities": ` + identitiesJSON + `
}`

var wantIdentities = []account.Identity{
	{Provider: "auth0", UserID: "5f7c8ec7c33c6c004bbafe82", Connection: "Username-Password-Authentication"},
	{Provider: "google-oauth2", UserID: "108091299999329986433", Connection: "google-oauth2", IsSocial: true,
		Profile: &account.Profile{Email: "ada@gmail.com", EmailVerified: true, Name: "Ada G", Picture: "https://lh3.example/ada.jpg"}},
	{Provider: "github", UserID: "12345678901234", Connection: "github", IsSocial: true,
		Profile: &account.Profile{Email: "ada@users.noreply.github.com", Name: "ada-gh"}},
	{Provider: "twitter", UserID: "987654", Connection: "twitter", IsSocial: true,
		Profile: &account.Profile{Name: "Ada T"}},
}
