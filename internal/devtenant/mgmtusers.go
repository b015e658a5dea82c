package devtenant

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// userFields are the values Auth0 accepts in the fields query parameter of user reads.
func userFields() []string {
	return []string{"phone_number", "email", "email_verified", "picture", "username", "user_id", "name",
		"nickname", "created_at", "identities", "app_metadata", "user_metadata", "last_ip", "last_login",
		"logins_count", "updated_at", "blocked", "family_name", "given_name"}
}

// fieldFilter is a parsed fields/include_fields pair.
type fieldFilter struct {
	fields  []string
	include bool
}

// parseFieldFilter reads fields (comma list) and include_fields (default true).
func parseFieldFilter(q url.Values) (fieldFilter, *apiError) {
	f := fieldFilter{include: true}
	switch v := q.Get("include_fields"); v {
	case "", "true":
	case "false":
		f.include = false
	default:
		return f, invalidQuery("'Expected type boolean but found type string' on property include_fields")
	}
	raw := q.Get("fields")
	if raw == "" {
		return f, nil
	}
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(userFields(), name) {
			return f, invalidQuery(fmt.Sprintf("'String '%s' does not match pattern. Must be a comma separated list of the following values: %s' on property fields",
				raw, strings.Join(userFields(), ",")))
		}
		f.fields = append(f.fields, name)
	}
	return f, nil
}

func invalidQuery(message string) *apiError {
	return &apiError{http.StatusBadRequest, "Query validation error: " + message + ".", "invalid_query_string"}
}

// apply keeps (include) or drops the listed fields of a rendered user.
func (f fieldFilter) apply(user map[string]any) map[string]any {
	if len(f.fields) == 0 {
		return user
	}
	out := map[string]any{}
	for k, v := range user {
		if slices.Contains(f.fields, k) == f.include {
			out[k] = v
		}
	}
	return out
}

// getUser serves GET /api/v2/users/{id}. Only primary user ids are found: a linked
// identity's id answers 404, as in Auth0.
func (t *Tenant) getUser(r *http.Request, c *mgmtCaller) (any, error) {
	filter, err := parseFieldFilter(r.URL.Query())
	if err != nil {
		return nil, err
	}
	return t.withUser(r.PathValue("id"), func(u *userRecord) (any, error) {
		return filter.apply(u.toJSON(c.withIdPTokens())), nil
	})
}

// getUsersByEmail serves GET /api/v2/users-by-email. Auth0 documents the search as
// case-sensitive (it stores database users' emails in lower case), so the dev tenant
// matches the stored email exactly.
func (t *Tenant) getUsersByEmail(r *http.Request, c *mgmtCaller) (any, error) {
	q := r.URL.Query()
	filter, err := parseFieldFilter(q)
	if err == nil && !q.Has("email") {
		err = invalidQuery("'Missing required property: email'")
	}
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	out := []map[string]any{}
	for _, id := range slices.Sorted(maps.Keys(t.users)) {
		if u := t.users[id]; u.Email == q.Get("email") {
			out = append(out, filter.apply(u.toJSON(c.withIdPTokens())))
		}
	}
	return out, nil
}

// userPatch is a validated PATCH /api/v2/users/{id} body. Pointers are nil for
// members that were not sent; a profile string sent as null is "" (removed).
type userPatch struct {
	email         *string
	emailVerified *bool
	name          *string
	nickname      *string
	picture       *string
	userMetadata  map[string]any
	appMetadata   map[string]any
}

// parseUserPatch validates the members the dev tenant supports. Auth0 accepts more
// (blocked, password, username...); the dev tenant stores none of them and rejects
// them like any unknown property rather than pretending to apply them.
func parseUserPatch(obj map[string]json.RawMessage) (userPatch, *apiError) {
	var p userPatch
	if err := rejectUnknown(obj, "email", "email_verified", "name", "nickname", "picture", "user_metadata", "app_metadata"); err != nil {
		return p, err
	}
	if raw, ok := obj["email"]; ok {
		s, err := memberString(obj, "email", false)
		if err != nil {
			return p, err
		}
		if !strings.Contains(s, "@") {
			return p, invalidBody(fmt.Sprintf("'Object didn't pass validation for format email: %s' on property email.", strings.Trim(string(raw), `"`)))
		}
		p.email = &s
	}
	if raw, ok := obj["email_verified"]; ok {
		var b bool
		if jsonType(raw) != "boolean" || json.Unmarshal(raw, &b) != nil {
			return p, wrongType("email_verified", "boolean", raw)
		}
		p.emailVerified = &b
	}
	for _, name := range []string{"name", "nickname", "picture"} {
		if err := p.setProfileString(obj, name); err != nil {
			return p, err
		}
	}
	var err *apiError
	if p.userMetadata, err = memberObject(obj, "user_metadata"); err != nil {
		return p, err
	}
	if p.appMetadata, err = memberObject(obj, "app_metadata"); err != nil {
		return p, err
	}
	return p, nil
}

func (p *userPatch) setProfileString(obj map[string]json.RawMessage, name string) *apiError {
	if _, ok := obj[name]; !ok {
		return nil
	}
	s, err := memberString(obj, name, true) // null: ""
	if err != nil {
		return err
	}
	switch name {
	case "name":
		p.name = &s
	case "nickname":
		p.nickname = &s
	case "picture":
		p.picture = &s
	}
	return nil
}

// apply updates u. Metadata is merged one level deep and a member set to null is
// removed, as Auth0 documents. Changing the email without email_verified marks it
// unverified, as Auth0 does.
func (p userPatch) apply(u *userRecord, now time.Time) {
	if p.email != nil && *p.email != u.Email {
		u.Email = *p.email
		u.EmailVerified = false
	}
	if p.emailVerified != nil {
		u.EmailVerified = *p.emailVerified
	}
	setIf(&u.Name, p.name)
	setIf(&u.Nickname, p.nickname)
	setIf(&u.Picture, p.picture)
	mergeMembers(u.UserMetadata, p.userMetadata)
	mergeMembers(u.AppMetadata, p.appMetadata)
	u.UpdatedAt = now
}

func setIf(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// patchUser serves PATCH /api/v2/users/{id}.
func (t *Tenant) patchUser(r *http.Request, c *mgmtCaller) (any, error) {
	obj, err := readJSONObject(r)
	if err != nil {
		return nil, err
	}
	patch, err := parseUserPatch(obj)
	if err != nil {
		return nil, err
	}
	return t.withUser(r.PathValue("id"), func(u *userRecord) (any, error) {
		patch.apply(u, time.Now())
		return u.toJSON(c.withIdPTokens()), nil
	})
}
