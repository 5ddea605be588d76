package cache_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// TestGetOrLoadThousandColdCallers checks the stampede protection: 1000
// callers of one cold key, all waiting while the load runs, share one
// load and all get its value.
func TestGetOrLoadThousandColdCallers(t *testing.T) {
	t.Parallel()
	c := cache.New[int](mapstore.New(mapstore.Options{}), cache.Options{})
	defer c.Close()
	const callers = 1000
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (int, error) {
		loads.Add(1)
		<-release
		return 42, nil
	}
	var wg sync.WaitGroup
	var ready sync.WaitGroup
	ready.Add(callers)
	for range callers {
		wg.Go(func() {
			ready.Done()
			if v, err := c.GetOrLoad(context.Background(), "k", load); v != 42 || err != nil {
				t.Errorf("GetOrLoad = %d, %v", v, err)
			}
		})
	}
	ready.Wait()
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads for 1000 callers of one key, want 1", n)
	}
}

// TestGetOrLoadPanic checks that a load that panics fails every caller
// waiting for it with an error (none panics, none hangs), and that the key
// loads again on the next call.
func TestGetOrLoadPanic(t *testing.T) {
	t.Parallel()
	c := cache.New[int](mapstore.New(mapstore.Options{}), cache.Options{})
	defer c.Close()
	const callers = 20
	release := make(chan struct{})
	var ready, wg sync.WaitGroup
	ready.Add(callers)
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			ready.Done()
			_, err := c.GetOrLoad(context.Background(), "k", func(context.Context) (int, error) {
				<-release
				panic("boom")
			})
			errs <- err
		})
	}
	ready.Wait()
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("a caller of a panicking load got %v, want an error naming the panic", err)
		}
	}
	if v, err := c.GetOrLoad(context.Background(), "k", func(context.Context) (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Fatalf("after the panic GetOrLoad = %d, %v; want a new load's 7", v, err)
	}
}

var errNoRow = fmt.Errorf("no such row: %w", hitbox.ErrMiss)

// TestNegativeCaching checks that a loader's "not found" is remembered for
// MissTTL, not TTL, and reported as a miss meanwhile.
func TestNegativeCaching(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := mapstore.New(mapstore.Options{Now: clock.Now})
	for _, front := range []bool{false, true} {
		t.Run(fmt.Sprintf("front=%v", front), func(t *testing.T) {
			opts := cache.Options{TTL: time.Hour, StaleFor: time.Hour, MissTTL: 10 * time.Second, Now: clock.Now}
			if front {
				opts.Front = cache.Front[string]{MaxEntries: 100}
			}
			c := cache.New[string](store, opts)
			defer c.Close()
			key := fmt.Sprintf("k%v", front)
			var loads atomic.Int32
			load := func(context.Context) (string, error) {
				loads.Add(1)
				return "", errNoRow
			}
			steps := []struct {
				name    string
				advance time.Duration
				loads   int32
			}{
				{"the first call loads and gets the loader's miss", 0, 1},
				{"within MissTTL the cached miss answers", 9 * time.Second, 1},
				{"after MissTTL (no stale window for a miss) the loader is asked again", time.Second, 2},
			}
			for _, s := range steps {
				clock.Advance(s.advance)
				_, err := c.GetOrLoad(ctx, key, load)
				if !errors.Is(err, hitbox.ErrMiss) || loads.Load() != s.loads {
					t.Fatalf("%s: err %v, %d loads; want ErrMiss and %d loads", s.name, err, loads.Load(), s.loads)
				}
			}
			if _, err := c.Get(ctx, key); !errors.Is(err, hitbox.ErrMiss) {
				t.Fatalf("Get of a cached miss: %v, want ErrMiss", err)
			}
			// A value set later replaces the cached miss at once.
			if err := c.Set(ctx, key, "found"); err != nil {
				t.Fatal(err)
			}
			if v, err := c.GetOrLoad(ctx, key, load); v != "found" || err != nil {
				t.Fatalf("after Set: %q, %v", v, err)
			}
		})
	}
}

