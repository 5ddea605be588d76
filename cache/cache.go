package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
)

// Options tune a Cache. The zero value is a cache whose values never
// expire, encoded as JSON ([]byte and string values are stored as they are).
// Whatever the options, a load that a change crossed does not store (see
// the package's Consistency section for what guards it, with and without
// the pipeline's lease ability).
type Options struct {
	// Format turns values into bytes. Default: codec.Raw() when T is
	// []byte or string (no encoding cost), codec.JSON() otherwise.
	Format codec.Format
	// TTL is how long a stored value stays fresh. Zero: forever.
	TTL time.Duration
	// StaleFor is how long after TTL a value may still be served stale:
	// by GetOrLoad while it refreshes the value (stale-while-revalidate),
	// or when the loader fails (stale-if-error). Zero: no stale window.
	StaleFor time.Duration
	// SyncRevalidate makes GetOrLoad, on a stale hit, load the new value
	// before answering and serve the stale one only if the load fails.
	// Default: serve the stale value at once and refresh in the background.
	SyncRevalidate bool
	// LoadTimeout bounds every load GetOrLoad runs, in the foreground or
	// the background. Default: 30 seconds.
	LoadTimeout time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives what the cache cannot return: failed background
	// refreshes, failed writes after a load. Default: discard.
	Logger *slog.Logger

	// TTLJitter spreads expiries so keys written together do not all
	// expire together: every TTL the cache applies (TTL, a per-call
	// WithTTL, MissTTL) is shortened by a random fraction of itself of at
	// most TTLJitter. From 0 (none, the default) to below 1.
	TTLJitter float64
	// MissTTL caches a loader's "not found": when the load given to
	// GetOrLoad or GetOrLoadMany answers with an error wrapping ErrMiss,
	// the cache stores that answer for MissTTL, and Get, Lookup and
	// GetOrLoad report it as a miss (an error wrapping ErrMiss) without
	// calling the loader again until it expires. Zero: not cached.
	MissTTL time.Duration
	// EarlyRefresh turns on probabilistic early refresh (XFetch, from
	// Vattani, Chierichetti and Lowenstein, "Optimal Probabilistic Cache
	// Stampede Prevention", VLDB 2015) in GetOrLoad: a fresh hit starts a
	// background refresh when now - delta*EarlyRefresh*ln(rand) reaches
	// the end of the value's freshness, delta being how long loads take
	// (a moving average of this cache's recent loads: entries do not carry
	// their own). Hot keys are then refreshed shortly before they expire,
	// by one caller, rather than by a stampede after. 1 is the paper's
	// choice; above 1 refreshes earlier. Zero: off.
	EarlyRefresh float64
	// LockTTL makes GetOrLoad agree across processes, when the pipeline
	// has the lock ability (see Locker; store/redisstore has it), on which
	// one loads a missing key: the others wait for the value to appear
	// rather than load it too. It is the lock's lifetime, so a process
	// that dies while loading delays the others by at most LockTTL; the
	// holder extends it every LockTTL/2 while its load runs. A lock that
	// cannot be taken for any other reason (no ability, an outage) never
	// fails a read: the caller loads. GetOrLoadMany takes no lock. Zero:
	// no lock.
	LockTTL time.Duration
	// LockWait bounds how long GetOrLoad waits for another process's load
	// before loading itself. Default: LockTTL.
	LockWait time.Duration
	// Front keeps decoded values in memory, in front of the pipeline, so
	// a fresh hit costs neither a trip down the pipeline nor decoding. It
	// is a Front[T] for the cache's T; nil: no front. See Front.
	Front FrontOptions
}

