package hitbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/hitbox-go/hitbox/codec"
)

// Options tune a Cache. The zero value is a cache whose values never
// expire, encoded as JSON ([]byte and string values are stored as they are).
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
}

// Cache is a typed cache over any pipeline: it turns values of type T into
// bytes once, at the top, and leaves everything below to the pipeline.
//
// GetOrLoad adds stampede protection (one load per key at a time, however
// many callers wait for it), stale-while-revalidate and stale-if-error.
// A Cache is safe for concurrent use. It does not own its backend: Close
// stops the cache's own background refreshes, and closing the pipeline is
// left to whoever built it.
type Cache[T any] struct {
	b      Backend
	opts   Options
	format codec.Format
	raw    bool // T is []byte or string and the format is raw: no encoding at all
	group  singleflight.Group

	// Background work: loads started by GetOrLoad run under done and are
	// counted in running, so Close can cancel and wait for them.
	done    context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	idle    *sync.Cond
	running int
	closed  bool
}

// Validate reports the first option that cannot work, with the message New
// panics with: "hitbox: Options.<field>: <why>". A program that reads
// options from configuration calls it first to get an error rather than a
// panic. Zero values are never invalid: they mean the defaults.
func (o Options) Validate() error {
	switch {
	case o.TTL < 0:
		return fmt.Errorf("hitbox: Options.TTL: negative (%v)", o.TTL)
	case o.StaleFor < 0:
		return fmt.Errorf("hitbox: Options.StaleFor: negative (%v)", o.StaleFor)
	case o.LoadTimeout < 0:
		return fmt.Errorf("hitbox: Options.LoadTimeout: negative (%v)", o.LoadTimeout)
	}
	return nil
}

