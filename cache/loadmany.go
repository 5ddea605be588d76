package cache

import (
	"context"
	"errors"

	"github.com/hitbox-go/hitbox"
)

// GetOrLoadMany returns the values under keys, calling load once, with
// only the keys the cache could not answer, and storing what it returns
// in one batch write. It reads the cache in one batch too (GetMany: one
// round trip per Redis node), after the front.
//
// load returns the values it found by key; a key it leaves out is "not
// found": absent from the result and, with MissTTL, remembered as such.
// Keys already being loaded, by GetOrLoad or another GetOrLoadMany, are
// waited for rather than loaded again, and the load runs detached from
// ctx's cancellation as GetOrLoad's does. Stale values are served and
// refreshed in the background (or, with SyncRevalidate, refreshed first
// and served when that fails).
//
// The result holds every key that has a value; on a load error it holds
// those the cache could answer, and the error is returned with it. The
// cross-process lock (LockTTL) is not taken for batches.
func (c *Cache[T]) GetOrLoadMany(ctx context.Context, keys []string, load func(ctx context.Context, keys []string) (map[string]T, error), opts ...CallOption) (map[string]T, error) {
	co := c.callOptions(opts)
	uniq := make([]string, 0, len(keys))
	seen := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			uniq = append(uniq, k)
		}
	}
	out := make(map[string]T, len(uniq))
	missing, stale := uniq, []string(nil)
	var fallback map[string]T // stale values held back for SyncRevalidate
	var failed []string       // keys the pipeline could not answer
	if !co.skipRead {
		missing, stale, fallback, failed = c.readMany(ctx, uniq, out, co)
	}
	if len(stale) > 0 {
		bg := co
		bg.refreshing, bg.background = true, true
		var lead []string
		var fs []*flight[T]
		for _, k := range stale {
			if f, ok := c.flights.join(k); ok {
				lead, fs = append(lead, k), append(fs, f)
			}
		}
		if len(lead) > 0 {
			c.startMany(ctx, lead, fs, load, bg)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	err := c.waitMany(ctx, missing, load, co, out)
	for k, v := range fallback {
		if _, ok := out[k]; !ok {
			out[k] = v // stale-if-error
		}
	}
	if err != nil && len(failed) > 0 && ctx.Err() == nil {
		c.fallbackMany(ctx, failed, out)
	}
	if err != nil && len(fallback) > 0 {
		c.opts.Logger.WarnContext(ctx, "hitbox/cache: batch load failed, serving stale values", "error", err)
	}
	return out, err
}

// readMany answers what it can of keys into out, from the front and then
// from one batch read, and returns the keys to load now (missing), those
// to refresh in the background (stale), with SyncRevalidate the stale
// values to fall back on, and the keys the pipeline failed to read
// (failed, a part of missing), which a failed load may still find a copy
// of (see fallbackMany).
//
// The batch read is made with hitbox.WithSource: a copy the pipeline
// cannot prove current is loaded rather than served.
func (c *Cache[T]) readMany(ctx context.Context, keys []string, out map[string]T, co callOptions) (missing, stale []string, fallback map[string]T, failed []string) {
	rest := keys
	var stamps []stamp
	if f := c.front; f != nil {
		rest = make([]string, 0, len(keys))
		for _, k := range keys {
			if fe, now, ok := f.hit(k); ok {
				if !fe.neg() {
					out[k] = f.out(fe.v)
					if co.refresh || c.early(hit[T]{until: fe.until, now: now}) {
						stale = append(stale, k)
					}
				}
				continue
			}
			rest = append(rest, k)
			stamps = append(stamps, f.stamp(k))
		}
	}
	if len(rest) == 0 {
		return nil, stale, nil, nil
	}
	res, err := hitbox.GetMany(c.withSource(ctx), c.b, rest)
	if err != nil {
		if ctx.Err() == nil {
			c.opts.Logger.WarnContext(ctx, "hitbox/cache: cache batch read failed, loading from source", "error", err)
			if c.front != nil {
				// The front's copies, while its bus is down, are served
				// if the load fails too (stale-if-error).
				for _, k := range rest {
					if h, ok := c.frontFallback(k); ok {
						if fallback == nil {
							fallback = make(map[string]T)
						}
						fallback[k] = h.v
					}
				}
			}
		}
		return rest, stale, fallback, rest
	}
	now := c.opts.Now()
	for i, k := range rest {
		r := res[i]
		if r.Err != nil {
			missing = append(missing, k)
			if !errors.Is(r.Err, hitbox.ErrMiss) {
				failed = append(failed, k)
			}
			continue
		}
		st := r.Entry.StateAt(now)
		if st == hitbox.Expired {
			missing = append(missing, k)
			continue
		}
		fe := &frontEntry[T]{until: freshUntil(r.Entry), expire: unixNano(r.Entry.Expire)}
		if isNotFound(r.Entry.Value) {
			if st == hitbox.Fresh && c.front != nil {
				fe.x = notFoundExtra
				c.front.fill(k, stamps[i], fe, r.Tags)
			}
			continue
		}
		var v T
		if c.raw {
			v = c.decodeRaw(r.Entry.Value)
		} else if err := c.format.Unmarshal(r.Entry.Value, &v); err != nil {
			_ = c.Delete(ctx, k)
			missing = append(missing, k)
			continue
		}
		switch {
		case st == hitbox.Fresh:
			out[k] = v
			if c.front != nil {
				fe.v = c.front.in(v)
				// A Tagger's batch read returns each entry's tags, so
				// the front notes them as a single read does.
				c.front.fill(k, stamps[i], fe, r.Tags)
			}
			if co.refresh || c.early(hit[T]{until: fe.until, now: now.UnixNano()}) {
				stale = append(stale, k)
			}
		case c.opts.SyncRevalidate:
			if fallback == nil {
				fallback = make(map[string]T)
			}
			fallback[k] = v
			missing = append(missing, k)
		default:
			out[k] = v
			stale = append(stale, k)
		}
	}
	return missing, stale, fallback, failed
}

// fallbackMany puts in out, for each of keys it lacks, the copy the
// pipeline holds without proving it current: what a read without
// hitbox.WithSource answers once the load of keys failed too.
func (c *Cache[T]) fallbackMany(ctx context.Context, keys []string, out map[string]T) {
	n := 0
	for _, k := range keys {
		if _, ok := out[k]; ok {
			continue
		}
		if h, err := c.read(ctx, k); err == nil {
			out[k] = h.v
			n++
		}
	}
	if n > 0 {
		c.opts.Logger.WarnContext(ctx, "hitbox/cache: batch load failed, serving copies the cache could not prove current", "keys", n)
	}
}

// waitMany joins the loads of keys already in progress, starts one load
// for the others, waits for all, and puts what they found in out. It
// returns the first load error.
//
// As in wait, a key whose load this call joined and did not store (a
// change crossed it, or the store failed) is loaded once more.
func (c *Cache[T]) waitMany(ctx context.Context, keys []string, load func(context.Context, []string) (map[string]T, error), co callOptions, out map[string]T) error {
	return c.waitManyOnce(ctx, keys, load, co, out, false)
}

func (c *Cache[T]) waitManyOnce(ctx context.Context, keys []string, load func(context.Context, []string) (map[string]T, error), co callOptions, out map[string]T, retried bool) error {
	all := make([]*flight[T], len(keys))
	led := make([]bool, len(keys))
	var lead []string
	var fs []*flight[T]
	for i, k := range keys {
		f, ok := c.flights.join(k)
		all[i], led[i] = f, ok
		if ok {
			lead, fs = append(lead, k), append(fs, f)
		}
	}
	if len(lead) > 0 {
		c.startMany(ctx, lead, fs, load, co)
	}
	var first error
	var again []string
	for i, f := range all {
		select {
		case <-f.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if f.crossed && !led[i] && !retried {
			again = append(again, keys[i])
			continue
		}
		switch {
		case f.err == nil:
			out[keys[i]] = f.v
		case errors.Is(f.err, hitbox.ErrMiss):
			// not found: absent from the result
		case first == nil:
			first = f.err
		}
	}
	if len(again) > 0 {
		if err := c.waitManyOnce(ctx, again, load, co, out, true); first == nil {
			first = err
		}
	}
	return first
}

// startMany runs one load of keys (whose flights fs it leads) in a
// goroutine of its own, stores what it returns in one batch write, and
// finishes the flights.
func (c *Cache[T]) startMany(ctx context.Context, keys []string, fs []*flight[T], load func(context.Context, []string) (map[string]T, error), co callOptions) {
	var zero T
	if !c.acquire() {
		for i, k := range keys {
			c.flights.finish(k, fs[i], zero, hitbox.ErrClosed)
		}
		return
	}
	go func() {
		defer c.release()
		lctx, cancel := c.loadContext(ctx)
		defer cancel()
		lds := c.beginMany(lctx, keys, co.tags)
		got, err := c.loadMany(lctx, keys, load)
		if err == nil {
			c.storeMany(lctx, keys, got, co, lds)
			for i := range keys {
				fs[i].crossed = lds[i].crossed
			}
		}
		if err != nil {
			if co.background {
				c.opts.Logger.WarnContext(ctx, "hitbox/cache: background refresh failed", "error", err)
			}
			for i, k := range keys {
				c.flights.finish(k, fs[i], zero, err)
			}
			return
		}
		for i, k := range keys {
			if v, ok := got[k]; ok {
				c.flights.finish(k, fs[i], v, nil)
			} else {
				c.flights.finish(k, fs[i], zero, errNotFound)
			}
		}
	}()
}

// loadMany calls load, turning a panic into an error and timing it for
// early refresh.
func (c *Cache[T]) loadMany(ctx context.Context, keys []string, load func(context.Context, []string) (map[string]T, error)) (got map[string]T, err error) {
	defer func() {
		if r := recover(); r != nil {
			got, err = nil, panicked(r)
		}
	}()
	if c.opts.EarlyRefresh > 0 {
		start := c.opts.Now()
		defer func() { c.observe(c.opts.Now().Sub(start)) }()
	}
	got, err = load(ctx, keys)
	if err == nil && got == nil {
		got = map[string]T{}
	}
	return got, err
}

// beginMany is begin for each of keys, loaded in one batch with tags. The
// lease ability has no batch form: over a Leaser, a batch of n missing keys
// costs n Lease calls before the load (and n SetLeased after it, see
// storeMany).
func (c *Cache[T]) beginMany(ctx context.Context, keys []string, tags []string) []loading {
	var marks *tagMarks
	if len(tags) > 0 {
		marks = c.tags.mark(tags)
	}
	lds := make([]loading, len(keys))
	for i, k := range keys {
		lds[i] = loading{key: c.changes.mark(k), tags: marks}
		lds[i].lease, lds[i].leaseErr = hitbox.TakeLease(ctx, c.b, k, tags)
	}
	return lds
}

// storeMany writes what a batch load found (and, with MissTTL, what it did
// not), each key only if no change crossed its load, as storeLoaded does.
// Without tags and leases it is one batch write, keeping the front
// coherent as write does; with tags (there is no batch of SetTagged) or
// leases (no batch of SetLeased), one write per key.
func (c *Cache[T]) storeMany(ctx context.Context, keys []string, got map[string]T, co callOptions, lds []loading) {
	items := make([]hitbox.Item, 0, len(keys))
	var fes []*frontEntry[T]
	var its []int // index in keys (and lds) of each item
	each := len(co.tags) > 0
	for i, k := range keys {
		var e hitbox.Entry
		var fe *frontEntry[T]
		if v, ok := got[k]; ok {
			var err error
			if e, fe, err = c.entry(&v, co.ttl); err != nil {
				c.opts.Logger.WarnContext(ctx, "hitbox/cache: storing a loaded value failed", "error", err)
				lds[i].crossed = true // not stored: see storeHeld
				continue
			}
		} else if c.opts.MissTTL > 0 {
			e, fe = c.notFoundEntry(), c.notFoundFront()
		} else {
			continue
		}
		items = append(items, hitbox.Item{Key: k, Entry: e})
		fes = append(fes, fe)
		its = append(its, i)
		each = each || lds[i].lease.Valid() || lds[i].leaseErr != nil
	}
	if len(items) == 0 {
		return
	}
	if each {
		for j, it := range items {
			c.storeLoaded(ctx, it.Key, it.Entry, fes[j], co.tags, &lds[its[j]])
		}
		return
	}
	marks := make([]keyMark, len(items))
	for j := range items {
		marks[j] = lds[its[j]].key
	}
	defer c.changes.hold(marks...)()
	n := 0
	for j, it := range items {
		if !c.changes.current(marks[j]) {
			lds[its[j]].crossed = true
			c.crossed.Add(1)
			c.opts.Logger.DebugContext(ctx, "hitbox/cache: a change crossed the load; its answer is not stored")
			continue
		}
		items[n], fes[n], its[n] = it, fes[j], its[j]
		n++
	}
	items, fes, its = items[:n], fes[:n], its[:n]
	if len(items) == 0 {
		return
	}
	c.reads.changed()
	defer c.reads.changed()
	var stamps []stamp
	if f := c.front; f != nil {
		stamps = make([]stamp, len(items))
		for i, it := range items {
			stamps[i] = f.stamp(it.Key)
		}
	}
	err := hitbox.SetMany(ctx, c.b, items)
	if err != nil {
		c.opts.Logger.WarnContext(ctx, "hitbox/cache: storing loaded values failed", "error", err)
		for j := range items {
			lds[its[j]].crossed = true // not stored: see storeHeld
		}
	}
	if f := c.front; f != nil {
		for i, it := range items {
			if err != nil {
				f.drop(it.Key)
			} else {
				fes[i].until, fes[i].expire = freshUntil(it.Entry), unixNano(it.Entry.Expire)
				f.wrote(it.Key, stamps[i], fes[i])
			}
		}
	}
}
