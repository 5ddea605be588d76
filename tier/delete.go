package tier

import (
	"context"
	"errors"

	"github.com/hitbox-go/hitbox"
)

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

// deleteKeys removes keys from every level, the lowest first. With removed
// set (Remove, one key) each level is asked whether it held the key, and
// removed says whether any did.
func (t *Tier) deleteKeys(ctx context.Context, op string, keys []string, removed *bool) error {
	t.cancelBehind(keys)
	changes := t.begin(nil, keys)
	var errs []error
	for j := len(t.levels) - 1; j >= 0; j-- {
		lv := &t.levels[j]
		if !t.writable(ctx, lv) {
			t.missed(lv, removals{keys: keys}, nil)
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
			t.missed(lv, removals{keys: keys}, err)
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
		t.missed(lv, removals{keys: keys}, err)
	}
	return err
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
		r := removals{all: prefix == ""}
		if prefix != "" {
			r.prefixes = []string{prefix}
		}
		if !t.writable(ctx, lv) {
			t.missed(lv, r, nil)
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
			t.missed(lv, r, err)
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
