package devtenant_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/testkit"
)

// publishedKeys fetches the tenant's JWKS.
func publishedKeys(t *testing.T, tn *devtenant.Tenant) *jose.JSONWebKeySet {
	t.Helper()
	res, body := testkit.Get(t, nil, tn.Issuer()+".well-known/jwks.json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("JWKS: status %d", res.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	return &set
}

// SignJWS signs exactly the header and payload it is given with the signing key,
// under each RSA algorithm, whatever the header says.
func TestSignJWS(t *testing.T) {
	tn := mtStart(t)
	pub := publishedKeys(t, tn).Key(tn.SigningKeyID())[0].Key.(*rsa.PublicKey)
	header := []byte(`{"alg":"RS256","kid":"` + tn.SigningKeyID() + `","typ":"at+jwt"}`)
	payload := []byte(`{"sub":"auth0|alice"}`)
	hashes := map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
		"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512}
	for alg, h := range hashes {
		tok, err := tn.SignJWS(alg, header, payload)
		if err != nil {
			t.Fatalf("SignJWS(%s): %v", alg, err)
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 || parts[0] != base64.RawURLEncoding.EncodeToString(header) || parts[1] != base64.RawURLEncoding.EncodeToString(payload) {
			t.Fatalf("SignJWS(%s) = %q, want the header and payload as given", alg, tok)
		}
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err != nil {
			t.Fatal(err)
		}
		d := h.New()
		d.Write([]byte(parts[0] + "." + parts[1]))
		if strings.HasPrefix(alg, "PS") {
			err = rsa.VerifyPSS(pub, h, d.Sum(nil), sig, nil)
		} else {
			err = rsa.VerifyPKCS1v15(pub, h, d.Sum(nil), sig)
		}
		if err != nil {
			t.Errorf("%s signature does not verify with the published key: %v", alg, err)
		}
	}
	if _, err := tn.SignJWS("HS256", header, payload); err == nil {
		t.Error("SignJWS(HS256): no error; the tenant has no HMAC key")
	}
}

// PublishKey adds a public key to the JWKS as given until the old keys are revoked.
func TestPublishKey(t *testing.T) {
	tn := mtStart(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.PublishKey(jose.JSONWebKey{Key: ec, KeyID: "private"}); err == nil {
		t.Error("PublishKey took a private key")
	}
	if err := tn.PublishKey(jose.JSONWebKey{Key: &ec.PublicKey, KeyID: "ec-1", Algorithm: "ES256", Use: "enc"}); err != nil {
		t.Fatal(err)
	}
	set := publishedKeys(t, tn)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	if !slices.Equal(kids, []string{tn.SigningKeyID(), "ec-1"}) {
		t.Fatalf("kids %v, want the signing key and ec-1", kids)
	}
	if k := set.Key("ec-1")[0]; k.Use != "enc" || k.Algorithm != "ES256" {
		t.Errorf("published key %+v, want use enc, alg ES256 as given", k)
	}
	if err := tn.RotateKeys(devtenant.RevokeOldKeys); err != nil {
		t.Fatal(err)
	}
	if n := len(publishedKeys(t, tn).Keys); n != 1 {
		t.Errorf("%d keys after revoking, want 1", n)
	}
}
