package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/testkit"
)

// respell returns other spellings of one compact token: each decodes to the same
// header, claims and signature under a lenient decoder.
func respell(t *testing.T, tok string) map[string]string {
	t.Helper()
	parts := strings.Split(tok, ".")
	out := map[string]string{
		"padded signature":   parts[0] + "." + parts[1] + "." + parts[2] + "==",
		"JSON serialization": `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`,
		"line break":         parts[0][:8] + "\r\n" + parts[0][8:] + "." + parts[1] + "." + parts[2],
	}
	// The signature of a 2048-bit key is 256 bytes: 342 characters, whose last
	// carries 4 spare bits a lenient decoder ignores.
	sig := parts[2]
	if len(sig)%4 != 2 {
		t.Fatalf("signature of %d characters; want 342", len(sig))
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, sig[len(sig)-1])
	alt := alphabet[i^1] // same top 2 bits, other spare bits
	out["non-zero trailing bits"] = parts[0] + "." + parts[1] + "." + sig[:len(sig)-1] + string(alt)
	if _, err := base64.RawURLEncoding.DecodeString(sig[:len(sig)-1] + string(alt)); err != nil {
		t.Fatalf("the lenient decoder refuses the respelled signature: %v", err)
	}
	return out
}

// One valid token occupies one entry of the validated-token cache: any other
// spelling of it is refused before the cache is looked up, and never stored.
func TestBearerCacheHoldsOneSpellingPerToken(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	rec := newBearerRecorderWith(t, srv, newKeySource(t, srv, testkit.NewClock()), 0)
	tok := validAccessToken(t, srv)
	if rec.serve("Bearer " + tok); rec.principal == nil {
		t.Fatalf("valid token refused: %v", rec.errs)
	}
	if n := rec.bearer.CachedTokens(); n != 1 {
		t.Fatalf("%d cached tokens after one valid token, want 1", n)
	}
	for name, alt := range respell(t, tok) {
		w := rec.serve("Bearer " + alt)
		if w.Code != http.StatusUnauthorized || rec.principal != nil {
			t.Errorf("%s: status %d, principal %+v; want 401", name, w.Code, rec.principal)
		}
		if n := rec.bearer.CachedTokens(); n != 1 {
			t.Errorf("%s: %d cached tokens, want 1", name, n)
		}
	}
	if rec.serve("Bearer " + tok); rec.principal == nil {
		t.Fatalf("valid token refused after its other spellings: %v", rec.errs)
	}
	if got := srv.requests.Load(); got != 1 {
		t.Errorf("%d JWKS requests, want 1: no spelling reached the keys", got)
	}
}

// A kid the JWKS does not know forces a refresh, but a refresh that finds the same
// keys (or only new ones) keeps every cached token: only a key that is gone flushes.
func TestBearerCacheSurvivesForgedKids(t *testing.T) {
	srv := newJWKSServer(t, publicJWK(tenantKey(), "k1"))
	clock := testkit.NewClock()
	rec := newBearerRecorderWith(t, srv, newKeySource(t, srv, clock), 0)
	alice := validAccessToken(t, srv)
	rec.serve("Bearer " + alice)
	forged := testkit.SignJWT(t, jose.RS256, foreignKey(), "forged", map[string]any{
		"iss": srv.issuer(), "sub": "auth0|mallory", "aud": apiAudience, "azp": "spa-client",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	for i := range 3 {
		if w := rec.serve("Bearer " + forged); w.Code != http.StatusUnauthorized {
			t.Fatalf("forged kid %d: status %d, want 401", i, w.Code)
		}
		clock.Advance(minRefresh) // every forged kid may refresh the keys
	}
	if got := srv.requests.Load(); got != 4 {
		t.Errorf("%d JWKS requests, want 4 (the first fetch and one refresh per forged kid)", got)
	}
	if n := rec.bearer.CachedTokens(); n != 1 {
		t.Fatalf("%d cached tokens after forged kids, want 1 (alice's)", n)
	}

	// The tenant publishes a second key and signs with it: a refresh that only adds
	// a key keeps alice's entry.
	srv.setKeys(publicJWK(tenantKey(), "k1"), publicJWK(foreignKey(), "k2"))
	bob := testkit.SignJWT(t, jose.RS256, foreignKey(), "k2", map[string]any{
		"iss": srv.issuer(), "sub": "auth0|bob", "aud": apiAudience, "azp": "spa-client",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	if rec.serve("Bearer " + bob); rec.principal == nil {
		t.Fatalf("token of the new key refused: %v", rec.errs)
	}
	if n := rec.bearer.CachedTokens(); n != 2 {
		t.Fatalf("%d cached tokens after a key was added, want 2", n)
	}

	// The tenant revokes k1: the refresh that finds it gone drops what k1 vouched for.
	srv.setKeys(publicJWK(foreignKey(), "k2"))
	clock.Advance(minRefresh)
	if w := rec.serve("Bearer " + forged); w.Code != http.StatusUnauthorized {
		t.Fatalf("forged kid: status %d", w.Code)
	}
	if n := rec.bearer.CachedTokens(); n != 0 {
		t.Errorf("%d cached tokens after k1 was revoked, want 0", n)
	}
	if w := rec.serve("Bearer " + alice); w.Code != http.StatusUnauthorized {
		t.Errorf("token of the revoked key: status %d, want 401", w.Code)
	}
}

// The JWKS key of a kid verifies an RS256 signature only when it is published for
// that: an RSA key of at least 2048 bits, use "sig" (or none), alg "RS256" (or none),
// and the only key with that kid.
func TestKeySourceVerificationKeyBindsKeyToRS256(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pub := &tenantKey().PublicKey
	srv := newJWKSServer(t,
		publicJWK(tenantKey(), "ok"),
		jose.JSONWebKey{Key: pub, KeyID: "bare"},
		jose.JSONWebKey{Key: pub, KeyID: "enc", Use: "enc"},
		jose.JSONWebKey{Key: pub, KeyID: "rs384", Algorithm: "RS384", Use: "sig"},
		jose.JSONWebKey{Key: pub, KeyID: "ps256", Algorithm: "PS256"},
		jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "ec", Use: "sig"},
		jose.JSONWebKey{Key: &short.PublicKey, KeyID: "short", Algorithm: "RS256", Use: "sig"},
		publicJWK(tenantKey(), "twice"), publicJWK(foreignKey(), "twice"),
	)
	ks := newKeySource(t, srv, testkit.NewClock())
	for kid, ok := range map[string]bool{"ok": true, "bare": true, "enc": false, "rs384": false, "ps256": false, "ec": false, "short": false, "twice": false, "unknown": false} {
		got, err := ks.VerificationKey(context.Background(), kid)
		if (err == nil) != ok {
			t.Errorf("VerificationKey(%q) = %v, %v; want ok=%v", kid, got, err, ok)
		}
		if _, isFault := errors.AsType[*fault.Error](err); isFault {
			t.Errorf("VerificationKey(%q) error %v is a *fault.Error; the token is at fault, not the keys", kid, err)
		}
		if ok && !got.Equal(pub) {
			t.Errorf("VerificationKey(%q) returned another key", kid)
		}
	}
}
