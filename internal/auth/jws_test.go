package auth

import (
	"encoding/base64"
	"strings"
	"testing"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestCheckCompact(t *testing.T) {
	const (
		hdr    = `{"alg":"RS256","kid":"k1","typ":"JWT"}`
		claims = `{"sub":"auth0|alice"}`
	)
	sig := b64("sixty-four bytes of a signature, more or less; it is not checked here")
	tok := func(h string) string { return b64(h) + "." + b64(claims) + "." + sig }
	tests := []struct {
		name, token string
		kind        tokenKind
		ok          bool
	}{
		{"canonical", tok(hdr), accessTokenKind, true},
		{"no typ", tok(`{"alg":"RS256","kid":"k1"}`), accessTokenKind, true},
		{"typ at+jwt as access token", tok(`{"alg":"RS256","kid":"k1","typ":"at+jwt"}`), accessTokenKind, true},
		{"typ application/at+jwt as access token", tok(`{"alg":"RS256","kid":"k1","typ":"application/at+jwt"}`), accessTokenKind, true},
		{"typ jwt in lower case", tok(`{"alg":"RS256","kid":"k1","typ":"jwt"}`), idTokenKind, true},
		{"typ at+jwt as ID token", tok(`{"alg":"RS256","kid":"k1","typ":"at+jwt"}`), idTokenKind, false},
		{"typ of another kind", tok(`{"alg":"RS256","kid":"k1","typ":"logout+jwt"}`), accessTokenKind, false},
		{"empty typ", tok(`{"alg":"RS256","kid":"k1","typ":""}`), accessTokenKind, false},
		{"typ not a string", tok(`{"alg":"RS256","kid":"k1","typ":1}`), accessTokenKind, false},
		{"alg none", tok(`{"alg":"none","kid":"k1"}`), accessTokenKind, false},
		{"alg HS256", tok(`{"alg":"HS256","kid":"k1"}`), accessTokenKind, false},
		{"alg rs256", tok(`{"alg":"rs256","kid":"k1"}`), accessTokenKind, false},
		{"no alg", tok(`{"kid":"k1"}`), accessTokenKind, false},
		{"no kid", tok(`{"alg":"RS256"}`), accessTokenKind, false},
		{"empty kid", tok(`{"alg":"RS256","kid":""}`), accessTokenKind, false},
		{"crit", tok(`{"alg":"RS256","kid":"k1","crit":["exp"],"exp":1}`), accessTokenKind, false},
		{"embedded jwk", tok(`{"alg":"RS256","kid":"k1","jwk":{"kty":"RSA"}}`), accessTokenKind, false},
		{"jku", tok(`{"alg":"RS256","kid":"k1","jku":"https://evil.example/jwks"}`), accessTokenKind, false},
		{"x5u", tok(`{"alg":"RS256","kid":"k1","x5u":"https://evil.example/cert"}`), accessTokenKind, false},
		{"x5c", tok(`{"alg":"RS256","kid":"k1","x5c":["MII"]}`), accessTokenKind, false},
		{"cty", tok(`{"alg":"RS256","kid":"k1","cty":"JWT"}`), accessTokenKind, false},
		{"b64", tok(`{"alg":"RS256","kid":"k1","b64":false}`), accessTokenKind, false},
		{"duplicate header member", tok(`{"alg":"RS256","kid":"k1","alg":"RS256"}`), accessTokenKind, false},
		{"duplicate claim", b64(hdr) + "." + b64(`{"sub":"auth0|alice","sub":"auth0|bob"}`) + "." + sig, accessTokenKind, false},
		{"duplicate nested claim", b64(hdr) + "." + b64(`{"sub":"auth0|alice","address":{"country":"FR","country":"DE"}}`) + "." + sig, accessTokenKind, false},
		{"duplicate member in a header value", tok(`{"alg":"RS256","kid":"k1","x":{"a":1,"a":2}}`), accessTokenKind, false},
		{"duplicate claim, escaped", b64(hdr) + "." + b64(`{"sub":"auth0|alice","s\u0075b":"auth0|bob"}`) + "." + sig, accessTokenKind, false},
		{"one name in two objects", b64(hdr) + "." + b64(`{"sub":"auth0|alice","a":{"sub":1},"b":[{"sub":2}]}`) + "." + sig, accessTokenKind, true},
		{"claims with a lone surrogate", b64(hdr) + "." + b64(`{"sub":"auth0|\ud800"}`) + "." + sig, accessTokenKind, false},
		{"header not UTF-8", tok("{\"alg\":\"RS256\",\"kid\":\"k\xff\"}"), accessTokenKind, false},
		{"claims not UTF-8", b64(hdr) + "." + b64("{\"sub\":\"auth0|\xff\"}") + "." + sig, accessTokenKind, false},
		{"claims an array", b64(hdr) + "." + b64(`["sub"]`) + "." + sig, accessTokenKind, false},
		{"claims with trailing data", b64(hdr) + "." + b64(`{"sub":"x"} {}`) + "." + sig, accessTokenKind, false},
		{"header not JSON", b64("alg=RS256") + "." + b64(claims) + "." + sig, accessTokenKind, false},
		{"two segments", b64(hdr) + "." + b64(claims), accessTokenKind, false},
		{"four segments", tok(hdr) + "." + sig, accessTokenKind, false},
		{"five segments (JWE)", "a.b.c.d.e", accessTokenKind, false},
		{"empty signature", b64(hdr) + "." + b64(claims) + ".", accessTokenKind, false},
		{"empty payload", b64(hdr) + ".." + sig, accessTokenKind, false},
		{"padded", b64(hdr) + "=." + b64(claims) + "." + sig, accessTokenKind, false},
		{"standard alphabet", strings.ReplaceAll(strings.ReplaceAll(tok(hdr), "-", "+"), "_", "/") + "+/", accessTokenKind, false},
		{"line break", b64(hdr)[:10] + "\n" + b64(hdr)[10:] + "." + b64(claims) + "." + sig, accessTokenKind, false},
		{"space", " " + tok(hdr), accessTokenKind, false},
		{"JSON serialization", `{"payload":"` + b64(claims) + `","protected":"` + b64(hdr) + `","signature":"` + sig + `"}`, accessTokenKind, false},
		{"too large", tok(hdr) + strings.Repeat("A", 32<<10), accessTokenKind, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := checkCompact(tt.token, tt.kind)
			if (err == nil) != tt.ok {
				t.Fatalf("checkCompact = %+v, %v; want ok=%v", h, err, tt.ok)
			}
			if tt.ok && h.Kid != "k1" {
				t.Errorf("kid %q, want k1", h.Kid)
			}
		})
	}
}

