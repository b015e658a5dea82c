package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/testkit"
)

// The rules a secondary ID token (link_with) must pass, one test per rule, named
// after the specification and section that states it: OpenID Connect Core 1.0 §2
// (claims) and §3.1.3.7 (ID token validation), RFC 7515 (JWS), RFC 7519 (JWT),
// RFC 8725 (JWT best current practices), and Auth0's own. Each refusal is a 4xx
// problem with the rule's code and costs zero Management API calls; see
// rules_helpers_test.go.
//
// Not tested, because they do not apply to an ID token handed over by a client:
// §3.1.3.7 step 12 (acr: linkbff requests none) and at_hash / c_hash (§3.1.3.8,
// §3.3.2.11), which bind an ID token to an access token or code delivered with it;
// linkbff receives the ID token alone and uses nothing else from that login.

// §3.1.3.7 step 1: an encrypted ID token is decrypted with the keys the client
// registered. linkbff registers none: a JWE is refused, even one wrapping a valid
// signed ID token.
func TestLinkTokenRule_OIDC_3_1_3_7_1_EncryptedTokenRefused(t *testing.T) {
	a := startRuleApp(t, nil)
	signed := a.signedLink(nil)
	a.wantLinkRefused(t, a.encryptTo(signed), "invalid_link_token")
}

// §3.1.3.7 step 2: iss must exactly match the issuer, trailing slash included.
func TestLinkTokenRule_OIDC_3_1_3_7_2_IssuerMustMatchExactly(t *testing.T) {
	a := startRuleApp(t, nil)
	iss := a.tenant.Issuer()
	for name, v := range map[string]any{
		"another issuer":          "https://evil.example/",
		"without trailing slash":  strings.TrimSuffix(iss, "/"),
		"two trailing slashes":    iss + "/",
		"upper-case scheme":       strings.Replace(iss, "http://", "HTTP://", 1),
		"with a path":             iss + "tenant/",
		"issuer in an array":      []string{iss},
		"the issuer's JWKS":       iss + ".well-known/jwks.json",
		"missing (nil: removed)":  nil,
		"empty":                   "",
		"number":                  1,
		"issuer with query":       iss + "?x=1",
		"issuer with a fragment":  iss + "#",
		"issuer of another port":  strings.Replace(iss, "127.0.0.1:", "127.0.0.1:1", 1),
		"issuer as localhost":     strings.Replace(iss, "127.0.0.1", "localhost", 1),
		"issuer with userinfo @":  strings.Replace(iss, "http://", "http://x@", 1),
		"issuer with a dot-slash": iss + "./",
	} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, a.signedLink(map[string]any{"iss": v}), "invalid_link_token")
		})
	}
	t.Run("exact issuer accepted", func(t *testing.T) {
		a.wantLinkAccepted(t, a.signedLink(map[string]any{"iss": iss}))
	})
}

// §3.1.3.7 step 3: aud must contain the client's id, and a token with an audience the
// client does not trust is refused. linkbff trusts its own client id and
// LINK_ALLOWED_AUDIENCES.
func TestLinkTokenRule_OIDC_3_1_3_7_3_AudienceMustBeAllowedClients(t *testing.T) {
	a := startRuleApp(t, nil)
	for name, over := range map[string]map[string]any{
		"another application":                {"aud": "someone-elses-app"},
		"this API's identifier":              {"aud": testAudience},
		"missing":                            {"aud": nil},
		"empty list":                         {"aud": []string{}},
		"allowed plus an untrusted audience": {"aud": []string{testClientID, "someone-elses-app"}, "azp": testClientID},
		"client id in another case":          {"aud": strings.ToUpper(testClientID)},
		"not a string":                       {"aud": 42},
	} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, a.signedLink(over), "invalid_link_token")
		})
	}
	t.Run("an allowed native application accepted", func(t *testing.T) {
		a.wantLinkAccepted(t, a.signedLink(map[string]any{"aud": nativeClient}))
	})
}

// §3.1.3.7 step 4: a token with several audiences must carry azp.
func TestLinkTokenRule_OIDC_3_1_3_7_4_SeveralAudiencesNeedAzp(t *testing.T) {
	a := startRuleApp(t, nil)
	both := []string{testClientID, nativeClient}
	a.wantLinkRefused(t, a.signedLink(map[string]any{"aud": both}), "invalid_link_token")
	t.Run("with azp accepted", func(t *testing.T) {
		a.wantLinkAccepted(t, a.signedLink(map[string]any{"aud": both, "azp": testClientID}))
	})
}

