package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/linkbff/linkbff/internal/strictjson"
)

// The checks in this file run on a token's text before anything else (the token
// cache, the key lookup, the JOSE library), for both kinds of token linkbff accepts.
//
// A token is a JWS in the compact serialization only (RFC 7515 §7.1): three
// base64url segments, each in its one canonical spelling (no padding, no other
// alphabet, no non-zero trailing bits, no line breaks), so that one signed token has
// exactly one text. The libraries below are laxer (go-jose v2, under
// go-jwt-middleware, also takes the JSON serialization, strips whitespace and decodes
// non-canonical base64), which would let one token be sent in many spellings, each a
// different entry of the validated-token cache.
//
// Its header must say RS256 with a kid (the JWKS key is chosen by kid alone; RFC
// 8725 §3.1), carry no "crit" (RFC 7515 §4.1.11: linkbff understands no extension),
// no key or key location of its own ("jwk", "jku", "x5c", "x5u": RFC 8725 §3.10, keys
// come from the tenant's JWKS only), no content type (no nested JWTs), no JWE or
// unencoded-payload parameters, and a "typ", if any, of the kind expected (RFC 8725
// §3.11). Header and claims must be UTF-8 (RFC 8725 §3.7) JSON objects without
// duplicate member names at any depth (strictjson), so that no two parsers can read
// one token differently.

// jwsHeader is what linkbff reads from a checked header.
type jwsHeader struct {
	Kid string
	Typ string // "" when absent
}

// tokenKind is what a token is presented as; each accepts its own typ values.
type tokenKind struct {
	name string
	// types are the accepted typ values, compared case-insensitively after an
	// optional "application/" prefix (RFC 7515 §4.1.9). A token without typ is
	// accepted as either kind: Auth0's tokens carry one, but neither RFC 7519 nor
	// OpenID Connect requires it.
	types   []string
	maxSize int
}

var (
	// accessTokenKind: RFC 9068 §2.1 types access tokens "at+jwt"; Auth0's default
	// token profile says "JWT" (its RFC 9068 profile says "at+jwt"). Both are
	// accepted, and so is a token without typ; an ID token is told apart by its
	// audience (a client id, never this API's identifier: see config.Validate).
	accessTokenKind = tokenKind{name: "access token", types: []string{"jwt", "at+jwt"}, maxSize: 32 << 10}
	// idTokenKind: an ID token is typed "JWT" (OpenID Connect Core §2 does not
	// require typ; Auth0 sends "JWT"). An access token typed "at+jwt" is not one.
	idTokenKind = tokenKind{name: "ID token", types: []string{"jwt"}, maxSize: 16 << 10}
)

// refusedHeaders are header parameters no token linkbff accepts may carry, with why.
var refusedHeaders = map[string]string{
	"crit": "a critical extension (crit), which linkbff does not understand",
	"jwk":  "its own key (jwk); keys come from the tenant's JWKS only",
	"jku":  "a key URL (jku); keys come from the tenant's JWKS only",
	"x5c":  "its own certificate chain (x5c); keys come from the tenant's JWKS only",
	"x5u":  "a certificate URL (x5u); keys come from the tenant's JWKS only",
	"cty":  "a content type (cty): nested tokens are not accepted",
	"enc":  "an encryption parameter (enc): encrypted tokens are not accepted",
	"zip":  "a compression parameter (zip): encrypted tokens are not accepted",
	"b64":  "the unencoded-payload option (b64)",
}

// checkCompact checks the text of a token presented as kind and returns its header.
// Its errors say what is wrong without quoting the token.
func checkCompact(token string, kind tokenKind) (jwsHeader, error) {
	if len(token) > kind.maxSize {
		return jwsHeader{}, fmt.Errorf("%s larger than %d bytes", kind.name, kind.maxSize)
	}
	segments := strings.Split(token, ".")
	switch n := len(segments); {
	case n == 5:
		return jwsHeader{}, errors.New("an encrypted token (JWE) is not accepted: only a signed one (JWS)")
	case n != 3:
		return jwsHeader{}, fmt.Errorf("not a compact JWS: %d segments, want 3", n)
	}
	var parts [3][]byte
	for i, seg := range segments {
		b, err := decodeSegment(seg)
		if err != nil {
			return jwsHeader{}, fmt.Errorf("segment %d: %w", i+1, err)
		}
		parts[i] = b
	}
	raw, err := jsonObject(parts[0])
	if err != nil {
		return jwsHeader{}, fmt.Errorf("header: %w", err)
	}
	if err := checkObject(parts[1]); err != nil {
		return jwsHeader{}, fmt.Errorf("claims: %w", err)
	}
	for name, why := range refusedHeaders {
		if _, ok := raw[name]; ok {
			return jwsHeader{}, fmt.Errorf("the header carries %s", why)
		}
	}
	var h struct {
		Alg *string `json:"alg"`
		Kid *string `json:"kid"`
		Typ *string `json:"typ"`
	}
	if err := json.Unmarshal(parts[0], &h); err != nil {
		return jwsHeader{}, fmt.Errorf("header: %w", err)
	}
	switch {
	case h.Alg == nil:
		return jwsHeader{}, errors.New("the header has no alg")
	case *h.Alg != "RS256":
		// RS256 only: no "none", no HMAC (which a public key would key: RFC 8725
		// §2.1), no other RSA or EC algorithm, whatever the key says.
		return jwsHeader{}, fmt.Errorf("alg %q is not RS256", truncate(*h.Alg))
	case h.Kid == nil || *h.Kid == "":
		return jwsHeader{}, errors.New("the header has no kid")
	}
	out := jwsHeader{Kid: *h.Kid}
	if h.Typ != nil {
		out.Typ = *h.Typ
		if !kind.accepts(*h.Typ) {
			return jwsHeader{}, fmt.Errorf("typ %q is not that of an %s", truncate(*h.Typ), kind.name)
		}
	}
	if len(parts[2]) == 0 {
		return jwsHeader{}, errors.New("no signature")
	}
	return out, nil
}

// accepts reports whether typ, present in a header, is one of k's types.
func (k tokenKind) accepts(typ string) bool {
	return slices.Contains(k.types, strings.TrimPrefix(strings.ToLower(typ), "application/"))
}

// decodeSegment decodes one base64url segment that must be in its canonical
// spelling: the URL-safe alphabet only (no padding, no line breaks, which Go's
// decoder would skip), and zero trailing bits (Strict).
func decodeSegment(seg string) ([]byte, error) {
	if seg == "" {
		return nil, errors.New("empty")
	}
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, errors.New("not unpadded base64url")
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return nil, errors.New("not canonical base64url")
	}
	return b, nil
}

// jsonObject checks that b is one JSON object of I-JSON (strictjson: UTF-8, no
// member name twice at any depth) and returns its members.
func jsonObject(b []byte) (map[string]json.RawMessage, error) {
	if err := strictjson.Check(b); err != nil {
		return nil, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil || members == nil {
		return nil, errors.New("not a JSON object")
	}
	return members, nil
}

// checkObject is jsonObject's check alone, for a text whose members the caller does
// not need (the claims: the validator decodes them): a valid I-JSON value that
// starts with "{" is an object, without a map of its members.
func checkObject(b []byte) error {
	if err := strictjson.Check(b); err != nil {
		return err
	}
	if b = bytes.TrimLeft(b, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	return nil
}

// truncate shortens what a token says before it goes into an error (and a log).
func truncate(s string) string {
	const max = 32
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
