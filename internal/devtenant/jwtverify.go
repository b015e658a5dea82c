package devtenant

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// jwtProblem says why a JWT was rejected, so that each caller can answer with the
// message Auth0 uses in its own context (a Management API bearer token, or the
// link_with ID token of the account linking endpoint).
type jwtProblem int

const (
	jwtOK        jwtProblem = iota
	jwtMalformed            // not a compact JWS with a JSON header and payload
	jwtBadAlg               // alg is not RS256 (HS256, none, ...)
	jwtBadSig               // no published key with that kid, or the signature does not verify
	jwtBadClaims            // the payload is not a JSON object
	jwtExpired              // exp missing, not a number, or in the past
	jwtBadIssuer            // iss is not this tenant's issuer
)

// jwtClaims is a verified JWT payload.
type jwtClaims map[string]any

// str returns a string claim ("" when absent or not a string).
func (c jwtClaims) str(name string) string {
	s, _ := c[name].(string)
	return s
}

// audiences returns the aud claim as a list; ok is false when aud is present but is
// neither a string nor an array of strings.
func (c jwtClaims) audiences() (auds []string, ok bool) {
	switch a := c["aud"].(type) {
	case nil:
		return nil, true
	case string:
		return []string{a}, true
	case []any:
		for _, v := range a {
			s, isStr := v.(string)
			if !isStr {
				return nil, false
			}
			auds = append(auds, s)
		}
		return auds, true
	}
	return nil, false
}

// hasAudience reports whether aud (string or array) names audience.
func (c jwtClaims) hasAudience(audience string) bool {
	auds, _ := c.audiences()
	for _, a := range auds {
		if a == audience {
			return true
		}
	}
	return false
}

// jwtAlg reads the alg of a compact JWS header without verifying anything, because
// Auth0 reports a wrong alg with its own message before looking at the signature.
func jwtAlg(token string) (alg string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", false
	}
	return h.Alg, true
}

// verifyJWT checks that token is an RS256 JWT signed by a key the tenant publishes in
// its JWKS (so rotated-out keys stop verifying once revoked), that it has not expired
// and that this tenant issued it. Audience checks are left to the caller.
func (t *Tenant) verifyJWT(token string, now time.Time) (jwtClaims, jwtProblem) {
	alg, ok := jwtAlg(token)
	if !ok {
		return nil, jwtMalformed
	}
	if alg != string(jose.RS256) {
		return nil, jwtBadAlg
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, jwtMalformed
	}
	payload, ok := t.verifyWithPublishedKeys(jws)
	if !ok {
		return nil, jwtBadSig
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, jwtBadClaims
	}
	if exp, ok := numericClaim(claims["exp"]); !ok || now.Unix() >= exp {
		return nil, jwtExpired
	}
	if claims.str("iss") != t.issuer {
		return claims, jwtBadIssuer
	}
	return claims, jwtOK
}

// verifyWithPublishedKeys verifies jws with the key its kid names, or, without a kid,
// with any published key.
func (t *Tenant) verifyWithPublishedKeys(jws *jose.JSONWebSignature) ([]byte, bool) {
	set := t.keys.jwks()
	keys := set.Keys
	if kid := jws.Signatures[0].Header.KeyID; kid != "" {
		keys = set.Key(kid)
	}
	for _, k := range keys {
		if payload, err := jws.Verify(k.Key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

func decodeClaims(payload []byte) (jwtClaims, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var c jwtClaims
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("claims are not an object")
	}
	return c, nil
}

// numericClaim reads a NumericDate (seconds, possibly fractional).
func numericClaim(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil {
		return 0, false
	}
	return int64(f), true
}
