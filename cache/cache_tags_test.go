package cache_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// tagStore is a map store that keeps tags, counts the reads reaching it,
// and runs a test's hook after a read or a tagged write has reached the
// store and before it returns: the instant a purge can cross it.
type tagStore struct {
	*mapstore.Store
	reads     atomic.Int32
	afterRead func()
	afterSet  func()
}

func newTagStore(clock *fakeClock) *tagStore {
	return &tagStore{Store: mapstore.New(mapstore.Options{Now: clock.Now})}
}

func (s *tagStore) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	s.reads.Add(1)
	e, err := s.Store.Get(ctx, key)
	s.hook(s.afterRead)
	return e, err
}

func (s *tagStore) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	s.reads.Add(1)
	e, tags, err := s.Store.GetTagged(ctx, key)
	s.hook(s.afterRead)
	return e, tags, err
}

func (s *tagStore) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	s.reads.Add(1)
	return s.Store.GetMany(ctx, keys)
}

func (s *tagStore) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	err := s.Store.SetTagged(ctx, key, e, tags)
	s.hook(s.afterSet)
	return err
}

// hook runs fn once, if set.
func (s *tagStore) hook(fn func()) {
	if fn != nil {
		s.afterRead, s.afterSet = nil, nil
		fn()
	}
}

