package devtenant

import (
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// responseType is a parsed response_type: any non-empty combination of its three words.
type responseType struct{ code, token, idToken bool }

func parseResponseType(s string) (responseType, bool) {
	var rt responseType
	words := strings.Fields(s)
	for _, w := range words {
		var flag *bool
		switch w {
		case "code":
			flag = &rt.code
		case "token":
			flag = &rt.token
		case "id_token":
			flag = &rt.idToken
		default:
			return rt, false
		}
		if *flag {
			return rt, false
		}
		*flag = true
	}
	return rt, len(words) > 0
}

// implicit reports whether the response carries tokens through the browser.
func (rt responseType) implicit() bool { return rt.token || rt.idToken }

// authRequest is a validated /authorize request.
type authRequest struct {
	ClientID      string
	ClientName    string
	RedirectURI   string
	ResponseType  responseType
	ResponseMode  string // query, fragment or form_post
	State         string
	Nonce         string
	Scope         string
	Audience      string
	Connection    string
	Prompt        string // "", "none" or "login"
	LoginHint     string
	MaxAge        int // seconds; -1 when absent
	CodeChallenge string
	// Query is the original request, so the login page can restart it with another
	// connection.
	Query url.Values
}

// handleAuthorize is the authorization endpoint: it validates the request, then
// answers at once from the tenant session (SSO, prompt=none) or shows the login page.
func (t *Tenant) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, problem := t.authorizeTarget(q)
	if problem != "" {
		t.errorPage(w, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	if code, description := t.validateAuthorize(req, q); code != "" {
		t.deliver(w, r, req, errorParams(code, description))
		return
	}
	if ticket := q.Get("login_ticket"); ticket != "" {
		t.answerLoginTicket(w, r, req, ticket)
		return
	}
	s := t.currentSession(r)
	if s != nil && !req.sessionUsable(s, time.Now()) {
		s = nil
	}
	switch {
	case req.Prompt == "none" && s == nil:
		t.deliver(w, r, req, errorParams("login_required", "Login required"))
	case s != nil && req.Prompt != "login":
		t.answer(w, r, req, s)
	default:
		t.renderLogin(w, http.StatusOK, t.newLoginTxn(req), req, "")
	}
}

// authorizeTarget checks what decides where answers may go: the client and its
// redirect_uri. Until both are trusted, errors are shown as a page, never redirected.
// It also settles the response mode errors are delivered in.
func (t *Tenant) authorizeTarget(q url.Values) (*authRequest, string) {
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		return nil, "Missing required parameter: client_id"
	}
	t.mu.Lock()
	c, ok := t.clients[clientID]
	t.mu.Unlock()
	if !ok {
		return nil, "Unknown client: " + clientID
	}
	if redirectURI == "" {
		return nil, "Missing required parameter: redirect_uri"
	}
	if !slices.Contains(c.Callbacks, redirectURI) {
		return nil, "Callback URL mismatch. The provided redirect_uri is not in the list of allowed callback URLs."
	}
	req := &authRequest{
		ClientID: clientID, ClientName: c.Name, RedirectURI: redirectURI,
		State: q.Get("state"), Query: q, MaxAge: -1, ResponseMode: "query",
	}
	rt, ok := parseResponseType(q.Get("response_type"))
	if ok {
		req.ResponseType = rt
		if rt.implicit() {
			req.ResponseMode = "fragment"
		}
	}
	switch mode := q.Get("response_mode"); mode {
	case "query", "fragment", "form_post":
		req.ResponseMode = mode
	}
	return req, ""
}

// validateAuthorize checks the rest of the request; a non-empty code is an error to
// deliver to the redirect_uri.
func (t *Tenant) validateAuthorize(req *authRequest, q url.Values) (code, description string) {
	if q.Get("response_type") == "" {
		return "invalid_request", "Missing required parameter: response_type"
	}
	if req.ResponseType == (responseType{}) { // authorizeTarget could not parse it
		return "unsupported_response_type", "Unsupported response type: " + q.Get("response_type")
	}
	if mode := q.Get("response_mode"); mode != "" && mode != req.ResponseMode {
		return "invalid_request", "Unsupported response mode: " + mode
	}
	rt := req.ResponseType
	if rt.implicit() && req.ResponseMode == "query" {
		req.ResponseMode = "fragment" // never put tokens in a query string, not even an error's
		return "invalid_request", "response_mode=query cannot carry tokens; use fragment or form_post"
	}
	if code, description := t.checkFlowAllowed(req.ClientID, rt); code != "" {
		return code, description
	}
	if code, description := t.readAuthorizeParams(req, q); code != "" {
		return code, description
	}
	return t.checkAuthorizeTargets(req)
}

// checkFlowAllowed enforces the client's grant types (Auth0's "Grant Types" setting).
func (t *Tenant) checkFlowAllowed(clientID string, rt responseType) (code, description string) {
	t.mu.Lock()
	grants := t.clients[clientID].GrantTypes
	t.mu.Unlock()
	if rt.code && !slices.Contains(grants, "authorization_code") {
		return "unauthorized_client", grantNotAllowed("authorization_code")
	}
	if rt.implicit() && !slices.Contains(grants, "implicit") {
		return "unauthorized_client", grantNotAllowed("implicit")
	}
	return "", ""
}

func grantNotAllowed(grant string) string {
	return fmt.Sprintf("Grant type '%s' not allowed for the client.", grant)
}

// readAuthorizeParams copies and checks the request's own parameters into req.
func (t *Tenant) readAuthorizeParams(req *authRequest, q url.Values) (code, description string) {
	req.Nonce, req.Audience, req.Connection = q.Get("nonce"), q.Get("audience"), q.Get("connection")
	req.LoginHint = q.Get("login_hint")
	req.Scope = strings.Join(strings.Fields(q.Get("scope")), " ")
	if req.Scope == "" {
		req.Scope = "openid"
	}
	if req.ResponseType.idToken && req.Nonce == "" {
		// OIDC Core 3.2.2.1: a nonce is required whenever the ID token travels
		// through the browser.
		return "invalid_request", "Missing required parameter: nonce"
	}
	switch prompt := strings.Fields(q.Get("prompt")); {
	case slices.Contains(prompt, "none") && len(prompt) > 1:
		return "invalid_request", "prompt=none cannot be combined with other prompt values"
	case slices.Contains(prompt, "none"):
		req.Prompt = "none"
	case slices.Contains(prompt, "login"):
		req.Prompt = "login"
	}
	if s := q.Get("max_age"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return "invalid_request", "max_age must be a non-negative integer"
		}
		req.MaxAge = n
	}
	return t.readPKCE(req, q)
}

