package devtenant

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// userinfoAudience is the audience of access tokens issued for /userinfo alone (and
// the second audience of user tokens that ask for openid).
func (t *Tenant) userinfoAudience() string { return t.issuer + "userinfo" }

// handleUserinfo returns the profile of the user an access token was issued for.
func (t *Tenant) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(auth, " ")
	if auth == "" || !strings.EqualFold(scheme, "Bearer") || token == "" {
		// RFC 6750 §3.1: no error code when the request carried no credentials.
		w.Header().Set("WWW-Authenticate", `Bearer realm="Users"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	claims, problem := t.verifyAccessToken(strings.TrimSpace(token), t.userinfoAudience())
	if problem != "" {
		writeInvalidToken(w, problem)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.primaryForLocked(claims.str("sub"))
	if u == nil {
		writeInvalidToken(w, "The user of this token no longer exists")
		return
	}
	writeJSON(w, http.StatusOK, profileClaims(u, claims.str("scope")))
}

func writeInvalidToken(w http.ResponseWriter, description string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="Users", error="invalid_token", error_description=%q`, description))
	http.Error(w, "Unauthorized", http.StatusUnauthorized)
}

// verifyAccessToken checks an access token with the tenant's JWT verifier and that
// its audience includes audience; it returns the claims, or what is wrong with the
// token (for WWW-Authenticate).
func (t *Tenant) verifyAccessToken(token, audience string) (jwtClaims, string) {
	claims, problem := t.verifyJWT(token, time.Now())
	switch problem {
	case jwtOK:
	case jwtExpired:
		return nil, "The token has expired"
	case jwtBadSig:
		return nil, "The token signature is invalid"
	case jwtBadIssuer:
		return nil, "The token was issued by another issuer"
	default:
		return nil, "The token is malformed"
	}
	if !claims.hasAudience(audience) {
		return nil, "The token audience does not include " + audience
	}
	return claims, ""
}
