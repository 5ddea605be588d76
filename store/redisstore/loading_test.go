package redisstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// trying is a store that counts lock attempts: how often the processes
// retried while one of them loaded.
type trying struct {
	*redisstore.Store
	tries *atomic.Int32
}

func (t trying) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	t.tries.Add(1)
	return t.Store.TryLock(ctx, key, ttl)
}

// TestCacheLockAcrossProcesses runs four caches, each with its own client
// (four processes, as it were), over one real Redis, 250 callers each on
// one cold key: with the lock, one load in all.
func TestCacheLockAcrossProcesses(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	var loads, tries atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (string, error) {
		loads.Add(1)
		<-release
		return "v", nil
	}
	const processes, callers = 4, 250
	var wg, ready sync.WaitGroup
	ready.Add(processes * callers)
	for range processes {
		st, _ := newStore(t, redisstore.Options{Prefix: prefix})
		c := cache.New[string](trying{st, &tries}, cache.Options{TTL: time.Minute, LockTTL: 10 * time.Second})
		defer c.Close()
		for range callers {
			wg.Go(func() {
				ready.Done()
				if v, err := c.GetOrLoad(context.Background(), "k", load); v != "v" || err != nil {
					t.Errorf("GetOrLoad = %q, %v", v, err)
				}
			})
		}
	}
	ready.Wait()
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d loads across %d processes, want 1", n, processes)
	}
	t.Logf("1 load for %d callers in %d processes; %d lock attempts", processes*callers, processes, tries.Load())
}

// TestCacheDeadLockHolder checks that a process that died holding the lock
// (it never releases it) delays the others only until Redis expires it.
func TestCacheDeadLockHolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t, redisstore.Options{})
	const ttl = 200 * time.Millisecond
	if _, err := st.TryLock(ctx, "k", ttl); err != nil { // the holder that dies
		t.Fatal(err)
	}
	var tries atomic.Int32
	c := cache.New[string](trying{st, &tries}, cache.Options{LockTTL: ttl, LockWait: time.Minute})
	defer c.Close()
	var loads atomic.Int32
	v, err := c.GetOrLoad(ctx, "k", func(context.Context) (string, error) {
		loads.Add(1)
		return "v", nil
	})
	if v != "v" || err != nil || loads.Load() != 1 {
		t.Fatalf("GetOrLoad = %q, %v after %d loads; want v after 1", v, err, loads.Load())
	}
	if tries.Load() < 2 {
		t.Fatalf("%d lock attempts: the caller did not wait for the dead holder's lock", tries.Load())
	}
	if l, err := st.TryLock(ctx, "k", time.Second); err != nil {
		t.Fatalf("the waiter kept the lock after loading: %v", err)
	} else {
		_ = l.Unlock(ctx)
	}
}

// TestCacheFrontTrackingBus checks the front's coherence through a real
// Redis: another process's write reaches this one's front as a tracking
// invalidation, and drops the key.
func TestCacheFrontTrackingBus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := redistest.Prefix(t)
	st, rdb := newStore(t, redisstore.Options{Prefix: prefix})
	bus, err := redisstore.NewTrackingBus(rdb, prefix, redisstore.BusOptions{HealthCheck: testHealthCheck})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	reads := &atomic.Int32{}
	a := cache.New[string](readCounter{st, reads}, cache.Options{
		TTL: time.Minute, Front: cache.Front[string]{MaxEntries: 100, Bus: bus},
	})
	defer a.Close()
	obs := observe(bus) // subscribed after the front: it hears each message after the front has
	defer obs.stop()
	if err := bus.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	obs.waitAll(t)
	stB, _ := newStore(t, redisstore.Options{Prefix: prefix}) // another process
	b := cache.New[string](stB, cache.Options{TTL: time.Minute})

	if err := b.Set(ctx, "k", "one"); err != nil {
		t.Fatal(err)
	}
	obs.waitKey(t, "k")
	if v, _ := a.Get(ctx, "k"); v != "one" {
		t.Fatalf("A read %q, want one", v)
	}
	before := reads.Load()
	if v, _ := a.Get(ctx, "k"); v != "one" || reads.Load() != before {
		t.Fatalf("A's second read %q reached Redis: the front did not keep it", v)
	}
	if err := b.Set(ctx, "k", "two"); err != nil {
		t.Fatal(err)
	}
	obs.waitKey(t, "k")
	if v, _ := a.Get(ctx, "k"); v != "two" || reads.Load() != before+1 {
		t.Fatalf("after B's write A read %q (%d reads of Redis), want two from Redis", v, reads.Load()-before)
	}
}

// readCounter counts the reads that reach the store: Get, and GetTagged,
// which a Cache with a front uses to learn the entry's tags.
type readCounter struct {
	*redisstore.Store
	n *atomic.Int32
}

func (r readCounter) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	r.n.Add(1)
	return r.Store.Get(ctx, key)
}

func (r readCounter) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	r.n.Add(1)
	return r.Store.GetTagged(ctx, key)
}
