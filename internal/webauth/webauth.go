// Package webauth owns linkbff's browser half: the server-side session (scs: its
// cookie, its store, its lifetime), the sign-in through Auth0 (Authorization Code with
// PKCE, state and nonce kept in the session), sign-out, and the authentication of
// /me/* requests by the session cookie with its CSRF defence. The session holds the
// signed-in user and nothing a page could use as an Auth0 token.
//
// Every route and middleware is an http.Handler maker; the server lists them in its
// routes.
package webauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/fault"
)

// Config configures the browser half.
type Config struct {
	// BaseURL is linkbff's public origin ("https://app.example.com"): the callback is
	// {BaseURL}/auth/callback, sign-out returns to {BaseURL}/, and an https BaseURL
	// makes the cookie Secure and names it with the __Host- prefix.
	BaseURL string
	// Issuer is the tenant's issuer with its trailing slash; Auth0's endpoints
	// (authorize, oauth/token, v2/logout) are fixed paths under it.
	Issuer       string
	ClientID     string
	ClientSecret string
	// ClientSecretPrevious is a second secret of the application, for a rotation
	// without downtime: the code exchange tries it when Auth0 refuses the first with
	// 401, and from then on tries first whichever worked last.
	ClientSecretPrevious string
	// Keys are the tenant's signing keys, shared with the bearer validator.
	Keys *auth.KeySource
	// SessionScopes are the scopes of a session's principal: the signed-in user of
	// linkbff's own page may do everything the API offers.
	SessionScopes []string

	IdleTimeout time.Duration // a session unused this long ends
	Lifetime    time.Duration // a session ends this long after sign-in, used or not

	// Store holds the sessions; nil keeps them in this process's memory.
	Store scs.Store
	// Registry indexes the sessions by user and Auth0 login session and remembers
	// used logout tokens; nil keeps it in this process's memory. Replicas sharing
	// Store must share it too.
	Registry Registry
	// HTTPClient makes the code exchange (nil: a client with a 10s timeout).
	HTTPClient *http.Client
	// OnError writes a failure (a *fault.Error) as the response.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
	Now     func() time.Time
}

// Web is the browser half: session middleware, the /auth routes, and cookie
// authentication of the API.
type Web struct {
	cfg      Config
	sessions *scs.SessionManager
	oauth    *oauth2.Config
	// secrets are the client secrets in the order configured; preferred indexes the
	// one that last passed Auth0's client authentication.
	secrets   []string
	preferred atomic.Int32
	verifier  *oidc.IDTokenVerifier
	client    *http.Client
	csrf      *http.CrossOriginProtection
	logout    string // the tenant's sign-out URL for this client
	registry  Registry
}

// Cookie names: a __Host- cookie is only accepted by browsers when Secure, with
// Path=/ and no Domain, so no subdomain can set or shadow it.
const (
	cookieName       = "linkbff_session"
	secureCookieName = "__Host-linkbff_session"
)

// Session keys. Values are JSON strings: scs's gob codec then needs no type
// registration, and the stored form does not depend on Go types.
const (
	keyUser   = "user"
	keyLogins = "logins"
)

// sessionRetryAfter is the Retry-After of a 503 while the session store is down.
const sessionRetryAfter = 2 * time.Second

