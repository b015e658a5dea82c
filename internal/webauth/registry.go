package webauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// Registry is what webauth keeps beside the sessions so that a session can be ended
// from outside its browser: which sessions each user and each Auth0 login session
// (sid) has, and which back-channel logout tokens were already used. Replicas that
// share a session store must share one Registry too (Redis: internal/store/redisstore);
// the default keeps it in this process, beside the default memory session store.
//
// Sessions are named by their key in the session store (a hash of the cookie value,
// never the value itself), and owners by a kind and an id ("sub:auth0|alice",
// "sid:…"). A non-nil error means the registry could not answer.
//
// Why an index of our own rather than walking every session (scs's IterableStore):
// ending the sessions of one user then costs a read of that user's few entries,
// not a scan of every session in Redis with a decode of each, and it needs nothing
// from the session store beyond Delete.
type Registry interface {
	// AddSession records session as one of owner's until ttl has passed. An owner
	// keeps any number of sessions; expired records are dropped on the way.
	AddSession(ctx context.Context, owner, session string, ttl time.Duration) error
	// TakeSessions returns the sessions recorded for owner and forgets them, in one
	// step: of two concurrent takes, one gets them all, the other none.
	TakeSessions(ctx context.Context, owner string) ([]string, error)
	// ClaimOnce records id until ttl has passed and reports whether it was not
	// recorded already: of any number of claims of one id (across replicas too),
	// exactly one reports true.
	ClaimOnce(ctx context.Context, id string, ttl time.Duration) (bool, error)
	// Unclaim forgets id, so that it may be claimed again.
	Unclaim(ctx context.Context, id string) error
}

// Owner names for the registry.
func ownerSubject(sub string) string { return "sub:" + sub }
func ownerLogin(sid string) string   { return "sid:" + sid }

// storeKey is the key under which the session store keeps the session of a cookie
// value: scs hashes it (SessionManager.HashTokenInStore) with SHA-256 and unpadded
// base64url. The session tests end a session through it, so a change in scs fails
// them.
func storeKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// memoryRegistry is the default Registry, in this process.
type memoryRegistry struct {
	now func() time.Time

	mu     sync.Mutex
	owners map[string]map[string]time.Time // owner -> session -> expiry
	claims map[string]time.Time            // id -> expiry
	writes int                             // since the last sweep
}

func newMemoryRegistry(now func() time.Time) *memoryRegistry {
	return &memoryRegistry{now: now, owners: map[string]map[string]time.Time{}, claims: map[string]time.Time{}}
}

// sweepEvery is how many writes pass between sweeps of expired records.
const sweepEvery = 1024

// sweepLocked drops expired records now and then, so that owners who never log
// out again and old claims do not pile up.
func (m *memoryRegistry) sweepLocked(now time.Time) {
	if m.writes++; m.writes < sweepEvery {
		return
	}
	m.writes = 0
	for owner, sessions := range m.owners {
		for s, exp := range sessions {
			if now.After(exp) {
				delete(sessions, s)
			}
		}
		if len(sessions) == 0 {
			delete(m.owners, owner)
		}
	}
	for id, exp := range m.claims {
		if now.After(exp) {
			delete(m.claims, id)
		}
	}
}

func (m *memoryRegistry) AddSession(_ context.Context, owner, session string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweepLocked(now)
	sessions := m.owners[owner]
	if sessions == nil {
		sessions = map[string]time.Time{}
		m.owners[owner] = sessions
	}
	for s, exp := range sessions {
		if now.After(exp) {
			delete(sessions, s)
		}
	}
	sessions[session] = now.Add(ttl)
	return nil
}

func (m *memoryRegistry) TakeSessions(_ context.Context, owner string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for s := range m.owners[owner] {
		out = append(out, s)
	}
	delete(m.owners, owner)
	return out, nil
}

func (m *memoryRegistry) ClaimOnce(_ context.Context, id string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.sweepLocked(now)
	if exp, ok := m.claims[id]; ok && !now.After(exp) {
		return false, nil
	}
	m.claims[id] = now.Add(ttl)
	return true, nil
}

func (m *memoryRegistry) Unclaim(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.claims, id)
	return nil
}