// §3.1.3.7 step 5: azp, when present, must be the client (for linkbff: an allowed
// client, and one of the audiences).
func TestLinkTokenRule_OIDC_3_1_3_7_5_AzpMustBeAnAllowedClient(t *testing.T) {
	a := startRuleApp(t, nil)
	for name, over := range map[string]map[string]any{
		"another application":      {"azp": "someone-elses-app"},
		"allowed but not audience": {"azp": nativeClient},
		"empty":                    {"azp": ""},
		"not a string":             {"azp": []string{testClientID}},
	} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, a.signedLink(over), "invalid_link_token")
		})
	}
	t.Run("azp equal to the audience accepted", func(t *testing.T) {
		a.wantLinkAccepted(t, a.signedLink(map[string]any{"azp": testClientID}))
	})
}

// §3.1.3.7 step 6: the signature must be validated (the token did not come from the
// token endpoint over TLS, so nothing else vouches for it), with the key the JWKS
// publishes under the token's kid.
func TestLinkTokenRule_OIDC_3_1_3_7_6_SignatureMustVerify(t *testing.T) {
	a := startRuleApp(t, nil)
	foreign := testkit.RSAKey(t)
	cases := map[string]func(nonce string) string{
		"another key under the tenant's kid": func(n string) string {
			return signRS256(t, foreign, a.header(nil), a.linkClaims(n, nil))
		},
		"an unknown kid": func(n string) string {
			return signRS256(t, foreign, a.header(map[string]any{"kid": "attacker"}), a.linkClaims(n, nil))
		},
		"no kid": func(n string) string {
			return a.sign("RS256", a.header(map[string]any{"kid": nil}), a.linkClaims(n, nil))
		},
		"claims changed after signing": func(n string) string {
			good := strings.Split(a.sign("RS256", a.header(nil), a.linkClaims(n, nil)), ".")
			return good[0] + "." + b64json(t, a.linkClaims(n, map[string]any{"sub": "google-oauth2|1077"})) + "." + good[2]
		},
		"header changed after signing": func(n string) string {
			good := strings.Split(a.sign("RS256", a.header(nil), a.linkClaims(n, nil)), ".")
			return b64json(t, a.header(map[string]any{"typ": "jwt"})) + "." + good[1] + "." + good[2]
		},
		"signature of another token": func(n string) string {
			other := strings.Split(a.sign("RS256", a.header(nil), a.linkClaims(n, map[string]any{"email": "x@example.com"})), ".")
			good := strings.Split(a.sign("RS256", a.header(nil), a.linkClaims(n, nil)), ".")
			return good[0] + "." + good[1] + "." + other[2]
		},
		"signature cut short": func(n string) string {
			tok := a.sign("RS256", a.header(nil), a.linkClaims(n, nil))
			return tok[:len(tok)-4]
		},
		"no signature": func(n string) string {
			tok := a.sign("RS256", a.header(nil), a.linkClaims(n, nil))
			return tok[:strings.LastIndexByte(tok, '.')+1]
		},
	}
	for name, mint := range cases {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, mint(a.nonce(a.alice)), "invalid_link_token")
		})
	}
}

// §3.1.3.7 step 7: the alg must be what the client registered (RS256 by default,
// and the only algorithm Auth0 signs link_with tokens with). Another algorithm is
// refused even with a valid signature by the tenant's own key, and an HMAC keyed
// with the tenant's public key (the algorithm-confusion attack) is refused.
func TestLinkTokenRule_OIDC_3_1_3_7_7_AlgMustBeRS256(t *testing.T) {
	a := startRuleApp(t, nil)
	cases := a.wrongAlgorithms(t)
	cases["none"] = func(claims map[string]any) string {
		return unsignedToken(t, a.header(map[string]any{"alg": "none"}), claims)
	}
	for name, sign := range cases {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, sign(a.linkClaims(a.nonce(a.alice), nil)), "invalid_link_token")
		})
	}
}