// readPKCE requires S256 PKCE for the code flow of public clients (no secret), which
// cannot otherwise prove at /oauth/token that they started the login.
func (t *Tenant) readPKCE(req *authRequest, q url.Values) (code, description string) {
	if !req.ResponseType.code {
		return "", ""
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if challenge == "" {
		t.mu.Lock()
		public := t.clients[req.ClientID].ClientSecret == ""
		t.mu.Unlock()
		if public {
			return "invalid_request", "Parameter 'code_challenge' is required"
		}
		return "", ""
	}
	if method != "S256" {
		return "invalid_request", "Unsupported code_challenge_method (only S256 is supported)"
	}
	if len(challenge) != 43 || strings.Trim(challenge, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return "invalid_request", "Parameter 'code_challenge' must be a base64url SHA-256 digest (43 characters)"
	}
	req.CodeChallenge = challenge
	return "", ""
}

// checkAuthorizeTargets checks the audience and connection against the tenant.
func (t *Tenant) checkAuthorizeTargets(req *authRequest) (code, description string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if req.Audience != "" && !t.knownAudienceLocked(req.Audience) {
		return "access_denied", "Service not found: " + req.Audience
	}
	if _, ok := t.connections[req.Connection]; req.Connection != "" && !ok {
		return "invalid_request", "the connection was not found"
	}
	return "", ""
}

// sessionUsable reports whether s may answer req without a login: same connection
// (when one is asked for) and recent enough for max_age.
func (req *authRequest) sessionUsable(s *session, now time.Time) bool {
	if req.Connection != "" && req.Connection != s.Connection {
		return false
	}
	return req.MaxAge < 0 || now.Sub(s.AuthTime) <= time.Duration(req.MaxAge)*time.Second
}

func errorParams(code, description string) url.Values {
	return url.Values{"error": {code}, "error_description": {description}}
}

// answer sends req's successful response for the session's user.
func (t *Tenant) answer(w http.ResponseWriter, r *http.Request, req *authRequest, s *session) {
	params, err := t.authorizationResponse(req, s)
	if err != nil {
		t.deliver(w, r, req, errorParams("server_error", err.Error()))
		return
	}
	t.deliver(w, r, req, params)
}

// authorizationResponse issues what req's response_type asks for: a code bound to
// the request, and/or tokens for the session's primary user.
func (t *Tenant) authorizationResponse(req *authRequest, s *session) (url.Values, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.primaryForLocked(s.Identity)
	if u == nil {
		return nil, fmt.Errorf("user %s no longer exists", s.Identity)
	}
	now := time.Now()
	params := url.Values{}
	rt := req.ResponseType
	t.noteClientLocked(s.SID, req.ClientID)
	if rt.code {
		code := randomToken(32)
		t.codes[code] = &authCode{
			ClientID: req.ClientID, RedirectURI: req.RedirectURI, UserID: u.UserID, Scope: req.Scope,
			Audience: req.Audience, Nonce: req.Nonce, CodeChallenge: req.CodeChallenge,
			CodeChallengeMethod: "S256", AuthTime: s.AuthTime, SID: s.SID, Expires: now.Add(codeTTL),
		}
		params.Set("code", code)
	}
	if rt.token {
		aud := req.Audience
		if aud == "" {
			aud = t.userinfoAudience()
		}
		at, err := t.signClaims(t.accessTokenClaims(u.UserID, req.ClientID, aud, req.Scope, now, ""))
		if err != nil {
			return nil, err
		}
		params.Set("access_token", at)
		params.Set("token_type", "Bearer")
		params.Set("expires_in", strconv.Itoa(int(accessTokenTTL/time.Second)))
		params.Set("scope", req.Scope)
	}
	if rt.idToken {
		c := t.idTokenClaimsLocked(u, req.ClientID, req.Nonce, s.SID, s.AuthTime, now, req.Scope)
		if at := params.Get("access_token"); at != "" {
			c["at_hash"] = atHash(at)
		}
		if code := params.Get("code"); code != "" {
			c["c_hash"] = atHash(code) // same construction as at_hash (OIDC Core 3.3.2.11)
		}
		id, err := t.signClaims(c)
		if err != nil {
			return nil, err
		}
		params.Set("id_token", id)
	}
	return params, nil
}

// deliver sends an authorization response (or error) to the validated redirect_uri in
// req's response mode.
func (t *Tenant) deliver(w http.ResponseWriter, r *http.Request, req *authRequest, params url.Values) {
	if req.State != "" {
		params.Set("state", req.State)
	}
	w.Header().Set("Cache-Control", "no-store")
	switch req.ResponseMode {
	case "form_post":
		page := formPost{Action: template.URL(req.RedirectURI)}
		for _, k := range slices.Sorted(maps.Keys(params)) {
			page.Fields = append(page.Fields, formField{Name: k, Value: params.Get(k)})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = t.pages.ExecuteTemplate(w, "form_post", page)
	case "fragment":
		http.Redirect(w, r, req.RedirectURI+"#"+params.Encode(), http.StatusFound)
	default:
		u, err := url.Parse(req.RedirectURI)
		if err != nil {
			t.errorPage(w, http.StatusBadRequest, "invalid_request", "The client's callback URL is not a valid URL")
			return
		}
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += params.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
}
