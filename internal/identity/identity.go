// Package identity owns the account-linking rules: listing a user's identities
// (cached, coalesced), issuing one-time link intents, linking a secondary login after
// verifying it ourselves and merging its metadata, and unlinking. It talks to Auth0
// only through the Upstream interface and to shared state through Store interfaces,
// so replicas can share that state (Redis) or keep it in memory.
package identity

import (
	"context"
	"time"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/mgmt"
)

// View is what a user sees of their account: the primary user id and every identity,
// the primary first.
type View struct {
	UserID     string     `json:"user_id"`
	Identities []Identity `json:"identities"`
}

// Identity is one login identity of the account. It never carries IdP tokens.
type Identity struct {
	Provider   string  `json:"provider"`
	UserID     string  `json:"user_id"`
	Connection string  `json:"connection"`
	IsSocial   bool    `json:"is_social"`
	Primary    bool    `json:"primary"`
	Profile    Profile `json:"profile"`
}

// Profile is the public profile of an identity.
type Profile struct {
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
	Picture       string `json:"picture,omitempty"`
}

// Upstream is what the service needs of Auth0's Management API.
type Upstream interface {
	GetUser(ctx context.Context, userID string) (*mgmt.User, error)
	UpdateUserMetadata(ctx context.Context, userID string, userMetadata map[string]any) error
	LinkWithToken(ctx context.Context, primaryUserID, idToken string) ([]mgmt.Identity, error)
	LinkIdentity(ctx context.Context, primaryUserID, provider, userID string) ([]mgmt.Identity, error)
	Unlink(ctx context.Context, primaryUserID, provider, userID string) ([]mgmt.Identity, error)
}

// TokenVerifier verifies the secondary login's ID token.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (auth.IDToken, error)
}

// IntentStore keeps one-time link intents (nonces) bound to the user who asked.
type IntentStore interface {
	// PutIntent stores nonce for subject until ttl passes.
	PutIntent(ctx context.Context, nonce, subject string, ttl time.Duration) error
	// ConsumeIntent deletes the intent and reports whether it existed, was unexpired
	// and belonged to subject. An intent of another subject is left alone.
	ConsumeIntent(ctx context.Context, nonce, subject string) (bool, error)
}

// Cache keeps identity views between reads.
type Cache interface {
	GetView(ctx context.Context, userID string) (View, bool, error)
	SetView(ctx context.Context, userID string, v View, ttl time.Duration) error
	DeleteView(ctx context.Context, userID string) error
}

// Locker serializes link/unlink per user.
type Locker interface {
	// Lock blocks until the key is held or ctx ends; unlock releases it.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Store is the shared state the service needs.
type Store interface {
	IntentStore
	Cache
	Locker
}

// SharedCache is a Cache that several replicas share (Redis). Service's stale-read
// guard (a read that started before a link or unlink must not cache what it read
// over the write's newer view) must then hold across replicas, so such a store keeps
// a write generation per user beside the view and compares it in the same atomic
// step as the write. Service uses it when its Store implements it; otherwise (the
// memory store, one process) the guard is a per-process counter.
type SharedCache interface {
	// Generation returns userID's write generation, which every Wrote of userID
	// changes.
	Generation(ctx context.Context, userID string) (uint64, error)
	// SetViewIf stores v as SetView does, but only while userID's generation is
	// still gen; stored reports whether it did.
	SetViewIf(ctx context.Context, userID string, gen uint64, v View, ttl time.Duration) (stored bool, err error)
	// Wrote records a link or unlink of userID: in one step it advances userID's
	// generation and stores v, the write's result, for ttl, or forgets the view when
	// v is nil (the result is unknown).
	Wrote(ctx context.Context, userID string, v *View, ttl time.Duration) error
}

func viewFrom(userID string, ids []mgmt.Identity, primary Profile) View {
	v := View{UserID: userID, Identities: make([]Identity, 0, len(ids))}
	for i, id := range ids {
		it := Identity{Provider: id.Provider, UserID: id.UserID, Connection: id.Connection, IsSocial: id.IsSocial, Primary: i == 0}
		switch {
		case i == 0:
			it.Profile = primary
		case id.Profile != nil:
			it.Profile = Profile{Email: id.Profile.Email, EmailVerified: id.Profile.EmailVerified, Name: id.Profile.Name, Picture: id.Profile.Picture}
		}
		v.Identities = append(v.Identities, it)
	}
	return v
}

func primaryProfile(u *mgmt.User) Profile {
	return Profile{Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, Picture: u.Picture}
}

// has reports whether v holds the identity provider|userID, and whether it is primary.
func (v View) has(provider, userID string) (found, primary bool) {
	for _, id := range v.Identities {
		if id.Provider == provider && id.UserID == userID {
			return true, id.Primary
		}
	}
	return false, false
}
