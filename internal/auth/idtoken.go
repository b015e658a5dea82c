package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
)

// IDTokenVerifier verifies the ID token of a secondary login (the link_with token)
// ourselves, before any Management API call, by the rules of OpenID Connect Core 1.0
// §3.1.3.7 that apply to an ID token a client hands over (see Verify), plus Auth0's
// own: RS256 only, sub of the form provider|id.
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

// Verify checks raw and returns its claims. A refused token's error wraps
// ErrInvalidIDToken; while the signing keys cannot be fetched the error is the
// *fault.Error of KeySource.Keys.
//
// The checks, in order (OIDC = OpenID Connect Core 1.0):
//   - the text: a compact JWS in canonical base64url, RS256 with a kid, typ (if any)
//     "JWT", no crit, no embedded key (checkCompact). An encrypted ID token
//     (§3.1.3.7 step 1) is refused: linkbff registers no key to decrypt one.
//   - the signature, by the JWKS key of that kid, bound to RS256 (steps 6-8:
//     VerificationKey). No MAC algorithm: a token signed with the client secret
//     (HS256, step 8) is refused too.
//   - iss exactly the tenant's issuer, trailing slash included, or exactly one of
//     ExtraIssuers (step 2).
//   - aud: every audience an allowed client id (step 3: one that is not trusted
//     refuses the token); with more than one, azp must be present (step 4); azp,
//     when present, must be an allowed client id and among the audiences (step 5).
//   - exp present and not past (step 9), iat present and not in the future, nbf (if
//     any) reached, all with the leeway (step 10; the age limit, LINK_MAX_AGE, is
//     the linking rules' own check on iat and auth_time, as is the nonce, step 11).
//   - sub: an Auth0 user id, provider|id, at most 255 bytes (§2; account.CheckUserID).
//   - auth_time, when present, not in the future (step 13's check of its age is
//     the linking rules').
//
// Not checked, because nothing here depends on them: acr (step 12; linkbff
// requests none) and at_hash / c_hash (§3.1.3.8, §3.3.2.11), which bind an ID token
// to an access token or code delivered with it; linkbff receives the ID token alone
// and uses no access token or code from the secondary login.
func (v *IDTokenVerifier) Verify(ctx context.Context, raw string) (account.IDToken, error) {
	fail := func(format string, args ...any) (account.IDToken, error) {
		return account.IDToken{}, fmt.Errorf("%w: "+format, append([]any{ErrInvalidIDToken}, args...)...)
	}
	h, err := checkCompact(raw, idTokenKind)
	if err != nil {
		return fail("%v", err)
	}
	pub, err := v.keys.VerificationKey(ctx, h.Kid)
	if err != nil {
		if f, ok := errors.AsType[*fault.Error](err); ok {
			return account.IDToken{}, f // an infrastructure failure, not the token's fault
		}
		return fail("%v", err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return fail("%v", err)
	}
	var std jwt.Claims
	var extra struct {
		Nonce         string           `json:"nonce"`
		Email         string           `json:"email"`
		EmailVerified *bool            `json:"email_verified"`
		AuthTime      *jwt.NumericDate `json:"auth_time"`
		Azp           *string          `json:"azp"`
	}
	if err := tok.Claims(pub, &std, &extra); err != nil {
		return fail("%v", err)
	}
	if std.Expiry == nil || std.IssuedAt == nil {
		return fail("exp and iat are required")
	}
	if !slices.Contains(v.issuers, std.Issuer) {
		return fail("issuer %q is not the tenant's", truncate(std.Issuer))
	}
	now := v.now()
	if err := std.ValidateWithLeeway(jwt.Expected{Time: now}, v.leeway); err != nil {
		return fail("%v", err)
	}
	aud, err := v.audience(std.Audience, extra.Azp)
	if err != nil {
		return fail("%v", err)
	}
	if err := account.CheckUserID(std.Subject); err != nil {
		return fail("sub: %v", err)
	}
	out := account.IDToken{Subject: std.Subject, Audience: aud, Nonce: extra.Nonce, Email: extra.Email, IssuedAt: std.IssuedAt.Time()}
	if extra.EmailVerified != nil {
		out.EmailVerified = *extra.EmailVerified
	}
	if extra.AuthTime != nil {
		out.AuthTime = extra.AuthTime.Time()
		if out.AuthTime.After(now.Add(v.leeway)) {
			return fail("auth_time is in the future")
		}
	}
	return out, nil
}

// audience applies OIDC Core §3.1.3.7 steps 3-5 and returns the client the token was
// issued to: azp when present, else the one audience.
func (v *IDTokenVerifier) audience(aud jwt.Audience, azp *string) (string, error) {
	if len(aud) == 0 {
		return "", errors.New("no aud")
	}
	for _, a := range aud {
		if !slices.Contains(v.audiences, a) {
			return "", fmt.Errorf("audience %q is not an allowed client", truncate(a))
		}
	}
	if azp == nil {
		if len(aud) > 1 {
			return "", errors.New("several audiences and no azp")
		}
		return aud[0], nil
	}
	if !slices.Contains(v.audiences, *azp) || !slices.Contains(aud, *azp) {
		return "", fmt.Errorf("azp %q is not an allowed client among the audiences", truncate(*azp))
	}
	return *azp, nil
}
