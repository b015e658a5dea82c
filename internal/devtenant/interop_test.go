package devtenant_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/testkit"
)

// These tests drive the tenant with relying-party libraries nobody here wrote:
// golang.org/x/oauth2 and github.com/coreos/go-oidc. They use the demo seed's web client.
const (
	interopClientID = "linkbff-dev-client"
	interopSecret   = "linkbff-dev-secret-do-not-use-in-production"
	interopCallback = "http://127.0.0.1:3000/auth/callback"
)

func startInteropTenant(t *testing.T) (*devtenant.Tenant, *oidc.Provider, context.Context) {
	t.Helper()
	tn := devtenanttest.Start(t, devtenant.Options{})
	// Every library call below takes ctx, so it bounds the test's requests.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	provider, err := oidc.NewProvider(ctx, tn.Issuer())
	if err != nil {
		t.Fatalf("go-oidc rejects the discovery document: %v", err)
	}
	return tn, provider, ctx
}

// interopBrowser keeps cookies and stops at redirects, as the test reads each hop.
// Its requests go through testkit, which bounds them in time.
func interopBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// interopLogin opens authURL, fills the database login form as a person would and
// returns where the tenant redirects the browser.
func interopLogin(t *testing.T, browser *http.Client, authURL, email, password string) *url.URL {
	t.Helper()
	res, page := testkit.Get(t, browser, authURL)
	form := regexp.MustCompile(`(?s)<form id="database-login"[^>]*action="([^"]*)"[^>]*>(.*?)</form>`).FindSubmatch(page)
	if res.StatusCode != http.StatusOK || form == nil {
		t.Fatalf("GET %s: status %d, no login form:\n%s", authURL, res.StatusCode, page)
	}
	fields := url.Values{"email": {email}, "password": {password}}
	for _, in := range regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`).FindAllSubmatch(form[2], -1) {
		fields.Set(html.UnescapeString(string(in[1])), html.UnescapeString(string(in[2])))
	}
	req, err := http.NewRequest(http.MethodPost, html.UnescapeString(string(form[1])), strings.NewReader(fields.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, _ = testkit.Do(t, browser, req)
	return interopRedirect(t, res)
}

func interopRedirect(t *testing.T, res *http.Response) *url.URL {
	t.Helper()
	loc, err := res.Location()
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want a redirect to the callback: %v", res.StatusCode, err)
	}
	if !strings.HasPrefix(loc.String(), interopCallback) {
		t.Fatalf("redirected to %s, want the callback %s", loc, interopCallback)
	}
	return loc
}

func TestInteropCodeFlowWithPKCE(t *testing.T) {
	_, provider, ctx := startInteropTenant(t)
	conf := oauth2.Config{
		ClientID: interopClientID, ClientSecret: interopSecret, Endpoint: provider.Endpoint(),
		RedirectURL: interopCallback, Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
	}
	verifier := oauth2.GenerateVerifier()
	const state, nonce = "interop-state", "interop-nonce"
	browser := interopBrowser(t)
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))

	callback := interopLogin(t, browser, authURL, "alice@example.com", "alice-password").Query()
	if callback.Get("state") != state || callback.Get("code") == "" {
		t.Fatalf("callback %v, want code and state %q", callback, state)
	}
	tok, err := conf.Exchange(ctx, callback.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("x/oauth2 exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idToken, err := provider.Verifier(&oidc.Config{ClientID: interopClientID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		SID           string `json:"sid"`
	}
	if err := idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idToken.Subject != "auth0|alice" || idToken.Nonce != nonce || claims.Email != "alice@example.com" || !claims.EmailVerified || claims.SID == "" {
		t.Errorf("ID token sub %q nonce %q claims %+v", idToken.Subject, idToken.Nonce, claims)
	}

	info, err := provider.UserInfo(ctx, conf.TokenSource(ctx, tok))
	if err != nil {
		t.Fatalf("go-oidc userinfo: %v", err)
	}
	if info.Subject != "auth0|alice" || info.Email != "alice@example.com" {
		t.Errorf("userinfo sub %q email %q", info.Subject, info.Email)
	}

	// A code is single use, and x/oauth2 surfaces Auth0's error as a RetrieveError.
	_, err = conf.Exchange(ctx, callback.Get("code"), oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("second exchange: %v, want invalid_grant", err)
	}

	t.Run("implicit from the session, at_hash verified", func(t *testing.T) {
		q := url.Values{"client_id": {interopClientID}, "redirect_uri": {interopCallback}, "response_type": {"id_token token"},
			"scope": {"openid"}, "nonce": {"second-nonce"}, "state": {"s2"}}
		res, _ := testkit.Get(t, browser, provider.Endpoint().AuthURL+"?"+q.Encode())
		frag, err := url.ParseQuery(interopRedirect(t, res).EscapedFragment())
		if err != nil {
			t.Fatal(err)
		}
		idToken, err := provider.Verifier(&oidc.Config{ClientID: interopClientID}).Verify(ctx, frag.Get("id_token"))
		if err != nil {
			t.Fatalf("go-oidc rejects the implicit ID token: %v", err)
		}
		if err := idToken.VerifyAccessToken(frag.Get("access_token")); err != nil {
			t.Errorf("go-oidc rejects at_hash: %v", err)
		}
		if idToken.Nonce != "second-nonce" || idToken.Subject != "auth0|alice" {
			t.Errorf("nonce %q sub %q", idToken.Nonce, idToken.Subject)
		}
	})
}

func TestInteropClientCredentials(t *testing.T) {
	tn, provider, ctx := startInteropTenant(t)
	conf := clientcredentials.Config{
		ClientID: interopClientID, ClientSecret: interopSecret, TokenURL: provider.Endpoint().TokenURL,
		EndpointParams: url.Values{"audience": {tn.ManagementAudience()}},
	}
	tok, err := conf.Token(ctx)
	if err != nil {
		t.Fatalf("x/oauth2 client credentials: %v", err)
	}
	if tok.TokenType != "Bearer" || tok.Expiry.IsZero() || tok.Extra("scope") != "read:users update:users" {
		t.Errorf("token type %q expiry %v scope %v", tok.TokenType, tok.Expiry, tok.Extra("scope"))
	}
	keys := oidc.NewRemoteKeySet(ctx, tn.Issuer()+".well-known/jwks.json")
	payload, err := keys.VerifySignature(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("access token signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != interopClientID+"@clients" || claims["aud"] != tn.ManagementAudience() || claims["gty"] != "client-credentials" {
		t.Errorf("claims %v", claims)
	}

	conf.ClientSecret = "wrong"
	_, err = conf.Token(ctx)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusUnauthorized || re.ErrorCode != "access_denied" || re.ErrorDescription != "Unauthorized" {
		t.Errorf("wrong secret: %v, want 401 access_denied Unauthorized", err)
	}
}
