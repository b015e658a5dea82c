package identity_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/identity"
)

func TestSealEncodesTheViewOnce(t *testing.T) {
	v := identity.Seal(linkedView)
	var back identity.View
	if err := json.Unmarshal(v.Doc.JSON, &back); err != nil {
		t.Fatalf("Doc.JSON is not JSON: %v", err)
	}
	back.Doc = v.Doc
	if diff := cmp.Diff(v, back); diff != "" {
		t.Errorf("Doc.JSON decodes to another view (-sealed +decoded):\n%s", diff)
	}
	if again := identity.Seal(v); again.Doc.ETag != v.Doc.ETag || string(again.Doc.JSON) != string(v.Doc.JSON) {
		t.Errorf("sealing the same view twice gave %s and %s", v.Doc.ETag, again.Doc.ETag)
	}
	if tag := v.Doc.ETag; len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		t.Errorf("ETag %s is not a quoted strong entity tag", tag)
	}
}

func TestSealTagChangesWithEveryField(t *testing.T) {
	base := identity.Seal(linkedView)
	change := map[string]func(v *identity.View){
		"user":         func(v *identity.View) { v.UserID = "auth0|bob" },
		"one identity": func(v *identity.View) { v.Identities = v.Identities[:1] },
		"order":        func(v *identity.View) { v.Identities[0], v.Identities[1] = v.Identities[1], v.Identities[0] },
		"profile name": func(v *identity.View) { v.Identities[1].Profile.Name = "Alice H" },
		"verified":     func(v *identity.View) { v.Identities[1].Profile.EmailVerified = false },
		"social":       func(v *identity.View) { v.Identities[1].IsSocial = false },
	}
	for name, f := range change {
		t.Run(name, func(t *testing.T) {
			v := linkedView
			v.Identities = append([]identity.Identity(nil), linkedView.Identities...)
			f(&v)
			if got := identity.Seal(v).Doc.ETag; got == base.Doc.ETag {
				t.Errorf("a changed view kept the tag %s", got)
			}
		})
	}
}

// Every view the service hands out carries the Doc of exactly its fields, and the
// tag follows the view: same on a cached read, new after a link, an unlink, or an
// upstream answer that differs once the cache expired.
func TestServiceTagFollowsTheView(t *testing.T) {
	f := newFixture(t, nil)
	ctx := quietCtx()
	list := func() identity.View {
		t.Helper()
		v, err := f.svc.List(ctx, alice)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if v.Doc == nil || v.Doc.ETag != identity.Seal(v).Doc.ETag {
			t.Fatalf("List returned a view whose Doc is not its own: %+v", v)
		}
		return v
	}
	first := list()
	if again := list(); again.Doc.ETag != first.Doc.ETag {
		t.Errorf("cached read: tag %s, want %s", again.Doc.ETag, first.Doc.ETag)
	}

	linked, err := f.svc.Link(ctx, alice, "tok-google")
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	if linked.Doc == nil || linked.Doc.ETag == first.Doc.ETag {
		t.Fatalf("Link kept the tag of the view before it")
	}
	if got := list(); got.Doc.ETag != linked.Doc.ETag {
		t.Errorf("List after Link: tag %s, want the link's %s", got.Doc.ETag, linked.Doc.ETag)
	}

	f.up.unlinked = []account.Identity{{Provider: "auth0", UserID: "alice", Connection: "Username-Password-Authentication"}}
	unlinked, err := f.svc.Unlink(ctx, alice, "google-oauth2", "1077")
	if err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	if unlinked.Doc == nil || unlinked.Doc.ETag == linked.Doc.ETag {
		t.Fatalf("Unlink kept the tag of the linked view")
	}
	if got := list(); got.Doc.ETag != unlinked.Doc.ETag {
		t.Errorf("List after Unlink: tag %s, want the unlink's %s", got.Doc.ETag, unlinked.Doc.ETag)
	}

	// Auth0 now says something else (the name changed there); once the cache
	// expires, the next read has a new tag.
	f.up.mu.Lock()
	f.up.users[alice].Name = "Alice Renamed"
	f.up.mu.Unlock()
	f.clock.Advance(cacheTTL + 1)
	if got := list(); got.Doc.ETag == unlinked.Doc.ETag {
		t.Errorf("a different upstream answer kept the tag %s", got.Doc.ETag)
	}
}

// A view cached without its Doc (by an earlier version) is sealed on the way out.
func TestServiceSealsAViewCachedWithoutDoc(t *testing.T) {
	f := newFixture(t, nil)
	bare := aliceView
	bare.Doc = nil
	if err := f.store.SetView(quietCtx(), alice, bare, cacheTTL); err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.List(quietCtx(), alice)
	if err != nil {
		t.Fatal(err)
	}
	f.wantCalls(t) // from the cache
	if diff := cmp.Diff(aliceView, v); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}
}
