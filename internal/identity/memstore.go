package identity

import (
	"context"
	"slices"
	"sync"
	"time"
)

// MaxIntentsPerUser bounds the live link intents of one user: asking for more drops
// the oldest, so a client in a loop cannot grow the store.
const MaxIntentsPerUser = 5

// minSweep is the size below which expired entries are only dropped when touched.
const minSweep = 1024

// MemoryStore is the in-process Store for a single replica: intents, the read cache
// and per-user locks live in this process only. Each has its own lock, so issuing
// nonces never slows the cached read path. Expired entries are swept when a map has
// doubled since the last sweep, which keeps memory proportional to live entries at an
// amortized O(1) cost per write.
type MemoryStore struct {
	now func() time.Time

	intentsMu   sync.Mutex
	intents     map[string]memIntent // by nonce
	bySubject   map[string][]string  // subject -> its nonces, oldest first
	intentSweep int

	viewsMu   sync.Mutex
	views     map[string]memView
	viewSweep int

	locksMu sync.Mutex
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
	return &MemoryStore{
		now:         now,
		intents:     map[string]memIntent{},
		bySubject:   map[string][]string{},
		intentSweep: minSweep,
		views:       map[string]memView{},
		viewSweep:   minSweep,
		locks:       map[string]chan struct{}{},
	}
}

// PutIntent implements IntentStore.
func (m *MemoryStore) PutIntent(_ context.Context, nonce, subject string, ttl time.Duration) error {
	m.intentsMu.Lock()
	defer m.intentsMu.Unlock()
	now := m.now()
	if len(m.intents) >= m.intentSweep {
		for n, in := range m.intents {
			if now.After(in.expires) {
				m.dropIntent(n, in.subject)
			}
		}
		m.intentSweep = max(2*len(m.intents), minSweep)
	}
	for _, n := range slices.Clone(m.bySubject[subject]) {
		if now.After(m.intents[n].expires) {
			m.dropIntent(n, subject)
		}
	}
	if own := m.bySubject[subject]; len(own) >= MaxIntentsPerUser {
		m.dropIntent(own[0], subject)
	}
	m.intents[nonce] = memIntent{subject: subject, expires: now.Add(ttl)}
	m.bySubject[subject] = append(m.bySubject[subject], nonce)
	return nil
}

// dropIntent removes one intent. Callers hold intentsMu.
func (m *MemoryStore) dropIntent(nonce, subject string) {
	delete(m.intents, nonce)
	own := slices.DeleteFunc(m.bySubject[subject], func(n string) bool { return n == nonce })
	if len(own) == 0 {
		delete(m.bySubject, subject)
	} else {
		m.bySubject[subject] = own
	}
}

// ConsumeIntent implements IntentStore.
func (m *MemoryStore) ConsumeIntent(_ context.Context, nonce, subject string) (bool, error) {
	m.intentsMu.Lock()
	defer m.intentsMu.Unlock()
	in, ok := m.intents[nonce]
	if !ok || in.subject != subject {
		return false, nil
	}
	m.dropIntent(nonce, subject)
	return !m.now().After(in.expires), nil
}

// GetView implements Cache.
func (m *MemoryStore) GetView(_ context.Context, userID string) (View, bool, error) {
	m.viewsMu.Lock()
	defer m.viewsMu.Unlock()
	v, ok := m.views[userID]
	if !ok || m.now().After(v.expires) {
		return View{}, false, nil
	}
	return v.view, true, nil
}

// SetView implements Cache.
func (m *MemoryStore) SetView(_ context.Context, userID string, v View, ttl time.Duration) error {
	m.viewsMu.Lock()
	defer m.viewsMu.Unlock()
	now := m.now()
	if len(m.views) >= m.viewSweep {
		for k, e := range m.views {
			if now.After(e.expires) {
				delete(m.views, k)
			}
		}
		m.viewSweep = max(2*len(m.views), minSweep)
	}
	m.views[userID] = memView{view: v, expires: now.Add(ttl)}
	return nil
}

// DeleteView implements Cache.
func (m *MemoryStore) DeleteView(_ context.Context, userID string) error {
	m.viewsMu.Lock()
	defer m.viewsMu.Unlock()
	delete(m.views, userID)
	return nil
}

// Lock implements Locker with one channel per held key.
func (m *MemoryStore) Lock(ctx context.Context, key string) (func(), error) {
	for {
		m.locksMu.Lock()
		held, busy := m.locks[key]
		if !busy {
			ch := make(chan struct{})
			m.locks[key] = ch
			m.locksMu.Unlock()
			return func() {
				m.locksMu.Lock()
				delete(m.locks, key)
				m.locksMu.Unlock()
				close(ch)
			}, nil
		}
		m.locksMu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
