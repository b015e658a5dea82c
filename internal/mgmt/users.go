package mgmt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/linkbff/linkbff/internal/account"
)

// GetUser reads a user: GET /api/v2/users/{id}.
func (c *Client) GetUser(ctx context.Context, userID string) (*account.User, error) {
	id, err := escapeSegment("user id", userID)
	if err != nil {
		return nil, err
	}
	var w wireUser
	if err := c.call(ctx, EndpointGetUser, http.MethodGet, "/api/v2/users/"+id, nil, &w); err != nil {
		return nil, err
	}
	return w.user(), nil
}

// UpdateUserMetadata merges userMetadata into the user's user_metadata:
// PATCH /api/v2/users/{id} {"user_metadata": …}. Auth0 merges top-level keys and
// removes keys set to nil. A nil map is sent as {} (a no-op), never as null.
func (c *Client) UpdateUserMetadata(ctx context.Context, userID string, userMetadata map[string]any) error {
	id, err := escapeSegment("user id", userID)
	if err != nil {
		return err
	}
	if userMetadata == nil {
		userMetadata = map[string]any{}
	}
	body := struct {
		UserMetadata map[string]any `json:"user_metadata"`
	}{userMetadata}
	return c.call(ctx, EndpointPatchUser, http.MethodPatch, "/api/v2/users/"+id, body, nil)
}

// LinkWithToken links the user whose ID token is idToken into primaryUserID:
// POST /api/v2/users/{id}/identities {"link_with": …}. It returns the primary's
// identities after the link.
func (c *Client) LinkWithToken(ctx context.Context, primaryUserID, idToken string) ([]account.Identity, error) {
	if idToken == "" {
		return nil, fmt.Errorf("%w: empty link_with token", ErrInvalidArgument)
	}
	body := struct {
		LinkWith string `json:"link_with"`
	}{idToken}
	return c.link(ctx, primaryUserID, body)
}

// LinkIdentity links the identity provider|userID into primaryUserID:
// POST /api/v2/users/{id}/identities {"provider": …, "user_id": …}. It returns
// the primary's identities after the link.
func (c *Client) LinkIdentity(ctx context.Context, primaryUserID, provider, userID string) ([]account.Identity, error) {
	if provider == "" || userID == "" {
		return nil, fmt.Errorf("%w: empty provider or user id to link", ErrInvalidArgument)
	}
	body := struct {
		Provider string `json:"provider"`
		UserID   string `json:"user_id"`
	}{provider, userID}
	return c.link(ctx, primaryUserID, body)
}

func (c *Client) link(ctx context.Context, primaryUserID string, body any) ([]account.Identity, error) {
	id, err := escapeSegment("user id", primaryUserID)
	if err != nil {
		return nil, err
	}
	var w []wireIdentity
	if err := c.call(ctx, EndpointLink, http.MethodPost, "/api/v2/users/"+id+"/identities", body, &w); err != nil {
		return nil, err
	}
	return identities(w), nil
}

// Unlink detaches identity provider|userID from primaryUserID:
// DELETE /api/v2/users/{id}/identities/{provider}/{user_id}. It returns the
// identities that remain.
func (c *Client) Unlink(ctx context.Context, primaryUserID, provider, userID string) ([]account.Identity, error) {
	id, err := escapeSegment("user id", primaryUserID)
	if err != nil {
		return nil, err
	}
	p, err := escapeSegment("provider", provider)
	if err != nil {
		return nil, err
	}
	uid, err := escapeSegment("identity user id", userID)
	if err != nil {
		return nil, err
	}
	var w []wireIdentity
	if err := c.call(ctx, EndpointUnlink, http.MethodDelete, "/api/v2/users/"+id+"/identities/"+p+"/"+uid, nil, &w); err != nil {
		return nil, err
	}
	return identities(w), nil
}

// Wire types: what we read from Auth0. Fields not listed here (access_token,
// refresh_token, access_token_secret, app_metadata, …) are dropped by the
// decoder and so can never reach a caller.
type wireUser struct {
	UserID        string         `json:"user_id"`
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Name          string         `json:"name"`
	Picture       string         `json:"picture"`
	Identities    []wireIdentity `json:"identities"`
	UserMetadata  map[string]any `json:"user_metadata"`
}

type wireIdentity struct {
	Provider    string       `json:"provider"`
	UserID      stringOrNum  `json:"user_id"`
	Connection  string       `json:"connection"`
	IsSocial    bool         `json:"isSocial"`
	ProfileData *wireProfile `json:"profileData"`
}

type wireProfile struct {
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name"`
	Picture       string `json:"picture"`
}

// stringOrNum accepts a JSON string or number and keeps the number's literal
// text, so 12345678901234 stays exactly that (no float formatting).
type stringOrNum string

func (s *stringOrNum) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = stringOrNum(v)
		return nil
	default:
		var n json.Number // rejects anything that is not a number literal
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("identity user_id: want a string or number, got %.20s", b)
		}
		*s = stringOrNum(n)
		return nil
	}
}

func (w *wireUser) user() *account.User {
	return &account.User{
		UserID:        w.UserID,
		Email:         w.Email,
		EmailVerified: w.EmailVerified,
		Name:          w.Name,
		Picture:       w.Picture,
		Identities:    identities(w.Identities),
		UserMetadata:  w.UserMetadata,
	}
}

func identities(ws []wireIdentity) []account.Identity {
	out := make([]account.Identity, 0, len(ws))
	for _, w := range ws {
		id := account.Identity{
			Provider:   w.Provider,
			UserID:     string(w.UserID),
			Connection: w.Connection,
			IsSocial:   w.IsSocial,
		}
		if p := w.ProfileData; p != nil {
			id.Profile = &account.Profile{Email: p.Email, EmailVerified: p.EmailVerified, Name: p.Name, Picture: p.Picture}
		}
		out = append(out, id)
	}
	return out
}
