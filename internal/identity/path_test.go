package identity_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/problem"
)

func TestValidateIdentityPath(t *testing.T) {
	const (
		badProvider = "must match [a-z0-9-]{1,64}"
		empty       = "must not be empty"
		tooLong     = "must be at most 256 bytes"
		dot         = "must not be a dot segment"
		notASCII    = "must be printable ASCII without spaces"
		syntax      = "must not contain / \\ ? # or %"
	)
	tests := []struct {
		name, provider, userID string
		providerMsg, userIDMsg string // "" = valid
	}{
		{"auth0", "auth0", "5f1e2d3c4b5a", "", ""},
		{"provider with digits and dash", "google-oauth2", "1077", "", ""},
		{"provider of 64", strings.Repeat("a", 64), "1", "", ""},
		{"provider of 65", strings.Repeat("a", 65), "1", badProvider, ""},
		{"empty provider", "", "1", badProvider, ""},
		{"upper-case provider", "GitHub", "1", badProvider, ""},
		{"underscore in provider", "git_hub", "1", badProvider, ""},
		{"dot in provider", "git.hub", "1", badProvider, ""},
		{"pipe in provider", "oauth2|conn", "1", badProvider, ""},
		{"user_id of 256 bytes", "github", strings.Repeat("x", 256), "", ""},
		{"user_id of 257 bytes", "github", strings.Repeat("x", 257), "", tooLong},
		{"empty user_id", "github", "", "", empty},
		{"pipe allowed", "oauth2", "conn|id", "", ""},
		{"at and plus allowed", "email", "alice+tag@example.com", "", ""},
		{"other punctuation allowed", "samlp", "a-b_c.d~e!$&'()*,;=:", "", ""},
		{"three dots is not a dot segment", "github", "...", "", ""},
		{"dot", "github", ".", "", dot},
		{"dot-dot", "github", "..", "", dot},
		{"slash", "github", "42/42", "", syntax},
		{"backslash", "github", `42\42`, "", syntax},
		{"question mark", "github", "42?x", "", syntax},
		{"hash", "github", "42#x", "", syntax},
		{"percent", "github", "42%2F", "", syntax},
		{"space", "github", "42 42", "", notASCII},
		{"newline", "github", "42\n", "", notASCII},
		{"NUL", "github", "42\x00", "", notASCII},
		{"DEL", "github", "42\x7f", "", notASCII},
		{"non-ASCII", "github", "jürgen", "", notASCII},
		{"both wrong", "Bad!", "..", badProvider, dot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := identity.ValidateIdentityPath(tt.provider, tt.userID)
			var want []fault.FieldError
			if tt.providerMsg != "" {
				want = append(want, fault.FieldError{Field: "provider", Message: tt.providerMsg})
			}
			if tt.userIDMsg != "" {
				want = append(want, fault.FieldError{Field: "user_id", Message: tt.userIDMsg})
			}
			if want == nil {
				if err != nil {
					t.Fatalf("ValidateIdentityPath(%q, %q) = %v, want nil", tt.provider, tt.userID, err)
				}
				return
			}
			p, ok := errors.AsType[*fault.Error](err)
			if !ok {
				t.Fatalf("ValidateIdentityPath(%q, %q) = %v, want a *fault.Error", tt.provider, tt.userID, err)
			}
			if problem.Status(p.Code) != http.StatusBadRequest || p.Code != fault.InvalidPath {
				t.Errorf("problem %d %s, want 400 invalid_path", problem.Status(p.Code), p.Code)
			}
			if diff := cmp.Diff(want, p.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}
