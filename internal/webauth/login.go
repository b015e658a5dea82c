package webauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/reqlog"
)

// A login waits in the session for Auth0's answer for loginTTL; a browser has at most
// maxPendingLogins at once (one per tab that started one), the oldest giving way.
const (
	loginTTL         = 10 * time.Minute
	maxPendingLogins = 5
)

// pendingLogin is a login sent to Auth0 and not yet back: what the callback checks
// and needs, kept on the server only.
type pendingLogin struct {
	State    string    `json:"state"`
	Nonce    string    `json:"nonce"`
	Verifier string    `json:"verifier"` // PKCE code_verifier
	ReturnTo string    `json:"return_to"`
	Expires  time.Time `json:"expires"`
}

// The login_error codes the callback sends the page to / with.
const (
	loginInvalidState   = "invalid_state"
	loginInvalidIDToken = "invalid_id_token"
	loginFailed         = "login_failed"
)

// loginFailure is why a callback did not sign anyone in: a code for the page and a
// cause for the log.
type loginFailure struct {
	code  string
	cause error
}

// Login serves GET /auth/login?returnTo=: it records a pending login in the session
// and sends the browser to Auth0's /authorize (code flow, PKCE S256, state, nonce).
func (w *Web) Login() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		now := w.cfg.Now()
		tx := pendingLogin{
			State:    rand.Text(),
			Nonce:    rand.Text(),
			Verifier: oauth2.GenerateVerifier(),
			ReturnTo: SafeReturnTo(r.URL.Query().Get("returnTo")),
			Expires:  now.Add(loginTTL),
		}
		pending := append(w.pendingLogins(ctx, now), tx)
		if len(pending) > maxPendingLogins {
			pending = pending[len(pending)-maxPendingLogins:]
		}
		if err := w.putJSON(ctx, keyLogins, pending); err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		if _, signedIn := w.User(ctx); !signedIn {
			// A session that only waits for a login lives no longer than the login.
			// (scs keeps time with time.Now, whatever Config.Now says.)
			w.sessions.SetDeadline(ctx, time.Now().Add(loginTTL))
		}
		if err := w.save(rw, r); err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		seeOther(rw, w.oauth.AuthCodeURL(tx.State, oauth2.S256ChallengeOption(tx.Verifier), oidc.Nonce(tx.Nonce)))
	})
}

// Callback serves GET /auth/callback, where Auth0 sends the browser back. Whatever
// happens, the pending login is used up. On success the session gets a new token and
// the user, and the browser goes to the login's returnTo; otherwise to
// /?login_error=<code>, so the page can say what went wrong.
func (w *Web) Callback() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		target, fail, err := w.completeLogin(r.Context(), r.URL.Query())
		if err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		log := reqlog.From(r.Context())
		if fail != nil {
			log.Info("login refused", "login_error", fail.code, "err", fail.cause)
			target = "/?" + url.Values{"login_error": {fail.code}}.Encode()
		} else {
			u, _ := w.User(r.Context())
			log.Info("login", "user_id", u.Subject)
		}
		if err := w.save(rw, r); err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		seeOther(rw, target)
	})
}

// completeLogin checks the callback and, when it is good, signs the user in. err is
// an infrastructure failure (the session store); fail a refused login.
func (w *Web) completeLogin(ctx context.Context, q url.Values) (returnTo string, fail *loginFailure, err error) {
	tx, ok := w.takeLogin(ctx, q.Get("state"))
	if !ok {
		return "", &loginFailure{loginInvalidState, errors.New("the state is not one of a pending login of this session")}, nil
	}
	if e := q.Get("error"); e != "" {
		// The description is Auth0's (or whoever forged the request): logged, not shown.
		return "", &loginFailure{oauthErrorCode(e), fmt.Errorf("Auth0 answered %q: %q", e, q.Get("error_description"))}, nil
	}
	code := q.Get("code")
	if code == "" {
		return "", &loginFailure{loginFailed, errors.New("no code in the callback")}, nil
	}
	tok, err := w.exchange(ctx, code, tx.Verifier)
	if err != nil {
		return "", &loginFailure{loginFailed, fmt.Errorf("code exchange: %w", err)}, nil
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", &loginFailure{loginInvalidIDToken, errors.New("the token response has no id_token")}, nil
	}
	user, err := w.verifyIDToken(ctx, raw, tx.Nonce)
	if err != nil {
		if errors.Is(err, auth.ErrKeysUnavailable) {
			return "", &loginFailure{loginFailed, err}, nil
		}
		return "", &loginFailure{loginInvalidIDToken, err}, nil
	}
	// A new token for the signed-in session: whoever knew the old one (a cookie
	// planted before the login) gets nothing.
	if err := w.sessions.RenewToken(ctx); err != nil {
		return "", nil, sessionUnavailable(err)
	}
	if err := w.putJSON(ctx, keyUser, user); err != nil {
		return "", nil, err
	}
	return tx.ReturnTo, nil, nil
}