// §3.1.3.7 step 8: a MAC-signed ID token is checked with the client secret. linkbff
// accepts RS256 only, so a token signed with the BFF's own client secret (what
// Auth0 issues to an application set to HS256) is refused too.
func TestLinkTokenRule_OIDC_3_1_3_7_8_MACAlgorithmsRefused(t *testing.T) {
	a := startRuleApp(t, nil)
	secret := []byte(productionEnv(a.tenant)("AUTH0_CLIENT_SECRET"))
	for name, kid := range map[string]string{"with the tenant's kid": a.tenant.SigningKeyID(), "without kid": ""} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, testkit.SignJWT(t, jose.HS256, secret, kid, a.linkClaims(a.nonce(a.alice), nil)), "invalid_link_token")
		})
	}
}

// §3.1.3.7 step 9: the current time must be before exp (30 seconds of leeway).
func TestLinkTokenRule_OIDC_3_1_3_7_9_ExpiryMustBeInTheFuture(t *testing.T) {
	a := startRuleApp(t, nil)
	now := time.Now()
	for name, v := range map[string]any{
		"expired beyond the leeway": now.Add(-time.Minute).Unix(),
		"missing":                   nil,
		"not a number":              "tomorrow",
	} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, a.signedLink(map[string]any{"exp": v}), "invalid_link_token")
		})
	}
	t.Run("expired within the leeway accepted", func(t *testing.T) {
		// From an allowed native application, so linkbff links by provider|id: a
		// token of its own application goes to Auth0 as link_with, and Auth0 allows no
		// leeway on exp.
		a.wantLinkAccepted(t, a.signedLink(map[string]any{"aud": nativeClient, "exp": time.Now().Add(-10 * time.Second).Unix()}))
	})
}

// §3.1.3.7 step 10 (and §2: iat is required): iat must be present, not in the future
// beyond the leeway, and (linkbff's limit on "too far away from the current time")
// within LINK_MAX_AGE when auth_time is absent.
func TestLinkTokenRule_OIDC_3_1_3_7_10_IssuedAtMustBeRecent(t *testing.T) {
	a := startRuleApp(t, nil)
	now := time.Now()
	for name, tc := range map[string]struct {
		iat  any
		code string
	}{
		"missing":                         {nil, "invalid_link_token"},
		"not a number":                    {"now", "invalid_link_token"},
		"in the future beyond the leeway": {now.Add(time.Minute).Unix(), "invalid_link_token"},
		"older than LINK_MAX_AGE":         {now.Add(-6 * time.Minute).Unix(), "link_token_too_old"},
	} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, a.signedLink(map[string]any{"iat": tc.iat, "auth_time": nil}), tc.code)
		})
	}
	t.Run("in the future within the leeway accepted", func(t *testing.T) {
		a.wantLinkAccepted(t, a.signedLink(map[string]any{"iat": time.Now().Add(10 * time.Second).Unix(), "auth_time": nil}))
	})
}

// §3.1.3.7 step 11: the nonce must equal the one the client sent, to stop replays:
// an unexpired link intent that this caller asked for, consumed on first use.
func TestLinkTokenRule_OIDC_3_1_3_7_11_NonceMustBeAnUnusedIntentOfTheCaller(t *testing.T) {
	a := startRuleApp(t, nil)
	bobs := a.nonce(a.accessToken("auth0|bob"))
	used := a.nonce(a.alice)
	a.wantLinkAccepted(t, a.sign("RS256", a.header(nil), a.linkClaims(used, nil)))
	for name, nonce := range map[string]any{
		"missing":                   nil,
		"empty":                     "",
		"never issued":              "kQ7m3YbC1nH2r8Zs5TfW0A",
		"issued to someone else":    bobs,
		"already used":              used,
		"not a string":              42,
		"an intent in another case": strings.ToUpper(a.nonce(a.alice)),
	} {
		t.Run(name, func(t *testing.T) {
			code := "nonce_mismatch"
			if _, isString := nonce.(string); !isString && nonce != nil {
				code = "invalid_link_token" // not even a nonce claim
			}
			a.wantLinkRefused(t, a.sign("RS256", a.header(nil), a.linkClaims("", map[string]any{"nonce": nonce})), code)
		})
	}
	t.Run("expired", func(t *testing.T) {
		b := startRuleApp(t, map[string]string{"LINK_NONCE_TTL": "1ns"}) // expired before it is used
		b.wantLinkRefused(t, b.sign("RS256", b.header(nil), b.linkClaims(b.nonce(b.alice), nil)), "nonce_mismatch")
	})
	t.Run("someone else's intent is left for them", func(t *testing.T) {
		bob := a.accessToken("auth0|bob")
		claims := a.linkClaims(bobs, map[string]any{"sub": "google-oauth2|1077", "email": "alice@gmail.example"})
		r := a.do("POST", "/me/identities", bob, map[string]string{"link_with": a.sign("RS256", a.header(nil), claims)})
		if r.status != http.StatusCreated {
			t.Fatalf("bob's link with his own nonce after alice tried it: %d %s", r.status, r.body)
		}
	})
}

