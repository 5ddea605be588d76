package cache_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// TestGetOrLoadMany checks the batch: one batch read, one load with only
// the keys the cache lacks, one batch write, and "not found" for the keys
// the loader leaves out, remembered for MissTTL.
func TestGetOrLoadMany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := &counted{Backend: mapstore.New(mapstore.Options{Now: clock.Now})}
	c := cache.New[string](store, cache.Options{TTL: time.Minute, MissTTL: time.Second, Now: clock.Now})
	defer c.Close()
	_ = c.Set(ctx, "a", "A")
	_ = c.Set(ctx, "b", "B")
	store.sets.Store(0)

	var asked [][]string
	load := func(_ context.Context, keys []string) (map[string]string, error) {
		asked = append(asked, slices.Clone(keys))
		out := map[string]string{}
		for _, k := range keys {
			if k != "gone" {
				out[k] = "loaded " + k
			}
		}
		return out, nil
	}
	got, err := c.GetOrLoadMany(ctx, []string{"a", "c", "b", "d", "c", "gone"}, load)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "A", "b": "B", "c": "loaded c", "d": "loaded d"}
	if !maps.Equal(got, want) {
		t.Fatalf("GetOrLoadMany = %v, want %v", got, want)
	}
	if len(asked) != 1 || !slices.Equal(asked[0], []string{"c", "d", "gone"}) {
		t.Fatalf("the loader was asked %v, want once for [c d gone]", asked)
	}
	if n, m, s := store.getManys.Load(), store.setManys.Load(), store.sets.Load(); n != 1 || m != 1 || s != 0 {
		t.Fatalf("%d batch reads, %d batch writes, %d single writes; want 1, 1, 0", n, m, s)
	}
	// The stored values and the remembered "not found" answer a second
	// call without the loader.
	if got, _ := c.GetOrLoadMany(ctx, []string{"c", "gone"}, load); len(asked) != 1 || got["c"] != "loaded c" {
		t.Fatalf("second call = %v after %d loads", got, len(asked))
	}
	if _, err := c.Get(ctx, "gone"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get of a key the loader did not find: %v, want ErrMiss", err)
	}
	clock.Advance(time.Second) // the "not found" expires
	if _, _ = c.GetOrLoadMany(ctx, []string{"c", "gone"}, load); len(asked) != 2 || !slices.Equal(asked[1], []string{"gone"}) {
		t.Fatalf("after MissTTL the loader was asked %v, want [gone] again", asked)
	}
}

// TestGetOrLoadManySharesLoads checks the de-duplication per key: a key
// GetOrLoad is loading is waited for, not loaded again by the batch.
func TestGetOrLoadManySharesLoads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := cache.New[string](mapstore.New(mapstore.Options{}), cache.Options{})
	defer c.Close()
	entered, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = c.GetOrLoad(ctx, "x", func(context.Context) (string, error) {
			close(entered)
			<-release
			return "single x", nil
		})
	})
	<-entered
	var asked []string
	done := make(chan map[string]string)
	go func() {
		got, _ := c.GetOrLoadMany(ctx, []string{"x", "y"}, func(_ context.Context, keys []string) (map[string]string, error) {
			asked = slices.Clone(keys)
			close(release) // x's load can only end now, so the batch found it running
			return map[string]string{"y": "batch y"}, nil
		})
		done <- got
	}()
	got := <-done
	wg.Wait()
	if !slices.Equal(asked, []string{"y"}) || got["x"] != "single x" || got["y"] != "batch y" {
		t.Fatalf("batch loaded %v and returned %v; want only y loaded, x from the single load", asked, got)
	}
}

// TestGetOrLoadManyPanicAndErrors checks that a failing or panicking batch
// load reports its error with the values the cache had, and leaves the
// keys loadable.
func TestGetOrLoadManyPanicAndErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := cache.New[string](mapstore.New(mapstore.Options{}), cache.Options{})
	defer c.Close()
	_ = c.Set(ctx, "a", "A")
	errDown := errors.New("down")
	for _, load := range []func(context.Context, []string) (map[string]string, error){
		func(context.Context, []string) (map[string]string, error) { return nil, errDown },
		func(context.Context, []string) (map[string]string, error) { panic("boom") },
	} {
		got, err := c.GetOrLoadMany(ctx, []string{"a", "b"}, load)
		if err == nil || got["a"] != "A" || len(got) != 1 {
			t.Fatalf("a failed batch load = %v, %v; want a's cached value and the error", got, err)
		}
	}
	got, err := c.GetOrLoadMany(ctx, []string{"b"}, func(context.Context, []string) (map[string]string, error) {
		return map[string]string{"b": "B"}, nil
	})
	if err != nil || got["b"] != "B" {
		t.Fatalf("after the failures = %v, %v", got, err)
	}
}
