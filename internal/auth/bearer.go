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

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
)

// Principal is who a request acts for.
type Principal struct {
	Subject  string   // Auth0 user id ("auth0|abc")
	ClientID string   // the application: the access token's client_id (else azp)
	Scopes   []string // shared with the token cache: read only
	Method   string   // MethodBearer, or how else the request was authenticated
}

// MethodBearer is the Principal Method of a request authenticated by an access token.
const MethodBearer = "bearer"

// HasScope reports whether p was granted scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

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

// PrincipalSlot is where a request's principal goes without a request copy: a
// context of the request's own (linkbff's server keeps one per request) that answers
// IsPrincipalKey's key with an empty *PrincipalSlot has Bearer.Middleware fill it in
// instead of adding a WithValue layer and copying the request (an eighth of what a
// request answered from the caches allocated). Layers outside the middleware see
// the principal once it is set; before, and on a request it refused, there is none.
type PrincipalSlot struct{ p *Principal }

// IsPrincipalKey reports whether k is the key the principal is looked up by.
func IsPrincipalKey(k any) bool {
	_, ok := k.(principalKey)
	return ok
}

// authenticated returns r carrying p: in r's empty PrincipalSlot if it has one,
// else in a copy of r.
func authenticated(r *http.Request, p *Principal) *http.Request {
	if slot, ok := r.Context().Value(principalKey{}).(*PrincipalSlot); ok && slot.p == nil {
		slot.p = p
		return r
	}
	return r.WithContext(withPrincipal(r.Context(), p))
}

// FromContext returns the request's principal, if authenticated.
func FromContext(ctx context.Context) (Principal, bool) {
	switch p := ctx.Value(principalKey{}).(type) {
	case *Principal:
		return *p, true
	case *PrincipalSlot:
		if p.p != nil {
			return *p.p, true
		}
	}
	return Principal{}, false
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
	// AllowedClients, when not empty, are the only applications (the token's
	// client_id, else azp) whose access tokens are accepted.
	AllowedClients []string
	// CacheBytes bounds the cache of validated tokens, as tokenCache counts them
	// (default DefaultTokenCacheBytes; negative disables it); CacheMaxAge bounds an
	// entry's life (default 1m).
	CacheBytes  int
	CacheMaxAge time.Duration
	// OnCacheLookup, when set, is called once per bearer token looked up in that
	// cache, with whether it was there (for metrics; it runs on every request, so
	// it must not allocate). A token that fails the text check is never looked up.
	OnCacheLookup func(hit bool)
	Now           func() time.Time
	// OnError writes an authentication failure: a *problem.Error (invalid_token
	// with its challenge) or the *fault.Error of signing keys that cannot be fetched.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
}

// Bearer validates "Authorization: Bearer" access tokens.
type Bearer struct {
	keys      *KeySource
	clients   []string // BearerConfig.AllowedClients
	onError   func(w http.ResponseWriter, r *http.Request, err error)
	validator *validator.Validator
	// byIssuer holds a validator per issuer when there are several (go-jwt-middleware
	// checks one); nil with one.
	byIssuer map[string]*validator.Validator
	mw       *jwtmiddleware.JWTMiddleware
	cache    *tokenCache // nil when disabled
	onLookup func(hit bool)
}

type kidKey struct{}

// DefaultTokenCacheBytes is BearerConfig.CacheBytes's default: about 3,000 tokens of
// 1 KB.
const DefaultTokenCacheBytes = 8 << 20