// TestTTLJitter checks that the TTL is shortened by the drawn fraction of
// TTLJitter, and never lengthened.
func TestTTLJitter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := mapstore.New(mapstore.Options{Now: clock.Now})
	tests := []struct {
		name string
		draw float64
		want time.Duration
	}{
		{"a draw of 0 keeps the TTL", 0, 100 * time.Second},
		{"a draw of 0.5 takes off half of TTLJitter's fraction", 0.5, 90 * time.Second},
		{"the largest draw takes off nearly all of it", 0.999999, 80*time.Second + 20*time.Microsecond},
	}
	for i, tt := range tests {
		c := cache.New[string](store, cache.Options{TTL: 100 * time.Second, TTLJitter: 0.2, Now: clock.Now})
		cache.SetRand(c, func() float64 { return tt.draw })
		key := fmt.Sprint(i)
		if err := c.Set(ctx, key, "v"); err != nil {
			t.Fatal(err)
		}
		e, _ := store.Get(ctx, key)
		if got := e.Expire.Sub(clock.Now()); got != tt.want {
			t.Errorf("%s: TTL %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCallOptions checks WithTTL, SkipRead and RefreshNow.
func TestCallOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	sets := make(chan string, 8)
	store := notifying{mapstore.New(mapstore.Options{Now: clock.Now}), sets}
	c := cache.New[string](store, cache.Options{TTL: time.Minute, Now: clock.Now})
	defer c.Close()
	loader := func(v string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { return v, nil }
	}

	if _, err := c.GetOrLoad(ctx, "k", loader("a"), cache.WithTTL(time.Hour)); err != nil {
		t.Fatal(err)
	}
	<-sets
	if e, _ := store.Get(ctx, "k"); !e.Expire.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("WithTTL(1h) stored Expire %v, want now+1h", e.Expire)
	}
	if v, _ := c.GetOrLoad(ctx, "k", loader("b"), cache.SkipRead()); v != "b" {
		t.Fatalf("SkipRead served %q, want the new load's b", v)
	}
	<-sets
	if v, _ := c.GetOrLoad(ctx, "k", loader("c"), cache.RefreshNow()); v != "b" {
		t.Fatalf("RefreshNow served %q, want the cached b at once", v)
	}
	<-sets // the background refresh landed
	if v, _ := c.Get(ctx, "k"); v != "c" {
		t.Fatalf("after RefreshNow the cache holds %q, want c", v)
	}
}

// TestOptionsValidate checks that invalid loading settings are reported
// as the constructor rule says, by Validate and by New's panic.
func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts cache.Options
		want string // "" when valid
	}{
		{"the zero value is valid", cache.Options{}, ""},
		{"a nil *Front is no front", cache.Options{Front: (*cache.Front[int])(nil)}, ""},
		{"a *Front is a front", cache.Options{Front: &cache.Front[int]{MaxEntries: 1}}, ""},
		{"a jitter of 1 or more would make TTLs vanish", cache.Options{TTLJitter: 1}, "hitbox/cache: Options.TTLJitter:"},
		{"a negative jitter would lengthen TTLs", cache.Options{TTLJitter: -0.1}, "hitbox/cache: Options.TTLJitter:"},
		{"a negative MissTTL", cache.Options{MissTTL: -1}, "hitbox/cache: Options.MissTTL:"},
		{"a negative EarlyRefresh", cache.Options{EarlyRefresh: -1}, "hitbox/cache: Options.EarlyRefresh:"},
		{"LockWait means nothing without LockTTL", cache.Options{LockWait: time.Second}, "hitbox/cache: Options.LockWait:"},
		{"a front must be bounded", cache.Options{Front: cache.Front[int]{}}, "hitbox/cache: Options.Front.MaxEntries: neither"},
		{"a front has one bound", cache.Options{Front: cache.Front[int]{MaxEntries: 1, MaxCost: 1}}, "hitbox/cache: Options.Front.MaxEntries: set with MaxCost"},
		{"MaxCost needs Cost", cache.Options{Front: cache.Front[int]{MaxCost: 1}}, "hitbox/cache: Options.Front.Cost: nil with MaxCost set"},
	}
	for _, tt := range tests {
		err := tt.opts.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate = %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("%s: Validate = %v, want %q...", tt.name, err, tt.want)
		case tt.want != "":
			func() {
				defer func() {
					if r := recover(); r != err.Error() {
						t.Errorf("%s: New panicked with %v, want %q", tt.name, r, err)
					}
				}()
				cache.New[int](mapstore.New(mapstore.Options{}), tt.opts)
			}()
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "hitbox/cache: Options.Front: a cache.Front[string] for a Cache[int]") {
			t.Errorf("a front of another type: New panicked with %v", r)
		}
	}()
	cache.New[int](mapstore.New(mapstore.Options{}), cache.Options{Front: cache.Front[string]{MaxEntries: 1}})
}
