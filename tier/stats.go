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

// ReportStats hands the tier's counters to report, one call per figure, in
// a fixed order: per level ("l1", "l2", ...) the hits, misses, errors,
// skipped calls, breaker openings and whether the breaker is open; then
// the refills, invalidations and offload figures. It is the
// otel.Reporter method, so a Metrics layer over the tier publishes them;
// tier does not import otel.
func (t *Tier) ReportStats(report func(name, level, unit string, cumulative bool, value int64)) {
	for i := range t.levels {
		lv := &t.levels[i]
		name := t.levelNames[i]
		report("tier.hits", name, "{read}", true, int64(lv.hits.Load()))
		report("tier.misses", name, "{read}", true, int64(lv.misses.Load()))
		report("tier.errors", name, "{call}", true, int64(lv.errors.Load()))
		report("tier.skipped", name, "{call}", true, int64(lv.skipped.Load()))
		report("tier.breaker.opens", name, "{opening}", true, int64(lv.br.opens.Load()))
		var open int64
		if lv.br.isOpen() {
			open = 1
		}
		report("tier.breaker.open", name, "{breaker}", false, open)
	}
	report("tier.refills", "", "{entry}", true, int64(t.refills.Load()))
	report("tier.refills.skipped", "", "{entry}", true, int64(t.refillsSkipped.Load()))
	report("tier.refills.failed", "", "{entry}", true, int64(t.refillErrors.Load()))
	report("tier.invalidations", "", "{key}", true, int64(t.invalidations.Load()))
	report("tier.bus.gaps", "", "{gap}", true, int64(t.gaps.Load()))
	o := t.pool.stats()
	report("tier.offload.queued", "", "{task}", true, int64(o.Queued))
	report("tier.offload.merged", "", "{task}", true, int64(o.Merged))
	report("tier.offload.dropped", "", "{task}", true, int64(o.Dropped))
	report("tier.offload.done", "", "{task}", true, int64(o.Done))
	report("tier.offload.pending", "", "{task}", false, int64(o.Pending))
}
