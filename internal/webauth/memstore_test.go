package webauth

import (
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

var _ scs.Store = (*memoryStore)(nil)

func TestMemoryStore(t *testing.T) {
	now := time.Unix(1_750_000_000, 0)
	m := newMemoryStore()
	m.now = func() time.Time { return now }

	if err := m.Commit("a", []byte("A"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := m.Commit("b", []byte("B"), now.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if b, ok, _ := m.Find("a"); !ok || string(b) != "A" {
		t.Errorf("Find(a) = %q, %v", b, ok)
	}
	now = now.Add(30 * time.Second)
	if _, ok, _ := m.Find("b"); ok {
		t.Error("an expired session was found")
	}
	// The next write within the sweep interval keeps it; one after sweeps it out.
	_ = m.Commit("c", []byte("C"), now.Add(time.Hour))
	if n := m.size(); n != 3 {
		t.Errorf("size %d before the sweep interval, want 3", n)
	}
	now = now.Add(sweepInterval)
	_ = m.Commit("d", []byte("D"), now.Add(time.Hour))
	if n := m.size(); n != 3 {
		t.Errorf("size %d after a sweep, want 3 (a, c, d)", n)
	}
	if err := m.Delete("a"); err != nil || m.size() != 2 {
		t.Errorf("Delete: %v, size %d, want 2", err, m.size())
	}
	if _, ok, _ := m.Find("a"); ok {
		t.Error("a deleted session was found")
	}
}
