package webauth

import (
	"sync"
	"time"
)

// memoryStore is the default session store: sessions in this process's memory. scs's
// own memstore would do, but its cleanup goroutine cannot be stopped without a data
// race (the goroutine creates the channel that StopCleanup sends on). This one needs
// no goroutine: writes sweep out expired sessions, at most once per sweepInterval.
type memoryStore struct {
	now func() time.Time

	mu        sync.Mutex
	items     map[string]memoryItem
	lastSweep time.Time
}

type memoryItem struct {
	data   []byte
	expiry time.Time
}

const sweepInterval = time.Minute

func newMemoryStore() *memoryStore {
	return &memoryStore{now: time.Now, items: map[string]memoryItem{}}
}

// Find implements scs.Store.
func (m *memoryStore) Find(token string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[token]
	if !ok || !m.now().Before(it.expiry) {
		return nil, false, nil
	}
	return it.data, true, nil
}

// Commit implements scs.Store.
func (m *memoryStore) Commit(token string, data []byte, expiry time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now := m.now(); now.Sub(m.lastSweep) >= sweepInterval {
		for k, it := range m.items {
			if !now.Before(it.expiry) {
				delete(m.items, k)
			}
		}
		m.lastSweep = now
	}
	m.items[token] = memoryItem{data: data, expiry: expiry}
	return nil
}

// Delete implements scs.Store.
func (m *memoryStore) Delete(token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, token)
	return nil
}

// size is the number of sessions held, expired or not.
func (m *memoryStore) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}
