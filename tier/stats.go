package tier

// Stats is a snapshot of a tier's counters, for dashboards and tests. The
// otel layers may expose them as observable gauges.
type Stats struct {
	// Levels has one entry per level, L1 first.
	Levels []LevelStats
	// Refills counts entries copied into an upper level; RefillsSkipped
	// those not copied, or taken back, because the key changed meanwhile;
	// RefillErrors the copies a level failed or refused.
	Refills, RefillsSkipped, RefillErrors uint64
	// Invalidations counts keys dropped from the local levels on the bus's
	// word; Gaps the times the bus reported lost messages (local levels
	// cleared).
	Invalidations, Gaps uint64
	// Offload counts background work.
	Offload OffloadStats
}

// LevelStats counts one level's part in a tier.
type LevelStats struct {
	Label   string // the level's Label
	Hits    uint64 // reads it answered with the entry returned
	Misses  uint64 // reads it answered with a miss (or a corrupt entry)
	Errors  uint64 // calls that failed
	Skipped uint64 // calls not made because its breaker was open
	Opens   uint64 // times its breaker opened
	Open    bool   // whether its breaker is open (or probing) now
}

// Stats returns the tier's counters.
func (t *Tier) Stats() Stats {
	s := Stats{
		Levels:         make([]LevelStats, len(t.levels)),
		Refills:        t.refills.Load(),
		RefillsSkipped: t.refillsSkipped.Load(),
		RefillErrors:   t.refillErrors.Load(),
		Invalidations:  t.invalidations.Load(),
		Gaps:           t.gaps.Load(),
		Offload:        t.pool.stats(),
	}
	for i := range t.levels {
		lv := &t.levels[i]
		s.Levels[i] = LevelStats{
			Label:   lv.label,
			Hits:    lv.hits.Load(),
			Misses:  lv.misses.Load(),
			Errors:  lv.errors.Load(),
			Skipped: lv.skipped.Load(),
			Opens:   lv.br.opens.Load(),
			Open:    lv.br.isOpen(),
		}
	}
	return s
}
