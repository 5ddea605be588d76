package tier

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/hitbox-go/hitbox"
)

// refillAbove copies e, found in level i with tags, into the levels above
// it, as the refill mode says. st was taken before level i was read.
func (t *Tier) refillAbove(ctx context.Context, key string, e hitbox.Entry, tags []string, i int, st stamp) {
	if t.refill == RefillOff {
		return
	}
	if t.down.Load() {
		t.refillsSkipped.Add(1) // a copy made in a bus gap could not be invalidated
		return
	}
	now, ok := t.clockFor(e)
	if !ok {
		return
	}
	if st.busy {
		t.refillsSkipped.Add(1)
		return
	}
	if t.refill == RefillBackground {
		t.pool.submit(ctx, kindRefill, key, func(ctx context.Context) {
			if now, ok := t.clockFor(e); ok && !t.down.Load() {
				t.refillLevels(ctx, key, e, tags, i, st, now)
			}
		})
		return
	}
	t.refillLevels(ctx, key, e, tags, i, st, now)
}

// clockFor reads the clock only when refilling e needs it (the clock can be
// costly on virtual machines): to tell whether e has gone stale, and to cut
// its lifetime to a MaxTTL. It reports false when e must not be refilled.
// An entry without a Stale deadline that was live when it was read needs
// no check: a level never stores one that has expired since.
func (t *Tier) clockFor(e hitbox.Entry) (time.Time, bool) {
	if e.Stale.IsZero() && !t.capped {
		return time.Time{}, true
	}
	now := t.now()
	return now, t.refillable(e, now)
}

// refillable reports whether e may be copied up at now: stale entries only
// when Options.RefillStale says so.
func (t *Tier) refillable(e hitbox.Entry, now time.Time) bool {
	switch e.StateAt(now) {
	case hitbox.Expired:
		return false
	case hitbox.Stale:
		return t.refillStale
	}
	return true
}

// refillLevels writes e into levels i-1 down to 0, each with e's remaining
// lifetime (Expire is absolute, so it never grows) cut to the level's
// MaxTTL. It stops, and takes back what it has just written, as soon as the
// key changes: see guard. An entry with tags goes to refillTagged.
func (t *Tier) refillLevels(ctx context.Context, key string, e hitbox.Entry, tags []string, i int, st stamp, now time.Time) {
	if len(tags) > 0 {
		t.refillTagged(ctx, key, e, tags, i, st, now)
		return
	}
	for j := i - 1; j >= 0; j-- {
		lv := &t.levels[j]
		if !t.guard.valid(st) {
			t.refillsSkipped.Add(1)
			return
		}
		if !t.writable(ctx, lv) {
			continue
		}
		var err error
		if lv.maxTTL > 0 {
			err = lv.b.Set(ctx, key, e.CapTTL(now, lv.maxTTL))
		} else {
			err = lv.b.Set(ctx, key, e)
		}
		switch t.wrote(ctx, lv, err) {
		case outcomeCancelled:
			return
		case outcomeFailed, outcomeRefused:
			t.refillErrors.Add(1)
			continue
		}
		if !t.guard.valid(st) {
			t.undo(ctx, lv, key)
			t.refillsSkipped.Add(1)
			return
		}
		t.refills.Add(1)
	}
}

// refillTagged is refillLevels for an entry with tags, kept apart so the
// untagged path pays nothing for tags. Each copy is written with the tags,
// and taken back also when a purge of one of them overlaps it: see guard. It
// stops below a level that cannot keep tags, which would hold a copy no purge
// reaches.
func (t *Tier) refillTagged(ctx context.Context, key string, e hitbox.Entry, tags []string, i int, st stamp, now time.Time) {
	for j := i - 1; j >= 0; j-- {
		lv := &t.levels[j]
		if !t.guard.validFor(st, tags) || lv.tg == nil {
			t.refillsSkipped.Add(1)
			return
		}
		if !t.writable(ctx, lv) {
			continue
		}
		err := lv.tg.SetTagged(ctx, key, e.CapTTL(now, lv.maxTTL), tags)
		if errors.Is(err, hitbox.ErrNotSupported) {
			t.refillsSkipped.Add(1) // it cannot keep tags after all
			return
		}
		switch t.wrote(ctx, lv, err) {
		case outcomeCancelled:
			return
		case outcomeFailed, outcomeRefused:
			t.refillErrors.Add(1)
			continue
		}
		if !t.guard.validFor(st, tags) {
			t.undo(ctx, lv, key)
			t.refillsSkipped.Add(1)
			return
		}
		t.refills.Add(1)
	}
}

