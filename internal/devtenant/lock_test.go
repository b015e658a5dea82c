package devtenant_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	// lockBundle is the Auth0 Lock bundle linkbff's page serves (`make frontend` builds
	// it; it is committed), from the repository root.
	lockBundle   = "frontend/static/vendor/auth0-lock.js"
	lockClientID = "linkbff-dev-client"
	lockUser     = "github|4242"
)

// TestLockSocialLoginInChromium logs in with Auth0 Lock 14, as an application page
// embeds it, against the tenant in headless Chromium: Lock loads the client's
// connections from the tenant, the social button sends the browser to /authorize, the
// tenant's login page stands in for GitHub, and the tenant redirects back with an ID
// token that Lock verifies in the browser (signature from the JWKS, issuer, audience,
// nonce) before it emits 'authenticated'.
//
// The page and the tenant listen on two ports of 127.0.0.1, so they are two origins, as
// an application and its Auth0 tenant are. The page's Content-Security-Policy allows
// scripts and fetches from itself and the tenant only, and the test fails on any request
// to another host (Auth0's CDN, for example).
func TestLockSocialLoginInChromium(t *testing.T) {
	root := filepath.Join("..", "..") // go test runs in the package directory
	bundle := lockPrerequisites(t, root)

	// The page server first, so the tenant's seed can allow its origin.
	page := httptest.NewUnstartedServer(nil)
	t.Cleanup(page.Close)
	pageOrigin := "http://" + page.Listener.Addr().String()

	seed := devtenant.DemoSeed()
	for i := range seed.Clients {
		if c := &seed.Clients[i]; c.ClientID == lockClientID {
			c.Callbacks = append(c.Callbacks, pageOrigin+"/")
			c.WebOrigins = append(c.WebOrigins, pageOrigin)
		}
	}
	tn := devtenanttest.Start(t, devtenant.Options{Seed: &seed})

	page.Config.Handler = lockTestPage(t, bundle, tn, pageOrigin)
	page.Start()

	nonce := randomHex(t, 16)
	startURL := pageOrigin + "/?" + url.Values{"nonce": {nonce}}.Encode()

	b := startChromium(t)
	t.Cleanup(func() {
		if t.Failed() {
			b.debug(t)
		}
	})

	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	const socialButton = `.auth0-lock-social-button[data-provider="github"]`
	const userButton = `button[data-user-id="` + lockUser + `"]`
	steps := []struct {
		name   string
		action chromedp.Action[chromedp.Void]
	}{
		{"open the page", chromedp.Navigate(startURL)},
		// Lock has loaded the client's connections and shows the social button.
		{"wait for Lock's GitHub button", chromedp.WaitVisible(chromedp.CSS(socialButton))},
		// Lock slides its widget in; a click during the animation can miss the button.
		{"wait for Lock's opening animation", lockSettled},
		{"click Lock's GitHub button", chromedp.Click(chromedp.CSS(socialButton))},
		// The tenant's login page for the github connection, standing in for GitHub.
		{"wait for the tenant's login page", chromedp.WaitVisible(chromedp.CSS(userButton))},
		{"choose " + lockUser, chromedp.Click(chromedp.CSS(userButton))},
		// Back on the page, Lock has parsed the hash and emitted an event.
		{"wait for Lock's event", chromedp.WaitReady(chromedp.CSS(`#result[data-event]`))},
	}
	for _, step := range steps {
		if err := chromedp.Do(ctx, step.action); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
	}
	event, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#result"), "data-event"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("#result")))
	if err != nil {
		t.Fatal(err)
	}
	if event.Value != "authenticated" {
		t.Fatalf("Lock emitted %q, want authenticated: %s", event.Value, text)
	}
	var result struct {
		IDToken        string         `json:"idToken"`
		IDTokenPayload map[string]any `json:"idTokenPayload"`
	}
	if err := json.Unmarshal([]byte(text), &result); err != nil {
		t.Fatalf("the page's result is not JSON: %v: %s", err, text)
	}
	if result.IDToken == "" {
		t.Fatalf("Lock's authResult has no idToken: %s", text)
	}

	// The token Lock accepted, checked again here with the tenant's published keys.
	claims := verifyWithTenantJWKS(t, tn, result.IDToken)
	want := map[string]any{"sub": lockUser, "aud": lockClientID, "nonce": nonce, "iss": tn.Issuer()}
	for name, v := range want {
		if claims[name] != v {
			t.Errorf("ID token claim %s = %v, want %v", name, claims[name], v)
		}
	}
	if got := result.IDTokenPayload["sub"]; got != lockUser {
		t.Errorf("Lock's idTokenPayload.sub = %v, want %s", got, lockUser)
	}

	// What Lock asked the tenant for: the client's connections (on the first page and
	// again on the return page), the login, and the keys to verify the token.
	for _, e := range []string{devtenant.EndpointClientInfo, devtenant.EndpointAuthorize, devtenant.EndpointLogin, devtenant.EndpointJWKS} {
		if tn.RequestCount(e) == 0 {
			t.Errorf("the tenant saw no %s request", e)
		}
	}

	// Every request the tab made stayed on this machine's two servers.
	requests := b.requestURLs()
	var tenantRequests []string
	for _, raw := range requests {
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("request to an unparsable URL %q", raw)
			continue
		}
		switch {
		case u.Scheme == "data" || u.Scheme == "blob":
		case u.Hostname() != "127.0.0.1":
			t.Errorf("the browser requested %s: nothing but the page and the tenant may be contacted", raw)
		case strings.HasPrefix(raw, tn.URL()+"/"):
			tenantRequests = append(tenantRequests, strings.TrimPrefix(raw, tn.URL()))
		}
	}
	t.Logf("the browser sent %d requests; to the tenant:\n  %s", len(requests), strings.Join(tenantRequests, "\n  "))
}