// NewBearer builds the validator. A token is accepted when, in this order:
//   - its text is a compact JWS in canonical base64url, RS256 with a kid, typ (if any)
//     "JWT", "at+jwt" or "application/at+jwt", no crit, no embedded key (checkCompact;
//     RFC 9068 §4 step 1, RFC 8725 §3.1, §3.7, §3.10, §3.11);
//   - it is signed by the JWKS key of that kid, bound to RS256 (VerificationKey;
//     RFC 9068 §4 step 5, RFC 8725 §3.1, §3.3);
//   - iss is exactly the issuer, aud contains the API's identifier, exp is present
//     and not past, iat is present and not in the future, nbf (if any) is reached,
//     with the leeway (go-jwt-middleware and accessClaims.Validate; RFC 9068 §2.2, §4
//     steps 3, 4, 6; RFC 8725 §3.8, §3.9);
//   - sub is an Auth0 user id (provider|id), client_id or azp names the application
//     (equal when both are present; one of AllowedClients when set), and the token
//     is not a client-credentials grant (accessClaims.Validate).
//
// Only the text check runs before the validated-token cache is looked up; every
// other check runs once per token, before the token enters the cache.
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
	b := &Bearer{keys: cfg.Keys, onError: cfg.OnError, clients: cfg.AllowedClients, onLookup: cfg.OnCacheLookup}
	if b.onLookup == nil {
		b.onLookup = func(bool) {}
	}
	if cfg.CacheBytes > 0 {
		b.cache = newTokenCache(cfg.CacheBytes, cfg.CacheMaxAge, cfg.Now)
		cfg.Keys.onRotate(b.cache.flush)
	}
	// The key function hands the validator one key, the one the JWKS binds to the
	// token's kid and RS256, never the whole set: go-jose would otherwise pick a key
	// by kid itself, whatever the key's use or algorithm.
	keyFunc := func(ctx context.Context) (any, error) {
		kid, _ := ctx.Value(kidKey{}).(string)
		return b.keys.VerificationKey(ctx, kid)
	}
	newValidator := func(issuer string) (*validator.Validator, error) {
		v, err := validator.New(keyFunc, validator.RS256, issuer, []string{cfg.Audience},
			validator.WithAllowedClockSkew(cfg.Leeway),
			validator.WithCustomClaims(func() validator.CustomClaims { return &accessClaims{clients: b.clients} }))
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
	Scope    string    `json:"scope"`
	Azp      string    `json:"azp"`
	ClientID string    `json:"client_id"`
	Sub      string    `json:"sub"`
	Exp      *int64    `json:"exp"`
	Iat      *int64    `json:"iat"`
	Gty      grantType `json:"gty"`

	clients []string // BearerConfig.AllowedClients (shared, read only)
	client  string   // the application: client_id, else azp
}

