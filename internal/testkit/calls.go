package testkit

import "sync"

// Calls is what a fake records of the calls it received, in order, safe for
// concurrent use. The zero value is empty and ready.
type Calls struct {
	mu    sync.Mutex
	calls []string
}

// Add records one call.
func (c *Calls) Add(call string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
}

// List returns a copy of the calls so far (nil if none).
func (c *Calls) List() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

// Reset forgets every call.
func (c *Calls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}
