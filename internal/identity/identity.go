// Package identity owns the account-linking rules: listing a user's identities
// (cached, coalesced), issuing one-time link intents, linking a secondary login after
// verifying it ourselves and merging its metadata, and unlinking. It talks to Auth0
// only through the Upstream interface and to shared state through Store interfaces,
// so replicas can share that state (Redis) or keep it in memory. It knows no HTTP:
// it speaks account's types and answers with fault errors, deciding on the kinds of
// failure (fault.FailureOf) its dependencies report, never on their error types.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/linkbff/linkbff/internal/account"
)

// View is what a user sees of their account: the primary user id and every identity,
// the primary first. Its JSON encoding is the API's IdentityList (openapi.yaml);
// internal/server's tests hold the two together.
type View struct {
	UserID     string     `json:"user_id"`
	Identities []Identity `json:"identities"`
	// Doc is the view encoded once (see Seal), kept beside it in the cache so that
	// serving a cached view encodes nothing. Every view Service returns has one; a
	// store keeps it as it was set (nil stays nil).
	Doc *Doc `json:"-"`
}

// Doc is a view as clients receive it. It is never modified once built, so any
// number of requests may share it.
type Doc struct {
	// JSON is the encoding of the view's fields.
	JSON []byte
	// ETag is a strong entity tag (RFC 9110, quotes included) derived from JSON: it
	// changes exactly when the JSON does, so two replicas that read the same answer
	// from Auth0 give the same tag, and a link or unlink, which changes the list,
	// always gives a new one. The JSON holds the user id, so no two users share a tag.
	ETag string
	// ETagList is []string{ETag}, made once: the form an HTTP header map holds, so
	// that setting the header on every answer allocates nothing. Read only.
	ETagList []string
}

// NewDoc returns the Doc of an encoded view and its tag.
func NewDoc(json []byte, etag string) *Doc {
	return &Doc{JSON: json, ETag: etag, ETagList: []string{etag}}
}

// Seal returns v with its Doc built from its fields.
func Seal(v View) View {
	v.Doc = nil
	b, err := json.Marshal(v)
	if err != nil {
		// A View is strings and booleans: encoding cannot fail.
		panic("identity: encoding a view: " + err.Error())
	}
	sum := sha256.Sum256(b)
	v.Doc = NewDoc(b, `"`+base64.RawURLEncoding.EncodeToString(sum[:16])+`"`)
	return v
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

// Upstream is what the service needs of Auth0's Management API. Its errors say
// their kind (fault.FailureOf): NotFound, Conflict, Invalid (with Auth0's message),
// Refused, RateLimited (with how long to wait), Unavailable or Timeout.
type Upstream interface {
	GetUser(ctx context.Context, userID string) (*account.User, error)
	UpdateUserMetadata(ctx context.Context, userID string, userMetadata map[string]any) error
	LinkWithToken(ctx context.Context, primaryUserID, idToken string) ([]account.Identity, error)
	LinkIdentity(ctx context.Context, primaryUserID, provider, userID string) ([]account.Identity, error)
	Unlink(ctx context.Context, primaryUserID, provider, userID string) ([]account.Identity, error)
}

// TokenVerifier verifies the secondary login's ID token. A token it refuses gets an
// error of kind fault.Invalid; any other error (a *fault.Error such as signing keys
// that cannot be fetched) is passed on to the caller as it is.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (account.IDToken, error)
}

// The store contract. Service keeps its shared state behind the three interfaces
// below; each adapter (internal/store/memstore for one process, a Redis store for
// replicas) implements all of them as a Store, and the shared suite in
// internal/identity/storetest proves every rule written here, so a new store runs it
// unchanged.
//
// Common to every method:
//   - Time: a store judges the expiry of intents and views by the clock it was given
//     (a now func() time.Time), never by the wall clock alone. A store that also
//     lets its backend forget entries by itself (a Redis TTL) does so only as garbage
//     collection, no earlier than that clock says: it keeps the expiry instant with the
//     value and compares it with now. Expiry may be kept to the millisecond.
//   - Errors: a non-nil error means the store could not answer (e.g. Redis is
//     unreachable); (false, nil) and (View{}, false, nil) are answers. A store returns
//     once ctx ends, with ctx's error or its own.
//   - Concurrency: every method is safe for concurrent use, also across replicas when
//     the store is shared.

// MaxIntentsPerUser bounds the live link intents of one subject: putting one more
// drops that subject's oldest, so a client in a loop cannot grow the store, and the
// last few intents a user asked for (e.g. in several tabs) all stay usable.
const MaxIntentsPerUser = 5

// IntentStore keeps one-time link intents (nonces) bound to the subject who asked.
type IntentStore interface {
	// PutIntent stores nonce for subject. The intent is live until ttl has passed
	// (still live at exactly ttl). A subject has at most MaxIntentsPerUser live
	// intents: beyond that its oldest (first put) is dropped. Expired intents do not
	// count toward the bound, and other subjects' intents are never touched. Nonces
	// are unique (random); putting an existing nonce again is not supported.
	PutIntent(ctx context.Context, nonce, subject string, ttl time.Duration) error
	// ConsumeIntent reports whether nonce is a live intent of subject, and if so
	// removes it: for any nonce, at most one call ever reports true, also when
	// several race (across replicas too). An intent of another subject is left
	// untouched (its owner can still consume it) and reported false; an expired one
	// is reported false.
	ConsumeIntent(ctx context.Context, nonce, subject string) (bool, error)
	// RevokeIntents removes every intent of subject, live or expired: no later
	// ConsumeIntent of any of them reports true, on any replica. Other subjects'
	// intents are untouched, and the subject may put new intents afterwards.
	// Revoking a subject that has none is no error.
	RevokeIntents(ctx context.Context, subject string) error
}

// Cache keeps identity views between reads.
type Cache interface {
	// GetView returns the view last set for userID while it is live, and false when
	// there is none (never set, expired or deleted). The view returned equals the
	// one set, field for field.
	GetView(ctx context.Context, userID string) (View, bool, error)
	// SetView stores v for userID, replacing any earlier view; it is live until ttl
	// has passed (still live at exactly ttl).
	SetView(ctx context.Context, userID string, v View, ttl time.Duration) error
	// DeleteView forgets userID's view; deleting a view that is not there is no error.
	DeleteView(ctx context.Context, userID string) error
}

// Locker serializes link and unlink per user.
type Locker interface {
	// Lock blocks until the caller holds key exclusively, or until ctx ends, when
	// it returns (nil, an error that errors.Is ctx's error). Different keys never
	// wait for each other. The returned unlock releases the caller's own hold only:
	// calling it again, or after the hold was lost (see below) and someone else
	// took the key, releases nothing. unlock takes no context: a store that needs a
	// round trip to release bounds it itself.
	//
	// A store whose holders can die without unlocking (a crashed replica holding a
	// Redis lock) gives every hold a lifetime (its lock TTL), after which the key
	// is free again; such a store must keep that lifetime well above the longest
	// link or unlink (the request deadline). A store whose holders die with it (the
	// memory store) need not.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Store is the shared state the service needs.
type Store interface {
	IntentStore
	Cache
	Locker
}

// InProcess is implemented by a Store that keeps its state in this process's memory
// and never waits on I/O (internal/store/memstore). Service then does not bound its
// cache reads with CacheTimeout: arming that timer would cost more than the read.
type InProcess interface {
	InProcess()
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

func viewFrom(userID string, ids []account.Identity, primary Profile) View {
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

func primaryProfile(u *account.User) Profile {
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