// Validate reports the first option that cannot work, with the message New
// panics with: "hitbox/cache: Options.<field>: <why>". A program that reads
// options from configuration calls it first to get an error rather than a
// panic. Zero values are never invalid: they mean the defaults.
func (o Options) Validate() error {
	switch {
	case o.TTL < 0:
		return fmt.Errorf("hitbox/cache: Options.TTL: negative (%v)", o.TTL)
	case o.StaleFor < 0:
		return fmt.Errorf("hitbox/cache: Options.StaleFor: negative (%v)", o.StaleFor)
	case o.LoadTimeout < 0:
		return fmt.Errorf("hitbox/cache: Options.LoadTimeout: negative (%v)", o.LoadTimeout)
	case o.TTLJitter < 0 || o.TTLJitter >= 1 || o.TTLJitter != o.TTLJitter:
		return fmt.Errorf("hitbox/cache: Options.TTLJitter: outside [0, 1) (%v)", o.TTLJitter)
	case o.MissTTL < 0:
		return fmt.Errorf("hitbox/cache: Options.MissTTL: negative (%v)", o.MissTTL)
	case o.EarlyRefresh < 0 || o.EarlyRefresh != o.EarlyRefresh:
		return fmt.Errorf("hitbox/cache: Options.EarlyRefresh: negative (%v)", o.EarlyRefresh)
	case o.LockTTL < 0:
		return fmt.Errorf("hitbox/cache: Options.LockTTL: negative (%v)", o.LockTTL)
	case o.LockWait < 0:
		return fmt.Errorf("hitbox/cache: Options.LockWait: negative (%v)", o.LockWait)
	case o.LockWait > 0 && o.LockTTL == 0:
		return errors.New("hitbox/cache: Options.LockWait: set without LockTTL")
	}
	if o.Front != nil && !frontAbsent(o.Front) {
		if field, why := o.Front.validate(); field != "" {
			return fmt.Errorf("hitbox/cache: Options.Front.%s: %s", field, why)
		}
	}
	return nil
}

// Cache is a typed cache over any pipeline: it turns values of type T into
// bytes once, at the top, and leaves everything below to the pipeline.
//
// GetOrLoad adds stampede protection (one load per key at a time, however
// many callers wait for it, and with LockTTL about one across processes),
// stale-while-revalidate, stale-if-error, early refresh and negative
// caching; GetOrLoadMany does the same for a batch of keys. An optional
// front (Options.Front) keeps decoded values in memory. A load that a
// change crossed returns its value but does not store it (see the
// package's Consistency section: with hitbox.Leaser on the pipeline on
// any instance; without it, only changes this process makes or hears of).
//
// A Cache is safe for concurrent use. It does not own its backend: Close
// stops the cache's own background work and its front, and closing the
// pipeline is left to whoever built it.
type Cache[T any] struct {
	b       hitbox.Backend
	opts    Options
	format  codec.Format
	raw     bool      // T is []byte or string and the format is raw: no encoding at all
	source  bool      // the pipeline's reads may heed hitbox.WithSource
	front   *front[T] // nil without Options.Front
	flights flights[T]
	reads   *sharedReads   // GetOrLoad's backend reads in progress
	rand    func() float64 // uniform in [0, 1): jitter and early refresh
	loadNs  atomic.Int64   // moving average of load durations, for early refresh
	tags    tagTable       // purges seen, so loads and the front honour them
	changes keyChanges     // changes seen, so a load a change crossed stores nothing

	// Loads whose answer was returned but not stored: the pipeline refused
	// the store (hitbox.ErrLeaseLost), or a change this process made or
	// heard of crossed the load (see ReportStats).
	leaseLost, crossed atomic.Uint64

	// Background work: loads started by GetOrLoad run under done and are
	// counted in running, so Close can cancel and wait for them.
	done    context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	idle    *sync.Cond
	running int
	closed  bool
}

