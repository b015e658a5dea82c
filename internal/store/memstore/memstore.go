// Package memstore is the in-process identity.Store of a single replica: link
// intents, the identity read cache and per-user locks live in this process only, and
// are lost when it stops. It is linkbff's default when no shared store is configured.
// The rules it keeps are identity's store contract (see identity.IntentStore, Cache and
// Locker); internal/identity/storetest proves them.
package memstore

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/linkbff/linkbff/internal/identity"
)

// minSweep is the size below which expired entries are only dropped when touched.
const minSweep = 1024

// Store is the in-process identity.Store. Intents, views and locks each have their
// own mutex, so issuing nonces never slows the cached read path. Expired entries are
// swept when a map has doubled since the last sweep, which keeps memory proportional
// to live entries at an amortized O(1) cost per write.
type Store struct {
	now func() time.Time

	intentsMu   sync.Mutex
	intents     map[string]intent   // by nonce
	bySubject   map[string][]string // subject -> its nonces, oldest first
	intentSweep int

	viewsMu   sync.Mutex
	views     map[string]view
	viewSweep int

	locksMu sync.Mutex
	locks   map[string]chan struct{} // held keys; the channel closes on release
}

var (
	_ identity.Store     = (*Store)(nil)
	_ identity.InProcess = (*Store)(nil)
)

// InProcess implements identity.InProcess: no call of this store waits on I/O.
func (m *Store) InProcess() {}

type intent struct {
	subject string
	expires time.Time
}

type view struct {
	view    identity.View
	expires time.Time
}

func (in intent) expiry() time.Time { return in.expires }
func (v view) expiry() time.Time    { return v.expires }

// sweep calls drop for every entry of m that has expired by now, but only once m
// has grown to *next entries; it then sets *next to twice what is left (at least
// minSweep), so that sweeping costs O(1) per write, amortized.
func sweep[V interface{ expiry() time.Time }](m map[string]V, next *int, now time.Time, drop func(string, V)) {
	if len(m) < *next {
		return
	}
	for k, v := range m {
		if now.After(v.expiry()) {
			drop(k, v)
		}
	}
	*next = max(2*len(m), minSweep)
}

// New returns an empty Store that judges expiry by now (nil means time.Now).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:         now,
		intents:     map[string]intent{},
		bySubject:   map[string][]string{},
		intentSweep: minSweep,
		views:       map[string]view{},
		viewSweep:   minSweep,
		locks:       map[string]chan struct{}{},
	}
}

// PutIntent implements identity.IntentStore.
func (m *Store) PutIntent(_ context.Context, nonce, subject string, ttl time.Duration) error {
	m.intentsMu.Lock()
	defer m.intentsMu.Unlock()
	now := m.now()
	sweep(m.intents, &m.intentSweep, now, func(n string, in intent) { m.dropIntentLocked(n, in.subject) })
	// The subject's expired intents go first, so that they do not count toward
	// the bound.
	for _, n := range slices.Clone(m.bySubject[subject]) {
		if now.After(m.intents[n].expires) {
			m.dropIntentLocked(n, subject)
		}
	}
	if own := m.bySubject[subject]; len(own) >= identity.MaxIntentsPerUser {
		m.dropIntentLocked(own[0], subject)
	}
	m.intents[nonce] = intent{subject: subject, expires: now.Add(ttl)}
	m.bySubject[subject] = append(m.bySubject[subject], nonce)
	return nil
}

// dropIntentLocked removes one intent. Callers hold intentsMu.
func (m *Store) dropIntentLocked(nonce, subject string) {
	delete(m.intents, nonce)
	own := slices.DeleteFunc(m.bySubject[subject], func(n string) bool { return n == nonce })
	if len(own) == 0 {
		delete(m.bySubject, subject)
	} else {
		m.bySubject[subject] = own
	}
}

// ConsumeIntent implements identity.IntentStore.
func (m *Store) ConsumeIntent(_ context.Context, nonce, subject string) (bool, error) {
	m.intentsMu.Lock()
	defer m.intentsMu.Unlock()
	in, ok := m.intents[nonce]
	if !ok || in.subject != subject {
		return false, nil
	}
	m.dropIntentLocked(nonce, subject)
	return !m.now().After(in.expires), nil
}

// GetView implements identity.Cache.
func (m *Store) GetView(_ context.Context, userID string) (identity.View, bool, error) {
	m.viewsMu.Lock()
	defer m.viewsMu.Unlock()
	v, ok := m.views[userID]
	if !ok || m.now().After(v.expires) {
		return identity.View{}, false, nil
	}
	return v.view, true, nil
}

// SetView implements identity.Cache.
func (m *Store) SetView(_ context.Context, userID string, v identity.View, ttl time.Duration) error {
	m.viewsMu.Lock()
	defer m.viewsMu.Unlock()
	now := m.now()
	sweep(m.views, &m.viewSweep, now, func(k string, _ view) { delete(m.views, k) })
	m.views[userID] = view{view: v, expires: now.Add(ttl)}
	return nil
}

// DeleteView implements identity.Cache.
func (m *Store) DeleteView(_ context.Context, userID string) error {
	m.viewsMu.Lock()
	defer m.viewsMu.Unlock()
	delete(m.views, userID)
	return nil
}

// Lock implements identity.Locker with one channel per held key. A hold never
// expires: its holder lives in this process and dies with it.
func (m *Store) Lock(ctx context.Context, key string) (func(), error) {
	for {
		m.locksMu.Lock()
		held, busy := m.locks[key]
		if !busy {
			mine := make(chan struct{})
			m.locks[key] = mine
			m.locksMu.Unlock()
			return func() { m.unlock(key, mine) }, nil
		}
		m.locksMu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// unlock releases key if mine is still its hold; a second call finds it is not.
func (m *Store) unlock(key string, mine chan struct{}) {
	m.locksMu.Lock()
	defer m.locksMu.Unlock()
	if m.locks[key] != mine {
		return
	}
	delete(m.locks, key)
	close(mine)
}