// §3.1.3.7 step 13: when auth_time is present, too much time since the
// authentication refuses the token (LINK_MAX_AGE, 5 minutes by default); an
// auth_time in the future is refused as a token no tenant issues.
func TestLinkTokenRule_OIDC_3_1_3_7_13_AuthTimeWithinLinkMaxAge(t *testing.T) {
	a := startRuleApp(t, nil)
	now := time.Now()
	for name, tc := range map[string]struct {
		authTime any
		code     string
	}{
		"older than LINK_MAX_AGE, iat fresh": {now.Add(-6 * time.Minute).Unix(), "link_token_too_old"},
		"in the future":                      {now.Add(5 * time.Minute).Unix(), "invalid_link_token"},
		"not a number":                       {"earlier", "invalid_link_token"},
	} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, a.signedLink(map[string]any{"auth_time": tc.authTime}), tc.code)
		})
	}
	t.Run("a minute ago accepted", func(t *testing.T) {
		a.wantLinkAccepted(t, a.signedLink(map[string]any{"auth_time": time.Now().Add(-time.Minute).Unix()}))
	})
}

// §2: sub is required, a string of at most 255 ASCII characters.
func TestLinkTokenRule_OIDC_2_SubRequiredAtMost255ASCII(t *testing.T) {
	a := startRuleApp(t, nil)
	for name, sub := range map[string]any{
		"missing":        nil,
		"empty":          "",
		"256 characters": "github|" + strings.Repeat("4", 249),
		"not ASCII":      "github|4242é",
		"not a string":   4242,
		"a control char": "github|42\t42",
		"a space":        "github|42 42",
		"a list of two":  []string{"github|4242", "auth0|alice"},
	} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, a.signedLink(map[string]any{"sub": sub}), "invalid_link_token")
		})
	}
}

// Auth0: sub is a user id, provider|id, with a provider of lower-case letters,
// digits and dashes and an id without path syntax. It is checked before it goes
// into any Management API URL or body.
func TestLinkTokenRule_Auth0_SubIsProviderPipeID(t *testing.T) {
	a := startRuleApp(t, nil)
	for _, sub := range []string{
		"4242", "github|", "|4242", "GitHub|4242", "git_hub|4242", "github|..", "github|42/../../auth0|bob",
		"github|42%2F42", "github|42?x", "github|42#x", `github|42\42`, strings.Repeat("a", 65) + "|4242",
	} {
		t.Run(sub, func(t *testing.T) {
			a.wantLinkRefused(t, a.signedLink(map[string]any{"sub": sub}), "invalid_link_token")
		})
	}
}

// Auth0 (linkbff's policy, LINK_REQUIRE_VERIFIED_EMAIL, on by default): the
// secondary account's email must be verified, as a JSON boolean true.
func TestLinkTokenRule_Auth0_EmailVerifiedRequired(t *testing.T) {
	a := startRuleApp(t, nil)
	for name, tc := range map[string]struct {
		verified any
		code     string
	}{
		"false":               {false, "email_not_verified"},
		"missing":             {nil, "email_not_verified"},
		"the string \"true\"": {"true", "invalid_link_token"},
		"the number 1":        {1, "invalid_link_token"},
	} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, a.signedLink(map[string]any{"email_verified": tc.verified}), tc.code)
		})
	}
	t.Run("a tenant login of an unverified account", func(t *testing.T) {
		a.wantLinkRefused(t, a.mintedIDToken("github|9001", a.nonce(a.alice)), "email_not_verified")
	})
}

