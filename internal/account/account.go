// Package account owns the data the linking rules work on, as the adapters deliver
// it: an Auth0 user with its login identities (what the Management API returns), the
// verified claims of a secondary login's ID token, and the shapes of Auth0's
// identifiers that everything bound for the Management API is checked against. It imports nothing of linkbff,
// so the rules (package identity) and the adapters (mgmt, auth) share these types
// without depending on one another.
package account

import "time"

// User is the part of an Auth0 user that linkbff uses.
type User struct {
	UserID        string
	Email         string
	EmailVerified bool
	Name          string
	Picture       string
	Identities    []Identity // Identities[0] is the primary
	// UserMetadata holds JSON numbers as json.Number, so writing it back does not
	// change them.
	UserMetadata map[string]any
}

// Identity is one login identity of a user. It deliberately has no fields for the
// identity provider's tokens.
type Identity struct {
	Provider   string
	UserID     string // always a string; Auth0 sends a JSON number for some providers (GitHub)
	Connection string
	IsSocial   bool
	Profile    *Profile // from Auth0's profileData: set for secondary identities only
}

// Profile is what the identity provider said about a secondary identity.
type Profile struct {
	Email         string
	EmailVerified bool
	Name          string
	Picture       string
}

// IDToken holds the verified claims of a secondary login's ID token that linking
// needs.
type IDToken struct {
	Subject       string
	Audience      string // the allowed audience the token was issued to
	Nonce         string
	Email         string
	EmailVerified bool
	IssuedAt      time.Time
	AuthTime      time.Time // zero when absent
}