// TestCacheTags runs the tag calls of Cache[T] with and without a front:
// what is written with a tag is gone after a purge of it, wherever it was
// kept, and nothing else is.
func TestCacheTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, c *cache.Cache[User], s *tagStore)
	}{
		{"A value Set with a tag is a miss after a purge of the tag; values without it stay.", func(t *testing.T, c *cache.Cache[User], s *tagStore) {
			must(t, c.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1", "team:a")))
			must(t, c.Set(ctx, "u:2", User{ID: 2}, cache.WithTags("user:2", "team:a")))
			must(t, c.Set(ctx, "plain", User{ID: 3}))
			for _, k := range []string{"u:1", "u:2", "plain"} {
				_, _ = c.Get(ctx, k) // the front, if any, holds them all
			}
			must(t, c.InvalidateTags(ctx, "user:1"))
			wantMiss(t, c, "u:1")
			wantID(t, c, "u:2", 2)
			wantID(t, c, "plain", 3)
			must(t, c.InvalidateTags(ctx, "team:a"))
			wantMiss(t, c, "u:2")
			wantID(t, c, "plain", 3)
		}},
		{"Set takes WithTTL and WithTags together.", func(t *testing.T, c *cache.Cache[User], s *tagStore) {
			must(t, c.Set(ctx, "u:1", User{ID: 1}, cache.WithTTL(time.Hour), cache.WithTags("user:1")))
			must(t, c.InvalidateTags(ctx, "user:1"))
			wantMiss(t, c, "u:1")
		}},
		{"Several WithTags add up.", func(t *testing.T, c *cache.Cache[User], s *tagStore) {
			must(t, c.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1"), cache.WithTags("team:a")))
			must(t, c.InvalidateTags(ctx, "team:a"))
			wantMiss(t, c, "u:1")
		}},
		{"GetOrLoad stores what it loads with the call's tags; after a purge it loads again.", func(t *testing.T, c *cache.Cache[User], s *tagStore) {
			loads := 0
			load := func(context.Context) (User, error) { loads++; return User{ID: loads}, nil }
			for range 2 {
				if _, err := c.GetOrLoad(ctx, "u:1", load, cache.WithTags("user:1")); err != nil {
					t.Fatal(err)
				}
			}
			must(t, c.InvalidateTags(ctx, "user:1"))
			u, err := c.GetOrLoad(ctx, "u:1", load, cache.WithTags("user:1"))
			if err != nil || u.ID != 2 || loads != 2 {
				t.Fatalf("after the purge: %+v, %v after %d loads; want a second load", u, err, loads)
			}
		}},
		{"GetOrLoadMany stores every loaded key with the call's tags.", func(t *testing.T, c *cache.Cache[User], s *tagStore) {
			loads := 0
			load := func(_ context.Context, keys []string) (map[string]User, error) {
				loads++
				out := map[string]User{}
				for i, k := range keys {
					out[k] = User{ID: i}
				}
				return out, nil
			}
			for range 2 {
				if got, err := c.GetOrLoadMany(ctx, []string{"a", "b"}, load, cache.WithTags("batch")); err != nil || len(got) != 2 {
					t.Fatalf("GetOrLoadMany: %v, %v", got, err)
				}
			}
			must(t, c.InvalidateTags(ctx, "batch"))
			wantMiss(t, c, "a")
			wantMiss(t, c, "b")
			if loads != 1 {
				t.Fatalf("%d loads before the purge, want 1", loads)
			}
		}},
		{"A remembered not-found carries the call's tags: a purge ends it.", func(t *testing.T, c *cache.Cache[User], s *tagStore) {
			found := false
			load := func(context.Context) (User, error) {
				if !found {
					return User{}, hitbox.ErrMiss
				}
				return User{ID: 7}, nil
			}
			if _, err := c.GetOrLoad(ctx, "u:7", load, cache.WithTags("user:7")); !errors.Is(err, hitbox.ErrMiss) {
				t.Fatalf("first load: %v, want a miss", err)
			}
			found = true // the user is created...
			if _, err := c.GetOrLoad(ctx, "u:7", load, cache.WithTags("user:7")); !errors.Is(err, hitbox.ErrMiss) {
				t.Fatalf("within MissTTL: %v, want the remembered miss", err)
			}
			must(t, c.InvalidateTags(ctx, "user:7")) // ...and its tag purged
			if u, err := c.GetOrLoad(ctx, "u:7", load, cache.WithTags("user:7")); err != nil || u.ID != 7 {
				t.Fatalf("after the purge: %+v, %v; want the new user", u, err)
			}
		}},
		{"An invalid tag fails the write with ErrInvalidTag and stores nothing.", func(t *testing.T, c *cache.Cache[User], s *tagStore) {
			if err := c.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("")); !errors.Is(err, hitbox.ErrInvalidTag) {
				t.Fatalf("Set: %v, want ErrInvalidTag", err)
			}
			wantMiss(t, c, "u:1")
			if err := c.InvalidateTags(ctx, ""); !errors.Is(err, hitbox.ErrInvalidTag) {
				t.Fatalf("InvalidateTags: %v, want ErrInvalidTag", err)
			}
		}},
		{"A purge without tags does nothing.", func(t *testing.T, c *cache.Cache[User], s *tagStore) {
			must(t, c.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1")))
			must(t, c.InvalidateTags(ctx))
			wantID(t, c, "u:1", 1)
		}},
	}
	for _, front := range []bool{false, true} {
		for _, tc := range cases {
			name := "no front/" + tc.name
			if front {
				name = "front/" + tc.name
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				clock := newFakeClock()
				s := newTagStore(clock)
				opts := cache.Options{TTL: time.Minute, MissTTL: time.Minute, Now: clock.Now}
				if front {
					opts.Front = cache.Front[User]{MaxEntries: 100}
				}
				c := cache.New[User](s, opts)
				defer c.Close()
				tc.run(t, c, s)
			})
		}
	}
}

// TestCacheTagsNotSupported checks a cache over a pipeline that keeps no
// tags: tagged writes and purges fail with ErrNotSupported, and a tagged
// write stores nothing, in the pipeline or the front.
func TestCacheTagsNotSupported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := cache.New[User](mapstore.New(mapstore.Options{}).Basic(), cache.Options{Front: cache.Front[User]{MaxEntries: 10}})
	defer c.Close()
	if err := c.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1")); !errors.Is(err, hitbox.ErrNotSupported) {
		t.Fatalf("Set: %v, want ErrNotSupported", err)
	}
	wantMiss(t, c, "u:1")
	if err := c.InvalidateTags(ctx, "user:1"); !errors.Is(err, hitbox.ErrNotSupported) {
		t.Fatalf("InvalidateTags: %v, want ErrNotSupported", err)
	}
	must(t, c.Set(ctx, "u:1", User{ID: 1}))
	wantID(t, c, "u:1", 1)
}

