package httpcache

import (
	"context"
	"time"

	"github.com/hitbox-go/hitbox"
)

// store writes sr under its key: at the primary key when it does not vary,
// else at its variant key with the primary key holding the index (RFC 9111
// §4.1), with the tags its fields carry. It reports whether it was
// written.
func (x *exchange) store(sr *storedResponse, v *view, now time.Time) bool {
	c := x.c
	stale, expire, ok := c.deadlines(sr, v, now)
	if !ok {
		return false
	}
	// The response is whole: store it even if the client leaves meanwhile.
	ctx := x.r.Context()
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	tags, _ := c.tagsOfFields(sr.fields)
	if !x.stamp.Valid() || len(tags) > 0 && !c.purges.valid(x.tagStamp) {
		// Invalidated, or purged by tag, since it was asked for.
		x.raced = true
		return false
	}
	buf := appendResponse(getBuf(), sr)
	key, ok := x.put(ctx, sr, buf, tags, stale, expire)
	putBuf(buf)
	if ok && !x.stamp.Valid() {
		// An invalidation began while it was written: its deletes may
		// have come first.
		x.raced = true
		_ = c.b.Delete(ctx, key)
		if key != x.key {
			_ = c.b.Delete(ctx, x.key)
		}
		return false
	}
	if ok && len(tags) > 0 && !c.purges.valid(x.tagStamp) {
		// A purge by tag began while it was written: the write may have
		// read the tags' versions after the purge renewed them. The index
		// of a varying resource carries no tags and stays.
		x.raced = true
		_ = c.b.Delete(ctx, key)
		return false
	}
	return ok
}

// put writes the stored form buf of sr (see store) with its tags, and
// returns the key it went to. The index of a varying resource is written
// untagged: each variant carries its own tags, so a purge by tag drops the
// variants that carry it and leaves the others reachable.
func (x *exchange) put(ctx context.Context, sr *storedResponse, buf []byte, tags []string, stale, expire time.Time) (string, bool) {
	c := x.c
	key := x.key
	if len(sr.varyNames) > 0 {
		idx := indexRecord{names: sr.varyNames, epoch: newEpoch()}
		write := true
		if x.idx != nil && equalLines(x.idx.names, sr.varyNames) {
			idx.epoch = x.idx.epoch
			write = x.idxEntry.Expire.Before(expire) && !x.idxEntry.Expire.IsZero()
		}
		key = variantKey(x.key, idx.epoch, sr.varyValues)
		if err := c.setTagged(ctx, key, entryFor(buf, stale, expire), tags); err != nil {
			x.setFailed(err)
			return key, false
		}
		if write {
			ib := appendIndex(buf[:0], idx)
			buf = ib
			if err := c.b.Set(ctx, x.key, entryFor(ib, expire, expire)); err != nil {
				x.setFailed(err)
				return key, false
			}
			x.idx, x.idxEntry = &idx, hitbox.Entry{Expire: expire}
		}
		return key, true
	}
	if err := c.setTagged(ctx, key, entryFor(buf, stale, expire), tags); err != nil {
		x.setFailed(err)
		return key, false
	}
	return key, true
}

func (x *exchange) setFailed(err error) {
	x.c.obs.fault(x.r.Context())
	x.c.logDebug(x.r.Context(), "storing a response failed", "err", err)
}
