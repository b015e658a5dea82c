// Package auth owns the verification of Auth0-issued tokens: bearer access tokens on
// the API (with go-jwt-middleware) and the secondary ID tokens presented for linking
// (with go-jose), both over one cached JWKS (KeySource). It also carries the
// authenticated Principal through the request context.
package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
)

// Principal is who a request acts for.
type Principal struct {
	Subject  string   // Auth0 user id ("auth0|abc")
	ClientID string   // azp of the access token
	Scopes   []string // shared with the token cache: read only
	Method   string   // "bearer" or "session"
}

type principalKey struct{}

// WithPrincipal stores p in ctx.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, if authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// BearerConfig configures access-token validation.
type BearerConfig struct {
	Issuer string // with trailing slash
	// ExtraIssuers are further accepted issuers: a tenant with a custom domain issues
	// tokens under both it and its canonical domain.
	ExtraIssuers []string
	Audience     string
	Keys         *KeySource
	Leeway       time.Duration // allowed clock skew (default 30s)
	// CacheSize bounds the cache of validated tokens (default 10000; negative
	// disables it); CacheMaxAge bounds an entry's life (default 1m).
	CacheSize   int
	CacheMaxAge time.Duration
	Now         func() time.Time
	// OnError writes an authentication failure: a *problem.Error (invalid_token
	// with its challenge) or the *fault.Error of signing keys that cannot be fetched.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
}

// Bearer validates "Authorization: Bearer" access tokens.
type Bearer struct {
	keys      *KeySource
	onError   func(w http.ResponseWriter, r *http.Request, err error)
	validator *validator.Validator
	// byIssuer holds a validator per issuer when there are several (go-jwt-middleware
	// checks one); nil with one.
	byIssuer map[string]*validator.Validator
	mw       *jwtmiddleware.JWTMiddleware
	cache    *tokenCache // nil when disabled
}

type kidKey struct{}

// NewBearer builds the validator: RS256 only, issuer, audience, expiry (required) with
// leeway.
func NewBearer(cfg BearerConfig) (*Bearer, error) {
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10000
	}
	if cfg.CacheMaxAge == 0 {
		cfg.CacheMaxAge = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bearer{keys: cfg.Keys, onError: cfg.OnError}
	if cfg.CacheSize > 0 {
		b.cache = newTokenCache(cfg.CacheSize, cfg.CacheMaxAge, cfg.Now)
		cfg.Keys.onRotate(b.cache.flush)
	}
	keyFunc := func(ctx context.Context) (any, error) {
		kid, _ := ctx.Value(kidKey{}).(string)
		return b.keys.Keys(ctx, kid)
	}
	newValidator := func(issuer string) (*validator.Validator, error) {
		v, err := validator.New(keyFunc, validator.RS256, issuer, []string{cfg.Audience},
			validator.WithAllowedClockSkew(cfg.Leeway),
			validator.WithCustomClaims(func() validator.CustomClaims { return &accessClaims{} }))
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		return v, nil
	}
	v, err := newValidator(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	b.validator = v
	for _, iss := range cfg.ExtraIssuers {
		if iss == cfg.Issuer {
			continue
		}
		if b.byIssuer == nil {
			b.byIssuer = map[string]*validator.Validator{cfg.Issuer: v}
		}
		if b.byIssuer[iss], err = newValidator(iss); err != nil {
			return nil, err
		}
	}
	b.mw = jwtmiddleware.New(b.validate,
		jwtmiddleware.WithCredentialsOptional(true),
		jwtmiddleware.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			// The middleware wraps the validation error (invalidError unwraps to it),
			// which wraps the key function's: signing keys that cannot be fetched.
			if f, ok := errors.AsType[*fault.Error](err); ok {
				b.onError(w, r, f)
				return
			}
			b.onError(w, r, invalidToken(err))
		}))
	return b, nil
}

// accessClaims are the claims beyond the registered ones that we read or require.
type accessClaims struct {
	Scope string    `json:"scope"`
	Azp   string    `json:"azp"`
	Exp   *int64    `json:"exp"`
	Gty   grantType `json:"gty"`

	scopes []string // Scope split once at validation; the claims are cached and shared
}

