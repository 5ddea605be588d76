package tier

import "github.com/hitbox-go/hitbox"

// Stats is a snapshot of a tier's counters, for dashboards and tests. The
// otel layers may expose them as observable gauges.
type Stats struct {
	// Levels has one entry per level, L1 first.
	Levels []LevelStats
	// Refills counts entries copied into an upper level; RefillsSkipped
	// those not copied, or taken back, because the key changed meanwhile,
	// a purge by tag overlapped the copy of a tagged entry, or the level
	// cannot keep the entry's tags;
	// RefillErrors the copies a level failed or refused.
	Refills, RefillsSkipped, RefillErrors uint64
	// Invalidations counts keys dropped from the local levels on the bus's
	// word; TagInvalidations the tags purged from them on its word; Gaps
	// the times the bus reported lost messages (local levels cleared).
	Invalidations, TagInvalidations, Gaps uint64
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
		Levels:           make([]LevelStats, len(t.levels)),
		Refills:          t.refills.Load(),
		RefillsSkipped:   t.refillsSkipped.Load(),
		RefillErrors:     t.refillErrors.Load(),
		Invalidations:    t.invalidations.Load(),
		TagInvalidations: t.tagInvalidations.Load(),
		Gaps:             t.gaps.Load(),
		Offload:          t.pool.stats(),
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
func (t *Tier) ReportStats(report func(hitbox.Stat)) {
	for i := range t.levels {
		lv := &t.levels[i]
		name := t.levelNames[i]
		report(hitbox.Stat{Name: "tier.hits", Level: name, Unit: "{read}", Cumulative: true, Value: int64(lv.hits.Load())})
		report(hitbox.Stat{Name: "tier.misses", Level: name, Unit: "{read}", Cumulative: true, Value: int64(lv.misses.Load())})
		report(hitbox.Stat{Name: "tier.errors", Level: name, Unit: "{call}", Cumulative: true, Value: int64(lv.errors.Load())})
		report(hitbox.Stat{Name: "tier.skipped", Level: name, Unit: "{call}", Cumulative: true, Value: int64(lv.skipped.Load())})
		report(hitbox.Stat{Name: "tier.breaker.opens", Level: name, Unit: "{opening}", Cumulative: true, Value: int64(lv.br.opens.Load())})
		var open int64
		if lv.br.isOpen() {
			open = 1
		}
		report(hitbox.Stat{Name: "tier.breaker.open", Level: name, Unit: "{breaker}", Value: open})
	}
	report(hitbox.Stat{Name: "tier.refills", Unit: "{entry}", Cumulative: true, Value: int64(t.refills.Load())})
	report(hitbox.Stat{Name: "tier.refills.skipped", Unit: "{entry}", Cumulative: true, Value: int64(t.refillsSkipped.Load())})
	report(hitbox.Stat{Name: "tier.refills.failed", Unit: "{entry}", Cumulative: true, Value: int64(t.refillErrors.Load())})
	report(hitbox.Stat{Name: "tier.invalidations", Unit: "{key}", Cumulative: true, Value: int64(t.invalidations.Load())})
	report(hitbox.Stat{Name: "tier.invalidations.tags", Unit: "{tag}", Cumulative: true, Value: int64(t.tagInvalidations.Load())})
	report(hitbox.Stat{Name: "tier.bus.gaps", Unit: "{gap}", Cumulative: true, Value: int64(t.gaps.Load())})
	o := t.pool.stats()
	report(hitbox.Stat{Name: "tier.offload.queued", Unit: "{task}", Cumulative: true, Value: int64(o.Queued)})
	report(hitbox.Stat{Name: "tier.offload.merged", Unit: "{task}", Cumulative: true, Value: int64(o.Merged)})
	report(hitbox.Stat{Name: "tier.offload.dropped", Unit: "{task}", Cumulative: true, Value: int64(o.Dropped)})
	report(hitbox.Stat{Name: "tier.offload.done", Unit: "{task}", Cumulative: true, Value: int64(o.Done)})
	report(hitbox.Stat{Name: "tier.offload.pending", Unit: "{task}", Value: int64(o.Pending)})
}
