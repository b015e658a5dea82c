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
	return withPrincipal(ctx, &p)
}

// withPrincipal stores p, which is never modified again, in ctx: a pointer, so that
// the token cache's Principal goes in without a copy on the heap.
func withPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, if authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	if !ok {
		return Principal{}, false
	}
	return *p, true
}

// BearerConfig configures access-token validation.
type BearerConfig struct {
	Issuer   string // with trailing slash
	Audience string
	Keys     *KeySource
	Leeway   time.Duration // allowed clock skew (default 30s)
	// CacheBytes bounds the cache of validated tokens, as tokenCache counts them
	// (default DefaultTokenCacheBytes; negative disables it); CacheMaxAge bounds an
	// entry's life (default 1m).
	CacheBytes  int
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
	mw        *jwtmiddleware.JWTMiddleware
	cache     *tokenCache // nil when disabled
}

type kidKey struct{}

// DefaultTokenCacheBytes is BearerConfig.CacheBytes's default: about 3,000 tokens of
// 1 KB.
const DefaultTokenCacheBytes = 8 << 20

// NewBearer builds the validator: RS256 only, issuer, audience, expiry (required) with
// leeway.
func NewBearer(cfg BearerConfig) (*Bearer, error) {
	if cfg.Leeway == 0 {
		cfg.Leeway = 30 * time.Second
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultTokenCacheBytes
	}
	if cfg.CacheMaxAge == 0 {
		cfg.CacheMaxAge = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bearer{keys: cfg.Keys, onError: cfg.OnError}
	if cfg.CacheBytes > 0 {
		b.cache = newTokenCache(cfg.CacheBytes, cfg.CacheMaxAge, cfg.Now)
		cfg.Keys.onRotate(b.cache.flush)
	}
	keyFunc := func(ctx context.Context) (any, error) {
		kid, _ := ctx.Value(kidKey{}).(string)
		return b.keys.Keys(ctx, kid)
	}
	v, err := validator.New(keyFunc, validator.RS256, cfg.Issuer, []string{cfg.Audience},
		validator.WithAllowedClockSkew(cfg.Leeway),
		validator.WithCustomClaims(func() validator.CustomClaims { return &accessClaims{} }))
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	b.validator = v
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
		if e, ok := b.cache.get(token); ok {
			return e.claims, nil
		}
	}
	v, err := b.validator.ValidateToken(context.WithValue(ctx, kidKey{}, headerKID(token)), token)
	if err != nil {
		return nil, err
	}
	if c, ok := v.(*validator.ValidatedClaims); ok {
		p := principalOf(c)
		if b.cache != nil {
			b.cache.put(token, c, p)
		}
	}
	return v, nil
}

// principalOf builds the Principal of validated claims (splitting the scope once),
// or returns nil when they name no user.
func principalOf(vc *validator.ValidatedClaims) *Principal {
	ac, _ := vc.CustomClaims.(*accessClaims)
	if vc.RegisteredClaims.Subject == "" || ac == nil {
		return nil
	}
	return &Principal{Subject: vc.RegisteredClaims.Subject, ClientID: ac.Azp, Scopes: strings.Fields(ac.Scope), Method: "bearer"}
}

// Middleware authenticates a bearer token when one is sent and stores the Principal;
// requests without Authorization pass through unauthenticated, for a later
// middleware to authenticate or refuse.
//
// A token in the cache is answered here, before go-jwt-middleware: its extractor
// splits the header with strings.Fields and it clones the request (headers included)
// to attach the claims, which costs more than everything else on a cached request.
// Only a header in the one form its extractor reads the same way ("Bearer" in any
// case, one space, a token of visible ASCII) takes this path; anything else, and
// every miss, goes through go-jwt-middleware as before.
func (b *Bearer) Middleware(next http.Handler) http.Handler {
	full := b.mw.CheckJWT(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vc, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*validator.ValidatedClaims)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		p := principalOf(vc)
		if p == nil {
			b.onError(w, r, invalidToken(errors.New("token has no sub claim")))
			return
		}
		next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), p)))
	}))
	if b.cache == nil {
		return full
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := plainBearer(r.Header["Authorization"]); ok {
			if e, ok := b.cache.get(tok); ok {
				next.ServeHTTP(w, r.WithContext(withPrincipal(r.Context(), e.principal)))
				return
			}
		}
		full.ServeHTTP(w, r)
	})
}

// plainBearer returns the token of an Authorization header of the form
// "Bearer <token>" (scheme in any case, one space, token of visible ASCII), which
// go-jwt-middleware's extractor reads as that same token. It reads the first field
// line, as the extractor does.
func plainBearer(lines []string) (string, bool) {
	if len(lines) == 0 {
		return "", false
	}
	v := lines[0]
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	tok := v[len(scheme):]
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= ' ' || c >= 0x7f {
			return "", false
		}
	}
	return tok, true
}

// invalidToken turns a validation failure into a 401 problem with the RFC 6750
// challenge. The cause (why the token failed) is logged, not sent.
func invalidToken(err error) *problem.Error {
	return problem.Wrap(err, fault.InvalidToken, "The access token is missing, malformed, expired or not issued for this API.").
		WithHeader("WWW-Authenticate", `Bearer realm="linkbff", error="invalid_token"`)
}

// Unauthenticated is the 401 problem for a request that carries no credentials.
func Unauthenticated() *problem.Error {
	return problem.New(fault.InvalidToken, "Authentication required: send an Auth0 access token as a Bearer token.").
		WithHeader("WWW-Authenticate", `Bearer realm="linkbff"`)
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