// lockSettled waits until Lock's widget is open and no animation runs on the page.
var lockSettled = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	_, err := chromedp.Poll[bool](`!!document.querySelector('.auth0-lock.auth0-lock-opened') &&
		document.getAnimations().every(function (a) { return a.playState !== 'running'; })`)(ctx, t)
	return err
})

// lockPrerequisites returns the Lock bundle, or skips when it is missing (Chromium is
// checked by testkit.Chromium). In CI (CI=true) a missing prerequisite fails instead.
func lockPrerequisites(t *testing.T, root string) []byte {
	t.Helper()
	bundle, err := os.ReadFile(filepath.Join(root, lockBundle))
	if errors.Is(err, os.ErrNotExist) {
		testkit.MissingPrerequisite(t, "%s is missing; it is committed, and make frontend rebuilds it", lockBundle)
	} else if err != nil {
		t.Fatal(err)
	}
	return bundle
}

// lockTestPage serves the application page that embeds Lock: no inline script, and a
// Content-Security-Policy that lets only the page and the tenant run scripts and answer
// fetches.
func lockTestPage(t *testing.T, bundle []byte, tn *devtenant.Tenant, pageOrigin string) http.Handler {
	t.Helper()
	csp := fmt.Sprintf("default-src 'self'; script-src 'self' %[1]s; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' %[1]s", tn.URL())
	config, err := json.Marshal(map[string]string{
		"clientID": lockClientID, "tenantURL": tn.URL(), "issuer": tn.Issuer(), "redirectURL": pageOrigin + "/",
	})
	if err != nil {
		t.Fatal(err)
	}
	pageJS := strings.Replace(lockPageJS, "CONFIG", string(config), 1)
	var logo bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.Set(4, 4, color.RGBA{R: 0x33, G: 0x66, B: 0x99, A: 0xff})
	if err := png.Encode(&logo, img); err != nil {
		t.Fatal(err)
	}

	serve := func(contentType string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(body)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		serve("text/html; charset=utf-8", []byte(lockPageHTML))(w, r)
	})
	mux.HandleFunc("GET /lock.js", serve("application/javascript; charset=utf-8", bundle))
	mux.HandleFunc("GET /page.js", serve("application/javascript; charset=utf-8", []byte(pageJS)))
	mux.HandleFunc("GET /logo.png", serve("image/png", logo.Bytes()))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

const lockPageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lock against the development tenant</title>
<script src="/lock.js"></script>
</head><body>
<pre id="result"></pre>
<script src="/page.js"></script>
</body></html>
`

// lockPageJS constructs Lock as an application would; CONFIG is replaced with the
// tenant's and the page's addresses. The nonce comes from the query string of the first
// page; on the return page (no query) auth0.js finds it in its login transaction.
const lockPageJS = `(function () {
  'use strict';
  var config = CONFIG;
  var result = document.getElementById('result');
  function report(event, payload) {
    if (payload instanceof Error) {
      payload = {name: payload.name, message: payload.message};
    }
    result.textContent = JSON.stringify(payload);
    result.dataset.event = event;
  }
  var params = {scope: 'openid profile email'};
  var nonce = new URLSearchParams(window.location.search).get('nonce');
  if (nonce) {
    params.nonce = nonce;
  }
  var lock = new window.Auth0Lock(config.clientID, config.tenantURL, {
    configurationBaseUrl: config.tenantURL,
    overrides: {
      __token_issuer: config.issuer,
      __jwks_uri: config.issuer + '.well-known/jwks.json'
    },
    auth: {
      redirectUrl: config.redirectURL,
      responseType: 'id_token',
      params: params,
      sso: false
    },
    rememberLastLogin: false,
    theme: {logo: '/logo.png'},
    allowedConnections: ['github']
  });
  // Right after construction: Lock parses the hash on the next tick.
  lock.on('authenticated', function (authResult) { report('authenticated', authResult); });
  lock.on('authorization_error', function (err) { report('authorization_error', err); });
  lock.on('unrecoverable_error', function (err) { report('unrecoverable_error', err); });
  if (!window.location.hash) {
    lock.show();
  }
})();
`

// lockBrowser is a headless Chromium tab, and what it did.
type lockBrowser struct {
	ctx context.Context

	mu       sync.Mutex
	requests []string
	console  []string
}

func (b *lockBrowser) requestURLs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests)
}

// startChromium opens a tab in a headless Chromium and records every request and
// console message of it.
func startChromium(t *testing.T) *lockBrowser {
	t.Helper()
	b := &lockBrowser{}
	ctx, cancel := chromedp.NewContext(testkit.Chromium(t, 3*time.Minute), chromedp.WithListener(func(ev any) {
		// Runs in the tab's event loop: record and return.
		if ev, ok := ev.(*network.EventRequestWillBeSent); ok && ev.Request != nil {
			b.mu.Lock()
			b.requests = append(b.requests, ev.Request.URL)
			b.mu.Unlock()
		}
	}))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s %s:%d %s", m.Type, m.URL, m.Line+1, m.Text))
			b.mu.Unlock()
		}
	}()
	b.ctx = ctx
	return b
}

// debug logs what helps to understand a failure: where the tab is, the page's result,
// the console and the requests, and saves a screenshot.
func (b *lockBrowser) debug(t *testing.T) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		t.Logf("the tab is at %s", loc)
	}
	if body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`)); err == nil {
		t.Logf("the page's text:\n%s", body)
	}
	// The screenshot outlives the test (t.TempDir would remove it): it is for a person.
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Logf("no screenshot: %v", err)
	} else if dir, err := os.MkdirTemp("", "devtenant-lock-"); err != nil {
		t.Logf("no screenshot: %v", err)
	} else if file := filepath.Join(dir, "failure.png"); os.WriteFile(file, shot, 0o600) == nil {
		t.Logf("screenshot: %s", file)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t.Logf("console:\n  %s", strings.Join(b.console, "\n  "))
	var requests []string
	for _, r := range b.requests {
		if len(r) > 120 {
			r = r[:120] + "…"
		}
		requests = append(requests, r)
	}
	t.Logf("requests:\n  %s", strings.Join(requests, "\n  "))
}

// verifyWithTenantJWKS checks token's signature with the tenant's published keys and
// returns its claims.
func verifyWithTenantJWKS(t *testing.T, tn *devtenant.Tenant, token string) map[string]any {
	t.Helper()
	_, body := testkit.Get(t, nil, tn.Issuer()+".well-known/jwks.json")
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(body, &keys); err != nil {
		t.Fatalf("decode the JWKS: %v", err)
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("the ID token is not an RS256 JWT: %v", err)
	}
	found := keys.Key(tok.Headers[0].KeyID)
	if len(found) == 0 {
		t.Fatalf("the JWKS has no key %q", tok.Headers[0].KeyID)
	}
	claims := map[string]any{}
	if err := tok.Claims(found[0].Key, &claims); err != nil {
		t.Fatalf("the ID token does not verify with the tenant's key: %v", err)
	}
	// Also decoded by hand, as a reader of the payload would.
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("the ID token's payload is not base64url: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil || raw["sub"] != claims["sub"] {
		t.Fatalf("the payload %s does not match the verified claims %v (%v)", payload, claims, err)
	}
	return claims
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
