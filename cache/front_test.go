package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"go.uber.org/goleak"
)

// TestFront checks that the front answers fresh hits without reaching the
// pipeline, and stays coherent with it: writes and deletes through the
// cache, invalidations on the bus (keys and gaps), and the entry's own
// deadlines.
func TestFront(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := &counted{Backend: mapstore.New(mapstore.Options{Now: clock.Now})}
	bus := hitbox.NewLocalBus()
	defer bus.Close()
	c := cache.New[User](store, cache.Options{
		TTL: time.Minute, StaleFor: time.Minute, Now: clock.Now,
		Front: cache.Front[User]{MaxEntries: 100, Bus: bus},
	})
	defer c.Close()
	other := cache.New[User](store, cache.Options{TTL: time.Minute, StaleFor: time.Minute, Now: clock.Now}) // another instance, no front

	get := func(key string) (User, int32, error) {
		before := store.gets.Load()
		u, err := c.Get(ctx, key)
		return u, store.gets.Load() - before, err
	}
	steps := []struct {
		name  string
		do    func()
		want  string // the Name read back; "" for a miss
		reads int32  // pipeline reads the Get makes
	}{
		{"a value set through the cache is in the front", func() { _ = c.Set(ctx, "u", User{Name: "a"}) }, "a", 0},
		{"a hit comes from the front", func() {}, "a", 0},
		{"a write by another instance goes unseen without a message", func() { _ = other.Set(ctx, "u", User{Name: "b"}) }, "a", 0},
		{"its invalidation on the bus drops the key; the next read refills it", func() {
			_ = bus.Publish(ctx, hitbox.Invalidation{Keys: []string{"u"}})
		}, "b", 1},
		{"the refilled front answers", func() {}, "b", 0},
		{"a gap empties the front", func() { bus.Resume() }, "b", 1},
		{"Delete through the cache drops the key", func() { _ = c.Delete(ctx, "u") }, "", 1},
		{"a value read from the pipeline fills the front", func() { _ = other.Set(ctx, "u", User{Name: "c"}) }, "c", 1},
		{"the fill answers", func() {}, "c", 0},
		{"a stale value is not answered by the front", func() { clock.Advance(61 * time.Second) }, "c", 1},
		{"an expired one is a miss", func() { clock.Advance(time.Minute) }, "", 1},
	}
	for _, s := range steps {
		s.do()
		u, reads, err := get("u")
		if s.want == "" {
			if !errors.Is(err, hitbox.ErrMiss) || reads != s.reads {
				t.Fatalf("%s: got %+v, %v after %d pipeline reads; want a miss after %d", s.name, u, err, reads, s.reads)
			}
			continue
		}
		if err != nil || u.Name != s.want || reads != s.reads {
			t.Fatalf("%s: got %q, %v after %d pipeline reads; want %q after %d", s.name, u.Name, err, reads, s.want, s.reads)
		}
	}
}

// TestFrontCopy checks that with Copy callers get their own values, and
// that without it they share one.
func TestFrontCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, copied := range []bool{false, true} {
		f := cache.Front[[]int]{MaxEntries: 10}
		if copied {
			f.Copy = func(v []int) []int { return append([]int(nil), v...) }
		}
		c := cache.New[[]int](mapstore.New(mapstore.Options{}), cache.Options{Front: f})
		in := []int{1, 2}
		_ = c.Set(ctx, "k", in)
		in[0] = 9 // the caller changes what it stored
		a, _ := c.Get(ctx, "k")
		a[1] = 8 // and what it read
		b, _ := c.Get(ctx, "k")
		shared := b[0] == 9 && b[1] == 8
		if shared == copied {
			t.Errorf("Copy set: %v; the front's value after callers changed theirs: %v", copied, b)
		}
		c.Close()
	}
}

// TestFrontCost checks the cost bound: the front holds no more than MaxCost
// worth of entries.
func TestFrontCost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &counted{Backend: mapstore.New(mapstore.Options{})}
	c := cache.New[string](store, cache.Options{Front: cache.Front[string]{
		MaxCost: 1000, Cost: func(_ string, v string) uint32 { return uint32(len(v)) },
	}})
	defer c.Close()
	big := string(make([]byte, 600))
	_ = c.Set(ctx, "a", big)
	_ = c.Set(ctx, "b", big)
	_, _ = c.Get(ctx, "a")
	_, _ = c.Get(ctx, "b")
	cache.SettleFront(c)
	before := store.gets.Load()
	_, _ = c.Get(ctx, "a")
	_, _ = c.Get(ctx, "b")
	if store.gets.Load() == before {
		t.Fatal("two 600-byte values both answered by a front of cost 1000")
	}
}

