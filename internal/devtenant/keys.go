package devtenant

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// keyRing holds the tenant's RS256 signing keys. Rotation follows Auth0's three steps:
// publish the next key in the JWKS, switch signing to it, revoke the previous one.
type keyRing struct {
	mu      sync.RWMutex
	current *signingKey
	next    *signingKey   // published, not yet signing
	old     []*signingKey // published, no longer signing (until revoked)
}

type signingKey struct {
	kid    string
	key    *rsa.PrivateKey
	signer jose.Signer
}

func newSigningKey() (*signingKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	kid := base64.RawURLEncoding.EncodeToString(raw[:])
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	return &signingKey{kid: kid, key: k, signer: s}, nil
}

func newKeyRing() (*keyRing, error) {
	k, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	return &keyRing{current: k}, nil
}

func (r *keyRing) sign(payload []byte) (string, error) {
	r.mu.RLock()
	s := r.current.signer
	r.mu.RUnlock()
	obj, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (r *keyRing) currentKID() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current.kid
}

// jwks returns the public keys to publish: current, next and not-yet-revoked old keys.
func (r *keyRing) jwks() jose.JSONWebKeySet {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var set jose.JSONWebKeySet
	add := func(k *signingKey) {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"})
	}
	add(r.current)
	if r.next != nil {
		add(r.next)
	}
	for _, k := range r.old {
		add(k)
	}
	return set
}

// KeyRotationStep is one step of a signing key rotation.
type KeyRotationStep string

const (
	// PublishNextKey adds a new key to the JWKS without signing with it.
	PublishNextKey KeyRotationStep = "publish"
	// SwitchSigningKey signs with the published next key (publishing one first if
	// needed); the previous key stays in the JWKS.
	SwitchSigningKey KeyRotationStep = "switch"
	// RevokeOldKeys removes previous keys from the JWKS: tokens they signed stop verifying.
	RevokeOldKeys KeyRotationStep = "revoke"
)

func (r *keyRing) rotate(step KeyRotationStep) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch step {
	case PublishNextKey:
		if r.next != nil {
			return nil
		}
		k, err := newSigningKey()
		if err != nil {
			return err
		}
		r.next = k
	case SwitchSigningKey:
		if r.next == nil {
			k, err := newSigningKey()
			if err != nil {
				return err
			}
			r.next = k
		}
		r.old = append(r.old, r.current)
		r.current, r.next = r.next, nil
	case RevokeOldKeys:
		r.old = nil
	default:
		return fmt.Errorf("unknown key rotation step %q (want publish, switch or revoke)", step)
	}
	return nil
}

// RotateKeys performs one step of a signing key rotation.
func (t *Tenant) RotateKeys(step KeyRotationStep) error { return t.keys.rotate(step) }

// SigningKeyID is the kid of the key currently signing tokens.
func (t *Tenant) SigningKeyID() string { return t.keys.currentKID() }
