package devtenant

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Account linking messages, verbatim from Auth0's Management API reference for
// POST /api/v2/users/{id}/identities and DELETE .../identities/{provider}/{user_id}.
const (
	msgLinkSame          = "Main identity and the new one are the same."
	msgLinkExists        = "Specified identity already exists."
	msgLinkNotFound      = "Provided secondary account not found."
	msgLinkInvalidToken  = "Invalid token (link_with)."
	msgLinkAlg           = "JWT (link_with) must have an alg of RS256."
	msgLinkIssuer        = "JWT (link_with) must have the same issuer as the calling user."
	msgLinkAud           = "JWT (link_with) must have an aud claim that matches that of the calling token's azp."
	msgLinkInvalidAud    = "JWT (link_with) contains an invalid aud claim."
	msgLinkMissingSub    = "JWT (link_with) must contains sub claim."
	msgLinkInvalidSub    = "JWT (link_with) contains an invalid sub claim."
	msgUnlinkMain        = "Main identity cannot be removed."
	msgLinkBothVariants  = "'link_with' cannot be sent with 'provider', 'user_id' or 'connection_id'."
	msgLinkNeitherFormat = "'Too few properties defined (0), minimum 1'."
)

func linkError(message string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: message}
}

// linkIdentity serves POST /api/v2/users/{id}/identities: body {link_with} (the
// secondary account's ID token) or {provider, user_id, connection_id?}.
func (t *Tenant) linkIdentity(r *http.Request, c *mgmtCaller) (any, error) {
	obj, err := readJSONObject(r)
	if err != nil {
		return nil, err
	}
	secondaryID, err := t.secondaryFromBody(obj, c)
	if err != nil {
		return nil, err
	}
	return t.link(r.PathValue("id"), secondaryID, c.withIdPTokens())
}

// secondaryFromBody validates the link body and returns the secondary user id it names.
func (t *Tenant) secondaryFromBody(obj map[string]json.RawMessage, c *mgmtCaller) (string, *apiError) {
	if err := rejectUnknown(obj, "link_with", "provider", "user_id", "connection_id"); err != nil {
		return "", err
	}
	_, hasLink := obj["link_with"]
	_, hasProvider := obj["provider"]
	_, hasUserID := obj["user_id"]
	_, hasConn := obj["connection_id"]
	switch {
	case hasLink && (hasProvider || hasUserID || hasConn):
		return "", invalidBody(msgLinkBothVariants)
	case hasLink:
		token, err := memberString(obj, "link_with", false)
		if err != nil {
			return "", err
		}
		return t.verifyLinkWith(token, c.azp)
	case len(obj) == 0:
		return "", invalidBody(msgLinkNeitherFormat)
	}
	return providerUserID(obj)
}

// providerUserID reads the {provider, user_id, connection_id?} variant. user_id may be
// a JSON number, as GitHub ids are in Auth0's identities.
func providerUserID(obj map[string]json.RawMessage) (string, *apiError) {
	for _, name := range []string{"provider", "user_id"} {
		if _, ok := obj[name]; !ok {
			return "", invalidBody("'Missing required property: " + name + "'.")
		}
	}
	provider, err := memberString(obj, "provider", false)
	if err != nil {
		return "", err
	}
	if _, ok := obj["connection_id"]; ok {
		if _, err := memberString(obj, "connection_id", false); err != nil {
			return "", err
		}
	}
	raw := obj["user_id"]
	var uid string
	switch jsonType(raw) {
	case "string":
		_ = json.Unmarshal(raw, &uid)
	case "integer":
		uid = string(raw)
	default:
		return "", wrongType("user_id", "string", raw)
	}
	if provider == "" || uid == "" {
		return "", linkError(msgLinkNotFound)
	}
	return provider + "|" + uid, nil
}

// verifyLinkWith checks the secondary account's ID token as Auth0 does and returns its
// sub. callerAZP is the azp of the calling Management API token.
func (t *Tenant) verifyLinkWith(token, callerAZP string) (string, *apiError) {
	claims, problem := t.verifyJWT(token, time.Now())
	switch problem {
	case jwtOK:
	case jwtBadAlg:
		return "", linkError(msgLinkAlg)
	case jwtBadIssuer:
		return "", linkError(msgLinkIssuer)
	default:
		return "", linkError(msgLinkInvalidToken)
	}
	if _, ok := claims.audiences(); !ok {
		return "", linkError(msgLinkInvalidAud)
	}
	if callerAZP == "" || !claims.hasAudience(callerAZP) {
		return "", linkError(msgLinkAud)
	}
	sub, present := claims["sub"]
	if !present {
		return "", linkError(msgLinkMissingSub)
	}
	s, _ := sub.(string)
	if provider, id, ok := strings.Cut(s, "|"); !ok || provider == "" || id == "" {
		return "", linkError(msgLinkInvalidSub)
	}
	return s, nil
}

