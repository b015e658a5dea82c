package devtenant

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxBodyBytes bounds every form or JSON body the authentication API reads.
const maxBodyBytes = 64 << 10

const grantPasswordRealm = "http://auth0.com/oauth/grant-type/password-realm"

// tokenError is an error answer of /oauth/token.
type tokenError struct {
	status            int
	code, description string
}

func unauthorizedClient() *tokenError {
	// Auth0 answers every client authentication failure this way.
	return &tokenError{http.StatusUnauthorized, "access_denied", "Unauthorized"}
}

// requireParams answers the first of names that p lacks (or has empty), as Auth0 does.
func requireParams(p url.Values, names ...string) *tokenError {
	for _, name := range names {
		if p.Get(name) == "" {
			return &tokenError{http.StatusBadRequest, "invalid_request", "Missing required parameter: " + name}
		}
	}
	return nil
}

func serverError(err error) *tokenError {
	return &tokenError{http.StatusInternalServerError, "server_error", err.Error()}
}

// handleToken is the token endpoint: client authentication, then one grant.
func (t *Tenant) handleToken(w http.ResponseWriter, r *http.Request) {
	resp, terr := t.token(w, r)
	if terr != nil {
		writeOAuthError(w, terr.status, terr.code, terr.description)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (t *Tenant) token(w http.ResponseWriter, r *http.Request) (map[string]any, *tokenError) {
	params, terr := readTokenRequest(w, r)
	if terr != nil {
		return nil, terr
	}
	c, terr := t.authenticateClient(r, params)
	if terr != nil {
		return nil, terr
	}
	if terr := requireParams(params, "grant_type"); terr != nil {
		return nil, terr
	}
	name := params.Get("grant_type")
	grant, ok := tokenGrants()[name]
	if !ok {
		return nil, &tokenError{http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: " + name}
	}
	if !slices.Contains(c.GrantTypes, name) {
		return nil, &tokenError{http.StatusForbidden, "unauthorized_client", grantNotAllowed(name)}
	}
	if terr := requireParams(params, grant.required...); terr != nil {
		return nil, terr
	}
	return grant.issue(t, c, params)
}

// tokenGrant is a grant type of the token endpoint.
type tokenGrant struct {
	// required are the parameters the grant cannot do without, checked in this order
	// once the client is known to be allowed the grant.
	required []string
	issue    func(t *Tenant, c *Client, p url.Values) (map[string]any, *tokenError)
}

// tokenGrants are the grant types the token endpoint implements, by grant_type.
func tokenGrants() map[string]tokenGrant {
	return map[string]tokenGrant{
		"authorization_code": {[]string{"code"}, (*Tenant).grantAuthorizationCode},
		"client_credentials": {nil, (*Tenant).grantClientCredentials},
		"refresh_token":      {[]string{"refresh_token"}, (*Tenant).grantRefreshToken},
		"password": {[]string{"username", "password"}, func(t *Tenant, c *Client, p url.Values) (map[string]any, *tokenError) {
			return t.grantPassword(c, p, "") // a realm parameter means nothing to this grant
		}},
		grantPasswordRealm: {[]string{"realm", "username", "password"}, func(t *Tenant, c *Client, p url.Values) (map[string]any, *tokenError) {
			return t.grantPassword(c, p, p.Get("realm"))
		}},
	}
}

// readTokenRequest reads the parameters from a form or JSON body (Auth0 takes both).
func readTokenRequest(w http.ResponseWriter, r *http.Request) (url.Values, *tokenError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &tokenError{http.StatusRequestEntityTooLarge, "invalid_request", "Request body is too large"}
		}
		return nil, &tokenError{http.StatusBadRequest, "invalid_request", "Could not read the request body"}
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mediaType {
	case "application/json":
		return jsonParams(body)
	case "application/x-www-form-urlencoded", "":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &tokenError{http.StatusBadRequest, "invalid_request", "The request body is not a valid form"}
		}
		return v, nil
	}
	return nil, &tokenError{http.StatusBadRequest, "invalid_request", "Unsupported Content-Type: " + mediaType}
}

// jsonParams turns a JSON object of scalar values into parameters.
func jsonParams(body []byte) (url.Values, *tokenError) {
	malformed := &tokenError{http.StatusBadRequest, "invalid_request", "The request body is not a JSON object of string values"}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || dec.More() || m == nil {
		return nil, malformed
	}
	v := url.Values{}
	for k, x := range m {
		switch x := x.(type) {
		case nil:
		case string:
			v.Set(k, x)
		case json.Number, bool:
			v.Set(k, fmt.Sprint(x))
		default:
			return nil, malformed
		}
	}
	return v, nil
}

// authenticateClient identifies the client by HTTP Basic or body parameters; clients
// with a secret must present it.
func (t *Tenant) authenticateClient(r *http.Request, p url.Values) (*Client, *tokenError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1 form-encodes both before Basic encoding.
		id, secret = formUnescape(id), formUnescape(secret)
		if bodyID := p.Get("client_id"); bodyID != "" && bodyID != id {
			return nil, &tokenError{http.StatusBadRequest, "invalid_request", "client_id does not match the Authorization header"}
		}
	} else {
		id, secret = p.Get("client_id"), p.Get("client_secret")
	}
	t.mu.Lock()
	c, ok := t.clients[id]
	t.mu.Unlock()
	if !ok {
		return nil, unauthorizedClient()
	}
	if c.ClientSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(c.ClientSecret)) != 1 {
		return nil, unauthorizedClient()
	}
	return c, nil
}

func formUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// grantAuthorizationCode redeems an authorization code, once, for the client and
// redirect_uri it was issued to (and its PKCE verifier, if it had a challenge).
func (t *Tenant) grantAuthorizationCode(c *Client, p url.Values) (map[string]any, *tokenError) {
	invalid := &tokenError{http.StatusForbidden, "invalid_grant", "Invalid authorization code"}
	t.mu.Lock()
	defer t.mu.Unlock()
	ac, ok := t.codes[p.Get("code")]
	if !ok || ac.Used || time.Now().After(ac.Expires) || ac.ClientID != c.ClientID {
		return nil, invalid
	}
	if p.Get("redirect_uri") != ac.RedirectURI {
		return nil, &tokenError{http.StatusForbidden, "invalid_grant", "redirect_uri does not match the one the code was issued for"}
	}
	verifier := p.Get("code_verifier")
	if (ac.CodeChallenge == "" && verifier != "") || (ac.CodeChallenge != "" && !pkceMatches(verifier, ac.CodeChallenge)) {
		return nil, &tokenError{http.StatusForbidden, "invalid_grant", "Failed to verify code verifier"}
	}
	// Consumed only now, so a request that fails the checks above cannot burn the
	// legitimate client's code.
	ac.Used = true
	u := t.primaryForLocked(ac.UserID)
	if u == nil {
		return nil, invalid
	}
	return t.userTokensLocked(c, userGrant{user: u, scope: ac.Scope, audience: ac.Audience, nonce: ac.Nonce, sid: ac.SID, authTime: ac.AuthTime}, true)
}

