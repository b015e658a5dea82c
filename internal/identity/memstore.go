package identity

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is the in-process Store for a single replica: intents, the read cache
// and per-user locks live in this process only.
type MemoryStore struct {
	now func() time.Time

	mu      sync.Mutex
	intents map[string]memIntent
	views   map[string]memView
	locks   map[string]chan struct{}
}

type memIntent struct {
	subject string
	expires time.Time
}

type memView struct {
	view    View
	expires time.Time
}

// NewMemoryStore returns an empty MemoryStore. now may be nil (time.Now).
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, intents: map[string]memIntent{}, views: map[string]memView{}, locks: map[string]chan struct{}{}}
}

// PutIntent implements IntentStore.
func (m *MemoryStore) PutIntent(_ context.Context, nonce, subject string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, v := range m.intents { // intents are few and short-lived: sweep on write
		if now.After(v.expires) {
			delete(m.intents, k)
		}
	}
	m.intents[nonce] = memIntent{subject: subject, expires: now.Add(ttl)}
	return nil
}

// ConsumeIntent implements IntentStore.
func (m *MemoryStore) ConsumeIntent(_ context.Context, nonce, subject string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.intents[nonce]
	if !ok || in.subject != subject {
		return false, nil
	}
	delete(m.intents, nonce)
	return !m.now().After(in.expires), nil
}

// GetView implements Cache.
func (m *MemoryStore) GetView(_ context.Context, userID string) (View, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.views[userID]
	if !ok || m.now().After(v.expires) {
		return View{}, false, nil
	}
	return v.view, true, nil
}

// SetView implements Cache.
func (m *MemoryStore) SetView(_ context.Context, userID string, v View, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.views[userID] = memView{view: v, expires: m.now().Add(ttl)}
	return nil
}

// DeleteView implements Cache.
func (m *MemoryStore) DeleteView(_ context.Context, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.views, userID)
	return nil
}

// Lock implements Locker with one channel per held key.
func (m *MemoryStore) Lock(ctx context.Context, key string) (func(), error) {
	for {
		m.mu.Lock()
		held, busy := m.locks[key]
		if !busy {
			ch := make(chan struct{})
			m.locks[key] = ch
			m.mu.Unlock()
			return func() {
				m.mu.Lock()
				delete(m.locks, key)
				m.mu.Unlock()
				close(ch)
			}, nil
		}
		m.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
