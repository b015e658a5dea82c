package mgmt

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/linkbff/linkbff/internal/account"
)

// byEmailFields are the only user fields UsersByEmail asks for: what a linking
// suggestion needs. Metadata is never requested, so it never crosses the wire.
const byEmailFields = "user_id,email,email_verified,name,identities"

// UsersByEmail lists the users whose email is exactly email:
// GET /api/v2/users-by-email?email=…. Auth0 documents the search as case-sensitive.
// The users carry their ids, email, name and identities; no metadata.
func (c *Client) UsersByEmail(ctx context.Context, email string) ([]*account.User, error) {
	if email == "" {
		return nil, fmt.Errorf("%w: empty email", ErrInvalidArgument)
	}
	q := url.Values{"email": {email}, "fields": {byEmailFields}, "include_fields": {"true"}}
	var ws []wireUser
	if err := c.call(ctx, EndpointUsersByEmail, http.MethodGet, "/api/v2/users-by-email?"+q.Encode(), nil, &ws); err != nil {
		return nil, err
	}
	out := make([]*account.User, 0, len(ws))
	for i := range ws {
		u := ws[i].user()
		u.UserMetadata = nil // not asked for; dropped should Auth0 send it anyway
		out = append(out, u)
	}
	return out, nil
}
