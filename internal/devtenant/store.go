package devtenant

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"time"
)

// userRecord is a user as the tenant stores it. identities[0] is the user's own
// (primary) identity; linked identities follow.
type userRecord struct {
	UserID        string
	Email         string
	EmailVerified bool
	Name          string
	Nickname      string
	Picture       string
	UserMetadata  map[string]any
	AppMetadata   map[string]any
	Identities    []identityRecord
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastLogin     time.Time
	LoginsCount   int
}

type identityRecord struct {
	Connection string
	Provider   string
	UserID     string // the part of the user id after the first "|"
	IsSocial   bool
	// ProfileData is the linked user's profile, set on secondary identities only.
	ProfileData map[string]any
	// AccessToken stands in for the IdP access token Auth0 keeps for social identities.
	AccessToken string
}

// key is the full "provider|id" form of the identity.
func (i identityRecord) key() string { return i.Provider + "|" + i.UserID }

// MarshalJSON renders the identity as Auth0's Management API does. Social providers
// whose ids are numeric (GitHub) get a JSON number, as Auth0 sends them.
func (i identityRecord) toJSON(withIdPTokens bool) map[string]any {
	m := map[string]any{
		"connection": i.Connection,
		"provider":   i.Provider,
		"user_id":    i.UserID,
		"isSocial":   i.IsSocial,
	}
	if i.Provider == "github" {
		if n, err := strconv.ParseInt(i.UserID, 10, 64); err == nil {
			m["user_id"] = n
		}
	}
	if withIdPTokens && i.AccessToken != "" {
		m["access_token"] = i.AccessToken
	}
	if i.ProfileData != nil {
		m["profileData"] = cloneMap(i.ProfileData)
	}
	return m
}

// profile returns the standard profile attributes of the user (used both for ID token
// claims and for a secondary identity's profileData).
func (u *userRecord) profile() map[string]any {
	p := map[string]any{"email_verified": u.EmailVerified}
	if u.Email != "" {
		p["email"] = u.Email
	}
	if u.Name != "" {
		p["name"] = u.Name
	}
	if u.Nickname != "" {
		p["nickname"] = u.Nickname
	}
	if u.Picture != "" {
		p["picture"] = u.Picture
	}
	return p
}

// toJSON renders the user as GET /api/v2/users/{id} does.
func (u *userRecord) toJSON(withIdPTokens bool) map[string]any {
	ids := make([]any, len(u.Identities))
	for i, id := range u.Identities {
		ids[i] = id.toJSON(withIdPTokens)
	}
	m := u.profile()
	m["user_id"] = u.UserID
	m["identities"] = ids
	m["user_metadata"] = cloneMap(u.UserMetadata)
	m["app_metadata"] = cloneMap(u.AppMetadata)
	m["created_at"] = u.CreatedAt.UTC().Format(time.RFC3339Nano)
	m["updated_at"] = u.UpdatedAt.UTC().Format(time.RFC3339Nano)
	if !u.LastLogin.IsZero() {
		m["last_login"] = u.LastLogin.UTC().Format(time.RFC3339Nano)
	}
	m["logins_count"] = u.LoginsCount
	return m
}

func newUserRecord(u User, strategy string, now time.Time) *userRecord {
	provider, id, _ := strings.Cut(u.UserID, "|")
	r := &userRecord{
		UserID:        u.UserID,
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
		Name:          u.Name,
		Nickname:      u.Nickname,
		Picture:       u.Picture,
		UserMetadata:  cloneMap(u.UserMetadata),
		AppMetadata:   cloneMap(u.AppMetadata),
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if r.UserMetadata == nil {
		r.UserMetadata = map[string]any{}
	}
	if r.AppMetadata == nil {
		r.AppMetadata = map[string]any{}
	}
	own := identityRecord{Connection: u.Connection, Provider: provider, UserID: id, IsSocial: isSocialStrategy(strategy)}
	if own.IsSocial {
		own.AccessToken = "idp-access-token-for-" + strings.ReplaceAll(u.UserID, "|", "-")
	}
	r.Identities = []identityRecord{own}
	return r
}

// cloneMap deep-copies a JSON-like map so callers never share state with the store.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return maps.Clone(m)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return maps.Clone(m)
	}
	return out
}
