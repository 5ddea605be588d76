package cache_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// gatedGets is a backend whose Get counts calls; the first waits for gate
// to close, then answers err when set, the store's answer otherwise.
type gatedGets struct {
	*mapstore.Store
	gets   atomic.Int64
	misses atomic.Int64 // reads after the first that found nothing
	gate   chan struct{}
	err    error
}

func (g *gatedGets) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if g.gets.Add(1) == 1 {
		<-g.gate
		if g.err != nil {
			return hitbox.Entry{}, g.err
		}
	}
	e, err := g.Store.Get(ctx, key)
	if errors.Is(err, hitbox.ErrMiss) {
		g.misses.Add(1)
	}
	return e, err
}

// GetTagged is gated like Get: a Cache with a front reads with it.
func (g *gatedGets) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	if g.gets.Add(1) == 1 {
		<-g.gate
		if g.err != nil {
			return hitbox.Entry{}, nil, g.err
		}
	}
	return g.Store.GetTagged(ctx, key)
}

// waitFor spins (yielding, never sleeping) until cond holds, and fails
// the test after 10 s. It may be called from any goroutine: it reports
// with Error and returns.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Error("condition not reached in 10 s")
			return
		}
		runtime.Gosched()
	}
}

// A thousand GetOrLoad callers of a cold key make one backend read and
// one load, not a thousand reads that all miss: under a stampede on
// Redis those crowd the connection pool and time out.
func TestGetOrLoadSharesTheBackendRead(t *testing.T) {
	const callers = 1000
	b := &gatedGets{Store: mapstore.New(mapstore.Options{}), gate: make(chan struct{})}
	c := cache.New[string](b, cache.Options{TTL: time.Minute})
	defer c.Close()
	var loads atomic.Int64
	load := func(context.Context) (string, error) {
		// Hold the load until every caller has joined it, so none comes
		// late and reads again (a read after a finished load is right:
		// it finds the value).
		waitFor(t, func() bool { return cache.LoadJoiners(c, "k") == callers-1 })
		loads.Add(1)
		return "v", nil
	}

	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			v, err := c.GetOrLoad(context.Background(), "k", load)
			if err == nil && v != "v" {
				err = errors.New("got " + v)
			}
			errs <- err
		})
	}
	waitFor(t, func() bool { return cache.SharedReadWaiters(c, "k") == callers-1 })
	close(b.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := b.gets.Load(); n != 1 {
		t.Errorf("%d backend reads for %d callers of one key, want 1", n, callers)
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("%d loads, want 1", n)
	}
}

