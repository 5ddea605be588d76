package tier

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/keyguard"
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

// Delete removes key from every level, the lowest first, and returns the
// errors of every level that failed, joined. Together with the guard on
// refills, the order means a read running at the same time cannot put the
// deleted value back into an upper level.
func (t *Tier) Delete(ctx context.Context, key string) error {
	if t.closed.Load() {
		return t.fail(hitbox.OpDelete, hitbox.ErrClosed)
	}
	if key == "" {
		return t.fail(hitbox.OpDelete, hitbox.ErrInvalidKey)
	}
	return t.deleteKeys(ctx, hitbox.OpDelete, []string{key}, nil)
}

// Remove is Delete that reports whether key held a live entry in any
// level: each level is asked with hitbox.Remove (in one call where the
// level is a hitbox.Remover, by a Get and a Delete otherwise), the lowest
// first, and the change is published as Delete publishes it. When any
// level fails, Remove returns its error and false, as the hitbox.Remover
// contract says, though the other levels have been asked.
func (t *Tier) Remove(ctx context.Context, key string) (removed bool, err error) {
	if t.closed.Load() {
		return false, t.fail(hitbox.OpRemove, hitbox.ErrClosed)
	}
	if key == "" {
		return false, t.fail(hitbox.OpRemove, hitbox.ErrInvalidKey)
	}
	if err := t.deleteKeys(ctx, hitbox.OpRemove, []string{key}, &removed); err != nil {
		return false, err
	}
	return removed, nil
}

