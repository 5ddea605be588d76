package cache

import (
	"context"
	"errors"
	"time"

	"github.com/hitbox-go/hitbox"
)

// errBusy is what a refresh returns when another process holds the key's
// lock: that process is refreshing it, so this one need not.
var errBusy = errors.New("hitbox/cache: another process is loading the key")

// GetOrLoad returns the value under key, calling load to produce and store
// it when the key holds nothing live, holds something unreadable, or the
// pipeline fails (a cache outage never fails a read the source can answer).
//
// Concurrent callers for one key share a single load (GetOrLoadMany's
// loads included). The load runs with a context detached from the
// caller's cancellation (it keeps its values), bounded by LoadTimeout and
// by Close, so a caller that gives up does not fail the others; each
// caller still returns as soon as its own ctx is done. A load that panics
// fails every caller waiting for it with an error that holds the panic
// value and stack, and the next call loads again.
//
// With LockTTL, processes sharing the pipeline also share the load of a
// missing key: the one that takes the key's lock loads it, the others
// wait (up to LockWait) for the value to appear.
//
// A read the pipeline cannot answer with a copy it can prove current (a
// tier whose bus is down and whose shared level fails) loads, and serves
// that copy only if the load fails too (see hitbox.WithSource).
//
// A stale hit is served at once while the value is refreshed in the
// background, or, with SyncRevalidate, refreshed first and served only if
// the load fails. With EarlyRefresh a fresh hit may start that background
// refresh too, shortly before the value goes stale. A load that answers
// with an error wrapping ErrMiss is returned as it is, and with MissTTL
// remembered as "not found".
//
// A load stores what it found only if no change crossed it: see the
// package's Consistency section for the lease it takes (over a
// hitbox.Leaser) and what protects it without one.
func (c *Cache[T]) GetOrLoad(ctx context.Context, key string, load func(context.Context) (T, error), opts ...CallOption) (T, error) {
	co := c.callOptions(opts)
	if co.skipRead {
		return c.wait(ctx, key, load, co)
	}
	co.finished = c.flights.finished.Load()
	h, err := c.readShared(ctx, key, true)
	switch {
	case err == nil && h.st == hitbox.Fresh:
		if co.refresh || c.early(h) {
			c.refresh(ctx, key, load, co)
		}
		return h.v, nil
	case err == nil && !c.opts.SyncRevalidate && !h.fallback:
		c.refresh(ctx, key, load, co)
		return h.v, nil
	case err == nil:
		co.refreshing = true
		v, lerr := c.wait(ctx, key, load, co)
		if lerr != nil {
			if !errors.Is(lerr, errBusy) {
				c.opts.Logger.WarnContext(ctx, "hitbox/cache: load failed, serving stale value", "error", lerr)
			}
			return h.v, nil
		}
		return v, nil
	case errors.Is(err, errNotFound) && !co.refresh, ctx.Err() != nil:
		return h.v, err
	}
	if errors.Is(err, hitbox.ErrMiss) {
		return c.wait(ctx, key, load, co)
	}
	c.opts.Logger.WarnContext(ctx, "hitbox/cache: cache read failed, loading from source", "error", err)
	v, lerr := c.wait(ctx, key, load, co)
	if lerr != nil && !errors.Is(lerr, hitbox.ErrMiss) && ctx.Err() == nil {
		// The source failed too: a copy the pipeline holds but could not
		// prove current (stale-if-error) is better than no answer.
		if h, rerr := c.read(ctx, key); rerr == nil {
			c.opts.Logger.WarnContext(ctx, "hitbox/cache: load failed, serving a copy the cache could not prove current", "error", lerr)
			return h.v, nil
		}
	}
	return v, lerr
}