// New returns a typed cache over b. A nil b and invalid options are
// programmer errors: New panics, with "hitbox/cache: New: nil Backend" or the
// message opts.Validate returns; so does a Front of another type than T.
func New[T any](b hitbox.Backend, opts Options) *Cache[T] {
	if b == nil {
		panic("hitbox/cache: New: nil Backend")
	}
	if err := opts.Validate(); err != nil {
		panic(err.Error())
	}
	ownClock := opts.Now
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LoadTimeout == 0 {
		opts.LoadTimeout = 30 * time.Second
	}
	if opts.LockWait == 0 {
		opts.LockWait = opts.LockTTL
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f := opts.Format
	if f == nil {
		switch any(*new(T)).(type) {
		case []byte, string:
			f = codec.Raw()
		default:
			f = codec.JSON()
		}
	}
	c := &Cache[T]{b: b, opts: opts, format: f, raw: f.ID() == codec.Raw().ID(), rand: rand.Float64,
		source: hitbox.ReadsHeedSource(b)}
	c.tags.seed = maphash.MakeSeed()
	c.changes.seed = maphash.MakeSeed()
	c.flights.m = make(map[string]*flight[T])
	c.reads = newSharedReads()
	if opts.Front != nil && !frontAbsent(opts.Front) {
		fo, ok := opts.Front.(Front[T])
		if p, isPtr := opts.Front.(*Front[T]); isPtr {
			fo, ok = *p, true
		}
		if !ok {
			panic(fmt.Sprintf("hitbox/cache: Options.Front: a %T for a Cache[%T]", opts.Front, *new(T)))
		}
		c.front = newFront(fo, &c.tags, &c.changes, c.reads, ownClock)
	}
	c.done, c.cancel = context.WithCancel(context.Background())
	c.idle = sync.NewCond(&c.mu)
	return c
}

// Backend returns the pipeline the cache reads and writes.
func (c *Cache[T]) Backend() hitbox.Backend { return c.b }

// ReportStats reports the cache's running totals, as hitbox.Stat figures
// (the form otel.Reporter takes), for a dashboard or a test. Each counts
// loads whose answer went to their callers but was not stored, because a
// change crossed the load:
//
//   - cache.loads.lease_lost: the pipeline refused the store, its lease
//     lost to a change made on any instance (hitbox.ErrLeaseLost);
//   - cache.loads.crossed: the cache did not try it, a change this
//     instance made (Set, Delete, InvalidateTags) or heard of on its
//     front's bus having crossed the load.
func (c *Cache[T]) ReportStats(report func(hitbox.Stat)) {
	report(hitbox.Stat{Name: "cache.loads.lease_lost", Unit: "{load}", Cumulative: true, Value: int64(c.leaseLost.Load())})
	report(hitbox.Stat{Name: "cache.loads.crossed", Unit: "{load}", Cumulative: true, Value: int64(c.crossed.Load())})
}

// Set stores v under key for the cache's TTL, or the one WithTTL gives
// (zero: forever), with the tags WithTags gives (see WithTags). A load of
// key under way in this cache does not overwrite it. With a front, v is
// kept there too: do not modify it afterwards unless Front.Copy is set.
func (c *Cache[T]) Set(ctx context.Context, key string, v T, opts ...CallOption) error {
	if len(opts) == 0 {
		return c.set(ctx, key, v, c.opts.TTL, nil)
	}
	co := c.callOptions(opts)
	return c.set(ctx, key, v, co.ttl, co.tags)
}

// set is Set with its options resolved: a write through the cache, which
// no load that it crossed may overwrite (see keyChanges).
func (c *Cache[T]) set(ctx context.Context, key string, v T, ttl time.Duration, tags []string) error {
	e, fe, err := c.entry(&v, ttl)
	if err != nil {
		return err
	}
	c.changes.change(key)
	return c.write(ctx, key, e, fe, tags, nil, hitbox.Lease{})
}

// entry encodes v into the entry a write of it stores, fresh for ttl and
// then stale for StaleFor, and the front entry that goes with it (nil
// without a front).
func (c *Cache[T]) entry(v *T, ttl time.Duration) (hitbox.Entry, *frontEntry[T], error) {
	b, err := c.encode(v)
	if err != nil {
		return hitbox.Entry{}, nil, fmt.Errorf("hitbox/cache: encode %s: %w", c.format.Name(), err)
	}
	e := hitbox.Entry{Value: b}
	e.Stale, e.Expire = c.deadlines(ttl, c.opts.StaleFor)
	var fe *frontEntry[T]
	if c.front != nil {
		fe = &frontEntry[T]{v: c.front.in(*v)}
	}
	return e, fe, nil
}

// write stores e under key with tags, under the lease l (the zero Lease
// for a write that is not a load's), and keeps the front coherent with the
// write: it holds fe (given e's deadlines) when no other change of the key
// crossed this write and none of its tags was purged since marks were
// taken (before the write when marks is nil), and nothing otherwise, a
// refused store included.
func (c *Cache[T]) write(ctx context.Context, key string, e hitbox.Entry, fe *frontEntry[T], tags []string, marks *tagMarks, l hitbox.Lease) error {
	// Before and after: no caller that starts after the write returns
	// shares a read that began before it ended.
	c.reads.changed()
	defer c.reads.changed()
	f := c.front
	if f == nil {
		return hitbox.SetLeased(ctx, c.b, key, e, tags, l)
	}
	st := f.stamp(key)
	if len(tags) > 0 {
		if marks == nil {
			marks = c.tags.mark(tags)
		}
		fe.setMarks(marks)
	}
	if err := hitbox.SetLeased(ctx, c.b, key, e, tags, l); err != nil {
		f.drop(key) // what the pipeline holds now is unknown
		return err
	}
	fe.until, fe.expire = freshUntil(e), unixNano(e.Expire)
	f.wrote(key, st, fe)
	return nil
}

// deadlines returns the Stale and Expire of an entry written now to be
// fresh for ttl (zero: no deadlines; shortened by TTLJitter), then stale
// for staleFor.
func (c *Cache[T]) deadlines(ttl, staleFor time.Duration) (stale, expire time.Time) {
	if ttl <= 0 {
		return time.Time{}, time.Time{}
	}
	if j := c.opts.TTLJitter; j > 0 {
		ttl -= time.Duration(c.rand() * j * float64(ttl))
	}
	stale = c.opts.Now().Add(ttl)
	if staleFor <= 0 {
		return time.Time{}, stale
	}
	return stale, stale.Add(staleFor)
}

// InvalidateTags drops every entry that carries one of tags: in the
// pipeline (hitbox.InvalidateTags: an error wrapping ErrNotSupported when
// it keeps no tags), in this cache's front, and from loads of them in
// flight, which return their value but store nothing (it may be older
// than the purge). Other instances' fronts drop them when the purge
// reaches them on their Front.Bus as an Invalidation with Tags, which a
// tier publishes; a Cache publishes nothing itself. A call without tags
// does nothing.
func (c *Cache[T]) InvalidateTags(ctx context.Context, tags ...string) error {
	if len(tags) == 0 {
		return nil
	}
	// Before the pipeline's purge, so a load that ends while it runs
	// stores nothing; after, so a front fill that read the pipeline before
	// it keeps nothing.
	c.tags.purgeWaiting(tags)
	c.reads.changed()
	err := hitbox.InvalidateTags(ctx, c.b, tags...)
	c.tags.purge(tags)
	c.reads.changed()
	return err
}

// Delete removes key, from the front too. A load of key under way in this
// cache returns its value but stores nothing (see the package's
// Consistency section).
func (c *Cache[T]) Delete(ctx context.Context, key string) error {
	c.changes.change(key) // a load of key under way stores nothing
	c.reads.changed()
	err := c.b.Delete(ctx, key)
	c.reads.changed()
	if c.front != nil {
		c.front.drop(key)
	}
	return err
}

func (c *Cache[T]) acquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.running++
	return true
}