// A caller that gives up while waiting for another's read returns its own
// ctx's error at once, and does not disturb the read.
func TestSharedReadWaiterLeaves(t *testing.T) {
	b := &gatedGets{Store: mapstore.New(mapstore.Options{}), gate: make(chan struct{})}
	c := cache.New[string](b, cache.Options{TTL: time.Minute})
	defer c.Close()
	if err := c.Set(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	load := func(context.Context) (string, error) { return "loaded", nil }

	leader := make(chan string)
	go func() {
		v, _ := c.GetOrLoad(context.Background(), "k", load)
		leader <- v
	}()
	waitFor(t, func() bool { return b.gets.Load() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan error)
	go func() {
		_, err := c.GetOrLoad(ctx, "k", load)
		left <- err
	}()
	waitFor(t, func() bool { return cache.SharedReadWaiters(c, "k") == 1 })
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("the waiter that left got %v, want context.Canceled", err)
	}
	close(b.gate)
	if v := <-leader; v != "v" {
		t.Fatalf("the reader got %q, want the stored value", v)
	}
}

// When the shared read failed because its leader's ctx ended, a waiter
// whose own ctx is live reads for itself rather than fail with an error
// that is not its own.
func TestSharedReadLeaderCancelled(t *testing.T) {
	b := &gatedGets{Store: mapstore.New(mapstore.Options{}), gate: make(chan struct{}), err: context.Canceled}
	c := cache.New[string](b, cache.Options{TTL: time.Minute})
	defer c.Close()
	if err := c.Set(context.Background(), "k", "v"); err != nil {
		t.Fatal(err)
	}
	load := func(context.Context) (string, error) { return "loaded", nil }

	ctx, cancel := context.WithCancel(context.Background())
	leader := make(chan error)
	go func() {
		_, err := c.GetOrLoad(ctx, "k", load)
		leader <- err
	}()
	waitFor(t, func() bool { return b.gets.Load() == 1 })
	waiter := make(chan string)
	go func() {
		v, err := c.GetOrLoad(context.Background(), "k", load)
		if err != nil {
			v = err.Error()
		}
		waiter <- v
	}()
	waitFor(t, func() bool { return cache.SharedReadWaiters(c, "k") == 1 })
	cancel()
	close(b.gate) // the leader's read fails with context.Canceled
	<-leader
	if v := <-waiter; v != "v" {
		t.Fatalf("the waiter got %q, want the stored value from its own read", v)
	}
}

// A caller that starts after this Cache's write returned never shares a
// read that began before it: it would get the value the write replaced
// (and, with a front, keep it there).
func TestSharedReadNotAcrossAWrite(t *testing.T) {
	for _, front := range []bool{false, true} {
		b := &gatedGets{Store: mapstore.New(mapstore.Options{}), gate: make(chan struct{})}
		opts := cache.Options{TTL: time.Minute}
		if front {
			opts.Front = cache.Front[string]{MaxEntries: 100}
		}
		c := cache.New[string](b, opts)
		if err := b.Store.Set(context.Background(), "k", hitbox.Entry{Value: []byte("old")}); err != nil {
			t.Fatal(err)
		}
		load := func(context.Context) (string, error) { return "loaded", nil }
		leader := make(chan string)
		go func() {
			v, _ := c.GetOrLoad(context.Background(), "k", load)
			leader <- v
		}()
		waitFor(t, func() bool { return b.gets.Load() == 1 }) // the leader's read holds "old"
		if err := c.Set(context.Background(), "k", "new"); err != nil {
			t.Fatal(err)
		}
		after := make(chan string, 1)
		go func() {
			v, err := c.GetOrLoad(context.Background(), "k", load)
			if err != nil {
				v = err.Error()
			}
			after <- v
		}()
		var v string
		waitFor(t, func() bool {
			select {
			case v = <-after:
				return true
			default:
				return cache.SharedReadWaiters(c, "k") > 0
			}
		})
		if v == "" {
			t.Errorf("front %v: a GetOrLoad after the Set returned joined a read that began before it", front)
			close(b.gate)
			v = <-after
		} else {
			close(b.gate)
		}
		if v != "new" {
			t.Errorf("front %v: a GetOrLoad after the Set returned got %q; want the new value", front, v)
		}
		<-leader
		if v, err := c.Get(context.Background(), "k"); err != nil || v != "new" {
			t.Errorf("front %v: Get after both got %q, %v; want the new value", front, v, err)
		}
		c.Close()
	}
}

// A backend's own timeout (an error wrapping DeadlineExceeded while the
// leader's ctx is live) is every waiter's answer: they do not read again.
func TestSharedReadBackendTimeout(t *testing.T) {
	b := &gatedGets{Store: mapstore.New(mapstore.Options{}), gate: make(chan struct{}), err: context.DeadlineExceeded}
	c := cache.New[string](b, cache.Options{TTL: time.Minute})
	defer c.Close()
	// The load waits until the other caller joined it, so a read of that
	// caller's own, before joining, would come before the value is stored.
	load := func(context.Context) (string, error) {
		waitFor(t, func() bool { return cache.LoadJoiners(c, "k") == 1 })
		return "loaded", nil
	}
	done := make(chan string, 2)
	for range 2 {
		go func() {
			v, _ := c.GetOrLoad(context.Background(), "k", load)
			done <- v
		}()
	}
	waitFor(t, func() bool { return cache.SharedReadWaiters(c, "k") == 1 })
	close(b.gate)
	for range 2 {
		if v := <-done; v != "loaded" {
			t.Errorf("got %q, want the loaded value (the read failed, the source answers)", v)
		}
	}
	// A read after the load finished finds its value; a read of the
	// waiter's own, before the load, would find nothing.
	if n := b.misses.Load(); n != 0 {
		t.Errorf("%d reads after the timeout found nothing: the waiter read again instead of sharing the timeout", n)
	}
}