// Validate requires what go-jwt-middleware leaves optional and RFC 9068 §2.2 requires:
// exp (go-jose only checks it when present, and a token that never expires is not
// one Auth0 issues), iat, sub, and the application (client_id; Auth0's default
// token profile names it azp instead). jti, also required there, is not: Auth0's
// default profile does not send it, and linkbff keeps no record of token ids.
//
// sub must be an Auth0 user id: it is put into Management API URLs. That also
// refuses machine-to-machine tokens (sub "{client_id}@clients"), as does their gty
// "client-credentials": they act for an application, not a user, and have no
// identities to list or link.
func (c *accessClaims) Validate(context.Context) error {
	switch {
	case c.Exp == nil:
		return errors.New("token has no exp claim")
	case c.Iat == nil:
		return errors.New("token has no iat claim")
	case c.Gty.has("client-credentials"):
		return errors.New("token is a client-credentials grant: it acts for no user")
	}
	if err := account.CheckUserID(c.Sub); err != nil {
		return fmt.Errorf("sub: %w", err)
	}
	c.client = c.ClientID
	switch {
	case c.ClientID == "" && c.Azp == "":
		return errors.New("token names no application (client_id or azp)")
	case c.ClientID == "":
		c.client = c.Azp
	case c.Azp != "" && c.Azp != c.ClientID:
		return errors.New("client_id and azp differ")
	}
	if len(c.clients) > 0 && !slices.Contains(c.clients, c.client) {
		return fmt.Errorf("application %q is not allowed", truncate(c.client))
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

// validate is go-jwt-middleware's check of a token: it returns the token's
// *Principal, from the cache or built once from the verified claims, which the
// middleware puts in the request's context for Middleware to read.
func (b *Bearer) validate(ctx context.Context, token string) (any, error) {
	// Before the cache: only a token in its one canonical spelling can be looked up
	// or stored, so one token never occupies two entries, and no spelling of a token
	// reaches the laxer parser below.
	h, err := checkCompact(token, accessTokenKind)
	if err != nil {
		return nil, err
	}
	if b.cache != nil {
		e, ok := b.cache.get(token)
		b.onLookup(ok)
		if ok {
			return e.principal, nil
		}
	}
	val := b.validator
	if b.byIssuer != nil {
		// The unverified iss only picks the validator, which checks it again.
		if v, ok := b.byIssuer[payloadIssuer(token)]; ok {
			val = v
		}
	}
	v, err := val.ValidateToken(context.WithValue(ctx, kidKey{}, h.Kid), token)
	if err != nil {
		return nil, err
	}
	vc, _ := v.(*validator.ValidatedClaims)
	p := principalOf(vc)
	if p == nil {
		return nil, errors.New("token has no sub claim")
	}
	if b.cache != nil {
		b.cache.put(token, time.Unix(vc.RegisteredClaims.Expiry, 0), p)
	}
	return p, nil
}

// principalOf builds the Principal of validated claims (splitting the scope once),
// or returns nil when they name no user.
func principalOf(vc *validator.ValidatedClaims) *Principal {
	if vc == nil {
		return nil
	}
	ac, _ := vc.CustomClaims.(*accessClaims)
	if vc.RegisteredClaims.Subject == "" || ac == nil {
		return nil
	}
	return &Principal{Subject: vc.RegisteredClaims.Subject, ClientID: ac.client, Scopes: strings.Fields(ac.Scope), Method: MethodBearer}
}

// Middleware authenticates a bearer token when one is sent and stores the Principal;
// requests without Authorization pass through unauthenticated, for a later
// middleware to authenticate or refuse.
//
// A token in the cache is answered here, before go-jwt-middleware: its extractor
// splits the header with strings.Fields and it clones the request (headers included)
// to attach the claims, which costs more than everything else on a cached request.
// Only a header whose text after "Bearer " is a cached token takes this path, and
// such a header is in the one form its extractor reads the same way (see
// bearerKey); anything else, and every miss, goes through go-jwt-middleware as
// before. A hit needs no text check
// (checkCompact) of its own: the cache is keyed by the token's exact bytes, and only
// a token that passed that check in validate is ever stored, so a hit is byte for
// byte a token that passed it.
func (b *Bearer) Middleware(next http.Handler) http.Handler {
	full := b.mw.CheckJWT(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// validate hands go-jwt-middleware the token's Principal as its claims.
		p, ok := r.Context().Value(jwtmiddleware.ContextKey{}).(*Principal)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, authenticated(r, p))
	}))
	if b.cache == nil {
		return full
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := bearerKey(r.Header["Authorization"]); ok {
			if e, ok := b.cache.get(tok); ok {
				b.onLookup(true)
				next.ServeHTTP(w, authenticated(r, e.principal))
				return
			}
		}
		full.ServeHTTP(w, r) // a miss is counted where validate looks again
	})
}

// bearerKey returns what follows "Bearer " (the scheme in any case, one space) on
// the first field line of an Authorization header: the token cache's lookup key. It
// checks nothing else, because a hit needs no check: the cache holds only tokens
// that passed checkCompact (unpadded base64url segments and dots: no space, no
// control or non-ASCII byte), so a key equal to one is a single field of visible
// ASCII, which go-jwt-middleware's extractor (strings.Fields of the same line) reads
// as that same token. Anything else misses and goes through the extractor.
func bearerKey(lines []string) (string, bool) {
	if len(lines) == 0 {
		return "", false
	}
	v := lines[0]
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	return v[len(scheme):], true
}

// invalidToken turns a validation failure into a 401 problem with the RFC 6750
// challenge. The cause (why the token failed) is logged, not sent.
func invalidToken(err error) *problem.Error {
	return problem.Wrap(err, fault.InvalidToken, "The access token is missing, malformed, expired or not issued for this API.").
		WithHeader("WWW-Authenticate", `Bearer realm="linkbff", error="invalid_token"`)
}

// InsufficientScope is the 403 problem of a caller whose credential lacks scope, with
// the RFC 6750 §3.1 challenge naming the scope the operation needs.
func InsufficientScope(scope string) *problem.Error {
	return problem.New(fault.InsufficientScope, "This operation needs an access token with the scope "+scope+".").
		WithHeader("WWW-Authenticate", `Bearer realm="linkbff", error="insufficient_scope", scope="`+scope+`"`)
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