// exchange redeems the code with the preferred client secret and, when Auth0 refuses
// the client's authentication (401, so the code is not spent), with the other one.
func (w *Web) exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, w.client)
	first := int(w.preferred.Load())
	tok, err := w.exchangeWith(ctx, w.secrets[first], code, verifier)
	if err == nil || len(w.secrets) == 1 {
		return tok, err
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.Response == nil || re.Response.StatusCode != http.StatusUnauthorized {
		return nil, err
	}
	other := 1 - first
	tok, err2 := w.exchangeWith(ctx, w.secrets[other], code, verifier)
	if err2 != nil {
		return nil, err
	}
	w.preferred.Store(int32(other))
	return tok, nil
}

func (w *Web) exchangeWith(ctx context.Context, secret, code, verifier string) (*oauth2.Token, error) {
	cfg := *w.oauth
	cfg.ClientSecret = secret
	return cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
}

// verifyIDToken checks the login's ID token (go-oidc: RS256 signature by the tenant,
// issuer, audience = our client id, expiry) and its nonce, and returns its user.
func (w *Web) verifyIDToken(ctx context.Context, raw, nonce string) (User, error) {
	idt, err := w.verifier.Verify(ctx, raw)
	if err != nil {
		return User{}, err
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return User{}, errors.New("the ID token's nonce is not the login's")
	}
	if idt.Subject == "" {
		return User{}, errors.New("the ID token has no sub")
	}
	var claims struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Picture  string `json:"picture"`
		AuthTime *int64 `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		return User{}, err
	}
	u := User{Subject: idt.Subject, Name: claims.Name, Email: claims.Email, Picture: claims.Picture, AuthTime: idt.IssuedAt}
	if claims.AuthTime != nil {
		u.AuthTime = time.Unix(*claims.AuthTime, 0)
	}
	u.AuthTime = u.AuthTime.UTC()
	return u, nil
}

// pendingLogins returns the session's unexpired pending logins.
func (w *Web) pendingLogins(ctx context.Context, now time.Time) []pendingLogin {
	var all []pendingLogin
	if s := w.sessions.GetString(ctx, keyLogins); s != "" {
		_ = json.Unmarshal([]byte(s), &all) // unreadable: as if there were none
	}
	live := all[:0]
	for _, l := range all {
		if now.Before(l.Expires) {
			live = append(live, l)
		}
	}
	return live
}

// takeLogin removes and returns the pending login with this state, if there is one.
func (w *Web) takeLogin(ctx context.Context, state string) (pendingLogin, bool) {
	pending := w.pendingLogins(ctx, w.cfg.Now())
	var (
		found pendingLogin
		ok    bool
		kept  []pendingLogin
	)
	for _, l := range pending {
		if !ok && state != "" && subtle.ConstantTimeCompare([]byte(l.State), []byte(state)) == 1 {
			found, ok = l, true
			continue
		}
		kept = append(kept, l)
	}
	if !ok {
		return pendingLogin{}, false
	}
	if len(kept) == 0 {
		w.sessions.Remove(ctx, keyLogins)
	} else if err := w.putJSON(ctx, keyLogins, kept); err != nil {
		w.sessions.Remove(ctx, keyLogins)
	}
	return found, true
}

// oauthErrorCode passes an OAuth error code from Auth0 (access_denied,
// login_required, ...) on to the page when it looks like one.
func oauthErrorCode(e string) string {
	if oauthErrorRE.MatchString(e) {
		return e
	}
	return loginFailed
}

var oauthErrorRE = regexp.MustCompile(`^[a-z_]{1,64}$`)

// Logout serves POST /auth/logout: it destroys the session (its token is deleted from
// the store and the cookie cleared) and sends the browser to the tenant's sign-out,
// which returns to {BaseURL}/. A plain form post from the page: cross-origin requests
// are refused (http.CrossOriginProtection), no X-CSRF header is needed.
func (w *Web) Logout() http.Handler {
	return w.csrf.Handler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if w.sessions.Token(ctx) != "" {
			u, _ := w.User(ctx)
			if err := w.sessions.Destroy(ctx); err != nil {
				w.cfg.OnError(rw, r, sessionUnavailable(err))
				return
			}
			reqlog.From(ctx).Info("logout", "user_id", u.Subject)
		}
		if err := w.save(rw, r); err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		seeOther(rw, w.logout)
	}))
}

// Session serves GET /auth/session: who is signed in, for the page.
func (w *Web) Session() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var body api.Session
		if u, ok := w.User(ctx); ok {
			exp := w.expiresAt(ctx)
			body = api.Session{
				Authenticated: true,
				User:          &api.SessionUser{Sub: u.Subject, Name: omitEmpty(u.Name), Email: omitEmpty(u.Email), Picture: omitEmpty(u.Picture)},
				ExpiresAt:     &exp,
			}
		}
		// Asking counts as use: the idle timeout starts again.
		if err := w.save(rw, r); err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(rw).Encode(body)
	})
}

// omitEmpty is a pointer to s, or nil (the member left out) when s is empty.
func omitEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// seeOther redirects with 303, so the next request is a GET whatever this one was.
func seeOther(rw http.ResponseWriter, target string) {
	rw.Header().Set("Location", target)
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusSeeOther)
}
