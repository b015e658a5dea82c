package devtenant

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Management API authentication messages. Auth0's Management API is a hapi service:
// these are the bodies its bearer-token plugin answers with (observed responses quoted
// in Auth0 community threads and SDK issues; see docs/devtenant.md).
const (
	msgMissingAuth      = "Missing authentication"
	msgBadHeaderFormat  = "Bad HTTP authentication header format"
	msgInvalidToken     = "Invalid token"
	msgInvalidSignature = "Invalid signature received for JSON Web Token validation"
	msgExpiredToken     = "Expired token received for JSON Web Token validation"
	msgBadAudience      = "Bad audience: "
	msgWrongSubject     = "User to be acted on does not match subject in bearer token."
)

// mgmtCaller is the verified bearer token of a Management API request.
type mgmtCaller struct {
	sub    string
	azp    string
	scopes []string
}

func (c *mgmtCaller) has(scope string) bool { return slices.Contains(c.scopes, scope) }

// withIdPTokens reports whether responses may carry identities' IdP access tokens,
// which Auth0 only returns to tokens with read:user_idp_tokens.
func (c *mgmtCaller) withIdPTokens() bool { return c.has("read:user_idp_tokens") }

// scopeRule lists the scopes that allow an endpoint. currentUser, when set, is the
// scope that allows it only on the token's own user (sub == the {id} of the path), as
// Auth0's *:current_user* scopes do.
type scopeRule struct {
	any         []string
	currentUser string
}

// The scopes of each endpoint, as Auth0's Management API documents them (minus the
// metadata-only update scopes, which the dev tenant does not implement).
func scopesReadUser() scopeRule {
	return scopeRule{any: []string{"read:users", "read:user_idp_tokens"}, currentUser: "read:current_user"}
}
func scopesByEmail() scopeRule { return scopeRule{any: []string{"read:users"}} }
func scopesPatch() scopeRule   { return scopeRule{any: []string{"update:users"}} }
func scopesLink() scopeRule {
	return scopeRule{any: []string{"update:users"}, currentUser: "update:current_user_identities"}
}

// expected is the scope list of Auth0's 403 message (comma separated, no spaces).
func (s scopeRule) expected() string {
	all := slices.Clone(s.any)
	if s.currentUser != "" {
		all = append(all, s.currentUser)
	}
	return strings.Join(all, ",")
}

// authorize authenticates the request and checks rule for the user userID; on failure
// it has answered and returns nil. It runs inside instrument, so the answer carries
// the x-ratelimit-* headers like any other Management API response.
func (t *Tenant) authorize(w http.ResponseWriter, r *http.Request, rule scopeRule, userID string) *mgmtCaller {
	c := t.authenticateMgmt(w, r)
	if c == nil {
		return nil
	}
	if slices.ContainsFunc(rule.any, c.has) {
		return c
	}
	if rule.currentUser != "" && c.has(rule.currentUser) {
		if c.sub == userID {
			return c
		}
		writeMgmtError(w, http.StatusForbidden, msgWrongSubject, "")
		return nil
	}
	writeMgmtError(w, http.StatusForbidden, "Insufficient scope, expected any of: "+rule.expected(), "insufficient_scope")
	return nil
}

// authenticateMgmt verifies the bearer token of a Management API request: an RS256 JWT
// signed by a published key of this tenant, issued by it, unexpired, for the
// Management API audience.
func (t *Tenant) authenticateMgmt(w http.ResponseWriter, r *http.Request) *mgmtCaller {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeMgmtError(w, http.StatusUnauthorized, msgMissingAuth, "")
		return nil
	}
	token = strings.TrimSpace(token)
	if strings.Count(token, ".") != 2 {
		// Auth0 answers an opaque or truncated token this way, errorCode included.
		writeMgmtError(w, http.StatusBadRequest, msgBadHeaderFormat, "Bearer")
		return nil
	}
	claims, problem := t.verifyJWT(token, time.Now())
	switch problem {
	case jwtOK:
	case jwtBadSig:
		writeUnauthorized(w, msgInvalidSignature)
		return nil
	case jwtExpired:
		writeUnauthorized(w, msgExpiredToken)
		return nil
	default:
		writeUnauthorized(w, msgInvalidToken)
		return nil
	}
	if !claims.hasAudience(t.ManagementAudience()) {
		auds, _ := claims.audiences()
		writeUnauthorized(w, msgBadAudience+strings.Join(auds, " "))
		return nil
	}
	return &mgmtCaller{sub: claims.str("sub"), azp: claims.str("azp"), scopes: strings.Fields(claims.str("scope"))}
}

// writeUnauthorized writes hapi's 401 for a rejected bearer token, which repeats the
// message under attributes.error.
func writeUnauthorized(w http.ResponseWriter, message string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Bearer error=%q", message))
	writeJSON(w, http.StatusUnauthorized, map[string]any{
		"statusCode": http.StatusUnauthorized,
		"error":      http.StatusText(http.StatusUnauthorized),
		"message":    message,
		"attributes": map[string]string{"error": message},
	})
}