// New returns a typed cache over b. A nil b and invalid options are
// programmer errors: New panics, with "hitbox: New: nil Backend" or the
// message opts.Validate returns.
func New[T any](b Backend, opts Options) *Cache[T] {
	if b == nil {
		panic("hitbox: New: nil Backend")
	}
	if err := opts.Validate(); err != nil {
		panic(err.Error())
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LoadTimeout == 0 {
		opts.LoadTimeout = 30 * time.Second
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
	c := &Cache[T]{b: b, opts: opts, format: f, raw: f.ID() == codec.Raw().ID()}
	c.done, c.cancel = context.WithCancel(context.Background())
	c.idle = sync.NewCond(&c.mu)
	return c
}

// Backend returns the pipeline the cache reads and writes.
func (c *Cache[T]) Backend() Backend { return c.b }

// Get returns the value under key while it is live, fresh or stale. A
// missing key gives an error wrapping ErrMiss. Bytes that cannot be decoded
// also give an error wrapping ErrMiss (and ErrCorrupt), and are deleted, so
// a caller that treats a miss as a miss moves on.
func (c *Cache[T]) Get(ctx context.Context, key string) (T, error) {
	v, _, err := c.Lookup(ctx, key)
	return v, err
}

// Lookup is Get that also says whether the value is fresh or stale.
func (c *Cache[T]) Lookup(ctx context.Context, key string) (T, State, error) {
	var zero T
	e, err := c.b.Get(ctx, key)
	if err != nil {
		if errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrMiss) {
			err = fmt.Errorf("%w: %w", ErrMiss, err)
		}
		return zero, Expired, err
	}
	st := Fresh
	if !e.Expire.IsZero() || !e.Stale.IsZero() {
		// Only an entry with deadlines needs the clock.
		if st = e.StateAt(c.opts.Now()); st == Expired {
			return zero, Expired, ErrMiss
		}
	}
	if c.raw {
		return c.decodeRaw(e.Value), st, nil
	}
	var v T
	if err := c.format.Unmarshal(e.Value, &v); err != nil {
		// A value this type cannot read is worth nothing to anyone using
		// it: drop it so the next load writes one that can be read.
		_ = c.b.Delete(ctx, key)
		return zero, Expired, fmt.Errorf("%w: %w: %s: %w", ErrMiss, ErrCorrupt, c.format.Name(), err)
	}
	return v, st, nil
}

// Set stores v under key for the cache's TTL.
func (c *Cache[T]) Set(ctx context.Context, key string, v T) error {
	return c.SetTTL(ctx, key, v, c.opts.TTL)
}

// SetTTL stores v under key, fresh for ttl (zero: forever) and then stale
// for the cache's StaleFor.
func (c *Cache[T]) SetTTL(ctx context.Context, key string, v T, ttl time.Duration) error {
	b, err := c.encode(&v)
	if err != nil {
		return fmt.Errorf("hitbox: encode %s: %w", c.format.Name(), err)
	}
	var e Entry
	e.Value = b
	if ttl > 0 {
		now := c.opts.Now()
		e.Stale = now.Add(ttl)
		e.Expire = e.Stale.Add(c.opts.StaleFor)
		if c.opts.StaleFor <= 0 {
			e.Stale = time.Time{}
		}
	}
	return c.b.Set(ctx, key, e)
}

// Delete removes key.
func (c *Cache[T]) Delete(ctx context.Context, key string) error {
	return c.b.Delete(ctx, key)
}

// GetOrLoad returns the value under key, calling load to produce and store
// it when the key holds nothing live, holds something unreadable, or the
// pipeline fails (a cache outage never fails a read the source can answer).
//
// Concurrent callers for one key share a single load. The load runs with a
// context detached from the caller's cancellation (it keeps its values),
// bounded by LoadTimeout and by Close, so a caller that gives up does not
// fail the others; each caller still returns as soon as its own ctx is done.
//
// A stale hit is served at once while the value is refreshed in the
// background, or, with SyncRevalidate, refreshed first and served only if
// the load fails. A panic in load is not recovered.
func (c *Cache[T]) GetOrLoad(ctx context.Context, key string, load func(context.Context) (T, error)) (T, error) {
	v, st, err := c.Lookup(ctx, key)
	switch {
	case err == nil && st == Fresh:
		return v, nil
	case err == nil && !c.opts.SyncRevalidate:
		c.group.DoChan(key, c.loader(ctx, key, load)) // not waited for: the result lands in the store
		return v, nil
	case err == nil:
		nv, lerr := c.load(ctx, key, load)
		if lerr != nil {
			c.opts.Logger.WarnContext(ctx, "hitbox: load failed, serving stale value", "error", lerr)
			return v, nil
		}
		return nv, nil
	case ctx.Err() != nil:
		return v, err
	}
	if !errors.Is(err, ErrMiss) {
		c.opts.Logger.WarnContext(ctx, "hitbox: cache read failed, loading from source", "error", err)
	}
	return c.load(ctx, key, load)
}

func (c *Cache[T]) load(ctx context.Context, key string, load func(context.Context) (T, error)) (T, error) {
	var zero T
	select {
	case r := <-c.group.DoChan(key, c.loader(ctx, key, load)):
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(T), nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// loader returns the shared load for key: it runs once however many
// callers join it, and is counted so Close can wait for it.
func (c *Cache[T]) loader(ctx context.Context, key string, load func(context.Context) (T, error)) func() (any, error) {
	return func() (any, error) {
		if !c.acquire() {
			return nil, ErrClosed
		}
		defer c.release()
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.LoadTimeout)
		defer cancel()
		stop := context.AfterFunc(c.done, cancel)
		defer stop()
		v, err := load(lctx)
		if err != nil {
			return nil, err
		}
		if err := c.Set(lctx, key, v); err != nil {
			c.opts.Logger.WarnContext(ctx, "hitbox: storing a loaded value failed", "error", err)
		}
		return v, nil
	}
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

// Close cancels the loads GetOrLoad started and waits for them to return.
// Later loads fail with ErrClosed; Get, Set and Delete keep working, since
// the pipeline is not the cache's to close. Close is idempotent.
func (c *Cache[T]) Close() error {
	c.mu.Lock()
	c.closed = true
	c.cancel()
	for c.running > 0 {
		c.idle.Wait()
	}
	c.mu.Unlock()
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
