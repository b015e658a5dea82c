package identity

import (
	"regexp"

	"github.com/linkbff/linkbff/internal/fault"
)

var providerPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

const maxIdentityUserIDLen = 256

// ValidateIdentityPath checks the {provider}/{user_id} of an unlink request. user_id
// must be printable ASCII without path, query or fragment syntax ('/', '\', '?', '#',
// '%') and not a dot segment, at most 256 bytes; it is escaped again toward Auth0.
func ValidateIdentityPath(provider, userID string) error {
	var fields []fault.FieldError
	if !providerPattern.MatchString(provider) {
		fields = append(fields, fault.FieldError{Field: "provider", Message: "must match [a-z0-9-]{1,64}"})
	}
	if msg := checkUserID(userID); msg != "" {
		fields = append(fields, fault.FieldError{Field: "user_id", Message: msg})
	}
	if len(fields) == 0 {
		return nil
	}
	p := fault.New(fault.InvalidPath, "The identity in the path is not valid.")
	p.Fields = fields
	return p
}

func checkUserID(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > maxIdentityUserIDLen:
		return "must be at most 256 bytes"
	case s == "." || s == "..":
		return "must not be a dot segment"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e {
			return "must be printable ASCII without spaces"
		}
		switch c {
		case '/', '\\', '?', '#', '%':
			return "must not contain / \\ ? # or %"
		}
	}
	return ""
}