// TestFrontAfterClose checks that Close ends the bus subscription (goleak
// checks the rest) and that the cache then reads the pipeline.
func TestFrontAfterClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &counted{Backend: mapstore.New(mapstore.Options{})}
	bus := hitbox.NewLocalBus()
	defer bus.Close()
	c := cache.New[string](store, cache.Options{Front: cache.Front[string]{MaxEntries: 10, Bus: bus}})
	_ = c.Set(ctx, "k", "v")
	_ = c.Close()
	_ = c.Close()
	before := store.gets.Load()
	if v, err := c.Get(ctx, "k"); v != "v" || err != nil || store.gets.Load() == before {
		t.Fatalf("Get after Close = %q, %v, from the pipeline: %v", v, err, store.gets.Load() != before)
	}
	_ = bus.Publish(ctx, hitbox.Invalidation{Keys: []string{"k"}}) // nobody listens; must not block or panic
}

// TestFrontCoarseClock checks the clock front hits judge freshness by
// when the cache has none of its own: a value stops being answered by the
// front once that clock passes its freshness, the clock keeps ticking
// while any front is open, and the last Close stops its goroutine. Not
// parallel: it counts goroutines.
func TestFrontCoarseClock(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	ctx := context.Background()
	store := &counted{Backend: mapstore.New(mapstore.Options{})}
	const ttl = 30 * time.Millisecond
	a := cache.New[string](store, cache.Options{TTL: ttl, Front: cache.Front[string]{MaxEntries: 10}})
	b := cache.New[string](store, cache.Options{TTL: ttl, Front: cache.Front[string]{MaxEntries: 10}})
	if err := a.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	fresh := time.Now().Add(ttl).UnixNano() // the entry's freshness ends before this
	before := store.gets.Load()
	if v, err := a.Get(ctx, "k"); v != "v" || err != nil || store.gets.Load() != before {
		t.Fatalf("Get = %q, %v; pipeline reads %d, want the front's answer", v, err, store.gets.Load()-before)
	}
	_ = b.Close() // a is still open: the clock must go on
	waitClock(t, fresh)
	if _, err := a.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) || store.gets.Load() == before {
		t.Fatalf("Get once the clock passed the value's freshness: %v, from the pipeline: %v; want a miss from the pipeline",
			err, store.gets.Load() != before)
	}
	_ = a.Close()
	goleak.VerifyNone(t, ignore)
}

// waitClock waits until the fronts' clock reads past t (Unix nanoseconds),
// failing after a few seconds.
func waitClock(tb testing.TB, t int64) {
	tb.Helper()
	for end := time.Now().Add(5 * time.Second); cache.CoarseNow() <= t; {
		if time.Now().After(end) {
			tb.Fatalf("the fronts' clock stands at %v, %v before %v", time.Unix(0, cache.CoarseNow()), time.Duration(t-cache.CoarseNow()), time.Unix(0, t))
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFrontHitAllocs checks that Get answers a front hit without
// allocating, with deadlines judged by the coarse clock and by the
// cache's own, and with Copy (here one that allocates nothing). Not
// parallel: AllocsPerRun.
func TestFrontHitAllocs(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	for _, tt := range []struct {
		name string
		opts cache.Options
	}{
		{"coarse clock", cache.Options{TTL: time.Hour, Front: cache.Front[User]{MaxEntries: 10}}},
		{"own clock", cache.Options{TTL: time.Hour, Now: clock.Now, Front: cache.Front[User]{MaxEntries: 10}}},
		{"no deadline", cache.Options{Front: cache.Front[User]{MaxEntries: 10}}},
		{"copy", cache.Options{TTL: time.Hour, Front: cache.Front[User]{MaxEntries: 10, Copy: func(u User) User { return u }}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := &counted{Backend: mapstore.New(mapstore.Options{Now: clock.Now})}
			c := cache.New[User](store, tt.opts)
			defer func() { _ = c.Close() }()
			want := User{ID: 7, Name: "ada"}
			if err := c.Set(ctx, "k", want); err != nil {
				t.Fatal(err)
			}
			before := store.gets.Load()
			n := testing.AllocsPerRun(100, func() {
				if u, err := c.Get(ctx, "k"); u != want || err != nil {
					t.Fatalf("Get = %+v, %v; want %+v", u, err, want)
				}
			})
			if n != 0 || store.gets.Load() != before {
				t.Fatalf("a front hit: %v allocations, %d pipeline reads; want none", n, store.gets.Load()-before)
			}
		})
	}
}