// RFC 7515 §7.1 (and RFC 7519 §7.2): a token is a JWS in the compact serialization:
// three base64url segments. The JSON serialization, other segment counts and
// detached payloads are refused.
func TestLinkTokenRule_RFC7515_7_1_CompactSerializationOnly(t *testing.T) {
	a := startRuleApp(t, nil)
	for name, mint := range map[string]func(nonce string) string{
		"JSON serialization": func(n string) string {
			return respellings(t, a.sign("RS256", a.header(nil), a.linkClaims(n, nil)))["JSON serialization"]
		},
		"two segments": func(n string) string {
			p := strings.Split(a.sign("RS256", a.header(nil), a.linkClaims(n, nil)), ".")
			return p[0] + "." + p[1]
		},
		"four segments": func(n string) string { return a.sign("RS256", a.header(nil), a.linkClaims(n, nil)) + ".AAAA" },
		"detached payload": func(n string) string {
			p := strings.Split(a.sign("RS256", a.header(nil), a.linkClaims(n, nil)), ".")
			return p[0] + ".." + p[2]
		},
	} {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, mint(a.nonce(a.alice)), "invalid_link_token")
		})
	}
}

// RFC 7515 §2 (Base64url Encoding: no padding, no line breaks, no other characters):
// each segment has one spelling, so a signed token has exactly one text. Other
// spellings that lenient decoders accept are refused.
func TestLinkTokenRule_RFC7515_2_CanonicalBase64url(t *testing.T) {
	a := startRuleApp(t, nil)
	nonce := a.nonce(a.alice)
	tok := a.sign("RS256", a.header(nil), a.linkClaims(nonce, nil))
	for name, alt := range respellings(t, tok) {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, alt, "invalid_link_token")
		})
	}
	t.Run("the canonical spelling accepted", func(t *testing.T) {
		a.wantLinkAccepted(t, tok)
	})
}

// RFC 7515 §4.1.11: a crit header lists extensions the recipient must understand;
// linkbff understands none.
func TestLinkTokenRule_RFC7515_4_1_11_CritRefused(t *testing.T) {
	a := startRuleApp(t, nil)
	for name, over := range critHeaders() {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, a.sign("RS256", a.header(over), a.linkClaims(a.nonce(a.alice), nil)), "invalid_link_token")
		})
	}
}

// RFC 7519 §4 (and RFC 7515 §4): member names must be unique. linkbff refuses a
// header or claims set that repeats one, rather than guess which one every parser
// on the way reads.
func TestLinkTokenRule_RFC7519_4_DuplicateMembersRefused(t *testing.T) {
	a := startRuleApp(t, nil)
	t.Run("claims", func(t *testing.T) {
		claims := string(mustJSON(t, a.linkClaims(a.nonce(a.alice), nil)))
		dup := strings.TrimSuffix(claims, "}") + `,"sub":"google-oauth2|1077"}`
		a.wantLinkRefused(t, a.signBytes("RS256", mustJSON(t, a.header(nil)), []byte(dup)), "invalid_link_token")
	})
	t.Run("header", func(t *testing.T) {
		h := string(mustJSON(t, a.header(nil)))
		dup := strings.TrimSuffix(h, "}") + `,"kid":"` + a.tenant.SigningKeyID() + `"}`
		a.wantLinkRefused(t, a.signBytes("RS256", []byte(dup), mustJSON(t, a.linkClaims(a.nonce(a.alice), nil))), "invalid_link_token")
	})
}

// RFC 7519 §4.1.5: a token must not be accepted before nbf (with the leeway).
func TestLinkTokenRule_RFC7519_4_1_5_NotBeforeHonoured(t *testing.T) {
	a := startRuleApp(t, nil)
	a.wantLinkRefused(t, a.signedLink(map[string]any{"nbf": time.Now().Add(time.Minute).Unix()}), "invalid_link_token")
	t.Run("nbf reached accepted", func(t *testing.T) {
		a.wantLinkAccepted(t, a.signedLink(map[string]any{"nbf": time.Now().Add(-time.Second).Unix()}))
	})
}

// RFC 8725 §3.1: the algorithm must be bound to the key. The key of the token's kid
// verifies it only when the JWKS publishes it for RS256 signatures: an RSA key of at
// least 2048 bits (RFC 7518 §3.3), use "sig" (or none), alg "RS256" (or none), the
// only key with that kid. A key published otherwise verifies nothing, though the
// tenant published it.
func TestLinkTokenRule_RFC8725_3_1_KeyMustBeBoundToRS256(t *testing.T) {
	a := startRuleApp(t, nil)
	good, bad := a.publishKeyBindings(t)
	claims := func() map[string]any {
		return a.linkClaims(a.nonce(a.alice), map[string]any{"aud": nativeClient}) // linked by provider|id
	}
	t.Run("a key published for RS256 accepted", func(t *testing.T) {
		a.wantLinkAccepted(t, good(claims()))
	})
	for name, sign := range bad {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, sign(claims()), "invalid_link_token")
		})
	}
}