// wait joins (or starts) the load of key and waits for it.
//
// A caller that joined a load whose answer was not stored (a change
// crossed it, or the store failed, so nothing vouches that none did)
// joins or starts one more, which begins after the caller did: the first
// may have read the source before a change made before the caller began.
func (c *Cache[T]) wait(ctx context.Context, key string, load func(context.Context) (T, error), co callOptions) (T, error) {
	retried := false
	for {
		f, lead := c.flights.join(key)
		if lead {
			c.start(ctx, key, f, load, co)
		}
		select {
		case <-f.done:
			if errors.Is(f.err, errBusy) && !co.refreshing {
				continue // that was a refresh another process does; a miss needs the value
			}
			if f.crossed && !lead && !retried {
				retried = true
				continue
			}
			return f.v, f.err
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
}

// refresh starts a background load of key unless one is running.
func (c *Cache[T]) refresh(ctx context.Context, key string, load func(context.Context) (T, error), co callOptions) {
	if f, lead := c.flights.join(key); lead {
		co.refreshing, co.background = true, true
		c.start(ctx, key, f, load, co)
	}
}

// start runs the load f stands for in a goroutine of its own, counted so
// Close can cancel and wait for it.
func (c *Cache[T]) start(ctx context.Context, key string, f *flight[T], load func(context.Context) (T, error), co callOptions) {
	var zero T
	if !c.acquire() {
		c.flights.finish(key, f, zero, hitbox.ErrClosed)
		return
	}
	co.crossed = &f.crossed
	go func() {
		defer c.release()
		lctx, cancel := c.loadContext(ctx)
		defer cancel()
		v, err := zero, error(nil)
		func() {
			defer func() {
				if r := recover(); r != nil {
					v, err = zero, panicked(r)
				}
			}()
			v, err = c.loadShared(lctx, key, load, co)
		}()
		if err != nil && co.background && !errors.Is(err, errBusy) && !errors.Is(err, hitbox.ErrMiss) {
			c.opts.Logger.WarnContext(ctx, "hitbox/cache: background refresh failed", "error", err)
		}
		c.flights.finish(key, f, v, err)
	}()
}

// loadContext returns the context a load runs under: the caller's values
// without its cancellation, bounded by LoadTimeout and by Close.
func (c *Cache[T]) loadContext(ctx context.Context) (context.Context, context.CancelFunc) {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.LoadTimeout)
	stop := context.AfterFunc(c.done, cancel)
	return lctx, func() { stop(); cancel() }
}

// loadShared loads key once across processes when LockTTL is set: under
// the key's lock, or by waiting for the process that holds it.
func (c *Cache[T]) loadShared(ctx context.Context, key string, load func(context.Context) (T, error), co callOptions) (T, error) {
	if c.opts.LockTTL <= 0 {
		if !co.refreshing && !co.skipRead && c.flights.finished.Load() != co.finished {
			// A load that finished between this caller's miss and its
			// joining may have stored the value: read once more rather
			// than load twice. Without one, the miss still stands, and a
			// cold key costs one read, not two.
			if h, err := c.read(ctx, key); err == nil || errors.Is(err, errNotFound) {
				return h.v, err
			}
		}
		return c.loadAndStore(ctx, key, load, co)
	}
	lk, err := hitbox.TryLock(ctx, c.b, key, c.opts.LockTTL)
	switch {
	case err == nil:
	case errors.Is(err, hitbox.ErrLocked) && co.refreshing:
		var zero T
		return zero, errBusy
	case errors.Is(err, hitbox.ErrLocked) && !co.skipRead:
		var h hit[T]
		var done bool
		h, lk, done, err = c.await(ctx, key)
		if done {
			return h.v, err
		}
	default:
		c.opts.Logger.DebugContext(ctx, "hitbox/cache: loading without the lock", "error", err)
	}
	if lk != nil {
		defer c.unlock(ctx, lk)
		defer c.keep(ctx, lk)()
		if !co.refreshing && !co.skipRead {
			// Another process may have stored the value between this
			// one's miss and its lock.
			if h, err := c.read(ctx, key); err == nil || errors.Is(err, errNotFound) {
				return h.v, err
			}
		}
	}
	return c.loadAndStore(ctx, key, load, co)
}

// await waits for another process's load of key: it returns done with
// what that load stored once it appears, or the lock once the other
// process let it go (it failed, or died and the lock expired), or neither
// after LockWait, when the caller loads without the lock.
func (c *Cache[T]) await(ctx context.Context, key string) (h hit[T], lk hitbox.Lock, done bool, err error) {
	const first, most = 2 * time.Millisecond, 100 * time.Millisecond
	left := c.opts.LockWait
	for pause := first; left > 0; pause = min(2*pause, most) {
		pause = min(pause, left)
		left -= pause
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return h, nil, true, ctx.Err()
		}
		if h, err := c.read(ctx, key); err == nil || errors.Is(err, errNotFound) {
			return h, nil, true, err
		}
		lk, err := hitbox.TryLock(ctx, c.b, key, c.opts.LockTTL)
		switch {
		case err == nil:
			return h, lk, false, nil
		case !errors.Is(err, hitbox.ErrLocked):
			c.opts.Logger.DebugContext(ctx, "hitbox/cache: loading without the lock", "error", err)
			return h, nil, false, nil
		}
	}
	return h, nil, false, nil
}

