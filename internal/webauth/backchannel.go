package webauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/reqlog"
)

// backchannelLogoutEvent is the member of a logout token's events claim that makes
// it one (OIDC Back-Channel Logout 1.0 §2.4).
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// Limits of a logout token.
const (
	// logoutTokenMaxAge is how old (by iat) a logout token may be: an OP posts it
	// the moment the session ends. Its jti is remembered for longer than a token
	// can be accepted, so a replay is refused by one rule or the other.
	logoutTokenMaxAge = 2 * time.Minute
	logoutLeeway      = 30 * time.Second
	maxLogoutBody     = 64 << 10
	maxJTI            = 256
)

// BackchannelLogout serves POST /auth/backchannel-logout, where Auth0 posts a logout
// token (form member logout_token) when a login session ends there. The token is
// verified as OIDC Back-Channel Logout 1.0 §2.6 requires (see verifyLogoutToken),
// its jti is used up, and every session of its sid (or, without a sid, of its sub)
// ends: in the shared session store, so on every replica. It answers 200 with
// Cache-Control: no-store, or 400 (§2.8) with a problem that also carries the OAuth
// error members: invalid_request for a token that fails, temporarily_unavailable
// when the sessions could not be ended (the OP may send the token again).
func (w *Web) BackchannelLogout() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		rw.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(rw, r.Body, maxLogoutBody)
		if err := r.ParseForm(); err != nil {
			w.cfg.OnError(rw, r, invalidLogout(fmt.Errorf("the body is not a form: %w", err), "The body must be a form with logout_token."))
			return
		}
		raw := r.PostForm["logout_token"]
		if len(raw) != 1 || raw[0] == "" {
			w.cfg.OnError(rw, r, invalidLogout(nil, "The form must carry exactly one logout_token."))
			return
		}
		lt, err := w.verifyLogoutToken(ctx, raw[0])
		if err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		first, err := w.registry.ClaimOnce(ctx, "logout-jti:"+lt.JTI, logoutTokenMaxAge+2*logoutLeeway)
		if err != nil {
			w.cfg.OnError(rw, r, logoutFailed(err))
			return
		}
		if !first {
			w.cfg.OnError(rw, r, invalidLogout(nil, "This logout token was already used (its jti was seen before)."))
			return
		}
		owner := ownerSubject(lt.Subject)
		if lt.SID != "" {
			owner = ownerLogin(lt.SID)
		}
		n, err := w.endSessions(ctx, owner)
		if err != nil {
			// Not done: let the OP's next attempt with this token through.
			_ = w.registry.Unclaim(context.WithoutCancel(ctx), "logout-jti:"+lt.JTI)
			w.cfg.OnError(rw, r, logoutFailed(err))
			return
		}
		reqlog.From(ctx).Info("back-channel logout", "user_id", lt.Subject, "sid", lt.SID, "sessions_ended", n)
		rw.WriteHeader(http.StatusOK)
	})
}

// logoutToken is what a verified logout token says.
type logoutToken struct {
	Subject string
	SID     string
	JTI     string
}