// A segment has one spelling: non-zero trailing bits, which Go's lenient decoder
// ignores, are refused.
func TestCheckCompactRefusesNonCanonicalTrailingBits(t *testing.T) {
	claims := b64(`{"sub":"auth0|alice1"}`) // 22 bytes: 30 characters, the last carrying 4 spare bits
	if len(claims)%4 == 0 {
		t.Fatalf("test claims encode to a multiple of 4 characters; pick others")
	}
	tok := b64(`{"alg":"RS256","kid":"k1"}`) + "." + claims + "." + b64("signature")
	if _, err := checkCompact(tok, accessTokenKind); err != nil {
		t.Fatalf("canonical token refused: %v", err)
	}
	last := claims[len(claims)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	variants := 0
	for j := range alphabet {
		if j == i || j>>2 != i>>2 && len(claims)%4 == 3 || j>>4 != i>>4 && len(claims)%4 == 2 {
			continue // the same character, or one that changes the decoded bytes
		}
		alt := tok[:len(b64(`{"alg":"RS256","kid":"k1"}`))+1] + claims[:len(claims)-1] + string(alphabet[j]) + "." + b64("signature")
		variants++
		if _, err := checkCompact(alt, accessTokenKind); err == nil {
			t.Errorf("spelling with last character %q accepted", alphabet[j])
		}
	}
	if variants == 0 {
		t.Fatal("no other spelling tried")
	}
}
