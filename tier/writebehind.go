package tier

import (
	"bytes"
	"context"
	"slices"

	"github.com/hitbox-go/hitbox"
)

// setBehind writes L1 now and queues the lower levels, one task per key.
// The key's write-behind lock is held meanwhile, so Sets of one key reach
// L1 in the order their tasks are queued, and run.
func (t *Tier) setBehind(ctx context.Context, op string, items []hitbox.Item, tags []string) error {
	var ts stamp
	if len(tags) > 0 {
		ts = t.guard.tagStamp()
		tags = slices.Clone(tags) // kept after Set returns
	}
	unlock := t.lockBehind(itemKeys(items))
	defer unlock()
	changes := t.begin(items, nil)
	r := t.setLevel(ctx, op, 0, items, tags)
	for _, ch := range changes {
		t.guard.end(ch)
	}
	if r.out == outcomeFailed || r.out == outcomeCancelled {
		return t.fail(op, r.err)
	}
	if r.out == outcomeRefused {
		if len(t.levels) == 1 {
			return t.fail(op, r.err)
		}
		// L1 would not take it, so nothing in front answers for the
		// lower levels: write them now, and say whether they took it.
		return t.setThrough(ctx, op, items, tags)
	}
	if len(t.levels) == 1 {
		return nil
	}
	for _, it := range items {
		// Set must not keep the caller's bytes after it returns.
		key, e := it.Key, it.Entry
		e.Value = bytes.Clone(e.Value)
		t.pool.submit(ctx, kindWriteBehind, key, func(ctx context.Context) {
			t.writeBehind(ctx, key, e, tags, ts)
		})
	}
	return nil
}

// writeBehind writes one key to the levels below L1, in the background.
// Then, unless a newer Set of the key is queued, it writes L1 again: a read
// that missed L1 may have copied the old value up from L2 meanwhile. When
// a Delete or Clear supersedes it while it runs, it takes back what it
// wrote. A write with tags that a purge of one of them overtook (ts no
// longer valid for them) is dropped from every level instead: it was made
// before the purge, which must not let it survive, and the older value it
// replaces must not either.
func (t *Tier) writeBehind(ctx context.Context, key string, e hitbox.Entry, tags []string, ts stamp) {
	if t.pool.superseded(kindWriteBehind, key) {
		return
	}
	items := []hitbox.Item{{Key: key, Entry: e}}
	keys := []string{key}
	purged := func() bool { return len(tags) > 0 && !t.guard.tagsValid(ts, tags) }
	ch := t.guard.begin(key)
	defer t.guard.end(ch)
	shared := t.local < len(t.levels)
	if shared {
		t.expectOwn(items)
	}
	sharedStored := false
	failedAt := -1
	for j := len(t.levels) - 1; j > 0 && !purged(); j-- {
		r := t.setLevel(ctx, hitbox.OpSet, j, items, tags)
		if r.out == outcomeOK {
			sharedStored = sharedStored || j >= t.local
			continue
		}
		if r.out != outcomeRefused {
			failedAt = j
			t.log.Debug("hitbox/tier: write-behind failed", "tier", t.label,
				"level", t.levels[j].label, "err", r.err)
			break
		}
	}
	if shared && !sharedStored {
		t.cancelOwn(items)
	}

	unlock := t.lockBehind(keys)
	switch {
	case t.pool.superseded(kindWriteBehind, key):
		unlock()
		for j := len(t.levels) - 1; j > 0; j-- {
			_ = t.dropKeys(ctx, &t.levels[j], keys)
		}
		return
	case t.pool.queuedAfter(kindWriteBehind, key):
		// The newer task sets every level itself.
	case purged():
		for j := len(t.levels) - 1; j >= 0; j-- {
			_ = t.dropKeys(ctx, &t.levels[j], keys)
		}
		sharedStored = shared
	case failedAt > 0:
		// No level above the failed one may keep what it lacks.
		for j := failedAt - 1; j >= 0; j-- {
			_ = t.dropKeys(ctx, &t.levels[j], keys)
		}
	default:
		t.setLevel(ctx, hitbox.OpSet, 0, items, tags)
		if purged() {
			// The purge began after the lower levels were written, so it
			// reached them; it may have missed this L1 write.
			_ = t.dropKeys(ctx, &t.levels[0], keys)
		}
	}
	unlock()
	if sharedStored {
		if err := t.publish(ctx, hitbox.Invalidation{Keys: keys}); err != nil {
			t.log.Debug("hitbox/tier: publish failed", "tier", t.label, "err", err)
		}
	}
}

// lockBehind takes the write-behind locks of keys, in one order so two
// batches cannot deadlock, and returns their release. Without write-behind
// it does nothing.
func (t *Tier) lockBehind(keys []string) (unlock func()) {
	if t.wbLocks == nil {
		return func() {}
	}
	idx := make([]int, len(keys))
	for i, k := range keys {
		idx[i] = t.guard.index(k)
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		t.wbLocks[i].Lock()
	}
	return func() {
		for _, i := range idx {
			t.wbLocks[i].Unlock()
		}
	}
}

// cancelBehind cancels the write-behind tasks of keys, under their locks so
// a task cannot slip its last L1 write past the Delete.
func (t *Tier) cancelBehind(keys []string) {
	if t.wbLocks == nil {
		return
	}
	unlock := t.lockBehind(keys)
	for _, k := range keys {
		t.pool.cancel(kindWriteBehind, k)
	}
	unlock()
}