// verifyLogoutToken validates raw as OIDC Back-Channel Logout 1.0 §2.6 requires, with
// the same keys and rules as an ID token of the login (RS256 by the tenant's JWKS key
// of its kid, iss, aud = our client id, exp when present), and: typ, if any,
// logout+jwt (§2.3, explicit typing) or JWT; iat present and recent; jti present;
// events with the back-channel logout member, an object; sub or sid; no nonce. A
// token that fails is an invalid_logout_token problem; keys that cannot be fetched
// are logout_failed, since the token may be good.
func (w *Web) verifyLogoutToken(ctx context.Context, raw string) (logoutToken, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return logoutToken{}, invalidLogout(err, "The logout token is not an RS256 JWS.")
	}
	if len(jws.Signatures) == 1 {
		typ, _ := jws.Signatures[0].Header.ExtraHeaders[jose.HeaderType].(string)
		if typ != "" && !slices.Contains([]string{"logout+jwt", "application/logout+jwt", "jwt"}, strings.ToLower(typ)) {
			return logoutToken{}, invalidLogout(nil, fmt.Sprintf("The logout token's typ %q is not logout+jwt.", typ))
		}
	}
	payload, err := keySet{w.cfg.Keys}.verify(ctx, jws)
	if err != nil {
		if errors.Is(err, auth.ErrKeysUnavailable) {
			return logoutToken{}, logoutFailed(err)
		}
		return logoutToken{}, invalidLogout(err, "The logout token's signature is not the tenant's.")
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return logoutToken{}, invalidLogout(err, "The logout token's claims are not a JSON object.")
	}
	str := func(name string) (string, bool) {
		var v string
		raw, ok := claims[name]
		if !ok || json.Unmarshal(raw, &v) != nil {
			return "", false
		}
		return v, true
	}
	num := func(name string) (time.Time, bool) {
		var v json.Number
		raw, ok := claims[name]
		if !ok || json.Unmarshal(raw, &v) != nil {
			return time.Time{}, false
		}
		f, err := v.Float64()
		return time.Unix(int64(f), 0), err == nil
	}
	now := w.cfg.Now()

	if iss, _ := str("iss"); iss != w.cfg.Issuer {
		return logoutToken{}, invalidLogout(nil, "The logout token's iss is not the tenant.")
	}
	if !audienceHas(claims["aud"], w.cfg.ClientID) {
		return logoutToken{}, invalidLogout(nil, "The logout token's aud is not this application.")
	}
	iat, ok := num("iat")
	switch {
	case !ok:
		return logoutToken{}, invalidLogout(nil, "The logout token has no iat.")
	case iat.After(now.Add(logoutLeeway)):
		return logoutToken{}, invalidLogout(nil, "The logout token's iat is in the future.")
	case now.Sub(iat) > logoutTokenMaxAge+logoutLeeway:
		return logoutToken{}, invalidLogout(nil, fmt.Sprintf("The logout token was issued more than %s ago.", logoutTokenMaxAge))
	}
	if _, has := claims["exp"]; has {
		if exp, ok := num("exp"); !ok || !now.Before(exp.Add(logoutLeeway)) {
			return logoutToken{}, invalidLogout(nil, "The logout token has expired.")
		}
	}
	jti, _ := str("jti")
	if jti == "" || len(jti) > maxJTI {
		return logoutToken{}, invalidLogout(nil, "The logout token has no jti (or one over 256 bytes).")
	}
	var events map[string]json.RawMessage
	if json.Unmarshal(claims["events"], &events) != nil || !isJSONObject(events[backchannelLogoutEvent]) {
		return logoutToken{}, invalidLogout(nil, "The logout token's events claim has no "+backchannelLogoutEvent+" object.")
	}
	sub, _ := str("sub")
	sid, _ := str("sid")
	if sub == "" && sid == "" {
		return logoutToken{}, invalidLogout(nil, "The logout token has neither sub nor sid.")
	}
	if _, has := claims["nonce"]; has {
		// §2.4: what keeps an ID token from passing as a logout token.
		return logoutToken{}, invalidLogout(nil, "The logout token carries a nonce.")
	}
	return logoutToken{Subject: sub, SID: sid, JTI: jti}, nil
}

// audienceHas reports whether a JWT aud claim (a string or an array of strings)
// names clientID.
func audienceHas(raw json.RawMessage, clientID string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == clientID
	}
	var many []string
	return json.Unmarshal(raw, &many) == nil && slices.Contains(many, clientID)
}

func isJSONObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{' && json.Valid(raw)
}

func invalidLogout(cause error, detail string) *problem.Error {
	p := problem.Wrap(cause, fault.InvalidLogoutToken, detail)
	p.OAuthError = "invalid_request"
	return p
}

func logoutFailed(cause error) *problem.Error {
	p := problem.Wrap(cause, fault.LogoutFailed, "The sessions of this logout could not be ended now; send the logout token again.")
	p.OAuthError = "temporarily_unavailable"
	return p
}

// EndUserSessions ends every session of the user id sub, on every replica that
// shares the session store: for a user id that no longer signs in as itself (the
// secondary of a link, which Auth0 deletes).
func (w *Web) EndUserSessions(ctx context.Context, sub string) error {
	n, err := w.endSessions(ctx, ownerSubject(sub))
	if n > 0 {
		reqlog.From(ctx).Info("sessions ended", "user_id", sub, "sessions_ended", n)
	}
	return err
}

// endSessions deletes every session the registry holds for owner from the session
// store and returns how many it deleted. When the store fails part way, the
// sessions not yet deleted go back into the registry, so that a retry finds them.
func (w *Web) endSessions(ctx context.Context, owner string) (int, error) {
	keys, err := w.registry.TakeSessions(ctx, owner)
	if err != nil {
		return 0, err
	}
	for i, key := range keys {
		if err := w.deleteSession(ctx, key); err != nil {
			back := context.WithoutCancel(ctx)
			for _, k := range keys[i:] {
				_ = w.registry.AddSession(back, owner, k, w.cfg.Lifetime+registryMargin)
			}
			return i, fmt.Errorf("ending a session of %s: %w", owner, err)
		}
	}
	return len(keys), nil
}

// deleteSession removes a session from the store by its store key (not its cookie
// value: the store holds hashes).
func (w *Web) deleteSession(ctx context.Context, key string) error {
	if s, ok := w.sessions.Store.(interface {
		DeleteCtx(context.Context, string) error
	}); ok {
		return s.DeleteCtx(ctx, key)
	}
	return w.sessions.Store.Delete(key)
}
