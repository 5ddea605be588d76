package cache_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// TestTryLockHelper checks the helper: it uses the ability when the
// backend has it, and says ErrNotSupported when not.
func TestTryLockHelper(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	if _, err := hitbox.TryLock(ctx, store, "k", time.Second); !errors.Is(err, hitbox.ErrNotSupported) {
		t.Fatalf("TryLock on a backend without locks: %v, want ErrNotSupported", err)
	}
	clock := newFakeClock()
	b := countedLocker{&counted{Backend: store, locks: newLockTable(clock.Now)}}
	l, err := hitbox.TryLock(ctx, b, "k", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hitbox.TryLock(ctx, b, "k", time.Second); !errors.Is(err, hitbox.ErrLocked) {
		t.Fatalf("TryLock of a held lock: %v, want ErrLocked", err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestGetOrLoadLockAcrossInstances runs four caches (processes, as it
// were) over one store with the lock ability, 250 callers each on one cold
// key: one load in all.
func TestGetOrLoadLockAcrossInstances(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	store := mapstore.New(mapstore.Options{Now: clock.Now})
	locks := newLockTable(clock.Now)
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(context.Context) (string, error) {
		loads.Add(1)
		<-release
		return "v", nil
	}
	const instances, callers = 4, 250
	var wg, ready sync.WaitGroup
	ready.Add(instances * callers)
	for range instances {
		c := cache.New[string](countedLocker{&counted{Backend: store, locks: locks}}, cache.Options{
			LockTTL: time.Minute, LockWait: time.Minute, Now: clock.Now,
		})
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
		t.Fatalf("%d loads across %d instances, want 1", n, instances)
	}
	t.Logf("%d lock attempts, %d taken", len(locks.tries), locks.taken.Load())
}

// TestGetOrLoadDeadLockHolder checks that a holder that died with the lock
// (it never releases it) delays the others only until the lock expires:
// then one of them takes it and loads.
func TestGetOrLoadDeadLockHolder(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	locks := newLockTable(clock.Now)
	b := countedLocker{&counted{Backend: mapstore.New(mapstore.Options{Now: clock.Now}), locks: locks}}
	if _, err := locks.tryLock("k", 10*time.Second); err != nil { // the holder that dies
		t.Fatal(err)
	}
	<-locks.tries
	c := cache.New[string](b, cache.Options{LockTTL: 10 * time.Second, LockWait: time.Hour, Now: clock.Now})
	defer c.Close()
	var loads atomic.Int32
	got := make(chan string, 1)
	go func() {
		v, err := c.GetOrLoad(context.Background(), "k", func(context.Context) (string, error) {
			loads.Add(1)
			return "v", nil
		})
		if err != nil {
			t.Error(err)
		}
		got <- v
	}()
	<-locks.tries // the caller finds the lock held
	<-locks.tries // and is waiting for it
	if loads.Load() != 0 {
		t.Fatal("the caller loaded while the lock was held")
	}
	clock.Advance(10 * time.Second) // the dead holder's lock expires
	if v := <-got; v != "v" || loads.Load() != 1 {
		t.Fatalf("after the lock expired: %q after %d loads, want v after 1", v, loads.Load())
	}
	if locks.taken.Load() != 2 {
		t.Fatalf("%d locks taken, want the dead holder's and the waiter's", locks.taken.Load())
	}
}

// TestGetOrLoadLockErrorLoads checks that a lock that cannot be had (no
// ability here) never fails a read the loader can answer.
func TestGetOrLoadLockErrorLoads(t *testing.T) {
	t.Parallel()
	c := cache.New[int](mapstore.New(mapstore.Options{}), cache.Options{LockTTL: time.Second})
	defer c.Close()
	if v, err := c.GetOrLoad(context.Background(), "k", func(context.Context) (int, error) { return 3, nil }); v != 3 || err != nil {
		t.Fatalf("GetOrLoad without a lock ability = %d, %v", v, err)
	}
}

// TestGetOrLoadKeepsTheLock checks that the holder extends its lock while
// a load outlives LockTTL, so the others go on waiting.
func TestGetOrLoadKeepsTheLock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	locks := newLockTable(clock.Now)
	b := countedLocker{&counted{Backend: mapstore.New(mapstore.Options{Now: clock.Now}), locks: locks}}
	c := cache.New[string](b, cache.Options{LockTTL: 20 * time.Millisecond, Now: clock.Now})
	defer c.Close()
	v, err := c.GetOrLoad(context.Background(), "k", func(context.Context) (string, error) {
		for range 2 {
			<-locks.extends // the lock is extended while the load runs
		}
		return "v", nil
	})
	if v != "v" || err != nil {
		t.Fatalf("GetOrLoad = %q, %v", v, err)
	}
	if _, err := locks.tryLock("k", time.Second); err != nil {
		t.Fatalf("the lock was not released after the load: %v", err)
	}
}
