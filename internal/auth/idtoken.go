package auth

import (
	"context"
	"crypto/rsa"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
)

// IDTokenVerifier verifies the ID token of a secondary login (the link_with token)
// ourselves, before any Management API call: RS256 only, the tenant's issuer, one of
// the allowed audiences, not expired, iat and sub present.
type IDTokenVerifier struct {
	keys      *KeySource
	issuers   []string
	audiences []string
	leeway    time.Duration
	now       func() time.Time
}

// IDTokenVerifierConfig configures an IDTokenVerifier.
type IDTokenVerifierConfig struct {
	Keys   *KeySource
	Issuer string
	// ExtraIssuers are further accepted issuers (a custom domain's and the canonical
	// domain's, see BearerConfig).
	ExtraIssuers []string
	// Audiences are the client ids whose ID tokens are accepted; the first is the
	// BFF's own client id.
	Audiences []string
	Leeway    time.Duration // default 30s
	Now       func() time.Time
}

// NewIDTokenVerifier returns a verifier.
func NewIDTokenVerifier(cfg IDTokenVerifierConfig) *IDTokenVerifier {
	v := &IDTokenVerifier{keys: cfg.Keys, issuers: append([]string{cfg.Issuer}, cfg.ExtraIssuers...), audiences: cfg.Audiences, leeway: cfg.Leeway, now: cfg.Now}
	if v.leeway == 0 {
		v.leeway = 30 * time.Second
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v
}

// ErrInvalidIDToken is wrapped by every reason an ID token is refused. It is a
// fault.Invalid failure, which is how the linking rules recognize a refused token.
var ErrInvalidIDToken error = fault.Failure{Kind: fault.Invalid, Message: "invalid ID token"}

const maxIDTokenSize = 16 << 10

// Verify checks raw and returns its claims. A refused token's error wraps
// ErrInvalidIDToken; while the signing keys cannot be fetched the error is the
// *fault.Error of KeySource.Keys.
func (v *IDTokenVerifier) Verify(ctx context.Context, raw string) (account.IDToken, error) {
	fail := func(format string, args ...any) (account.IDToken, error) {
		return account.IDToken{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalidIDToken}, args...)...)
	}
	if len(raw) > maxIDTokenSize {
		return fail("token larger than %d bytes", maxIDTokenSize)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return fail("%v", err)
	}
	kid := tok.Headers[0].KeyID
	if kid == "" {
		return fail("no kid in header")
	}
	set, err := v.keys.Keys(ctx, kid)
	if err != nil {
		return account.IDToken{}, err // an infrastructure failure, not the token's fault
	}
	keys := set.Key(kid)
	if len(keys) == 0 {
		return fail("unknown signing key %q", kid)
	}
	pub, ok := keys[0].Key.(*rsa.PublicKey)
	if !ok {
		return fail("signing key %q is not an RSA public key", kid)
	}
	var std jwt.Claims
	var extra struct {
		Nonce         string `json:"nonce"`
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
		AuthTime      *int64 `json:"auth_time"`
	}
	if err := tok.Claims(pub, &std, &extra); err != nil {
		return fail("%v", err)
	}
	if std.Expiry == nil || std.IssuedAt == nil {
		return fail("exp and iat are required")
	}
	if !slices.Contains(v.issuers, std.Issuer) {
		return fail("issuer %q is not the tenant's", std.Issuer)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Time: v.now()}, v.leeway); err != nil {
		return fail("%v", err)
	}
	aud := ""
	for _, a := range v.audiences {
		if slices.Contains(std.Audience, a) {
			aud = a
			break
		}
	}
	if aud == "" {
		return fail("audience %v is not an allowed client", []string(std.Audience))
	}
	if std.Subject == "" {
		return fail("no sub")
	}
	out := account.IDToken{Subject: std.Subject, Audience: aud, Nonce: extra.Nonce, Email: extra.Email, IssuedAt: std.IssuedAt.Time()}
	if extra.EmailVerified != nil {
		out.EmailVerified = *extra.EmailVerified
	}
	if extra.AuthTime != nil {
		out.AuthTime = time.Unix(*extra.AuthTime, 0)
	}
	return out, nil
}
