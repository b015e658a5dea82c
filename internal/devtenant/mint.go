package devtenant

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Token lifetimes, as Auth0's defaults.
const (
	idTokenTTL     = 10 * time.Hour
	accessTokenTTL = 24 * time.Hour
)

// authCode is an issued authorization code (single use).
type authCode struct {
	ClientID            string
	RedirectURI         string
	UserID              string // primary user id
	Scope               string
	Audience            string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	AuthTime            time.Time
	SID                 string
	Expires             time.Time
	Used                bool
}

// refreshGrant is an issued refresh token.
type refreshGrant struct {
	ClientID string
	UserID   string
	Scope    string
	Audience string
	SID      string
	AuthTime time.Time // of the login the grant came from, for refreshed ID tokens
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signClaims signs claims with the current key as an RS256 JWT.
func (t *Tenant) signClaims(claims map[string]any) (string, error) {
	b, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return t.keys.sign(b)
}

// atHash is the OIDC at_hash of an access token signed with RS256.
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// idTokenClaims builds the claims of an ID token for user u issued to clientID.
// Callers hold t.mu.
func (t *Tenant) idTokenClaims(u *userRecord, clientID, nonce, sid string, authTime, iat time.Time, scope string) map[string]any {
	c := profileClaims(u, scope)
	c["iss"] = t.issuer
	c["aud"] = clientID
	c["iat"] = iat.Unix()
	c["exp"] = iat.Add(idTokenTTL).Unix()
	c["auth_time"] = authTime.Unix()
	if sid != "" {
		c["sid"] = sid
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	return c
}

// profileClaims are the OIDC standard claims of u that scope asks for (all of them
// for an empty scope), plus sub. ID tokens and /userinfo share them.
func profileClaims(u *userRecord, scope string) map[string]any {
	c := map[string]any{"sub": u.UserID}
	scopes := strings.Fields(scope)
	if slices.Contains(scopes, "profile") || scope == "" {
		for _, k := range []string{"name", "nickname", "picture"} {
			if v, ok := u.profile()[k]; ok {
				c[k] = v
			}
		}
		c["updated_at"] = u.UpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	if slices.Contains(scopes, "email") || scope == "" {
		if u.Email != "" {
			c["email"] = u.Email
		}
		c["email_verified"] = u.EmailVerified
	}
	return c
}

// accessTokenClaims builds an access token for a user (sub = user id) or, with
// gty "client-credentials", for a client (sub = "{client_id}@clients").
func (t *Tenant) accessTokenClaims(sub, clientID, audience, scope string, iat time.Time, gty string) map[string]any {
	var aud any = audience
	// A user token asking for openid may also call /userinfo, as Auth0's do; a token
	// issued for /userinfo itself names it once.
	if gty != "client-credentials" && audience != t.userinfoAudience() && strings.Contains(" "+scope+" ", " openid ") {
		aud = []string{audience, t.issuer + "userinfo"}
	}
	c := map[string]any{
		"iss":   t.issuer,
		"sub":   sub,
		"aud":   aud,
		"azp":   clientID,
		"iat":   iat.Unix(),
		"exp":   iat.Add(accessTokenTTL).Unix(),
		"scope": scope,
	}
	if gty != "" {
		c["gty"] = gty
	}
	return c
}

// MintRequest asks the tenant for tokens of a seeded user, as if the user had just
// logged in to ClientID. It is a test knob (also at POST /__dev/tokens).
type MintRequest struct {
	// UserID is any identity of the user ("github|4242"). As in Auth0, logging in with a
	// linked identity yields the primary user's sub.
	UserID   string `json:"user_id"`
	ClientID string `json:"client_id"`
	// Audience, when set, also yields an access token for that API (a seeded API
	// identifier or the Management API audience).
	Audience string `json:"audience,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	// Scope defaults to "openid profile email".
	Scope string `json:"scope,omitempty"`
	// IssuedAt backdates the tokens (iat, auth_time); zero means now.
	IssuedAt time.Time `json:"issued_at,omitzero"`
	// TTL overrides the lifetime (exp - iat) of both tokens; may be negative for an
	// already expired token.
	TTL Duration `json:"ttl,omitempty"`
	// IDTokenClaims and AccessTokenClaims override or add claims (a nil value removes
	// the claim), for tests of what a verifier must reject.
	IDTokenClaims     map[string]any `json:"id_token_claims,omitempty"`
	AccessTokenClaims map[string]any `json:"access_token_claims,omitempty"`
}

// Tokens are minted tokens. AccessToken is empty when no audience was asked for.
type Tokens struct {
	IDToken     string `json:"id_token"`
	AccessToken string `json:"access_token,omitempty"`
	ExpiresIn   int    `json:"expires_in"`
}

// ErrUnknown is returned by the Go API for an unknown user or client.
var ErrUnknown = errors.New("devtenant: unknown user or client")

// Mint issues tokens for a seeded user without a browser login.
func (t *Tenant) Mint(req MintRequest) (Tokens, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.primaryFor(req.UserID)
	if u == nil {
		return Tokens{}, fmt.Errorf("%w: user %q", ErrUnknown, req.UserID)
	}
	if _, ok := t.clients[req.ClientID]; !ok {
		return Tokens{}, fmt.Errorf("%w: client %q", ErrUnknown, req.ClientID)
	}
	if req.Audience != "" && req.Audience != t.ManagementAudience() {
		if _, ok := t.apis[req.Audience]; !ok {
			return Tokens{}, fmt.Errorf("%w: audience %q", ErrUnknown, req.Audience)
		}
	}
	scope := req.Scope
	if scope == "" {
		scope = "openid profile email"
	}
	iat := req.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	var out Tokens
	ttl := time.Duration(req.TTL)
	if req.Audience != "" {
		c := t.accessTokenClaims(u.UserID, req.ClientID, req.Audience, scope, iat, "")
		if ttl != 0 {
			c["exp"] = iat.Add(ttl).Unix()
		}
		applyOverrides(c, req.AccessTokenClaims)
		at, err := t.signClaims(c)
		if err != nil {
			return Tokens{}, err
		}
		out.AccessToken = at
	}
	c := t.idTokenClaims(u, req.ClientID, req.Nonce, "", iat, iat, scope)
	if ttl != 0 {
		c["exp"] = iat.Add(ttl).Unix()
	}
	if out.AccessToken != "" {
		c["at_hash"] = atHash(out.AccessToken)
	}
	applyOverrides(c, req.IDTokenClaims)
	id, err := t.signClaims(c)
	if err != nil {
		return Tokens{}, err
	}
	out.IDToken = id
	out.ExpiresIn = int(accessTokenTTL / time.Second)
	if ttl != 0 {
		out.ExpiresIn = int(ttl / time.Second)
	}
	return out, nil
}

// SignClaims signs arbitrary claims with the tenant's current key (a test knob for
// tokens with unusual shapes).
func (t *Tenant) SignClaims(claims map[string]any) (string, error) {
	return t.signClaims(maps.Clone(claims))
}

func applyOverrides(c, overrides map[string]any) {
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
}
