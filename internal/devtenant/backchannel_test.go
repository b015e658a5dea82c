package devtenant

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/testkit"
)

// logoutPost is one back-channel logout request the receiver saw.
type logoutPost struct {
	path, contentType string
	form              url.Values
}

// logoutReceiver records the back-channel logout posts it gets.
func logoutReceiver(t *testing.T) (string, <-chan logoutPost) {
	t.Helper()
	got := make(chan logoutPost, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(b))
		got <- logoutPost{path: r.URL.Path, contentType: r.Header.Get("Content-Type"), form: form}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

// A sign-out at /v2/logout posts a logout token to the back-channel logout URL of
// each client the session issued tokens to, and to no other.
func TestBackchannelLogoutOnSignOut(t *testing.T) {
	receiver, posts := logoutReceiver(t)
	seed := DemoSeed()
	for i := range seed.Clients {
		seed.Clients[i].OIDCLogout = &OIDCLogout{BackchannelLogoutURLs: []string{receiver + "/" + seed.Clients[i].ClientID}}
	}
	tn := startOIDCTenant(t, &seed)
	browser := oidcBrowser(t)
	oidcPasswordLogin(t, browser, oidcAuthorizeURL(tn, nil), "alice@example.com", "alice-password")
	tn.mu.Lock()
	sid := tn.sessions[browserCookie(browser, tn)].SID
	tn.mu.Unlock()

	res, _ := oidcGet(t, browser, tn.Issuer()+"v2/logout?client_id="+webClientID)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("logout: status %d", res.StatusCode)
	}
	post := testkit.Recv(t, posts, "the back-channel logout post")
	select {
	case extra := <-posts:
		t.Errorf("a second post, to %s: only the web client got tokens from the session", extra.path)
	default:
	}
	if post.path != "/"+webClientID || post.contentType != "application/x-www-form-urlencoded" || len(post.form["logout_token"]) != 1 {
		t.Fatalf("post to %s (%s) with %v, want the web client's URL and one logout_token", post.path, post.contentType, post.form)
	}
	jws, err := jose.ParseSignedCompact(post.form.Get("logout_token"), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Header
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != "logout+jwt" || h.KeyID != tn.keys.currentKID() {
		t.Errorf("header typ %v kid %q, want logout+jwt and the current key", typ, h.KeyID)
	}
	payload, err := jws.Verify(&tn.keys.current.key.PublicKey)
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	now := float64(time.Now().Unix())
	events, _ := claims["events"].(map[string]any)
	if _, isObject := events[backchannelLogoutEvent].(map[string]any); !isObject || claims["iss"] != tn.Issuer() ||
		claims["aud"] != webClientID || claims["sub"] != "auth0|alice" || claims["sid"] != sid || sid == "" ||
		claims["jti"] == "" || claims["iat"].(float64) > now+1 || claims["exp"].(float64) <= now {
		t.Errorf("logout token claims %v (session sid %q)", claims, sid)
	}
	if _, has := claims["nonce"]; has {
		t.Error("the logout token carries a nonce")
	}
}

// A signed-out browser, an unknown client or a client without back-channel URLs
// posts nothing.
func TestBackchannelLogoutOnlyForEndedSessions(t *testing.T) {
	receiver, posts := logoutReceiver(t)
	seed := DemoSeed()
	seed.Clients[0].OIDCLogout = &OIDCLogout{BackchannelLogoutURLs: []string{receiver}}
	tn := startOIDCTenant(t, &seed)
	oidcGet(t, oidcBrowser(t), tn.Issuer()+"v2/logout?client_id="+webClientID)
	select {
	case p := <-posts:
		t.Errorf("a logout without a session posted to %s", p.path)
	default:
	}
}

func TestLogoutTokenKnob(t *testing.T) {
	tn := startOIDCTenant(t, nil)
	if _, err := tn.LogoutToken(webClientID, "", ""); err == nil {
		t.Error("a logout token without sub and sid was minted")
	}
	raw, err := tn.LogoutToken(webClientID, "auth0|bob", "")
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := jws.Verify(&tn.keys.current.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	if _, hasSID := claims["sid"]; claims["sub"] != "auth0|bob" || hasSID {
		t.Errorf("claims %v, want sub auth0|bob and no sid", claims)
	}
}

func TestSeedRefusesBadBackchannelURL(t *testing.T) {
	seed := DemoSeed()
	seed.Clients[0].OIDCLogout = &OIDCLogout{BackchannelLogoutURLs: []string{"/relative"}}
	if err := seed.Validate(); err == nil {
		t.Error("a relative back-channel logout URL was accepted")
	}
}
