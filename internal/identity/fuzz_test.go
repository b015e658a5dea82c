package identity_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
)

// FuzzValidateIdentityPath: the {provider}/{user_id} of DELETE is accepted only in
// the shapes Auth0 gives them, and an accepted user_id, escaped toward the Management
// API, is exactly one path segment that decodes back to itself.
func FuzzValidateIdentityPath(f *testing.F) {
	for _, s := range [][2]string{
		{"github", "4242"}, {"google-oauth2", "104842183729563427891"}, {"oauth2", "conn|id"},
		{"Github", "1"}, {"github", ".."}, {"github", "a/b"}, {"github", "%2F"}, {"github", "a b"},
		{"", "1"}, {"github", ""}, {"github", strings.Repeat("9", 257)}, {"samlp", "x@example.com"},
	} {
		f.Add(s[0], s[1])
	}
	provider := regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	f.Fuzz(func(t *testing.T, p, id string) {
		err := identity.ValidateIdentityPath(p, id)
		if err != nil {
			if fe := fault.From(err); fe.Code != fault.InvalidPath || len(fe.Fields) == 0 {
				t.Fatalf("refused with %v (fields %v), want invalid_path naming the field", fe, fe.Fields)
			}
			return
		}
		if !provider.MatchString(p) {
			t.Errorf("accepted provider %q", p)
		}
		if id == "" || len(id) > 256 || id == "." || id == ".." || strings.ContainsAny(id, "/\\?#%") {
			t.Errorf("accepted user_id %q", id)
		}
		for i := 0; i < len(id); i++ {
			if id[i] < 0x21 || id[i] > 0x7e {
				t.Errorf("accepted user_id %q with byte %#x", id, id[i])
			}
		}
		esc := url.PathEscape(id)
		if strings.Contains(esc, "/") {
			t.Errorf("escaped user_id %q is more than one path segment", esc)
		}
		if back, err := url.PathUnescape(esc); err != nil || back != id {
			t.Errorf("escaped user_id %q decodes to %q, %v", esc, back, err)
		}
	})
}

// FuzzLinkSubject: whatever sub a verified link token carries, the Management API
// only ever hears about that exact user: the secondary read names sub, and a link by
// {provider, user_id} sends sub split at its first "|" into two non-empty parts.
func FuzzLinkSubject(f *testing.F) {
	for _, s := range []string{"google-oauth2|1077", "oauth2|conn|id", "samlp|corp|a@b.example", "auth0|alice"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sub string) {
		fx := newFixture(t, nil)
		tok := fx.ver.tokens["tok-native"] // aud is another client: links by provider and user_id
		tok.Subject = sub
		fx.ver.tokens["tok-fuzz"] = tok
		fx.up.users[sub] = &account.User{UserID: sub}
		_, err := fx.svc.Link(quietCtx(), alice, "tok-fuzz")
		for _, call := range fx.up.callLog() {
			switch {
			case strings.HasPrefix(call, "GetUser "):
				if got := strings.TrimPrefix(call, "GetUser "); got != alice && got != sub {
					t.Errorf("read user %q for sub %q", got, sub)
				}
			case strings.HasPrefix(call, "LinkIdentity "):
				provider, id, _ := strings.Cut(sub, "|")
				if provider == "" || id == "" || call != "LinkIdentity "+alice+" "+provider+" "+id {
					t.Errorf("linked with %q for sub %q", call, sub)
				}
			case strings.HasPrefix(call, "UpdateUserMetadata "+alice+" "):
			default:
				t.Errorf("unexpected call %q for sub %q", call, sub)
			}
		}
		if err != nil {
			if fe := fault.From(err); fe.Code == fault.Internal {
				t.Errorf("sub %q: internal error %v", sub, err)
			}
		}
	})
}