// Validate requires exp: go-jose only checks it when present, and a token that never
// expires is not one Auth0 issues.
//
// It also refuses machine-to-machine tokens: a client-credentials grant (gty
// "client-credentials", sub "{client_id}@clients") acts for an application, not a
// user, and has no identities to list or link.
func (c *accessClaims) Validate(context.Context) error {
	if c.Exp == nil {
		return errors.New("token has no exp claim")
	}
	if c.Gty.has("client-credentials") {
		return errors.New("token is a client-credentials grant: it acts for no user")
	}
	return nil
}

// grantType is Auth0's gty claim: a string, or a list of strings when a token comes
// from more than one grant (e.g. a refresh of a password grant).
type grantType []string

func (g *grantType) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*g = grantType{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("gty claim: %w", err)
	}
	*g = many
	return nil
}

func (g grantType) has(gty string) bool { return slices.Contains(g, gty) }

func (b *Bearer) validate(ctx context.Context, token string) (any, error) {
	if b.cache != nil {
		if c, ok := b.cache.get(token); ok {
			return c, nil
		}
	}
	val := b.validator
	if b.byIssuer != nil {
		// The unverified iss only picks the validator, which checks it again.
		if v, ok := b.byIssuer[payloadIssuer(token)]; ok {
			val = v
		}
	}
	v, err := val.ValidateToken(context.WithValue(ctx, kidKey{}, headerKID(token)), token)
	if err != nil {
		return nil, err
	}
	if c, ok := v.(*validator.ValidatedClaims); ok {
		if ac, ok := c.CustomClaims.(*accessClaims); ok {
			ac.scopes = strings.Fields(ac.Scope)
		}
		if b.cache != nil {
			b.cache.put(token, c)
		}
	}
	return v, nil
}

// Middleware authenticates a bearer token when one is sent and stores the Principal;
// requests without Authorization pass through unauthenticated, for a later
// middleware to authenticate or refuse.
func (b *Bearer) Middleware(next http.Handler) http.Handler {
	return b.mw.CheckJWT(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vc, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		ac, _ := vc.CustomClaims.(*accessClaims)
		if vc.RegisteredClaims.Subject == "" || ac == nil {
			b.onError(w, r, invalidToken(errors.New("token has no sub claim")))
			return
		}
		p := Principal{Subject: vc.RegisteredClaims.Subject, ClientID: ac.Azp, Scopes: ac.scopes, Method: "bearer"}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	}))
}

// invalidToken turns a validation failure into a 401 problem with the RFC 6750
// challenge. The cause (why the token failed) is logged, not sent.
func invalidToken(err error) *problem.Error {
	return problem.Wrap(err, fault.InvalidToken, "The access token is missing, malformed, expired or not issued for this API.").
		WithHeader("WWW-Authenticate", `Bearer realm="linkbff", error="invalid_token"`)
}

// Unauthenticated is the 401 problem for a request that carries no credentials: no
// bearer token, and no session cookie of a live session. Its challenge names only
// Bearer (RFC 6750), as a cookie has no HTTP authentication scheme; the detail names
// both ways in.
func Unauthenticated() *problem.Error {
	return problem.New(fault.InvalidToken, "Authentication required: send an Auth0 access token as a Bearer token, or sign in (GET /auth/login) and send the session cookie.").
		WithHeader("WWW-Authenticate", `Bearer realm="linkbff"`)
}

// payloadIssuer reads the iss claim of a compact JWS without verifying anything; it
// only picks the validator of that issuer.
func payloadIssuer(token string) string {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	p, _, ok := strings.Cut(rest, ".")
	if !ok || len(p) > 16<<10 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return ""
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(b, &claims) != nil {
		return ""
	}
	return claims.Iss
}

// headerKID reads the kid from a compact JWS header without verifying anything; it is
// only a hint for key selection.
func headerKID(token string) string {
	h, _, ok := strings.Cut(token, ".")
	if !ok || len(h) > 4096 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return ""
	}
	return hdr.Kid
}