// DeleteMany is Delete for many keys, one batch call per level.
func (t *Tier) DeleteMany(ctx context.Context, keys []string) error {
	if t.closed.Load() {
		return t.fail(hitbox.OpDeleteMany, hitbox.ErrClosed)
	}
	for _, k := range keys {
		if k == "" {
			return t.fail(hitbox.OpDeleteMany, hitbox.ErrInvalidKey)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return t.deleteKeys(ctx, hitbox.OpDeleteMany, keys, nil)
}

// Clear empties every level, the lowest first, and publishes that on the
// bus so other instances clear their L1s. It fails, with every level's
// error joined, when any level failed or cannot clear.
func (t *Tier) Clear(ctx context.Context) error {
	if t.closed.Load() {
		return t.fail(hitbox.OpClear, hitbox.ErrClosed)
	}
	return t.clearLevels(ctx, hitbox.OpClear, "")
}

// ClearPrefix removes the keys that start with prefix from every level,
// the lowest first, through each level's hitbox.ClearPrefix. It fails, with
// every level's error joined, when any level failed or cannot clear by
// prefix (hitbox.ErrNotSupported); the other levels are cleared anyway.
// The bus has no message for a prefix, so it publishes a clear of
// everything: other instances drop their whole L1s, which is always safe
// and costs them refills. An empty prefix is refused with
// hitbox.ErrInvalidKey.
func (t *Tier) ClearPrefix(ctx context.Context, prefix string) error {
	if t.closed.Load() {
		return t.fail(hitbox.OpClearPrefix, hitbox.ErrClosed)
	}
	if prefix == "" {
		return t.fail(hitbox.OpClearPrefix, hitbox.ErrInvalidKey)
	}
	return t.clearLevels(ctx, hitbox.OpClearPrefix, prefix)
}

// clearLevels clears every level (prefix "") or the keys under prefix from
// every level, cancelling the write-behind work that could put an entry
// back, and publishes a clear.
func (t *Tier) clearLevels(ctx context.Context, op, prefix string) error {
	if t.wbLocks != nil {
		for i := range t.wbLocks {
			t.wbLocks[i].Lock()
		}
		t.pool.cancelKind(kindWriteBehind)
		for i := range t.wbLocks {
			t.wbLocks[i].Unlock()
		}
	}
	t.guard.beginAll()
	var errs []error
	for j := len(t.levels) - 1; j >= 0; j-- {
		lv := &t.levels[j]
		if !t.allow(lv) {
			errs = append(errs, openErr(op, lv))
			continue
		}
		var err error
		if prefix == "" {
			err = hitbox.Clear(ctx, lv.b)
		} else {
			err = hitbox.ClearPrefix(ctx, lv.b, prefix)
		}
		if err != nil {
			if !errors.Is(err, hitbox.ErrNotSupported) {
				t.wrote(ctx, lv, err)
			}
			errs = append(errs, err)
		}
	}
	t.guard.endAll()
	if err := t.publish(ctx, hitbox.Invalidation{All: true}); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return t.fail(op, errors.Join(errs...))
	}
	return nil
}

// setItems writes items under the write policy; tags, for one item only,
// go with it to every level.
func (t *Tier) setItems(ctx context.Context, op string, items []hitbox.Item, tags []string) error {
	if t.write == WriteBehind {
		return t.setBehind(ctx, op, items, tags)
	}
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
	if !t.allow(lv) {
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

// dropKeys removes keys from lv even when the caller's context is done.
func (t *Tier) dropKeys(ctx context.Context, lv *level, keys []string) error {
	dctx, cancel := t.detached(ctx)
	defer cancel()
	var err error
	if len(keys) == 1 {
		err = lv.b.Delete(dctx, keys[0])
	} else {
		err = hitbox.DeleteMany(dctx, lv.b, keys)
	}
	if err != nil {
		t.wrote(dctx, lv, err)
	}
	return err
}

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
	if len(t.levels) == 1 {
		if r.out == outcomeRefused {
			return t.fail(op, r.err)
		}
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

// deleteKeys removes keys from every level, the lowest first. With removed
// set (Remove, one key) each level is asked whether it held the key, and
// removed says whether any did.
func (t *Tier) deleteKeys(ctx context.Context, op string, keys []string, removed *bool) error {
	t.cancelBehind(keys)
	changes := t.begin(nil, keys)
	var errs []error
	for j := len(t.levels) - 1; j >= 0; j-- {
		lv := &t.levels[j]
		if !t.allow(lv) {
			errs = append(errs, openErr(op, lv))
			continue
		}
		var err error
		switch {
		case removed != nil:
			var had bool
			had, err = hitbox.Remove(ctx, lv.b, keys[0])
			*removed = *removed || had
		case len(keys) == 1:
			err = lv.b.Delete(ctx, keys[0])
		default:
			err = hitbox.DeleteMany(ctx, lv.b, keys)
		}
		if err != nil {
			t.wrote(ctx, lv, err)
			errs = append(errs, err)
		}
	}
	// A Set overlapping this Delete drops its own upper copies.
	for _, ch := range changes {
		t.guard.end(ch)
	}
	if err := t.publish(ctx, hitbox.Invalidation{Keys: keys}); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return t.fail(op, errors.Join(errs...))
	}
	return nil
}

// publish announces inv on the bus when it is a hitbox.Publisher and the tier has
// shared levels, even when the caller's context is done: the change has
// been made.
func (t *Tier) publish(ctx context.Context, inv hitbox.Invalidation) error {
	if t.pub == nil || t.local >= len(t.levels) {
		return nil
	}
	inv.Origin = t.id
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = t.detached(ctx)
		defer cancel()
	}
	if err := t.pub.Publish(ctx, inv); err != nil {
		return &hitbox.Error{Op: hitbox.OpPublish, Backend: t.label, Err: err}
	}
	return nil
}

// begin marks a change to the keys of items, or to keys; end must follow.
func (t *Tier) begin(items []hitbox.Item, keys []string) []keyguard.Change {
	changes := make([]keyguard.Change, 0, len(items)+len(keys))
	for _, it := range items {
		changes = append(changes, t.guard.begin(it.Key))
	}
	for _, k := range keys {
		changes = append(changes, t.guard.begin(k))
	}
	return changes
}

// end ends the changes a write of items made, first dropping from every
// level but the lowest the keys whose change overlapped another (every key,
// when drop is set): see guard.
func (t *Tier) end(ctx context.Context, items []hitbox.Item, changes []keyguard.Change, drop bool) {
	var keys []string
	for i, ch := range changes {
		if drop || t.guard.overlapped(ch) {
			keys = append(keys, items[i].Key)
		}
	}
	if len(keys) > 0 {
		for j := len(t.levels) - 2; j >= 0; j-- {
			_ = t.dropKeys(ctx, &t.levels[j], keys)
		}
	}
	for _, ch := range changes {
		t.guard.end(ch)
	}
}

func itemKeys(items []hitbox.Item) []string {
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	return keys
}
