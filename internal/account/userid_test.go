package account_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/account"
)

func TestCheckUserID(t *testing.T) {
	tests := []struct {
		name, id       string
		ok             bool
		provider, rest string
	}{
		{"database user", "auth0|5f1e2d3c4b5a", true, "auth0", "5f1e2d3c4b5a"},
		{"social user", "google-oauth2|104842183729563427891", true, "google-oauth2", "104842183729563427891"},
		{"custom social: split at the first pipe", "oauth2|my-conn|42", true, "oauth2", "my-conn|42"},
		{"enterprise email id", "samlp|corp|alice+x@example.com", true, "samlp", "corp|alice+x@example.com"},
		{"255 bytes", "auth0|" + strings.Repeat("x", 249), true, "auth0", strings.Repeat("x", 249)},
		{"256 bytes", "auth0|" + strings.Repeat("x", 250), false, "", ""},
		{"empty", "", false, "", ""},
		{"no pipe", "alice", false, "", ""},
		{"client credentials subject", "abc123@clients", false, "", ""},
		{"empty provider", "|alice", false, "", ""},
		{"empty id", "auth0|", false, "", ""},
		{"upper-case provider", "Auth0|alice", false, "", ""},
		{"slash in id", "auth0|a/b", false, "", ""},
		{"dot-dot id", "auth0|..", false, "", ""},
		{"percent in id", "auth0|a%2Fb", false, "", ""},
		{"query in id", "auth0|a?x=1", false, "", ""},
		{"fragment in id", "auth0|a#x", false, "", ""},
		{"backslash in id", `auth0|a\b`, false, "", ""},
		{"space in id", "auth0|a b", false, "", ""},
		{"newline in id", "auth0|a\nb", false, "", ""},
		{"NUL in id", "auth0|a\x00", false, "", ""},
		{"non-ASCII id", "auth0|jürgen", false, "", ""},
		{"invalid UTF-8", "auth0|\xff", false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := account.CheckUserID(tt.id)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckUserID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
			}
			if err != nil && !errors.Is(err, account.ErrInvalidUserID) {
				t.Errorf("CheckUserID(%q) = %v, does not wrap ErrInvalidUserID", tt.id, err)
			}
			if err != nil && strings.Contains(err.Error(), tt.id) && tt.id != "" {
				t.Errorf("CheckUserID(%q) error %q quotes its input", tt.id, err)
			}
			p, rest, ok := account.SplitUserID(tt.id)
			if ok != tt.ok || p != tt.provider || rest != tt.rest {
				t.Errorf("SplitUserID(%q) = %q, %q, %v; want %q, %q, %v", tt.id, p, rest, ok, tt.provider, tt.rest, tt.ok)
			}
		})
	}
}
