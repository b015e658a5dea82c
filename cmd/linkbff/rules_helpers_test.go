package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/testkit"
)

// The token rule tests (linktoken_rules_test.go, accesstoken_rules_test.go) each prove
// one rule of a specification against the whole program: linkbff over run() in front
// of the development tenant, which signs whatever the test asks. Every refusal must
// be the rule's problem and cost zero Management API calls; where a rule has a
// boundary, a token just inside it is accepted, so the test can tell a rule from a
// refusal of everything.

// ruleApp is linkbff and its tenant, with alice's access token at hand.
type ruleApp struct {
	*app
	alice string // alice's access token, both scopes
}

func startRuleApp(t *testing.T, env map[string]string) *ruleApp {
	t.Helper()
	// Each rule test sends many writes as one user: the abuse limits are not what
	// these tests are about.
	all := maps.Clone(noLimits)
	maps.Copy(all, env)
	a := startApp(t, all, nil)
	return &ruleApp{app: a, alice: a.accessToken("auth0|alice")}
}

// b64json is the base64url of v's JSON.
func b64json(t *testing.T, v any) string {
	t.Helper()
	return base64.RawURLEncoding.EncodeToString(mustJSON(t, v))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// header is the JOSE header the tenant puts on its tokens, with over applied (a nil
// value removes a member).
func (a *ruleApp) header(over map[string]any) map[string]any {
	return testkit.WithClaims(map[string]any{"alg": "RS256", "typ": "JWT", "kid": a.tenant.SigningKeyID()}, over)
}

// sign is a token the tenant signed with its current key under alg, whatever the
// header and claims say.
func (a *ruleApp) sign(alg string, header, claims map[string]any) string {
	a.t.Helper()
	return a.signBytes(alg, mustJSON(a.t, header), mustJSON(a.t, claims))
}

// signBytes is sign for header and payload bytes as given (duplicate members,
// invalid UTF-8).
func (a *ruleApp) signBytes(alg string, header, payload []byte) string {
	a.t.Helper()
	tok, err := a.tenant.SignJWS(alg, header, payload)
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

// signRS256 is a token signed RS256 with key (not the tenant's), with header as given.
func signRS256(t *testing.T, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	input := b64json(t, header) + "." + b64json(t, claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// accessClaims are the claims of a valid access token of alice for linkbff's API (as
// Auth0's default token profile writes them), with over applied.
func (a *ruleApp) accessClaims(over map[string]any) map[string]any {
	now := time.Now()
	return testkit.WithClaims(map[string]any{
		"iss": a.tenant.Issuer(), "sub": "auth0|alice", "aud": []string{testAudience, a.tenant.Issuer() + "userinfo"},
		"azp": testClientID, "scope": testScope, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}, over)
}

// linkClaims are the claims of a valid ID token of github|4242's login to the BFF's
// application carrying nonce, with over applied.
func (a *ruleApp) linkClaims(nonce string, over map[string]any) map[string]any {
	now := time.Now()
	return testkit.WithClaims(map[string]any{
		"iss": a.tenant.Issuer(), "sub": "github|4242", "aud": testClientID, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(10 * time.Hour).Unix(), "auth_time": now.Unix(),
		"email": "alice@users.noreply.example", "email_verified": true,
	}, over)
}

// signedAccess is a valid access token of alice (accessClaims) with over applied,
// signed as the tenant signs.
func (a *ruleApp) signedAccess(over map[string]any) string {
	a.t.Helper()
	return a.sign("RS256", a.header(nil), a.accessClaims(over))
}

// signedLink is a valid ID token of github|4242 for alice's link (linkClaims, with
// a fresh nonce of alice's) with over applied, signed as the tenant signs.
func (a *ruleApp) signedLink(over map[string]any) string {
	a.t.Helper()
	return a.sign("RS256", a.header(nil), a.linkClaims(a.nonce(a.alice), over))
}

// tenantPublicKey is the tenant's current signing key, as its JWKS publishes it.
func (a *ruleApp) tenantPublicKey() *rsa.PublicKey {
	a.t.Helper()
	res, body := testkit.Get(a.t, a.client, a.tenant.Issuer()+".well-known/jwks.json")
	if res.StatusCode != http.StatusOK {
		a.t.Fatalf("JWKS: %d", res.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		a.t.Fatal(err)
	}
	keys := set.Key(a.tenant.SigningKeyID())
	if len(keys) != 1 {
		a.t.Fatalf("JWKS has %d keys of the signing kid", len(keys))
	}
	return keys[0].Key.(*rsa.PublicKey)
}

// publicKeyPEM is the PEM of the tenant's public key: the HMAC key of the classic
// algorithm-confusion attack, which a verifier that lets the token pick its
// algorithm would use as an HS256 secret.
func (a *ruleApp) publicKeyPEM() []byte {
	a.t.Helper()
	der, err := x509.MarshalPKIXPublicKey(a.tenantPublicKey())
	if err != nil {
		a.t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// encryptTo is token encrypted (RSA-OAEP-256, A256GCM) to the tenant's public key,
// as a nested JWT: a JWE whose content is the signed token.
func (a *ruleApp) encryptTo(token string) string {
	a.t.Helper()
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: a.tenantPublicKey()},
		(&jose.EncrypterOptions{}).WithContentType("JWT").WithType("JWT"))
	if err != nil {
		a.t.Fatal(err)
	}
	obj, err := enc.Encrypt([]byte(token))
	if err != nil {
		a.t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		a.t.Fatal(err)
	}
	return out
}

// unsigned is an alg "none" token of claims.
func unsignedToken(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	return b64json(t, header) + "." + b64json(t, claims) + "."
}

// wantAccessRefused checks that every /me operation refuses token with 401
// invalid_token and a Bearer challenge naming the error, and that Auth0's Management
// API was not called.
func (a *ruleApp) wantAccessRefused(t *testing.T, token string) {
	t.Helper()
	a.tenant.ResetRequests()
	for _, op := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/me/identities", nil},
		{"POST", "/me/identities/nonce", nil},
		{"POST", "/me/identities", map[string]string{"link_with": "a.b.c"}},
		{"DELETE", "/me/identities/github/4242", nil},
	} {
		r := a.do(op.method, op.path, token, op.body)
		wantProblem(t, r, http.StatusUnauthorized, "invalid_token")
		if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") || !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("%s %s: WWW-Authenticate = %q, want a Bearer challenge with error=\"invalid_token\"", op.method, op.path, got)
		}
	}
	if n := a.tenant.ManagementRequests(); n != 0 {
		t.Errorf("%d Management API calls for a refused access token, want 0", n)
	}
}

// wantAccessAccepted checks that token lists alice's identities.
func (a *ruleApp) wantAccessAccepted(t *testing.T, token string) {
	t.Helper()
	r := a.do("GET", "/me/identities", token, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d %s, want the token accepted", r.status, r.body)
	}
}

// wantLinkRefused checks that alice's POST /me/identities with link_with token is
// refused with 400 and code, and that Auth0's Management API was not called.
func (a *ruleApp) wantLinkRefused(t *testing.T, token, code string) {
	t.Helper()
	a.tenant.ResetRequests()
	wantProblem(t, a.do("POST", "/me/identities", a.alice, map[string]string{"link_with": token}), http.StatusBadRequest, code)
	if n := a.tenant.ManagementRequests(); n != 0 {
		t.Errorf("%d Management API calls for a refused link token, want 0", n)
	}
}

// wantLinkAccepted checks that alice links with token, an ID token of github|4242
// (linkClaims), then unlinks github|4242 again through the tenant, for the next case.
func (a *ruleApp) wantLinkAccepted(t *testing.T, token string) {
	t.Helper()
	r := a.do("POST", "/me/identities", a.alice, map[string]string{"link_with": token})
	if r.status != http.StatusCreated {
		t.Fatalf("status %d %s, want the link token accepted", r.status, r.body)
	}
	if err := a.tenant.UnlinkUser("auth0|alice", "github", "4242"); err != nil {
		t.Fatal(err)
	}
}

// publishKeys publishes keys in the tenant's JWKS. Call it before linkbff first
// fetches the JWKS (its first token): a kid it does not know forces a refresh at most
// every 30 seconds, so a key published later may be refused as unknown rather than
// for the rule under test.
func (a *ruleApp) publishKeys(keys ...jose.JSONWebKey) {
	a.t.Helper()
	for _, k := range keys {
		if err := a.tenant.PublishKey(k); err != nil {
			a.t.Fatal(err)
		}
	}
}

// publishKeyBindings publishes (see publishKeys) one key bound to RS256 as RFC 8725
// §3.1 asks, and keys published otherwise, which must verify nothing although the
// tenant published them: for encryption, for RS384, for PS256, shorter than 2048 bits,
// an EC key, and one of two keys under one kid. It returns a signer of the claims for
// the good key, and one for each bad key by what is wrong with it.
func (a *ruleApp) publishKeyBindings(t *testing.T) (good func(claims map[string]any) string, bad map[string]func(claims map[string]any) string) {
	t.Helper()
	attacker := testkit.RSAKey(t)
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a.publishKeys(
		jose.JSONWebKey{Key: &attacker.PublicKey, KeyID: "published-ok", Algorithm: "RS256", Use: "sig"},
		jose.JSONWebKey{Key: &attacker.PublicKey, KeyID: "for-encryption", Algorithm: "RS256", Use: "enc"},
		jose.JSONWebKey{Key: &attacker.PublicKey, KeyID: "for-rs384", Algorithm: "RS384", Use: "sig"},
		jose.JSONWebKey{Key: &attacker.PublicKey, KeyID: "for-ps256", Algorithm: "PS256"},
		jose.JSONWebKey{Key: &short.PublicKey, KeyID: "1024-bit", Algorithm: "RS256", Use: "sig"},
		jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "ec", Use: "sig"},
		jose.JSONWebKey{Key: &attacker.PublicKey, KeyID: "twice", Algorithm: "RS256", Use: "sig"},
		jose.JSONWebKey{Key: &testkit.RSAKey(t).PublicKey, KeyID: "twice", Algorithm: "RS256", Use: "sig"},
	)
	rs256 := func(key *rsa.PrivateKey, kid string) func(map[string]any) string {
		return func(claims map[string]any) string {
			return signRS256(t, key, a.header(map[string]any{"kid": kid}), claims)
		}
	}
	return rs256(attacker, "published-ok"), map[string]func(map[string]any) string{
		"published for encryption":    rs256(attacker, "for-encryption"),
		"published for RS384":         rs256(attacker, "for-rs384"),
		"published for PS256":         rs256(attacker, "for-ps256"),
		"shorter than 2048 bits":      rs256(short, "1024-bit"),
		"an EC key":                   func(claims map[string]any) string { return testkit.SignJWT(t, jose.ES256, ec, "ec", claims) },
		"one of two keys under a kid": rs256(attacker, "twice"),
	}
}

// wrongAlgorithms sign the claims otherwise than RS256 with the tenant's key, each
// refused by RFC 8725 §3.1 (the verifier's algorithm, never the token's): another RSA
// algorithm by the tenant's own key, a PS256 signature under an RS256 header, an EC
// key under the tenant's kid, an HMAC keyed with the tenant's public key (algorithm
// confusion), alg in lower case, no alg.
func (a *ruleApp) wrongAlgorithms(t *testing.T) map[string]func(claims map[string]any) string {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signAs := func(alg string, header map[string]any) func(map[string]any) string {
		return func(claims map[string]any) string { return a.sign(alg, a.header(header), claims) }
	}
	return map[string]func(map[string]any) string{
		"RS384 by the tenant's key":             signAs("RS384", map[string]any{"alg": "RS384"}),
		"RS512 by the tenant's key":             signAs("RS512", map[string]any{"alg": "RS512"}),
		"PS256 by the tenant's key":             signAs("PS256", map[string]any{"alg": "PS256"}),
		"PS256 signature under an RS256 header": signAs("PS256", nil),
		"ES256 under the tenant's kid": func(claims map[string]any) string {
			return testkit.SignJWT(t, jose.ES256, ec, a.tenant.SigningKeyID(), claims)
		},
		"HS256 keyed with the tenant's public key": func(claims map[string]any) string {
			return testkit.SignJWT(t, jose.HS256, a.publicKeyPEM(), a.tenant.SigningKeyID(), claims)
		},
		"alg in lower case": signAs("RS256", map[string]any{"alg": "rs256"}),
		"no alg":            signAs("RS256", map[string]any{"alg": nil}),
	}
}

// critHeaders are headers with a crit list (RFC 7515 §4.1.11), which linkbff refuses
// since it understands no extension.
func critHeaders() map[string]map[string]any {
	return map[string]map[string]any{
		"an unknown extension": {"crit": []string{"http://example.com/must-understand"}, "http://example.com/must-understand": true},
		"exp as a header":      {"crit": []string{"exp"}, "exp": time.Now().Add(time.Hour).Unix()},
		"unencoded payload":    {"crit": []string{"b64"}, "b64": true},
		"empty list":           {"crit": []string{}},
	}
}

// keyCarryingHeaders are headers that bring their own key (RFC 8725 §3.10), each
// naming kid "attacker", under which the JWKS has nothing: an embedded jwk (of
// attacker's key), a jku, an x5u, an x5c.
func keyCarryingHeaders(t *testing.T, attacker *rsa.PrivateKey) map[string]map[string]any {
	t.Helper()
	jwk, err := jose.JSONWebKey{Key: &attacker.PublicKey, KeyID: "attacker", Algorithm: "RS256", Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]map[string]any{
		"jwk": {"kid": "attacker", "jwk": json.RawMessage(jwk)},
		"jku": {"kid": "attacker", "jku": "https://evil.example/jwks.json"},
		"x5u": {"kid": "attacker", "x5u": "https://evil.example/cert.pem"},
		"x5c": {"kid": "attacker", "x5c": []string{"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"}},
	}
}

// mintedIDToken is an ID token the tenant's own login of userID to the BFF's
// application yields.
func (a *ruleApp) mintedIDToken(userID, nonce string) string {
	return a.mint(devtenant.MintRequest{UserID: userID, Nonce: nonce}).IDToken
}

// respellings are other spellings of the compact token tok, each of which a lenient
// decoder reads as tok: padding, spare bits set in the signature's last character
// (a 2048-bit signature is 342 characters, the last carrying 4 spare bits), the
// standard base64 alphabet, a line break, and the JSON serialization.
func respellings(t *testing.T, tok string) map[string]string {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 || len(p[2]) != 342 {
		t.Fatalf("respellings want a compact RS256 token of a 2048-bit key")
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, p[2][341])
	spare := p[2][:341] + string(alphabet[last^1])
	b1, err1 := base64.RawURLEncoding.DecodeString(p[2])
	b2, err2 := base64.RawURLEncoding.DecodeString(spare)
	if err1 != nil || err2 != nil || string(b1) != string(b2) {
		t.Fatal("the respelled signature decodes differently")
	}
	std := strings.NewReplacer("-", "+", "_", "/")
	out := map[string]string{
		"padded signature":        p[0] + "." + p[1] + "." + p[2] + "==",
		"spare bits set":          p[0] + "." + p[1] + "." + spare,
		"standard alphabet":       std.Replace(p[0]) + "." + std.Replace(p[1]) + "." + std.Replace(p[2]),
		"line break in a segment": p[0][:10] + "\n" + p[0][10:] + "." + p[1] + "." + p[2],
		"JSON serialization":      `{"protected":"` + p[0] + `","payload":"` + p[1] + `","signature":"` + p[2] + `"}`,
	}
	if out["standard alphabet"] == tok {
		delete(out, "standard alphabet") // no character of tok differs in that alphabet
	}
	return out
}