// pkceMatches checks an RFC 7636 S256 code_verifier against its challenge.
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// grantClientCredentials issues a confidential client a token of its own for an API
// it has a grant for.
func (t *Tenant) grantClientCredentials(c *Client, p url.Values) (map[string]any, *tokenError) {
	if c.ClientSecret == "" {
		return nil, unauthorizedClient()
	}
	aud := p.Get("audience")
	if aud == "" {
		return nil, &tokenError{http.StatusForbidden, "access_denied", "No audience parameter was provided, and no default audience has been configured"}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	granted, terr := t.clientGrantLocked(c, aud)
	if terr != nil {
		return nil, terr
	}
	scope := strings.Join(granted, " ")
	if requested := strings.Fields(p.Get("scope")); len(requested) > 0 {
		var missing []string
		for _, s := range requested {
			if !slices.Contains(granted, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			return nil, &tokenError{http.StatusForbidden, "access_denied", "Client has not been granted scopes: " + strings.Join(missing, ", ")}
		}
		scope = strings.Join(requested, " ")
	}
	at, err := t.signClaims(t.accessTokenClaims(c.ClientID+"@clients", c.ClientID, aud, scope, time.Now(), "client-credentials"))
	if err != nil {
		return nil, serverError(err)
	}
	return map[string]any{
		"access_token": at, "scope": scope, "token_type": "Bearer", "expires_in": int(accessTokenTTL / time.Second),
	}, nil
}

// clientGrantLocked returns the scopes c may get for aud with client credentials
// (Auth0's client grants).
func (t *Tenant) clientGrantLocked(c *Client, aud string) ([]string, *tokenError) {
	notAuthorized := &tokenError{http.StatusForbidden, "access_denied", fmt.Sprintf(
		`Client is not authorized to access "%s". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`, aud)}
	if aud == t.ManagementAudience() {
		if len(c.ManagementScopes) == 0 {
			return nil, notAuthorized
		}
		return c.ManagementScopes, nil
	}
	api, ok := t.apis[aud]
	if !ok {
		return nil, &tokenError{http.StatusForbidden, "access_denied", "Service not found: " + aud}
	}
	if scopes, ok := c.APIGrants[aud]; ok {
		return scopes, nil
	}
	if c.AppType == "regular_web" || c.AppType == "non_interactive" {
		return api.Scopes, nil // dev convenience, see Client.APIGrants
	}
	return nil, notAuthorized
}

// grantPassword is the resource owner password grant, against realm or, without one,
// the default database connection.
func (t *Tenant) grantPassword(c *Client, p url.Values, realm string) (map[string]any, *tokenError) {
	aud := p.Get("audience")
	t.mu.Lock()
	defer t.mu.Unlock()
	if realm == "" {
		if realm = t.defaultDatabaseLocked(); realm == "" {
			return nil, &tokenError{http.StatusInternalServerError, "server_error", "Authorization server not configured with default connection."}
		}
	}
	if conn, ok := t.connections[realm]; !ok || conn.Strategy != strategyDatabase {
		return nil, &tokenError{http.StatusBadRequest, "invalid_request", "Realm is not a database connection: " + realm}
	}
	if aud != "" && !t.knownAudienceLocked(aud) {
		return nil, &tokenError{http.StatusForbidden, "access_denied", "Service not found: " + aud}
	}
	identity := t.checkPasswordLocked(realm, p.Get("username"), p.Get("password"))
	if identity == "" {
		return nil, &tokenError{http.StatusForbidden, "invalid_grant", "Wrong email or password."}
	}
	t.recordLoginLocked(identity)
	scope := strings.Join(strings.Fields(p.Get("scope")), " ")
	return t.userTokensLocked(c, userGrant{user: t.primaryForLocked(identity), scope: scope, audience: aud, authTime: time.Now()}, true)
}

// grantRefreshToken issues tokens from a refresh token, for its scope or a part of it.
func (t *Tenant) grantRefreshToken(c *Client, p url.Values) (map[string]any, *tokenError) {
	invalid := &tokenError{http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token."}
	requested := strings.Fields(p.Get("scope"))
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.refresh[p.Get("refresh_token")]
	if !ok || g.ClientID != c.ClientID {
		return nil, invalid
	}
	u := t.primaryForLocked(g.UserID)
	if u == nil {
		return nil, invalid
	}
	scope := g.Scope
	if len(requested) > 0 {
		granted := strings.Fields(g.Scope)
		if slices.ContainsFunc(requested, func(s string) bool { return !slices.Contains(granted, s) }) {
			return nil, &tokenError{http.StatusForbidden, "invalid_scope", "The requested scope exceeds the scope granted to the refresh token"}
		}
		scope = strings.Join(requested, " ")
	}
	// Like an Auth0 client without rotation, the refresh token stays valid and no new
	// one is issued.
	return t.userTokensLocked(c, userGrant{user: u, scope: scope, audience: g.Audience, sid: g.SID, authTime: g.AuthTime}, false)
}

// userGrant is what a user's tokens are issued from.
type userGrant struct {
	user            *userRecord // primary user
	scope, audience string
	nonce, sid      string
	authTime        time.Time
}

// userTokensLocked issues an access token (for the audience, or /userinfo), an ID
// token when the scope has openid, and a refresh token when it has offline_access and
// the client may refresh.
func (t *Tenant) userTokensLocked(c *Client, g userGrant, withRefresh bool) (map[string]any, *tokenError) {
	now := time.Now()
	aud := g.audience
	if aud == "" {
		aud = t.userinfoAudience()
	}
	at, err := t.signClaims(t.accessTokenClaims(g.user.UserID, c.ClientID, aud, g.scope, now, ""))
	if err != nil {
		return nil, serverError(err)
	}
	resp := map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": int(accessTokenTTL / time.Second), "scope": g.scope,
	}
	scopes := strings.Fields(g.scope)
	if slices.Contains(scopes, "openid") {
		id, err := t.signClaims(t.idTokenClaimsLocked(g.user, c.ClientID, g.nonce, g.sid, g.authTime, now, g.scope))
		if err != nil {
			return nil, serverError(err)
		}
		resp["id_token"] = id
	}
	if withRefresh && slices.Contains(scopes, "offline_access") && slices.Contains(c.GrantTypes, "refresh_token") {
		rt := randomToken(32)
		t.refresh[rt] = &refreshGrant{
			ClientID: c.ClientID, UserID: g.user.UserID, Scope: g.scope, Audience: g.audience, SID: g.sid, AuthTime: g.authTime,
		}
		resp["refresh_token"] = rt
	}
	return resp, nil
}
