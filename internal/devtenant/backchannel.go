package devtenant

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// OIDCLogout is a client's OpenID Connect logout settings (Auth0's client
// oidc_logout, the "Back-Channel Logout URI" of the dashboard).
type OIDCLogout struct {
	// BackchannelLogoutURLs receive a logout token (OIDC Back-Channel Logout 1.0)
	// when a login session that issued tokens to the client ends at /v2/logout.
	// Unlike Auth0, which wants public https URLs, the tenant posts to any http(s)
	// URL, loopback included: it is a development tool.
	BackchannelLogoutURLs []string `json:"backchannel_logout_urls,omitempty"`
}

// The logout token's fixed parts (OIDC Back-Channel Logout 1.0 §2.4).
const (
	backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"
	logoutTokenType        = "logout+jwt"
	logoutTokenTTL         = 2 * time.Minute
	backchannelTimeout     = 5 * time.Second
)

// noteClientLocked records that the login session sid issued tokens to clientID,
// whose back-channel logout URLs then hear of the session's end.
func (t *Tenant) noteClientLocked(sid, clientID string) {
	for _, s := range t.sessions {
		if s.SID == sid && !slices.Contains(s.Clients, clientID) {
			s.Clients = append(s.Clients, clientID)
		}
	}
}

// LogoutToken returns a logout token for clientID about userID's login session sid
// (either may be empty, not both), signed with the current key: what /v2/logout
// posts to the client's back-channel logout URLs. It is a test knob.
func (t *Tenant) LogoutToken(clientID, userID, sid string) (string, error) {
	if userID == "" && sid == "" {
		return "", fmt.Errorf("devtenant: a logout token needs a user or a session id")
	}
	claims := map[string]any{
		"iss":    t.issuer,
		"aud":    clientID,
		"iat":    time.Now().Unix(),
		"exp":    time.Now().Add(logoutTokenTTL).Unix(),
		"jti":    randomToken(16),
		"events": map[string]any{backchannelLogoutEvent: map[string]any{}},
	}
	if userID != "" {
		claims["sub"] = userID
	}
	if sid != "" {
		claims["sid"] = sid
	}
	b, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return t.keys.signTyped(b, logoutTokenType)
}

// sendLogoutTokens posts a logout token to every back-channel logout URL of every
// client the ended session s issued tokens to. It posts before /v2/logout answers
// (Auth0 posts in the background), so that a test sees the effect at once; a URL
// that fails is logged and skipped, as Auth0 records a failed delivery and moves on.
func (t *Tenant) sendLogoutTokens(ctx context.Context, s *session) {
	t.mu.Lock()
	userID := ""
	if u := t.primaryForLocked(s.Identity); u != nil {
		userID = u.UserID
	}
	targets := map[string][]string{}
	for _, clientID := range s.Clients {
		if c, ok := t.clients[clientID]; ok && c.OIDCLogout != nil {
			targets[clientID] = slices.Clone(c.OIDCLogout.BackchannelLogoutURLs)
		}
	}
	t.mu.Unlock()
	for clientID, urls := range targets {
		for _, target := range urls {
			token, err := t.LogoutToken(clientID, userID, s.SID)
			if err != nil {
				t.log.Error("devtenant: logout token", "client_id", clientID, "err", err)
				continue
			}
			status, err := t.postLogoutToken(ctx, target, token)
			t.log.Debug("back-channel logout", "client_id", clientID, "url", target, "status", status, "err", err)
		}
	}
}

func (t *Tenant) postLogoutToken(ctx context.Context, target, token string) (int, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backchannelTimeout)
	defer cancel()
	body := url.Values{"logout_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := t.backchannel.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// signTyped signs payload with the current key under a typ of its own (a logout
// token's logout+jwt).
func (r *keyRing) signTyped(payload []byte, typ string) (string, error) {
	r.mu.RLock()
	k := r.current
	r.mu.RUnlock()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.key, KeyID: k.kid}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", err
	}
	obj, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}
