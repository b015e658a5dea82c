package auth

// CachedTokens is how many validated tokens b's cache holds (for tests in auth_test).
func (b *Bearer) CachedTokens() int {
	if b.cache == nil {
		return 0
	}
	b.cache.mu.Lock()
	defer b.cache.mu.Unlock()
	return len(b.cache.entries)
}
