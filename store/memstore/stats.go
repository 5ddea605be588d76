package memstore

// Stats describes what a store holds, for dashboards and tests.
type Stats struct {
	// Entries is the number of entries held, including expired ones not
	// yet found by a Get or reclaimed by bigcache.
	Entries int
	// Allocated is the bytes bigcache has allocated for its queues. It
	// grows by doubling, shard by shard, and never exceeds Limit.
	Allocated int
	// Limit is the effective memory cap: Options.MaxBytes rounded down to
	// a whole MiB.
	Limit int64
	// Collisions counts reads that found another key under the same 64-bit
	// hash. bigcache keeps one entry per hash, so a colliding Set replaces
	// the other key's entry.
	Collisions int64
}

// Len returns the number of entries held, including expired ones not yet
// removed.
func (s *Store) Len() int { return s.cache.Len() }

// Stats returns the store's figures as of now.
func (s *Store) Stats() Stats {
	return Stats{
		Entries:    s.cache.Len(),
		Allocated:  s.cache.Capacity(),
		Limit:      s.limit,
		Collisions: s.cache.Stats().Collisions,
	}
}
