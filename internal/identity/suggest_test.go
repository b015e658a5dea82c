package identity_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
)

// UsersByEmail makes fakeUpstream an identity.UserFinder: every user whose email
// is exactly email, as Auth0's search is case-sensitive.
func (f *fakeUpstream) UsersByEmail(_ context.Context, email string) ([]*account.User, error) {
	defer f.leave()
	if err := f.enter("UsersByEmail", email); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*account.User
	for _, u := range f.users {
		if u.Email == email {
			cp := *u
			out = append(out, &cp)
		}
	}
	return out, nil
}

// suggestFixture adds to the fixture's tenant: alice's GitHub account with her
// verified email, a Google account with her email unverified, and Bob.
func suggestFixture(t *testing.T) (*fixture, *identity.Suggester) {
	t.Helper()
	f := newFixture(t, nil)
	f.up.users["github|5150"] = &account.User{UserID: "github|5150", Email: "alice@example.com", EmailVerified: true, Name: "alice-gh",
		Identities:   []account.Identity{{Provider: "github", UserID: "5150", Connection: "github", IsSocial: true}},
		UserMetadata: map[string]any{"secret": "never shown"}}
	f.up.users["google-oauth2|9"] = &account.User{UserID: "google-oauth2|9", Email: "alice@example.com", EmailVerified: false, Name: "Alice?",
		Identities: []account.Identity{{Provider: "google-oauth2", UserID: "9", Connection: "google-oauth2", IsSocial: true}}}
	f.up.users["auth0|bob"] = &account.User{UserID: "auth0|bob", Email: "bob@example.com", EmailVerified: true,
		Identities: []account.Identity{{Provider: "auth0", UserID: "bob", Connection: "Username-Password-Authentication"}}}
	return f, identity.NewSuggester(f.svc, f.up, identity.SuggestConfig{TTL: time.Minute, Now: f.clock.Now})
}

var aliceOnGitHub = identity.Suggestion{Provider: "github", Connection: "github", IsSocial: true, Email: "a***e@example.com", Name: "alice-gh"}

func suggest(t *testing.T, s *identity.Suggester, userID string) []identity.Suggestion {
	t.Helper()
	got, err := s.Suggest(quietCtx(), userID)
	if err != nil {
		t.Fatalf("Suggest(%s): %v", userID, err)
	}
	return got
}

// Only another user whose email is the caller's and verified is suggested; the
// caller and an unverified namesake are not. The search is reused for its TTL.
func TestSuggestSameVerifiedEmail(t *testing.T) {
	f, s := suggestFixture(t)
	if diff := cmp.Diff([]identity.Suggestion{aliceOnGitHub}, suggest(t, s, alice)); diff != "" {
		t.Errorf("suggestions (-want +got):\n%s", diff)
	}
	f.wantCalls(t, "GetUser auth0|alice", "UsersByEmail alice@example.com")

	f.up.resetCalls()
	suggest(t, s, alice)
	f.wantCalls(t) // the view and the search are both cached

	f.clock.Advance(time.Minute + time.Millisecond)
	suggest(t, s, alice)
	f.wantCalls(t, "GetUser auth0|alice", "UsersByEmail alice@example.com")
}

// A caller whose own email is unverified (or missing) gets no suggestion and costs
// no search.
func TestSuggestNothingForUnverifiedEmail(t *testing.T) {
	for name, edit := range map[string]func(*account.User){
		"unverified": func(u *account.User) { u.EmailVerified = false },
		"no email":   func(u *account.User) { u.Email = "" },
	} {
		t.Run(name, func(t *testing.T) {
			f, s := suggestFixture(t)
			edit(f.up.users[alice])
			if got := suggest(t, s, alice); got == nil || len(got) != 0 {
				t.Errorf("suggestions = %#v, want an empty list", got)
			}
			f.wantCalls(t, "GetUser auth0|alice")
		})
	}
}

// An identity the caller already has is not suggested, even from a search cached
// before the link.
func TestSuggestSkipsLinkedIdentities(t *testing.T) {
	f, s := suggestFixture(t)
	suggest(t, s, alice)
	f.up.users[alice].Identities = append(f.up.users[alice].Identities, account.Identity{Provider: "github", UserID: "5150", Connection: "github", IsSocial: true})
	if err := f.store.DeleteView(context.Background(), alice); err != nil { // what a link does
		t.Fatal(err)
	}
	f.up.resetCalls()
	if got := suggest(t, s, alice); len(got) != 0 {
		t.Errorf("suggestions after the link = %v, want none", got)
	}
	f.wantCalls(t, "GetUser auth0|alice") // the search itself came from the cache
}

// The GitHub account asks too: it is offered Alice's database account, whose name
// is her email and so is not shown.
func TestSuggestHidesNameThatIsAnEmail(t *testing.T) {
	f, s := suggestFixture(t)
	f.up.users[alice].Name = "alice@example.com"
	want := []identity.Suggestion{{Provider: "auth0", Connection: "Username-Password-Authentication", Email: "a***e@example.com"}}
	if diff := cmp.Diff(want, suggest(t, s, "github|5150")); diff != "" {
		t.Errorf("suggestions (-want +got):\n%s", diff)
	}
}

func TestSuggestSearchFailure(t *testing.T) {
	f, s := suggestFixture(t)
	f.up.fail = map[string]error{"UsersByEmail": fault.Failure{Kind: fault.RateLimited, RetryAfter: 3 * time.Second}}
	_, err := s.Suggest(quietCtx(), alice)
	if p := wantProblem(t, err, http.StatusServiceUnavailable, fault.UpstreamRateLimited); p.RetryAfter != 3*time.Second {
		t.Errorf("Retry-After %v, want 3s", p.RetryAfter)
	}
	// A failure is not cached: the next request searches again.
	f.up.fail = nil
	f.up.resetCalls()
	if diff := cmp.Diff([]identity.Suggestion{aliceOnGitHub}, suggest(t, s, alice)); diff != "" {
		t.Errorf("suggestions after the failure (-want +got):\n%s", diff)
	}
	f.wantCalls(t, "UsersByEmail alice@example.com")
}

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com":   "a***e@example.com",
		"al@example.com":      "a***@example.com",
		"a@example.com":       "a***@example.com",
		"éloïse@exemple.fr":   "é***e@exemple.fr",
		"not-an-email":        "***",
		"@example.com":        "***",
		"alice@":              "***",
		"first.last@corp.org": "f***t@corp.org",
	} {
		if got := identity.MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}
