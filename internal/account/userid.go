package account

import (
	"errors"
	"fmt"
	"strings"
)

// The shapes of Auth0's identifiers. Whatever linkbff puts into a Management API URL
// or body (the sub of an access token, of a session or of a link token; the
// {provider}/{user_id} of an unlink) is checked against them first, so that nothing
// else ever reaches Auth0.
//
// Auth0 names a user "{provider}|{id}": the provider is the strategy of the user's
// connection (auth0, google-oauth2, samlp, oauth2, ...; always lower-case letters,
// digits and dashes) and the id is the provider's own identifier, which may itself
// contain "|" ("oauth2|my-connection|123"). Auth0 accepts nearly any character in a
// custom id (only whitespace is refused); linkbff accepts the printable ASCII ones
// that cannot change the meaning of a URL path, which every id Auth0 mints itself
// satisfies.
const (
	// MaxProviderLen bounds a provider name; Auth0's strategies are far shorter.
	MaxProviderLen = 64
	// MaxIdentityUserIDLen bounds the provider's own id of an identity.
	MaxIdentityUserIDLen = 256
	// MaxUserIDLen bounds a whole user id ("provider|id"): OpenID Connect's limit
	// for sub (Core 1.0 §2: at most 255 ASCII characters).
	MaxUserIDLen = 255
)

// Why an identifier is refused; the messages are shown to clients (as field errors).
const (
	msgProvider   = "must match [a-z0-9-]{1,64}"
	msgEmpty      = "must not be empty"
	msgIDTooLong  = "must be at most 256 bytes"
	msgDot        = "must not be a dot segment"
	msgNotASCII   = "must be printable ASCII without spaces"
	msgPathSyntax = "must not contain / \\ ? # or %"
)

// CheckProvider says why p is not an Auth0 provider (a connection strategy), or ""
// when it is one.
func CheckProvider(p string) string {
	if p == "" || len(p) > MaxProviderLen {
		return msgProvider
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return msgProvider
		}
	}
	return ""
}

// CheckIdentityUserID says why id is not the provider's own id of an identity (the
// user_id of an identities[] entry), or "" when it is one: at most 256 bytes of
// printable ASCII without spaces, without path, query or fragment syntax ('/', '\',
// '?', '#', '%'), and not a dot segment.
func CheckIdentityUserID(id string) string {
	switch {
	case id == "":
		return msgEmpty
	case len(id) > MaxIdentityUserIDLen:
		return msgIDTooLong
	case id == "." || id == "..":
		return msgDot
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < 0x21 || c > 0x7e {
			return msgNotASCII
		}
		switch c {
		case '/', '\\', '?', '#', '%':
			return msgPathSyntax
		}
	}
	return ""
}

// ErrInvalidUserID is wrapped by CheckUserID's errors.
var ErrInvalidUserID = errors.New("not an Auth0 user id")

// CheckUserID returns nil when id is an Auth0 user id: "{provider}|{id}" with a valid
// provider and identity id (see CheckProvider, CheckIdentityUserID), at most 255
// bytes. Otherwise its error, wrapping ErrInvalidUserID, says why without quoting
// id (which may be anything a caller sent).
func CheckUserID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: %s", ErrInvalidUserID, "empty")
	}
	if len(id) > MaxUserIDLen {
		return fmt.Errorf("%w: %s", ErrInvalidUserID, "longer than 255 bytes")
	}
	provider, rest, ok := strings.Cut(id, "|")
	if !ok {
		return fmt.Errorf("%w: %s", ErrInvalidUserID, `not of the form provider|id`)
	}
	if msg := CheckProvider(provider); msg != "" {
		return fmt.Errorf("%w: %s", ErrInvalidUserID, "provider "+msg)
	}
	if msg := CheckIdentityUserID(rest); msg != "" {
		return fmt.Errorf("%w: %s", ErrInvalidUserID, "id "+msg)
	}
	return nil
}

// SplitUserID splits an Auth0 user id at its first "|" into the provider and the
// provider's own id, as Auth0's identities[] list them ("oauth2|conn|1" is provider
// "oauth2", id "conn|1"). ok is false when id is not an Auth0 user id (CheckUserID).
func SplitUserID(id string) (provider, identityUserID string, ok bool) {
	if CheckUserID(id) != nil {
		return "", "", false
	}
	provider, identityUserID, _ = strings.Cut(id, "|")
	return provider, identityUserID, true
}