// keep extends lk every half LockTTL while the load runs, so a load that
// takes longer than LockTTL keeps others waiting rather than loading too,
// while a holder that dies still blocks them for at most LockTTL. It
// returns the function that stops it (and waits for it to stop).
func (c *Cache[T]) keep(ctx context.Context, lk hitbox.Lock) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(max(c.opts.LockTTL/2, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := lk.Extend(ctx, c.opts.LockTTL); err != nil {
					c.opts.Logger.DebugContext(ctx, "hitbox/cache: extending a lock failed", "error", err)
					return // lost, or unreachable: the load goes on without it
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// unlock releases lk, even when the load's context has ended.
func (c *Cache[T]) unlock(ctx context.Context, lk hitbox.Lock) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := lk.Unlock(uctx); err != nil {
		c.opts.Logger.DebugContext(ctx, "hitbox/cache: releasing a lock failed; it expires on its own", "error", err)
	}
}

// loadAndStore calls load and stores its answer: the value, or with
// MissTTL a "not found". The store is the load's: it is dropped when a
// change crossed the load (see loading).
func (c *Cache[T]) loadAndStore(ctx context.Context, key string, load func(context.Context) (T, error), co callOptions) (T, error) {
	var start time.Time
	if c.opts.EarlyRefresh > 0 {
		start = c.opts.Now()
	}
	ld := c.begin(ctx, key, co.tags)
	v, err := load(ctx)
	if c.opts.EarlyRefresh > 0 {
		c.observe(c.opts.Now().Sub(start))
	}
	if err != nil {
		if errors.Is(err, hitbox.ErrMiss) && c.opts.MissTTL > 0 {
			c.storeLoaded(ctx, key, c.notFoundEntry(), c.notFoundFront(), co.tags, &ld)
			co.noteCrossed(ld.crossed)
		}
		return v, err
	}
	e, fe, eerr := c.entry(&v, co.ttl)
	if eerr != nil {
		c.opts.Logger.WarnContext(ctx, "hitbox/cache: storing a loaded value failed", "error", eerr)
		co.noteCrossed(true) // not stored: nothing vouches for it
		return v, nil
	}
	c.storeLoaded(ctx, key, e, fe, co.tags, &ld)
	co.noteCrossed(ld.crossed)
	return v, nil
}

// loading is what a load noted before it called the loader, so that its
// store can tell whether a change crossed it: the key's change counter and
// its tags' generations as this process knows them, and the pipeline's
// lease (the zero Lease over a pipeline without hitbox.Leaser).
//
// Two guards, then. The process-local one (a change made through this
// Cache, or heard on its front's bus, since the marks were taken) stops
// the store over any pipeline; the lease stops it in the pipeline itself,
// whichever instance made the change, and atomically with the write. Over
// a pipeline without leases the local guard is the only one: a change made
// by another instance that this one does not hear of in time goes unseen.
type loading struct {
	key      keyMark
	tags     *tagMarks // nil without tags
	lease    hitbox.Lease
	leaseErr error // taking the lease failed: the load stores nothing
	crossed  bool  // set by the store: a change crossed the load, or may have (the store failed)
}

// begin takes the marks and the lease of a load of key, which will store
// with tags; it is called after the read that missed (and after the
// cross-process lock), before the loader.
func (c *Cache[T]) begin(ctx context.Context, key string, tags []string) loading {
	ld := loading{key: c.changes.mark(key)}
	if len(tags) > 0 {
		ld.tags = c.tags.mark(tags)
	}
	ld.lease, ld.leaseErr = hitbox.TakeLease(ctx, c.b, key, tags)
	return ld
}

// storeLoaded stores e, what the load ld stands for found, unless a change
// crossed the load: then the load's answer is still its callers', but it
// is not stored, in the pipeline nor in the front, since the source may
// have been read before the change, and a write after it would outlive
// it. With a lease the pipeline checks, atomically with the write, and a
// local change made after the check is refused there or lands after the
// write; the front's stamps keep it in step. Without one, the check and
// the write hold this process's locks (see keyChanges, tagTable), so a
// local change waits for the write; they are not held across the write
// when a lease does that work, so a Set or a purge never waits on a
// round trip of someone else's store.
func (c *Cache[T]) storeLoaded(ctx context.Context, key string, e hitbox.Entry, fe *frontEntry[T], tags []string, ld *loading) {
	if ld.leaseErr != nil {
		ld.crossed = true // unknown: nothing can tell
		c.opts.Logger.WarnContext(ctx, "hitbox/cache: taking a lease failed; the loaded value is not stored", "error", ld.leaseErr)
		return
	}
	if !ld.lease.Valid() {
		defer c.changes.hold(ld.key)()
		if ld.tags != nil {
			c.tags.mu.RLock()
			defer c.tags.mu.RUnlock()
		}
	}
	c.storeHeld(ctx, key, e, fe, tags, ld)
}

// storeHeld is storeLoaded once the locks it needs are held.
func (c *Cache[T]) storeHeld(ctx context.Context, key string, e hitbox.Entry, fe *frontEntry[T], tags []string, ld *loading) {
	if !c.changes.current(ld.key) || (ld.tags != nil && !c.tags.current(ld.tags)) {
		ld.crossed = true
		c.crossed.Add(1)
		c.opts.Logger.DebugContext(ctx, "hitbox/cache: a change crossed the load; its answer is not stored")
		return
	}
	err := c.write(ctx, key, e, fe, tags, ld.tags, ld.lease)
	switch {
	case err == nil:
	case errors.Is(err, hitbox.ErrLeaseLost):
		ld.crossed = true
		c.leaseLost.Add(1)
		c.opts.Logger.DebugContext(ctx, "hitbox/cache: the pipeline refused the load's store: a change crossed it", "error", err)
	default:
		// Not stored, so no lease vouched for the answer either: a change
		// made elsewhere may have crossed the load unseen.
		ld.crossed = true
		c.opts.Logger.WarnContext(ctx, "hitbox/cache: storing a loaded value failed", "error", err)
	}
}

// notFoundEntry is what remembers a loader's "not found" for MissTTL, with
// no stale window; stored with the call's tags, so a purge of one of them
// ends the absence too (the thing was just created).
func (c *Cache[T]) notFoundEntry() hitbox.Entry {
	e := hitbox.Entry{Value: notFound}
	e.Stale, e.Expire = c.deadlines(c.opts.MissTTL, 0)
	return e
}

// notFoundFront is the front entry of a "not found" (nil without a front).
func (c *Cache[T]) notFoundFront() *frontEntry[T] {
	if c.front == nil {
		return nil
	}
	return &frontEntry[T]{x: notFoundExtra}
}