// refillMany is refillLevels for a batch read: hitAt says which level
// answered each key (-1 for none, 0 needs nothing), out[k].Tags are each
// hit's tags and stamps were taken before the lower levels were read.
// Entries without tags go up in one batch call per level, entries with
// tags one SetTagged each (the contract has no batch of them).
func (t *Tier) refillMany(ctx context.Context, keys []string, out []hitbox.Result, hitAt []int, stamps []stamp) {
	if t.refill == RefillOff || stamps == nil || t.down.Load() {
		return
	}
	tagsOf := func(k int) []string { return out[k].Tags }
	if t.refill == RefillBackground {
		for k, i := range hitAt {
			if i > 0 {
				t.refillAbove(ctx, keys[k], out[k].Entry, tagsOf(k), i, stamps[k])
			}
		}
		return
	}
	now := t.now()
	var items []hitbox.Item
	var undo []string
	for j := len(t.levels) - 2; j >= 0; j-- {
		lv := &t.levels[j]
		items = items[:0]
		var which, tagged []int // the key index of each item, of each tagged entry
		for k, i := range hitAt {
			if i <= j || !t.refillable(out[k].Entry, now) {
				continue
			}
			kt := tagsOf(k)
			if !t.guard.validFor(stamps[k], kt) {
				hitAt[k] = -1 // counted once
				t.refillsSkipped.Add(1)
				continue
			}
			if len(kt) > 0 {
				if lv.tg == nil {
					// It cannot keep the tags: no copy here, nor above.
					hitAt[k] = -1
					t.refillsSkipped.Add(1)
					continue
				}
				tagged = append(tagged, k)
				continue
			}
			items = append(items, hitbox.Item{Key: keys[k], Entry: out[k].Entry.CapTTL(now, lv.maxTTL)})
			which = append(which, k)
		}
		if len(items)+len(tagged) == 0 || !t.writable(ctx, lv) {
			continue
		}
		if len(items) > 0 {
			err := hitbox.SetMany(ctx, lv.b, items)
			switch t.wrote(ctx, lv, err) {
			case outcomeCancelled:
				return
			case outcomeFailed, outcomeRefused:
				t.refillErrors.Add(1)
				which = which[:0]
			}
		}
		for _, k := range tagged {
			err := lv.tg.SetTagged(ctx, keys[k], out[k].Entry.CapTTL(now, lv.maxTTL), out[k].Tags)
			switch t.wrote(ctx, lv, err) {
			case outcomeCancelled:
				return
			case outcomeFailed, outcomeRefused:
				t.refillErrors.Add(1)
				continue
			}
			which = append(which, k)
		}
		undo = undo[:0]
		for _, k := range which {
			if t.guard.validFor(stamps[k], tagsOf(k)) {
				t.refills.Add(1)
				continue
			}
			undo = append(undo, keys[k])
			t.refillsSkipped.Add(1)
			hitAt[k] = -1 // refill it no further up
		}
		if len(undo) > 0 {
			dctx, cancel := t.detached(ctx)
			if err := hitbox.DeleteMany(dctx, lv.b, undo); err != nil {
				t.wrote(dctx, lv, err)
				t.missed(lv, removals{keys: slices.Clone(undo)}, err)
			}
			cancel()
		}
	}
}

// undo deletes key from lv after a refill that lost a race with a change,
// even when the caller's context is done.
func (t *Tier) undo(ctx context.Context, lv *level, key string) {
	dctx, cancel := t.detached(ctx)
	defer cancel()
	if err := lv.b.Delete(dctx, key); err != nil {
		t.wrote(dctx, lv, err)
		t.missed(lv, removals{keys: []string{key}}, err)
	}
}

// outcomeOK and outcomeRefused complete outcome for writes.
const (
	outcomeOK      outcome = iota + outcomeCancelled + 1 // the level stored it
	outcomeRefused                                       // the level refused the value as too large
	outcomeLost                                          // a change crossed the lease: nothing stored
)

// wrote counts the result of a write to lv.
func (t *Tier) wrote(ctx context.Context, lv *level, err error) outcome {
	switch {
	case err == nil:
		t.answered(lv)
		return outcomeOK
	case errors.Is(err, hitbox.ErrTooLarge):
		t.answered(lv)
		return outcomeRefused
	case errors.Is(err, hitbox.ErrNotSupported):
		// The level lacks an ability (tags, below a wrapper that hides
		// it): a failed write, but no sign that the level is down.
		return outcomeFailed
	case ctx.Err() != nil:
		lv.br.abort()
		return outcomeCancelled
	}
	t.failed(lv, err)
	return outcomeFailed
}
