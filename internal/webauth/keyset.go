package webauth

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/auth"
)

// keySet lets go-oidc check ID-token signatures with the KeySource the bearer
// validator already uses: one JWKS cache, and its rate-limited refresh on an unknown
// kid. go-oidc itself checks the algorithm, issuer, audience and expiry.
type keySet struct{ keys *auth.KeySource }

func (k keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("malformed ID token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("ID token must have exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	if kid == "" {
		return nil, errors.New("ID token has no kid")
	}
	set, err := k.keys.Keys(ctx, kid)
	if err != nil {
		return nil, err // the keys cannot be fetched: not the token's fault
	}
	found := set.Key(kid)
	if len(found) == 0 {
		return nil, fmt.Errorf("unknown signing key %q", kid)
	}
	pub, ok := found[0].Key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("signing key %q is not an RSA public key", kid)
	}
	return jws.Verify(pub)
}
