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
	"strconv"
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
	// Fresh is a login that must authenticate the person again (prompt=login or
	// max_age): its ID token's auth_time must be no older than MaxAge seconds before
	// Started, when the login was asked for.
	Fresh   bool      `json:"fresh,omitempty"`
	MaxAge  int64     `json:"max_age,omitempty"`
	Started time.Time `json:"started"`
}

// freshSkew is how far Auth0's clock may be behind ours when a fresh login's
// auth_time is compared with the time we asked for it (and auth_time has whole
// seconds).
const freshSkew = 30 * time.Second

// maxMaxAge bounds the max_age a login may ask for: a day.
const maxMaxAge = 24 * 60 * 60

// The login_error codes the callback sends the page to / with.
const (
	loginInvalidState   = "invalid_state"
	loginInvalidIDToken = "invalid_id_token"
	loginFailed         = "login_failed"
	// loginStale: a login that had to authenticate the person again (a re-login
	// before a change) came back with an older authentication.
	loginStale = "stale_login"
)

// loginFailure is why a callback did not sign anyone in: a code for the page and a
// cause for the log.
type loginFailure struct {
	code  string
	cause error
}

// Login serves GET /auth/login?returnTo=: it records a pending login in the session
// and sends the browser to Auth0's /authorize (code flow, PKCE S256, state, nonce).
// With prompt=login, max_age=N or both (see ReauthURL), Auth0 is asked to
// authenticate the person again, and the callback checks that it did.
func (w *Web) Login() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		now := w.cfg.Now()
		q := r.URL.Query()
		tx := pendingLogin{
			State:    rand.Text(),
			Nonce:    rand.Text(),
			Verifier: oauth2.GenerateVerifier(),
			ReturnTo: SafeReturnTo(q.Get("returnTo")),
			Expires:  now.Add(loginTTL),
			Started:  now,
		}
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(tx.Verifier), oidc.Nonce(tx.Nonce)}
		if q.Get("prompt") == "login" {
			tx.Fresh = true
			opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
		}
		if q.Has("max_age") {
			// A malformed max_age asks for the strictest: a login just now.
			n, err := strconv.ParseInt(q.Get("max_age"), 10, 64)
			if err != nil || n < 0 || n > maxMaxAge {
				n = 0
			}
			tx.Fresh, tx.MaxAge = true, n
			opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(n, 10)))
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
		seeOther(rw, w.oauth.AuthCodeURL(tx.State, opts...))
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
	user, hasAuthTime, err := w.verifyIDToken(ctx, raw, tx.Nonce)
	if err != nil {
		if errors.Is(err, auth.ErrKeysUnavailable) {
			return "", &loginFailure{loginFailed, err}, nil
		}
		return "", &loginFailure{loginInvalidIDToken, err}, nil
	}
	if tx.Fresh {
		// OIDC Core 3.1.2.1: auth_time is required when max_age was asked for, and
		// it is the only proof that Auth0 did authenticate the person again.
		if !hasAuthTime {
			return "", &loginFailure{loginInvalidIDToken, errors.New("a fresh login's ID token has no auth_time")}, nil
		}
		if oldest := tx.Started.Add(-time.Duration(tx.MaxAge)*time.Second - freshSkew); user.AuthTime.Before(oldest) {
			return "", &loginFailure{loginStale, fmt.Errorf("auth_time %s is before %s", user.AuthTime, oldest)}, nil
		}
	}
	// A new token for the signed-in session: whoever knew the old one (a cookie
	// planted before the login) gets nothing.
	if err := w.sessions.RenewToken(ctx); err != nil {
		return "", nil, sessionUnavailable(err)
	}
	if err := w.register(ctx, w.sessions.Token(ctx), user); err != nil {
		return "", nil, err
	}
	if err := w.putJSON(ctx, keyUser, user); err != nil {
		return "", nil, err
	}
	return tx.ReturnTo, nil, nil
}

// register records the session (by its new token) under its user and its Auth0
// login session, so that both can end it later (EndSessions, back-channel logout),
// for as long as it can live.
func (w *Web) register(ctx context.Context, token string, u User) error {
	key, ttl := storeKey(token), w.cfg.Lifetime+registryMargin
	if err := w.registry.AddSession(ctx, ownerSubject(u.Subject), key, ttl); err != nil {
		return sessionUnavailable(err)
	}
	if u.SID != "" {
		if err := w.registry.AddSession(ctx, ownerLogin(u.SID), key, ttl); err != nil {
			return sessionUnavailable(err)
		}
	}
	return nil
}

// registryMargin keeps a registry record a little longer than its session can live.
const registryMargin = time.Minute

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
// issuer, audience = our client id, expiry) and its nonce, and returns its user and
// whether the token carried auth_time (else the user's AuthTime is its iat).
func (w *Web) verifyIDToken(ctx context.Context, raw, nonce string) (User, bool, error) {
	idt, err := w.verifier.Verify(ctx, raw)
	if err != nil {
		return User{}, false, err
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return User{}, false, errors.New("the ID token's nonce is not the login's")
	}
	if idt.Subject == "" {
		return User{}, false, errors.New("the ID token has no sub")
	}
	var claims struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Picture  string `json:"picture"`
		AuthTime *int64 `json:"auth_time"`
		SID      string `json:"sid"`
	}
	if err := idt.Claims(&claims); err != nil {
		return User{}, false, err
	}
	u := User{Subject: idt.Subject, Name: claims.Name, Email: claims.Email, Picture: claims.Picture, AuthTime: idt.IssuedAt, SID: claims.SID}
	if claims.AuthTime != nil {
		u.AuthTime = time.Unix(*claims.AuthTime, 0)
	}
	u.AuthTime = u.AuthTime.UTC()
	return u, claims.AuthTime != nil, nil
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
