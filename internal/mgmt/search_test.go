package mgmt_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/mgmt"
)

func TestUsersByEmail(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusOK, `[`+userJSON+`, {"user_id": "github|7", "email": "ada@example.com",
	  "email_verified": false, "identities": [{"provider": "github", "user_id": 7, "connection": "github", "isSocial": true}]}]`))
	c := newClient(t, f)

	got, err := c.UsersByEmail(t.Context(), "ada+x@example.com")
	if err != nil {
		t.Fatalf("UsersByEmail: %v", err)
	}
	want := []*account.User{
		{UserID: "auth0|5f7c8ec7c33c6c004bbafe82", Email: "ada@example.com", EmailVerified: true, Name: "Ada Lovelace",
			Picture: "https://example.com/ada.png", Identities: wantIdentities},
		{UserID: "github|7", Email: "ada@example.com", Identities: []account.Identity{{Provider: "github", UserID: "7", Connection: "github", IsSocial: true}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	// The email is query-escaped ("+" would read as a space), and only the fields a
	// suggestion needs are asked for: no metadata.
	const uri = "/api/v2/users-by-email?email=ada%2Bx%40example.com&fields=user_id%2Cemail%2Cemail_verified%2Cname%2Cidentities&include_fields=true"
	wantReq := []seenRequest{{
		Method:      http.MethodGet,
		RequestURI:  uri,
		EscapedPath: "/api/v2/users-by-email",
		Auth:        "Bearer mgmt-token-1",
		UserAgent:   "linkbff",
	}}
	if diff := cmp.Diff(wantReq, f.requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	b, _ := json.Marshal(got)
	for _, secret := range idpSecrets {
		if strings.Contains(string(b), secret) {
			t.Errorf("result contains %q: %s", secret, b)
		}
	}
}

func TestUsersByEmailNone(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusOK, `[]`))
	got, err := newClient(t, f).UsersByEmail(t.Context(), "nobody@example.com")
	if err != nil || len(got) != 0 {
		t.Errorf("UsersByEmail = %v, %v; want none", got, err)
	}
}

func TestUsersByEmailEmptySendsNothing(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusOK, `[]`))
	_, err := newClient(t, f).UsersByEmail(t.Context(), "")
	if !errors.Is(err, mgmt.ErrInvalidArgument) {
		t.Errorf("UsersByEmail(\"\") = %v, want ErrInvalidArgument", err)
	}
	if n := f.apiRequests.Load() + f.tokenRequests.Load(); n != 0 {
		t.Errorf("%d requests sent for an empty email", n)
	}
}
