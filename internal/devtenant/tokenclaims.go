package devtenant

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Token lifetimes, as Auth0's defaults.
const (
	idTokenTTL     = 10 * time.Hour
	accessTokenTTL = 24 * time.Hour
)

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

// idTokenClaimsLocked builds the claims of an ID token for user u issued to clientID.
func (t *Tenant) idTokenClaimsLocked(u *userRecord, clientID, nonce, sid string, authTime, iat time.Time, scope string) map[string]any {
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
// for an empty scope), plus sub. ID tokens and /userinfo share them. Like every
// record, u is read with t.mu held.
func profileClaims(u *userRecord, scope string) map[string]any {
	c := map[string]any{"sub": u.UserID}
	scopes := strings.Fields(scope)
	if slices.Contains(scopes, "profile") || scope == "" {
		profile := u.profile()
		for _, k := range []string{"name", "nickname", "picture"} {
			if v, ok := profile[k]; ok {
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
		aud = []string{audience, t.userinfoAudience()}
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