// New returns the browser half.
func New(cfg Config) (*Web, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("webauth: BaseURL must be an http(s) origin, got %q", cfg.BaseURL)
	}
	if cfg.Keys == nil || cfg.OnError == nil || cfg.ClientID == "" || cfg.Issuer == "" {
		return nil, errors.New("webauth: Keys, OnError, ClientID and Issuer are required")
	}
	if cfg.IdleTimeout <= 0 || cfg.Lifetime <= 0 {
		return nil, errors.New("webauth: IdleTimeout and Lifetime must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &Web{cfg: cfg, client: cfg.HTTPClient, registry: cfg.Registry}
	if w.registry == nil {
		w.registry = newMemoryRegistry(cfg.Now)
	}
	if w.client == nil {
		w.client = &http.Client{Timeout: 10 * time.Second}
	}

	sm := scs.New()
	sm.IdleTimeout = cfg.IdleTimeout
	sm.Lifetime = cfg.Lifetime
	// A copy of the store (a Redis dump) then holds no usable session token.
	sm.HashTokenInStore = true
	sm.Store = cfg.Store
	if sm.Store == nil {
		sm.Store = newMemoryStore()
	}
	sm.Cookie.Name = cookieName
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode // sent on the top-level GET back from Auth0
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = true
	if base.Scheme == "https" {
		sm.Cookie.Name = secureCookieName
		sm.Cookie.Secure = true
	}
	w.sessions = sm

	w.oauth = &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   cfg.Issuer + "authorize",
			TokenURL:  cfg.Issuer + "oauth/token",
			AuthStyle: oauth2.AuthStyleInParams, // Auth0's default for regular web apps (client_secret_post)
		},
		RedirectURL: strings.TrimSuffix(cfg.BaseURL, "/") + "/auth/callback",
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email"},
	}
	w.secrets = []string{cfg.ClientSecret}
	if cfg.ClientSecretPrevious != "" && cfg.ClientSecretPrevious != cfg.ClientSecret {
		w.secrets = append(w.secrets, cfg.ClientSecretPrevious)
	}
	w.verifier = oidc.NewVerifier(cfg.Issuer, keySet{cfg.Keys}, &oidc.Config{
		ClientID:             cfg.ClientID,
		SupportedSigningAlgs: []string{oidc.RS256},
		Now:                  cfg.Now,
	})

	w.csrf = http.NewCrossOriginProtection()
	// Behind a proxy that rewrites Host, the page's own origin still counts as same-origin.
	if err := w.csrf.AddTrustedOrigin(base.Scheme + "://" + base.Host); err != nil {
		return nil, fmt.Errorf("webauth: %w", err)
	}
	w.csrf.SetDenyHandler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.cfg.OnError(rw, r, csrfFailed("This request comes from another site."))
	}))

	q := url.Values{"client_id": {cfg.ClientID}, "returnTo": {strings.TrimSuffix(cfg.BaseURL, "/") + "/"}}
	w.logout = cfg.Issuer + "v2/logout?" + q.Encode()
	return w, nil
}

// User is the signed-in person, from the ID token of the login.
type User struct {
	Subject  string    `json:"sub"`
	Name     string    `json:"name,omitempty"`
	Email    string    `json:"email,omitempty"`
	Picture  string    `json:"picture,omitempty"`
	AuthTime time.Time `json:"auth_time"`
	// SID is the Auth0 login session the sign-in belongs to (the ID token's sid),
	// which a back-channel logout names.
	SID string `json:"sid,omitempty"`
}

// User returns the user of the request's session, loaded by LoadSession or
// Authenticate.
func (w *Web) User(ctx context.Context) (User, bool) {
	var u User
	s := w.sessions.GetString(ctx, keyUser)
	if s == "" || json.Unmarshal([]byte(s), &u) != nil || u.Subject == "" {
		return User{}, false
	}
	return u, true
}

func (w *Web) putJSON(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.sessions.Put(ctx, key, string(b))
	return nil
}

// LoadSession loads the request's session (a new, empty one without a valid cookie).
// Handlers that change it call save before they answer.
func (w *Web) LoadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx, err := w.load(r)
		if err != nil {
			w.cfg.OnError(rw, r, err)
			return
		}
		next.ServeHTTP(rw, r.WithContext(ctx))
	})
}

func (w *Web) load(r *http.Request) (context.Context, error) {
	token := ""
	if c, err := r.Cookie(w.sessions.Cookie.Name); err == nil {
		token = c.Value
	}
	ctx, err := w.sessions.Load(r.Context(), token)
	if err != nil {
		return nil, sessionUnavailable(err)
	}
	return ctx, nil
}

// save writes a changed session to the store and its cookie to the response (a
// cleared cookie for a destroyed session). It runs before the handler answers, so a
// store failure becomes the answer instead of a half-written response.
func (w *Web) save(rw http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rw.Header().Add("Vary", "Cookie")
	switch w.sessions.Status(ctx) {
	case scs.Modified:
		token, expiry, err := w.sessions.Commit(ctx)
		if err != nil {
			return sessionUnavailable(err)
		}
		w.sessions.WriteSessionCookie(ctx, rw, token, expiry)
	case scs.Destroyed:
		w.sessions.WriteSessionCookie(ctx, rw, "", time.Time{})
	}
	return nil
}

// expiresAt is when the session ends unless used again: the idle timeout from now,
// capped by its lifetime.
func (w *Web) expiresAt(ctx context.Context) time.Time {
	exp := w.sessions.Deadline(ctx)
	if idle := w.cfg.Now().Add(w.cfg.IdleTimeout); idle.Before(exp) {
		exp = idle
	}
	return exp.UTC().Truncate(time.Second)
}

func sessionUnavailable(err error) *fault.Error {
	e := fault.Wrap(err, fault.SessionUnavailable, "The session store cannot be reached; retry shortly.")
	e.RetryAfter = sessionRetryAfter
	return e
}

func csrfFailed(detail string) *fault.Error {
	return fault.New(fault.CSRFFailed, detail)
}