// RFC 8725 §3.7: header and claims must be UTF-8.
func TestLinkTokenRule_RFC8725_3_7_UTF8(t *testing.T) {
	a := startRuleApp(t, nil)
	t.Run("claims", func(t *testing.T) {
		claims := strings.Replace(string(mustJSON(t, a.linkClaims(a.nonce(a.alice), nil))), `"email":"alice`, "\"email\":\"\xffalice", 1)
		a.wantLinkRefused(t, a.signBytes("RS256", mustJSON(t, a.header(nil)), []byte(claims)), "invalid_link_token")
	})
	t.Run("header", func(t *testing.T) {
		h := strings.Replace(string(mustJSON(t, a.header(nil))), `"typ":"JWT"`, "\"typ\":\"JWT\",\"x\":\"\xc3\x28\"", 1)
		a.wantLinkRefused(t, a.signBytes("RS256", []byte(h), mustJSON(t, a.linkClaims(a.nonce(a.alice), nil))), "invalid_link_token")
	})
}

// RFC 8725 §3.10: do not trust what a token says about its own key. Keys come from
// the tenant's JWKS by kid only: a header that carries a key, a certificate, or a
// URL to fetch one from is refused.
func TestLinkTokenRule_RFC8725_3_10_KeysOnlyFromTheJWKS(t *testing.T) {
	a := startRuleApp(t, nil)
	attacker := testkit.RSAKey(t)
	for name, over := range keyCarryingHeaders(t, attacker) {
		t.Run(name, func(t *testing.T) {
			a.wantLinkRefused(t, signRS256(t, attacker, a.header(over), a.linkClaims(a.nonce(a.alice), nil)), "invalid_link_token")
		})
	}
}

// RFC 8725 §3.11: explicit typing. An ID token is typed "JWT" (or untyped); a token
// typed as an access token (RFC 9068's at+jwt) or anything else is not one.
func TestLinkTokenRule_RFC8725_3_11_TypMustBeJWT(t *testing.T) {
	a := startRuleApp(t, nil)
	for _, typ := range []any{"at+jwt", "application/at+jwt", "secevent+jwt", "logout+jwt", "JOSE", "", 1} {
		t.Run(fmt.Sprintf("%q", typ), func(t *testing.T) {
			a.wantLinkRefused(t, a.sign("RS256", a.header(map[string]any{"typ": typ}), a.linkClaims(a.nonce(a.alice), nil)), "invalid_link_token")
		})
	}
	for _, typ := range []any{nil, "jwt", "application/jwt"} {
		t.Run(fmt.Sprintf("accepted %v", typ), func(t *testing.T) {
			a.wantLinkAccepted(t, a.sign("RS256", a.header(map[string]any{"typ": typ}), a.linkClaims(a.nonce(a.alice), nil)))
		})
	}
}

// RFC 8725 §3.12: tokens of different kinds must not be accepted for one another. An
// access token, even the caller's own valid one, is not a link token.
func TestLinkTokenRule_RFC8725_3_12_AccessTokenIsNotALinkToken(t *testing.T) {
	a := startRuleApp(t, nil)
	t.Run("the caller's access token", func(t *testing.T) {
		a.wantLinkRefused(t, a.alice, "invalid_link_token")
	})
	t.Run("an access token of the secondary with the nonce", func(t *testing.T) {
		claims := a.accessClaims(map[string]any{"sub": "github|4242", "nonce": a.nonce(a.alice)})
		a.wantLinkRefused(t, a.sign("RS256", a.header(map[string]any{"typ": "at+jwt"}), claims), "invalid_link_token")
	})
	t.Run("an access token for the application's client id", func(t *testing.T) {
		// Typed at+jwt (RFC 9068), even with every ID token claim right.
		claims := a.linkClaims(a.nonce(a.alice), map[string]any{"client_id": testClientID, "scope": testScope})
		a.wantLinkRefused(t, a.sign("RS256", a.header(map[string]any{"typ": "at+jwt"}), claims), "invalid_link_token")
	})
}
