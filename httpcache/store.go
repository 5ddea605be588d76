package httpcache

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hitbox-go/hitbox"
)

// store writes sr under its key: at the primary key when it does not vary,
// else at its variant key with the primary key holding the index (RFC 9111
// §4.1), with the tags its fields carry. It reports whether it was
// written.
func (x *exchange) store(sr *storedResponse, v *view, now time.Time) bool {
	c := x.c
	if sr.status == http.StatusPartialContent {
		// A part: combined with the stored one, or alone (RFC 9111 §3.4).
		if sr = x.combinePart(sr); sr == nil {
			return false
		}
	}
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
		if err := x.putVariant(ctx, key, entryFor(buf, stale, expire), tags); err != nil {
			x.setFailed(err)
			return key, false
		}
		idxExpire := expire
		if !write && x.lease.Valid() {
			// The lease is on the primary key: the index is written again
			// (as long-lived as it is) through it, so a change that
			// crossed the request refuses it.
			write, idxExpire = true, x.idxEntry.Expire
		}
		if write {
			ib := appendIndex(buf[:0], idx)
			buf = ib
			if err := x.putLeased(ctx, entryFor(ib, idxExpire, idxExpire), nil); err != nil {
				if errors.Is(err, hitbox.ErrLeaseLost) {
					_ = c.b.Delete(ctx, key) // the variant, which no index may lead to
				}
				x.setFailed(err)
				return key, false
			}
			x.idx, x.idxEntry = &idx, hitbox.Entry{Expire: idxExpire}
		}
		return key, true
	}
	if err := x.putLeased(ctx, entryFor(buf, stale, expire), tags); err != nil {
		x.setFailed(err)
		return key, false
	}
	return key, true
}

// putVariant writes a variant at key with tags, before the index that
// leads to it is written through the request's lease (see put). Over a
// store in this process (a hitbox.Stamper, such as memstore) it goes
// through a lease taken on key just before: such a store may keep its
// leases by stripes of keys, and a plain write of the variant ends the
// request's own lease on the primary key whenever the two keys share a
// stripe (one in 1,024 in memstore), so that the index would be refused
// as if a change had crossed the request. A leased write ends no lease,
// and in process a lease costs no round trip; over Redis or a tier one
// would, and the variant is written plainly, as it is when the leased
// write is refused.
func (x *exchange) putVariant(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	c := x.c
	if _, local := c.b.(hitbox.Stamper); local && x.lease.Valid() {
		if l, err := hitbox.TakeLease(ctx, c.b, key, tags); err == nil {
			err = c.setLeased(ctx, key, e, tags, l)
			if !errors.Is(err, hitbox.ErrLeaseLost) {
				return err
			}
		}
	}
	return c.setTagged(ctx, key, e, tags)
}

// putLeased writes e at the primary key with tags through the request's
// lease. The lease names the tags of the stored response being validated,
// or none; the response may carry others (its first store, or tags that
// changed), which hitbox.Leaser allows: a purge of a tag the lease named
// refuses the store, one of a tag it did not name lands on the entry
// written at that tag's current version (see takeLease).
func (x *exchange) putLeased(ctx context.Context, e hitbox.Entry, tags []string) error {
	if x.c.untagged.Load() {
		tags = nil
	}
	return x.c.setLeased(ctx, x.key, e, tags, x.lease)
}

// setFailed records a write that failed, or that the backend refused
// because its lease was lost: then a change (an invalidation, a purge, a
// Remove, on any instance) crossed the request, nothing is stored, and
// the Cache-Status member says "lease-lost" in place of "stored" (in the
// response when its header is still to go, else on the request's span).
func (x *exchange) setFailed(err error) {
	if errors.Is(err, hitbox.ErrLeaseLost) {
		x.raced = true
		x.cs.stored, x.cs.detail = false, "lease-lost"
		if x.csValue != "" {
			x.csValue = x.cs.String()
		}
		x.c.logDebug(x.r.Context(), "not storing a response: a change crossed its request", "err", err)
		return
	}
	x.c.obs.fault(x.r.Context())
	x.c.logDebug(x.r.Context(), "storing a response failed", "err", err)
}

// takeLease takes the backend's lease on the primary key as the request
// starts forwarding, before the handler runs, so that its response's
// store (see put) is refused when a change made since on any instance
// sharing the backend crossed it (hitbox.Leaser): an invalidation by an
// unsafe method (RFC 9111 §4.4), a purge of the URL, a Remove. Over a
// backend without leases it costs nothing and guards nothing; guard and
// purges still cover this instance's own changes.
//
// A purge by tag is in the lease only for the tags the lease names, and a
// response's tags are known only once it arrives: the lease names those
// of the stored response being validated or refreshed, if any (the same
// resource most often carries the same tags). A purge on another instance
// of a tag that only the new response carries is not seen by the lease.
// A lease that cannot be taken is a backend fault: the response is not
// stored, as after a failed read.
func (x *exchange) takeLease(ctx context.Context) bool {
	if x.faulted {
		return false
	}
	var tags []string
	if x.sr != nil && len(x.sr.varyNames) == 0 && !x.c.untagged.Load() {
		// A varying response's tags are on its variant, which is not
		// written through the lease; the index it guards is untagged.
		tags, _ = x.c.tagsOfFields(x.sr.fields)
	}
	l, err := hitbox.TakeLease(ctx, x.c.b, x.key, tags)
	if errors.Is(err, hitbox.ErrInvalidTag) {
		tags = nil
		l, err = hitbox.TakeLease(ctx, x.c.b, x.key, nil)
	}
	if err != nil {
		x.fault(err)
		return false
	}
	x.lease = l
	return true
}

// setLeased is setTagged through the lease l (see hitbox.SetLeased).
func (c *Cache) setLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	if !l.Valid() {
		if len(tags) == 0 {
			return c.b.Set(ctx, key, e)
		}
		return c.setTagged(ctx, key, e, tags)
	}
	if len(tags) > 0 && !c.untagged.Load() {
		err := hitbox.SetLeased(ctx, c.b, key, e, tags, l)
		if !errors.Is(err, hitbox.ErrNotSupported) {
			return err
		}
		if !c.untagged.Swap(true) {
			c.logError(ctx, "the backend keeps no tags: responses are stored untagged and cannot be purged by tag",
				"backend", c.b.Label())
		}
	}
	return hitbox.SetLeased(ctx, c.b, key, e, nil, l)
}

// storeWhole stores the response the writer teed, once its body is whole,
// and hands it to the waiters. With a Content-Length it runs as the
// handler writes the last byte, before that byte goes to the client: a
// client that has the whole response and asks again at once, on another
// connection or with a request that cannot join a flight, finds it
// stored. Without one, it runs when the handler returns (see finish).
func (x *exchange) storeWhole() {
	w := &x.w
	w.storing, x.storedWhole = false, true
	sr := x.newSR
	sr.body = w.buf
	withLength(sr)
	x.store(sr, &x.newView, x.respTime)
	switch {
	case x.fl == nil:
	case x.raced:
		// Invalidated or purged since it was asked for: the waiters
		// ask the handler themselves.
		x.release(nil, 0)
	default:
		if x.release(sr, w.status) {
			w.buf = nil // the waiters' now: it does not go back to the pool
		}
	}
}

// declaredLength is the Content-Length of the response being stored, or
// -1 when it has none (or one that does not parse). It is read again on
// each write of a stored body (a miss's), which keeps the exchange within
// its allocation size class.
func (x *exchange) declaredLength() int64 {
	if v, ok := fieldOf(x.newSR.fields, "Content-Length"); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			return n
		}
	}
	return -1
}