func (c *Cache[T]) release() {
	c.mu.Lock()
	c.running--
	if c.running == 0 {
		c.idle.Broadcast()
	}
	c.mu.Unlock()
}

// Close cancels the loads GetOrLoad started and waits for them to return,
// then empties the front and ends its subscription to the bus. Later loads
// fail with ErrClosed; Get, Set and Delete keep working (without the
// front), since the pipeline is not the cache's to close. Close is
// idempotent.
func (c *Cache[T]) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cancel()
	for c.running > 0 {
		c.idle.Wait()
	}
	c.mu.Unlock()
	if c.front != nil {
		c.front.close()
	}
	return nil
}

func (c *Cache[T]) encode(v *T) ([]byte, error) {
	if !c.raw {
		return c.format.Marshal(*v)
	}
	switch p := any(v).(type) {
	case *[]byte:
		return *p, nil
	case *string:
		return []byte(*p), nil
	}
	return c.format.Marshal(*v)
}

// decodeRaw returns b as T, which is []byte or string. It is apart from
// the formats' path so the value does not escape to the heap.
func (c *Cache[T]) decodeRaw(b []byte) T {
	var v T
	switch p := any(&v).(type) {
	case *[]byte:
		// The backend's bytes may be shared; the caller owns what it gets.
		*p = bytes.Clone(b)
	case *string:
		*p = string(b)
	}
	return v
}