// TestFrontTags checks the decoded-object front with tags: tagged hits
// cost no pipeline read, a purge (local or from the bus) drops them, and
// a purge that crosses a read, a write or a load leaves nothing from
// before it in the front.
func TestFrontTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name string
		run  func(t *testing.T, c *cache.Cache[User], s *tagStore, bus *hitbox.LocalBus)
	}{
		{"A tagged value is answered by the front, and dropped from it by a purge.", func(t *testing.T, c *cache.Cache[User], s *tagStore, _ *hitbox.LocalBus) {
			must(t, c.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1")))
			wantReads(t, c, s, "u:1", 0)
			must(t, c.InvalidateTags(ctx, "user:1"))
			wantMiss(t, c, "u:1")
		}},
		{"A front filled from a read learns the entry's tags.", func(t *testing.T, c *cache.Cache[User], s *tagStore, _ *hitbox.LocalBus) {
			must(t, cache.New[User](s, cache.Options{}).Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1"))) // another instance
			wantReads(t, c, s, "u:1", 1)
			wantReads(t, c, s, "u:1", 0)
			must(t, c.InvalidateTags(ctx, "user:1"))
			wantMiss(t, c, "u:1")
		}},
		{"A purge arriving on the bus as Invalidation.Tags drops the tagged entries, and only them.", func(t *testing.T, c *cache.Cache[User], s *tagStore, bus *hitbox.LocalBus) {
			must(t, c.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1")))
			must(t, c.Set(ctx, "plain", User{ID: 2}))
			must(t, s.InvalidateTags(ctx, "user:1")) // another instance purges the store...
			wantReads(t, c, s, "u:1", 0)             // ...which this front cannot see...
			must(t, bus.Publish(ctx, hitbox.Invalidation{Origin: "other", Tags: []string{"user:1"}}))
			wantMiss(t, c, "u:1") // ...until the bus says so
			wantReads(t, c, s, "plain", 0)
		}},
		{"A front filled by a batch read learns each entry's tags from Result.Tags: a purge of another tag keeps it, a purge of its own drops it.", func(t *testing.T, c *cache.Cache[User], s *tagStore, _ *hitbox.LocalBus) {
			other := cache.New[User](s, cache.Options{MissTTL: time.Minute})
			must(t, other.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1")))
			must(t, other.Set(ctx, "plain", User{ID: 2}))
			// A "not found" remembered with a tag, as a tagged batch load
			// stores it.
			none := func(context.Context, []string) (map[string]User, error) { return nil, nil }
			if _, err := other.GetOrLoadMany(ctx, []string{"gone"}, none, cache.WithTags("user:9")); err != nil {
				t.Fatal(err)
			}
			load := func(context.Context, []string) (map[string]User, error) { return nil, errors.New("no load expected") }
			before := s.reads.Load()
			if got, err := c.GetOrLoadMany(ctx, []string{"u:1", "plain", "gone"}, load); err != nil || got["u:1"].ID != 1 || got["plain"].ID != 2 || len(got) != 2 {
				t.Fatalf("GetOrLoadMany: %v, %v", got, err)
			}
			if n := s.reads.Load() - before; n != 1 {
				t.Fatalf("%d reads reached the store, want one batch read", n)
			}
			wantReads(t, c, s, "u:1", 0)
			must(t, c.InvalidateTags(ctx, "some:other:tag"))
			wantReads(t, c, s, "u:1", 0)
			wantReads(t, c, s, "plain", 0)
			must(t, c.InvalidateTags(ctx, "user:1"))
			wantMiss(t, c, "u:1")
			wantReads(t, c, s, "plain", 0)
			must(t, s.Store.Delete(ctx, "gone")) // the front's "not found" answers until its tag is purged
			if got, err := c.GetOrLoadMany(ctx, []string{"gone"}, load); err != nil || len(got) != 0 {
				t.Fatalf("GetOrLoadMany of a remembered not-found: %v, %v", got, err)
			}
			must(t, c.InvalidateTags(ctx, "user:9"))
			found := func(context.Context, []string) (map[string]User, error) { return map[string]User{"gone": {ID: 9}}, nil }
			if got, err := c.GetOrLoadMany(ctx, []string{"gone"}, found); err != nil || got["gone"].ID != 9 {
				t.Fatalf("GetOrLoadMany after the not-found's tag was purged: %v, %v; want a load", got, err)
			}
		}},
		{"A purge between a read of the pipeline and the front's fill keeps the read value out of the front.", func(t *testing.T, c *cache.Cache[User], s *tagStore, _ *hitbox.LocalBus) {
			must(t, cache.New[User](s, cache.Options{}).Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1")))
			s.afterRead = func() { must(t, c.InvalidateTags(ctx, "user:1")) }
			wantID(t, c, "u:1", 1) // read before the purge: answered, not kept
			wantMiss(t, c, "u:1")
		}},
		{"A purge crossing a tagged write keeps the written value out of the front.", func(t *testing.T, c *cache.Cache[User], s *tagStore, _ *hitbox.LocalBus) {
			s.afterSet = func() { must(t, c.InvalidateTags(ctx, "user:1")) }
			must(t, c.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1")))
			wantMiss(t, c, "u:1")
		}},
		{"A purge while a load runs: the load's answer is returned and stored nowhere.", func(t *testing.T, c *cache.Cache[User], s *tagStore, _ *hitbox.LocalBus) {
			load := func(context.Context) (User, error) {
				check(t, c.InvalidateTags(ctx, "user:1")) // the source changed while it was read
				return User{ID: 1}, nil
			}
			if u, err := c.GetOrLoad(ctx, "u:1", load, cache.WithTags("user:1")); err != nil || u.ID != 1 {
				t.Fatalf("GetOrLoad: %+v, %v", u, err)
			}
			wantMiss(t, c, "u:1")
			if _, err := s.Store.Get(ctx, "u:1"); !errors.Is(err, hitbox.ErrMiss) {
				t.Fatalf("the pipeline holds the load from before the purge: %v", err)
			}
		}},
		{"A purge heard on the bus while a batch load runs: its answer is stored nowhere.", func(t *testing.T, c *cache.Cache[User], s *tagStore, bus *hitbox.LocalBus) {
			load := func(context.Context, []string) (map[string]User, error) {
				check(t, bus.Publish(ctx, hitbox.Invalidation{Tags: []string{"batch"}}))
				return map[string]User{"a": {ID: 1}}, nil
			}
			if got, err := c.GetOrLoadMany(ctx, []string{"a"}, load, cache.WithTags("batch")); err != nil || got["a"].ID != 1 {
				t.Fatalf("GetOrLoadMany: %v, %v", got, err)
			}
			wantMiss(t, c, "a")
		}},
		{"A purge of another tag leaves a load's answer stored.", func(t *testing.T, c *cache.Cache[User], s *tagStore, _ *hitbox.LocalBus) {
			load := func(context.Context) (User, error) {
				check(t, c.InvalidateTags(ctx, "user:2"))
				return User{ID: 1}, nil
			}
			if _, err := c.GetOrLoad(ctx, "u:1", load, cache.WithTags("user:1")); err != nil {
				t.Fatal(err)
			}
			wantReads(t, c, s, "u:1", 0)
		}},
		{"A gap on the bus drops tagged and untagged entries alike.", func(t *testing.T, c *cache.Cache[User], s *tagStore, bus *hitbox.LocalBus) {
			must(t, c.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1")))
			bus.Resume()
			wantReads(t, c, s, "u:1", 1)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			s := newTagStore(clock)
			bus := hitbox.NewLocalBus()
			defer bus.Close()
			c := cache.New[User](s, cache.Options{TTL: time.Minute, Now: clock.Now,
				Front: cache.Front[User]{MaxEntries: 100, Bus: bus}})
			defer c.Close()
			tc.run(t, c, s, bus)
		})
	}
}

// TestFrontTagsTwoInstances has two instances with fronts share a store
// and a bus: a purge on one, announced on the bus as a tier announces it,
// drops the tagged entries from both fronts.
func TestFrontTagsTwoInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	s := newTagStore(clock)
	bus := hitbox.NewLocalBus()
	defer bus.Close()
	opts := cache.Options{TTL: time.Minute, Now: clock.Now, Front: cache.Front[User]{MaxEntries: 100, Bus: bus}}
	a, b := cache.New[User](s, opts), cache.New[User](s, opts)
	defer a.Close()
	defer b.Close()

	must(t, a.Set(ctx, "u:1", User{ID: 1}, cache.WithTags("user:1")))
	must(t, a.Set(ctx, "u:2", User{ID: 2}, cache.WithTags("user:2")))
	for _, c := range []*cache.Cache[User]{a, b} {
		wantID(t, c, "u:1", 1)
		wantID(t, c, "u:2", 2)
		wantReads(t, c, s, "u:1", 0) // both fronts hold it
	}
	must(t, a.InvalidateTags(ctx, "user:1"))
	must(t, bus.Publish(ctx, hitbox.Invalidation{Origin: "a", Tags: []string{"user:1"}}))
	for _, c := range []*cache.Cache[User]{a, b} {
		wantMiss(t, c, "u:1")
		wantReads(t, c, s, "u:2", 0)
	}
}

func wantMiss(t *testing.T, c *cache.Cache[User], key string) {
	t.Helper()
	if u, err := c.Get(context.Background(), key); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get %s: %+v, %v; want a miss", key, u, err)
	}
}

func wantID(t *testing.T, c *cache.Cache[User], key string, id int) {
	t.Helper()
	if u, err := c.Get(context.Background(), key); err != nil || u.ID != id {
		t.Fatalf("Get %s: %+v, %v; want ID %d", key, u, err, id)
	}
}

// wantReads checks that a Get of key hits and reaches the store n times.
func wantReads(t *testing.T, c *cache.Cache[User], s *tagStore, key string, n int32) {
	t.Helper()
	before := s.reads.Load()
	if _, err := c.Get(context.Background(), key); err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	if got := s.reads.Load() - before; got != n {
		t.Fatalf("Get %s reached the store %d times, want %d", key, got, n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// check is must for a load, which runs on a goroutine of its own.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Error(err)
	}
}

// TestSetCallOptions checks the options Set takes besides WithTags:
// WithTTL replaces Options.TTL for the call, and WithTags keeps its own
// copy of the tags.
func TestSetCallOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	c := cache.New[User](newTagStore(clock), cache.Options{TTL: time.Hour, Now: clock.Now})
	defer c.Close()
	must(t, c.Set(ctx, "short", User{ID: 1}, cache.WithTTL(time.Second)))
	must(t, c.Set(ctx, "long", User{ID: 2}))
	clock.Advance(2 * time.Second)
	wantMiss(t, c, "short")
	wantID(t, c, "long", 2)

	tags := []string{"user:1"}
	opt := cache.WithTags(tags...)
	tags[0] = "user:2" // the caller reuses its slice
	must(t, c.Set(ctx, "u", User{ID: 1}, opt))
	must(t, c.InvalidateTags(ctx, "user:1"))
	wantMiss(t, c, "u")
}
