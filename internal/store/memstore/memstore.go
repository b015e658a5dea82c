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
//
// The view cache is also bounded in bytes (Options.MaxViewBytes): each view is
// charged viewCost, about what it holds on the heap, and a SetView that would go over
// the bound first drops other views, arbitrary ones (map order), as many as it takes.
// Link intents need no such bound: a subject has at most identity.MaxIntentsPerUser,
// and only authenticated callers make them.
type Store struct {
	now func() time.Time

	intentsMu   sync.Mutex
	intents     map[string]intent   // by nonce
	bySubject   map[string][]string // subject -> its nonces, oldest first
	intentSweep int

	viewsMu      sync.Mutex
	views        map[string]view
	viewSweep    int
	viewBytes    int // sum of the views' costs
	maxViewBytes int

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
	cost    int
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

// DefaultMaxViewBytes is Options.MaxViewBytes's default: some 10,000 views of a user
// with two identities.
const DefaultMaxViewBytes = 16 << 20

// Options configure a Store.
type Options struct {
	// Now is the clock that judges expiry (default time.Now).
	Now func() time.Time
	// MaxViewBytes bounds the view cache, as viewCost counts (default
	// DefaultMaxViewBytes).
	MaxViewBytes int
}

// New returns an empty Store.
func New(opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxViewBytes <= 0 {
		opts.MaxViewBytes = DefaultMaxViewBytes
	}
	return &Store{
		now:          opts.Now,
		intents:      map[string]intent{},
		bySubject:    map[string][]string{},
		intentSweep:  minSweep,
		views:        map[string]view{},
		viewSweep:    minSweep,
		maxViewBytes: opts.MaxViewBytes,
		locks:        map[string]chan struct{}{},
	}
}

// viewOverhead is what a cached view costs beyond its strings: the map entry, the
// View and Doc structs, and per identity its struct; BenchmarkViewCacheMemory checks
// viewCost against the heap a view really holds.
const (
	viewOverhead     = 384
	identityOverhead = 160
)

// viewCost is what a view is charged: its key, its strings (which its Doc's JSON
// holds once more, hence twice the strings when sealed) and the overheads.
func viewCost(userID string, v identity.View) int {
	strs := len(v.UserID)
	for _, id := range v.Identities {
		p := id.Profile
		strs += len(id.Provider) + len(id.UserID) + len(id.Connection) + len(p.Email) + len(p.Name) + len(p.Picture)
	}
	cost := len(userID) + strs + viewOverhead + identityOverhead*len(v.Identities)
	if v.Doc != nil {
		cost += len(v.Doc.JSON) + len(v.Doc.ETag)
	}
	return cost
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

// RevokeIntents implements identity.IntentStore.
func (m *Store) RevokeIntents(_ context.Context, subject string) error {
	m.intentsMu.Lock()
	defer m.intentsMu.Unlock()
	for _, n := range m.bySubject[subject] {
		delete(m.intents, n)
	}
	delete(m.bySubject, subject)
	return nil
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

// SetView implements identity.Cache. A view larger than an eighth of the bound is
// not kept (it is served from Auth0 each time), so one user cannot empty the cache.
func (m *Store) SetView(_ context.Context, userID string, v identity.View, ttl time.Duration) error {
	m.viewsMu.Lock()
	defer m.viewsMu.Unlock()
	now := m.now()
	sweep(m.views, &m.viewSweep, now, func(k string, _ view) { m.dropViewLocked(k) })
	m.dropViewLocked(userID)
	cost := viewCost(userID, v)
	if cost > m.maxViewBytes/8 {
		return nil
	}
	for k := range m.views {
		if m.viewBytes+cost <= m.maxViewBytes {
			break
		}
		m.dropViewLocked(k)
	}
	m.views[userID] = view{view: v, expires: now.Add(ttl), cost: cost}
	m.viewBytes += cost
	return nil
}

// DeleteView implements identity.Cache.
func (m *Store) DeleteView(_ context.Context, userID string) error {
	m.viewsMu.Lock()
	defer m.viewsMu.Unlock()
	m.dropViewLocked(userID)
	return nil
}

// dropViewLocked forgets userID's view, if any. Callers hold viewsMu.
func (m *Store) dropViewLocked(userID string) {
	if v, ok := m.views[userID]; ok {
		delete(m.views, userID)
		m.viewBytes -= v.cost
	}
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
