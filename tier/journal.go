package tier

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hitbox-go/hitbox"
)

// journal keeps the removals that could not reach one level (its breaker
// was open, the call failed or timed out), so that a level that comes back
// does not serve what they removed: they are replayed on it before it is
// used again, for a read or a write, and while the replay fails the level
// counts as failing. Removals commute (each only takes entries away), so
// the journal is a set of keys, tags and prefixes, or one clear that
// stands for everything.
//
// The journal is bounded (Options.Journal). When it overflows, a local
// level is cleared at replay instead; a shared level follows
// Options.JournalOverflow.
type journal struct {
	pending atomic.Bool // something to replay, or the level is disabled

	replayMu sync.Mutex // one replay at a time

	mu       sync.Mutex
	limit    int
	local    bool
	overflow Overflow
	keys     map[string]struct{}
	tags     map[string]struct{}
	prefixes map[string]struct{}
	all      bool // clear the level: stands for everything else
	disabled bool // a shared level overflowed under OverflowDisable
}

func (j *journal) init(limit int, local bool, overflow Overflow) {
	if limit <= 0 {
		limit = defaultJournal
	}
	j.limit, j.local, j.overflow = limit, local, overflow
}

// removals is what one journal entry (or a replay) holds.
type removals struct {
	keys, tags, prefixes []string
	all                  bool
}

func (r removals) empty() bool {
	return !r.all && len(r.keys)+len(r.tags)+len(r.prefixes) == 0
}

// add records r; it reports whether the journal overflowed.
func (j *journal) add(r removals) (overflowed bool) {
	if r.empty() {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.disabled {
		return false
	}
	if r.all {
		j.setAllLocked()
		return false
	}
	if j.all {
		j.pending.Store(true)
		return false
	}
	put := func(m *map[string]struct{}, xs []string) {
		if len(xs) == 0 {
			return
		}
		if *m == nil {
			*m = make(map[string]struct{}, len(xs))
		}
		for _, x := range xs {
			(*m)[x] = struct{}{}
		}
	}
	put(&j.keys, r.keys)
	put(&j.tags, r.tags)
	put(&j.prefixes, r.prefixes)
	j.pending.Store(true)
	if len(j.keys)+len(j.tags)+len(j.prefixes) <= j.limit {
		return false
	}
	switch {
	case j.local, j.overflow == OverflowClear:
		j.setAllLocked()
	case j.overflow == OverflowDisable:
		j.resetLocked()
		j.disabled = true
		j.pending.Store(true)
	default: // OverflowForget
		j.resetLocked()
		j.pending.Store(false)
	}
	return true
}

func (j *journal) setAllLocked() {
	j.resetLocked()
	j.all = true
	j.pending.Store(true)
}

func (j *journal) resetLocked() {
	j.keys, j.tags, j.prefixes = nil, nil, nil
	j.all = false
}

// take empties the journal into what a replay must do; the pending flag
// stays up until the replay is done.
func (j *journal) take() removals {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := removals{all: j.all}
	if !r.all {
		r.keys = slices.Collect(maps.Keys(j.keys))
		r.tags = slices.Collect(maps.Keys(j.tags))
		r.prefixes = slices.Collect(maps.Keys(j.prefixes))
	}
	j.resetLocked()
	return r
}

// done ends a replay: the pending flag comes down unless the journal
// received more meanwhile, or is disabled.
func (j *journal) done() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.disabled && !j.all && len(j.keys)+len(j.tags)+len(j.prefixes) == 0 {
		j.pending.Store(false)
	}
}

// isDisabled reports whether the level is refused for reads.
func (j *journal) isDisabled() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.disabled
}

// readable reports whether lv may be read now: its breaker allows it and
// its journal, if any, has been replayed. It is allow for reads.
func (t *Tier) readable(ctx context.Context, lv *level) bool {
	if !lv.jn.pending.Load() {
		return t.allow(lv)
	}
	return t.settle(ctx, lv, true)
}

// writable is readable for writes: a level disabled by an overflowing
// journal is still written.
func (t *Tier) writable(ctx context.Context, lv *level) bool {
	if !lv.jn.pending.Load() {
		return t.allow(lv)
	}
	return t.settle(ctx, lv, false)
}

// settle replays lv's journal and reports whether lv may be used.
func (t *Tier) settle(ctx context.Context, lv *level, read bool) bool {
	if lv.jn.isDisabled() {
		if read {
			lv.skipped.Add(1)
			return false
		}
		return t.allow(lv)
	}
	if !t.allow(lv) {
		return false
	}
	if !lv.jn.replayMu.TryLock() {
		// Another call is replaying: this one does not wait for it. On a
		// frozen level each waiter would replay in turn after it, a
		// timeout each; the level counts as failing for this call, as it
		// does while a replay fails.
		lv.br.abort() // a probe this call was gives its turn back
		lv.skipped.Add(1)
		return false
	}
	defer lv.jn.replayMu.Unlock()
	if !lv.jn.pending.Load() {
		return true // replayed by another call meanwhile
	}
	// The replay is owed whatever the caller's context says: a done one
	// must not leave the level unusable.
	ctx, cancel := t.detached(ctx)
	defer cancel()
	r := lv.jn.take()
	if err := t.replay(ctx, lv, r); err != nil {
		lv.jn.add(r)
		t.wrote(ctx, lv, err)
		t.log.Warn("hitbox/tier: cannot replay missed removals; the level counts as failing",
			"tier", t.label, "level", lv.label, "err", err)
		return false
	}
	t.answered(lv)
	lv.jn.done()
	return true
}

// replay applies r to lv.
func (t *Tier) replay(ctx context.Context, lv *level, r removals) error {
	if r.all {
		return hitbox.Clear(ctx, lv.b)
	}
	// A level that lacks an ability never held what it would remove.
	for _, p := range r.prefixes {
		if err := hitbox.ClearPrefix(ctx, lv.b, p); err != nil && !errors.Is(err, hitbox.ErrNotSupported) {
			return err
		}
	}
	if len(r.tags) > 0 && lv.tg != nil {
		if err := lv.tg.InvalidateTags(ctx, r.tags...); err != nil && !errors.Is(err, hitbox.ErrNotSupported) {
			return err
		}
	}
	switch len(r.keys) {
	case 0:
		return nil
	case 1:
		return lv.b.Delete(ctx, r.keys[0])
	}
	return hitbox.DeleteMany(ctx, lv.b, r.keys)
}

// missed journals r for lv, which a removal could not reach with err (nil
// when the breaker kept it from being tried). A level that lacks the
// ability (hitbox.ErrNotSupported) missed nothing it could have done.
func (t *Tier) missed(lv *level, r removals, err error) {
	if err != nil && errors.Is(err, hitbox.ErrNotSupported) {
		return
	}
	if lv.jn.add(r) {
		if lv.jn.local || lv.jn.overflow == OverflowClear {
			t.log.Error("hitbox/tier: journal of missed removals overflowed; the level will be cleared",
				"tier", t.label, "level", lv.label)
		} else if lv.jn.overflow == OverflowDisable {
			t.log.Error("hitbox/tier: journal of missed removals overflowed; the level is no longer read",
				"tier", t.label, "level", lv.label)
		} else {
			t.log.Error("hitbox/tier: journal of missed removals overflowed and was dropped; the level may serve removed entries",
				"tier", t.label, "level", lv.label)
		}
	}
}
