package devtenant

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The tenant's records: users and their identities, and what it has issued and will
// redeem later (authorization codes, refresh tokens). They live in Tenant's maps,
// under t.mu, and are only read or changed with t.mu held.

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

// toJSON renders the identity as Auth0's Management API does. Social providers
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
	m := u.profile()
	m["user_id"] = u.UserID
	m["identities"] = u.identitiesJSON(withIdPTokens)
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

// identitiesJSON renders the identities array, as user reads, link and unlink return it.
func (u *userRecord) identitiesJSON(withIdPTokens bool) []any {
	out := make([]any, len(u.Identities))
	for i, id := range u.Identities {
		out[i] = id.toJSON(withIdPTokens)
	}
	return out
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

// mergeMembers sets each member of patch in dst, and removes those patch sets to nil
// (JSON null): how Auth0 merges metadata, and how MintRequest overrides claims.
func mergeMembers(dst, patch map[string]any) {
	for k, v := range patch {
		if v == nil {
			delete(dst, k)
			continue
		}
		dst[k] = v
	}
}

// codeTTL is how long an authorization code can be exchanged.
const codeTTL = 10 * time.Minute

// authCode is an issued authorization code (single use).
type authCode struct {
	ClientID            string
	RedirectURI         string
	UserID              string // primary user id
	Scope               string
	Audience            string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	AuthTime            time.Time
	SID                 string
	Expires             time.Time
	Used                bool
}

// refreshGrant is an issued refresh token.
type refreshGrant struct {
	ClientID string
	UserID   string
	Scope    string
	Audience string
	SID      string
	AuthTime time.Time // of the login the grant came from, for refreshed ID tokens
}

// randomToken is a fresh unguessable value of n random bytes, base64url: codes,
// tokens, cookie values and ids.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// loadSeedLocked fills the empty tenant with seed's content.
func (t *Tenant) loadSeedLocked(seed *Seed, now time.Time) {
	for _, c := range seed.Connections {
		t.connections[c.Name] = &c
	}
	for _, c := range seed.Clients {
		t.clients[c.ClientID] = &c
	}
	for _, a := range seed.APIs {
		t.apis[a.Identifier] = &a
	}
	for _, u := range seed.Users {
		t.users[u.UserID] = newUserRecord(u, t.connections[u.Connection].Strategy, now)
		if u.Password != "" {
			t.passwords[u.UserID] = u.Password
		}
	}
}

// UserSnapshot is a copy of a stored user as the Management API would return it
// (including IdP tokens). ok is false when no user has that primary user_id.
func (t *Tenant) UserSnapshot(userID string) (user map[string]any, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.users[userID]
	if !ok {
		return nil, false
	}
	return u.toJSON(true), true
}

// primaryForLocked finds the user owning the identity "provider|id" (its own or a
// linked one).
func (t *Tenant) primaryForLocked(identityKey string) *userRecord {
	if u, ok := t.users[identityKey]; ok {
		return u
	}
	for _, u := range t.users {
		for _, id := range u.Identities[1:] {
			if id.key() == identityKey {
				return u
			}
		}
	}
	return nil
}

// knownAudienceLocked reports whether aud is a seeded API or the Management API.
func (t *Tenant) knownAudienceLocked(aud string) bool {
	_, ok := t.apis[aud]
	return ok || aud == t.ManagementAudience()
}

// connectionNamesLocked lists the connections by name.
func (t *Tenant) connectionNamesLocked() []string {
	return slices.Sorted(maps.Keys(t.connections))
}

// defaultDatabaseLocked is the database connection used when none is named (Auth0's
// "Default Directory"): the first by name.
func (t *Tenant) defaultDatabaseLocked() string {
	for _, name := range t.connectionNamesLocked() {
		if t.connections[name].Strategy == strategyDatabase {
			return name
		}
	}
	return ""
}

// sweepExpiredLocked drops expired sessions, login transactions, login tickets and
// codes, so a long-running tenant does not grow without bound.
func (t *Tenant) sweepExpiredLocked(now time.Time) {
	maps.DeleteFunc(t.sessions, func(_ string, s *session) bool { return now.After(s.Expires) })
	maps.DeleteFunc(t.logins, func(_ string, l *loginTxn) bool { return now.After(l.expires) })
	maps.DeleteFunc(t.tickets, func(_ string, lt *loginTicket) bool { return now.After(lt.Expires) })
	maps.DeleteFunc(t.codes, func(_ string, c *authCode) bool { return now.After(c.Expires) })
}