// link makes the standalone user secondaryID a secondary identity of primaryID and
// returns the primary's identities rendered for the response.
func (t *Tenant) link(primaryID, secondaryID string, withIdPTokens bool) (any, error) {
	return t.withUser(primaryID, func(p *userRecord) (any, error) {
		if err := t.linkLocked(p, secondaryID, time.Now()); err != nil {
			return nil, err
		}
		return p.identitiesJSON(withIdPTokens), nil
	})
}

// linkLocked links as Auth0 does: each identity of the secondary user moves to the
// primary p (its own one carrying the secondary's profile as profileData), the
// secondary user disappears and its metadata is discarded.
func (t *Tenant) linkLocked(p *userRecord, secondaryID string, now time.Time) *apiError {
	if secondaryID == p.UserID {
		return linkError(msgLinkSame)
	}
	for _, id := range p.Identities[1:] {
		if id.key() == secondaryID {
			return &apiError{status: http.StatusConflict, message: msgLinkExists}
		}
	}
	s, ok := t.users[secondaryID]
	if !ok {
		return linkError(msgLinkNotFound)
	}
	own := s.Identities[0]
	own.ProfileData = s.profile()
	p.Identities = append(p.Identities, own)
	p.Identities = append(p.Identities, s.Identities[1:]...)
	p.UpdatedAt = now
	delete(t.users, secondaryID)
	return nil
}

// unlinkIdentity serves DELETE /api/v2/users/{id}/identities/{provider}/{user_id}.
func (t *Tenant) unlinkIdentity(r *http.Request, c *mgmtCaller) (any, error) {
	return t.unlink(r.PathValue("id"), r.PathValue("provider"), r.PathValue("user_id"), c.withIdPTokens())
}

// unlink makes the identity provider|userID of primaryID a standalone user again and
// returns the primary's remaining identities rendered for the response.
func (t *Tenant) unlink(primaryID, provider, userID string, withIdPTokens bool) (any, error) {
	return t.withUser(primaryID, func(p *userRecord) (any, error) {
		if err := t.unlinkLocked(p, provider+"|"+userID, time.Now()); err != nil {
			return nil, err
		}
		return p.identitiesJSON(withIdPTokens), nil
	})
}

// unlinkLocked removes the identity key from the primary p and makes it a standalone
// user again, with the profile it had as profileData and no metadata, as Auth0 does.
// An identity the user does not have is not an error: Auth0 documents no error for
// it, and answers 200 with the identities unchanged.
func (t *Tenant) unlinkLocked(p *userRecord, key string, now time.Time) *apiError {
	if p.Identities[0].key() == key {
		return linkError(msgUnlinkMain)
	}
	for i := 1; i < len(p.Identities); i++ {
		id := p.Identities[i]
		if id.key() != key {
			continue
		}
		p.Identities = append(p.Identities[:i:i], p.Identities[i+1:]...)
		p.UpdatedAt = now
		t.users[key] = standaloneUser(id, now)
		return nil
	}
	return nil
}

// standaloneUser is the user Auth0 creates for an unlinked identity.
func standaloneUser(id identityRecord, now time.Time) *userRecord {
	pd := id.ProfileData
	str := func(k string) string { s, _ := pd[k].(string); return s }
	verified, _ := pd["email_verified"].(bool)
	id.ProfileData = nil
	return &userRecord{
		UserID:        id.key(),
		Email:         str("email"),
		EmailVerified: verified,
		Name:          str("name"),
		Nickname:      str("nickname"),
		Picture:       str("picture"),
		UserMetadata:  map[string]any{},
		AppMetadata:   map[string]any{},
		Identities:    []identityRecord{id},
		CreatedAt:     now,
		UpdatedAt:     now,
	}
}

// LinkUsers links the standalone user secondaryID into primaryID as
// POST /api/v2/users/{id}/identities would, for tests that need linked accounts
// without going through the API. Errors carry Auth0's message.
func (t *Tenant) LinkUsers(primaryID, secondaryID string) error {
	_, err := t.link(primaryID, secondaryID, false)
	return err
}

// UnlinkUser unlinks the identity provider|userID from primaryID as
// DELETE /api/v2/users/{id}/identities/{provider}/{user_id} would.
func (t *Tenant) UnlinkUser(primaryID, provider, userID string) error {
	_, err := t.unlink(primaryID, provider, userID, false)
	return err
}
