package devtenant

import (
	"crypto"
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
	next    *signingKey       // published, not yet signing
	old     []*signingKey     // published, no longer signing (until revoked)
	extra   []jose.JSONWebKey // published by PublishKey; never signing
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
	set.Keys = append(set.Keys, r.extra...)
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
		r.extra = nil
	default:
		return fmt.Errorf("unknown key rotation step %q (want publish, switch or revoke)", step)
	}
	return nil
}

// PublishKey adds a public key to the JWKS as it is given (kid, use, alg and key
// type included) until the next RevokeOldKeys. The tenant never signs with it, but
// its own endpoints accept what it verifies, as they accept any published key. A
// test knob for how a verifier binds a JWKS key to an algorithm: a key published
// for encryption, for another algorithm, of another type or too short, or a second
// key with a kid already in use.
func (t *Tenant) PublishKey(k jose.JSONWebKey) error {
	if !k.IsPublic() {
		return fmt.Errorf("devtenant: PublishKey takes a public key, got %T", k.Key)
	}
	t.keys.mu.Lock()
	defer t.keys.mu.Unlock()
	t.keys.extra = append(t.keys.extra, k)
	return nil
}

// SignJWS returns the compact JWS of header and payload, both as given (any JSON,
// or none), signed with the current signing key under alg (RS256, RS384, RS512,
// PS256, PS384 or PS512), whatever header says. A test knob for tokens a verifier
// must refuse although the tenant signed them: another algorithm, an unexpected
// typ, a crit or embedded key, duplicate members, invalid UTF-8.
func (t *Tenant) SignJWS(alg string, header, payload []byte) (string, error) {
	h, ok := map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
		"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512}[alg]
	if !ok || !h.Available() {
		return "", fmt.Errorf("devtenant: SignJWS cannot sign %q", alg)
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	d := h.New()
	d.Write([]byte(input))
	t.keys.mu.RLock()
	key := t.keys.current.key
	t.keys.mu.RUnlock()
	var sig []byte
	var err error
	if alg[0] == 'P' {
		sig, err = rsa.SignPSS(rand.Reader, key, h, d.Sum(nil), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	} else {
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, h, d.Sum(nil))
	}
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// RotateKeys performs one step of a signing key rotation.
func (t *Tenant) RotateKeys(step KeyRotationStep) error { return t.keys.rotate(step) }

// SigningKeyID is the kid of the key currently signing tokens.
func (t *Tenant) SigningKeyID() string { return t.keys.currentKID() }
