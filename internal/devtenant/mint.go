package devtenant

import (
	"errors"
	"fmt"
	"maps"
	"time"
)

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
	u := t.primaryForLocked(req.UserID)
	if u == nil {
		return Tokens{}, fmt.Errorf("%w: user %q", ErrUnknown, req.UserID)
	}
	if _, ok := t.clients[req.ClientID]; !ok {
		return Tokens{}, fmt.Errorf("%w: client %q", ErrUnknown, req.ClientID)
	}
	if req.Audience != "" && !t.knownAudienceLocked(req.Audience) {
		return Tokens{}, fmt.Errorf("%w: audience %q", ErrUnknown, req.Audience)
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
		mergeMembers(c, req.AccessTokenClaims)
		at, err := t.signClaims(c)
		if err != nil {
			return Tokens{}, err
		}
		out.AccessToken = at
	}
	c := t.idTokenClaimsLocked(u, req.ClientID, req.Nonce, "", iat, iat, scope)
	if ttl != 0 {
		c["exp"] = iat.Add(ttl).Unix()
	}
	if out.AccessToken != "" {
		c["at_hash"] = atHash(out.AccessToken)
	}
	mergeMembers(c, req.IDTokenClaims)
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

// ManagementToken mints a Management API access token as the client credentials
// grant would for clientID: sub "{client_id}@clients", azp clientID, gty
// "client-credentials", the given scope and lifetime (24h when ttl is 0; negative for
// an already expired token). It is a test knob: it does not check the client's grants.
func (t *Tenant) ManagementToken(clientID, scope string, ttl time.Duration) (string, error) {
	t.mu.Lock()
	_, ok := t.clients[clientID]
	t.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("%w: client %q", ErrUnknown, clientID)
	}
	now := time.Now()
	c := t.accessTokenClaims(clientID+"@clients", clientID, t.ManagementAudience(), scope, now, "client-credentials")
	if ttl != 0 {
		c["exp"] = now.Add(ttl).Unix()
	}
	return t.signClaims(c)
}
