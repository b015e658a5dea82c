package webauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/auth"
)

// keySet lets go-oidc check ID-token signatures with the KeySource the bearer
// validator already uses: one JWKS cache, its rate-limited refresh on an unknown
// kid, and its binding of each key to RS256 (KeySource.VerificationKey). go-oidc
// itself checks the algorithm, issuer, audience and expiry.
type keySet struct{ keys *auth.KeySource }

func (k keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("malformed ID token: %w", err)
	}
	return k.verify(ctx, jws)
}

// verify checks the signature of a parsed token with the tenant's key of its kid and
// returns the payload. While the keys cannot be fetched its error is KeySource.Keys'
// (wrapping auth.ErrKeysUnavailable): not the token's fault.
func (k keySet) verify(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	if len(jws.Signatures) != 1 {
		return nil, errors.New("ID token must have exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	if kid == "" {
		return nil, errors.New("ID token has no kid")
	}
	pub, err := k.keys.VerificationKey(ctx, kid)
	if err != nil {
		return nil, err
	}
	return jws.Verify(pub)
}
