package tier

import (
	"context"
	"errors"
	"sync"

	"github.com/hitbox-go/hitbox"
)

// Set stores e under key in the levels, as the write policy says (see
// WriteThrough for the order and why). A level that refuses the value as
// too large is skipped, and its old copy removed; Set fails with
// hitbox.ErrTooLarge only when every level refused it. When the bus is a
// hitbox.Publisher, Set publishes the change once the shared levels have it.
func (t *Tier) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if t.closed.Load() {
		return t.fail(hitbox.OpSet, hitbox.ErrClosed)
	}
	if key == "" {
		return t.fail(hitbox.OpSet, hitbox.ErrInvalidKey)
	}
	return t.setItems(ctx, hitbox.OpSet, []hitbox.Item{{Key: key, Entry: e}}, nil)
}

// SetTagged is Set that stores tags with the entry in every level, through
// each level's hitbox.Tagger, under the same write policy. Every level must
// keep tags: be a Tagger, and so must what it wraps (a layer over a store
// that keeps none does not; the tier looks through hitbox.Unwrapper when
// it is built). Otherwise SetTagged fails with hitbox.ErrNotSupported,
// naming the first level that does not, before anything is written, since
// a copy stored without its tags could never be purged by them. Without
// tags it is Set.
//
// A tagged write that overlaps a purge of one of its tags (InvalidateTags,
// here or from the bus) is taken back from the upper levels once written,
// since the purge may have reached them before it did; the lowest level
// decides, as its Tagger does for writes racing a purge.
func (t *Tier) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if len(tags) == 0 {
		return t.Set(ctx, key, e)
	}
	if t.closed.Load() {
		return t.fail(hitbox.OpSet, hitbox.ErrClosed)
	}
	if key == "" {
		return t.fail(hitbox.OpSet, hitbox.ErrInvalidKey)
	}
	if err := hitbox.CheckTags(tags); err != nil {
		return t.fail(hitbox.OpSet, err)
	}
	if t.untagged >= 0 {
		lv := &t.levels[t.untagged]
		return t.fail(hitbox.OpSet, &hitbox.Error{Op: hitbox.OpSet, Backend: lv.label, Err: hitbox.ErrNotSupported})
	}
	return t.setItems(ctx, hitbox.OpSet, []hitbox.Item{{Key: key, Entry: e}}, tags)
}

// SetMany is Set for many entries, one batch call per level.
func (t *Tier) SetMany(ctx context.Context, items []hitbox.Item) error {
	if t.closed.Load() {
		return t.fail(hitbox.OpSetMany, hitbox.ErrClosed)
	}
	for _, it := range items {
		if it.Key == "" {
			return t.fail(hitbox.OpSetMany, hitbox.ErrInvalidKey)
		}
	}
	if len(items) == 0 {
		return nil
	}
	return t.setItems(ctx, hitbox.OpSetMany, items, nil)
}

// setItems writes items under the write policy; tags, for one item only,
// go with it to every level.
func (t *Tier) setItems(ctx context.Context, op string, items []hitbox.Item, tags []string) error {
	if t.write == WriteBehind {
		return t.setBehind(ctx, op, items, tags)
	}
	return t.setThrough(ctx, op, items, tags)
}

// setThrough writes items to every level before it returns (in parallel
// with WriteParallel), as setItems does for every policy but WriteBehind.
func (t *Tier) setThrough(ctx context.Context, op string, items []hitbox.Item, tags []string) error {
	var ts stamp
	if len(tags) > 0 {
		ts = t.guard.tagStamp()
	}
	changes := t.begin(items, nil)
	shared := t.local < len(t.levels)
	if shared {
		t.expectOwn(items)
	}

	res := make([]levelResult, len(t.levels))
	if t.write == WriteParallel {
		var wg sync.WaitGroup
		for j := len(t.levels) - 1; j > 0; j-- {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[j] = t.setLevel(ctx, op, j, items, tags)
			}()
		}
		res[0] = t.setLevel(ctx, op, 0, items, tags)
		wg.Wait()
	} else {
		for j := len(t.levels) - 1; j >= 0; j-- {
			if len(tags) > 0 && j < len(t.levels)-1 && !t.guard.tagsValid(ts, tags) {
				break // a purge began: the upper levels are dropped below
			}
			res[j] = t.setLevel(ctx, op, j, items, tags)
			if res[j].out == outcomeFailed || res[j].out == outcomeCancelled {
				break // leave the levels above unwritten
			}
		}
	}

	// Find the lowest level whose failure fails the write, and whether any
	// level (any shared level) stored the items.
	failedAt := -1
	stored, sharedStored := false, false
	var errs, refusals []error
	for j := range res {
		r := &res[j]
		switch r.out {
		case outcomeOK:
			stored = true
			sharedStored = sharedStored || j >= t.local
		case outcomeRefused:
			refusals = append(refusals, r.err)
		case outcomeFailed, outcomeCancelled:
			if t.write == WriteThrough || t.levels[j].required {
				failedAt = j
				errs = append(errs, r.err)
			} else {
				t.log.Debug("hitbox/tier: optional level failed a write", "tier", t.label,
					"level", t.levels[j].label, "err", r.err)
			}
		}
	}
	if shared && !sharedStored {
		t.cancelOwn(items)
	}
	if failedAt > 0 {
		// No level above a failed one may keep serving what the caller
		// meant to replace, nor hold what the failed level lacks.
		keys := itemKeys(items)
		for j := failedAt - 1; j >= 0; j-- {
			if err := t.dropKeys(ctx, &t.levels[j], keys); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// A purge by tag that overlapped the write may have reached a level
	// before the write did: drop the upper copies, which refill (guarded)
	// from the lowest level, as for overlapping changes of one key.
	purged := len(tags) > 0 && !t.guard.tagsValid(ts, tags)
	t.end(ctx, items, changes, purged)
	if !stored && len(errs) == 0 {
		errs = refusals
	}
	if sharedStored {
		if err := t.publish(ctx, hitbox.Invalidation{Keys: itemKeys(items)}); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return t.fail(op, errors.Join(errs...))
	}
	return nil
}

// levelResult is one level's part in a write.
type levelResult struct {
	out outcome // zero (outcomeMiss) when the level was not written
	err error
}

// setLevel writes items to level j, capped to its MaxTTL, with tags (one
// item only; the tier checked that every level is a Tagger). A level that
// refuses them as too large loses its old copies.
func (t *Tier) setLevel(ctx context.Context, op string, j int, items []hitbox.Item, tags []string) levelResult {
	lv := &t.levels[j]
	if !t.writable(ctx, lv) {
		return levelResult{outcomeFailed, openErr(op, lv)}
	}
	if lv.maxTTL > 0 {
		now := t.now()
		capped := make([]hitbox.Item, len(items))
		for k, it := range items {
			capped[k] = hitbox.Item{Key: it.Key, Entry: it.Entry.CapTTL(now, lv.maxTTL)}
		}
		items = capped
	}
	var err error
	switch {
	case len(tags) > 0:
		err = lv.tg.SetTagged(ctx, items[0].Key, items[0].Entry, tags)
	case len(items) == 1:
		err = lv.b.Set(ctx, items[0].Key, items[0].Entry)
	default:
		err = hitbox.SetMany(ctx, lv.b, items)
	}
	out := t.wrote(ctx, lv, err)
	if out == outcomeRefused {
		_ = t.dropKeys(ctx, lv, itemKeys(items))
	}
	return levelResult{out, err}
}

func itemKeys(items []hitbox.Item) []string {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	return keys
}
