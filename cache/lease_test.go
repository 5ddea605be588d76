package cache_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// newLeasing returns a store with leases, and a mapstore.Store is one.
func newLeasing(opts mapstore.Options) *mapstore.Store { return mapstore.New(opts) }

func stat[T any](c *cache.Cache[T], name string) int64 {
	var v int64 = -1
	c.ReportStats(func(s hitbox.Stat) {
		if s.Name == name {
			v = s.Value
		}
	})
	return v
}

// TestLoadCrossedByAChange checks that a load a change crossed returns its
// answer to its caller but stores nothing, in the pipeline nor in the
// front, so no read after the change returns what it replaced: the
// issue's case, a slow loader and a Delete during it, and its kin. The
// loader holds until the change has returned, as a 200 ms loader would.
// Cases with lease run over a Leaser; those without it over a plain store,
// where only changes this process makes or hears of are caught.
func TestLoadCrossedByAChange(t *testing.T) {
	t.Parallel()
	type env struct {
		mine, other *cache.Cache[string] // the loading instance, and another over the same store
		store       hitbox.Backend
		bus         *hitbox.LocalBus
	}
	cases := []struct {
		name     string
		lease    bool
		tags     []string
		notFound bool // the loader answers "not found" (MissTTL is set)
		change   func(ctx context.Context, e env) error
		want     string // what a read after returns; "" for a miss
		stat     string // the figure that counts the dropped store
		front    bool   // only with a front (a bus is heard through it)
	}{
		{name: "A Delete through the loading cache stops the store, without a lease.",
			change: func(ctx context.Context, e env) error { return e.mine.Delete(ctx, "k") },
			stat:   "cache.loads.crossed"},
		{name: "A Delete through the loading cache stops the store, over a Leaser.", lease: true,
			change: func(ctx context.Context, e env) error { return e.mine.Delete(ctx, "k") },
			stat:   "cache.loads.crossed"},
		{name: "A Set through the loading cache wins over the load, without a lease.",
			change: func(ctx context.Context, e env) error { return e.mine.Set(ctx, "k", "new") },
			want:   "new", stat: "cache.loads.crossed"},
		{name: "A purge of the load's tag through the loading cache stops the store.", tags: []string{"t"},
			change: func(ctx context.Context, e env) error { return e.mine.InvalidateTags(ctx, "t") },
			stat:   "cache.loads.crossed"},
		{name: "A Delete by another instance, heard on the front's bus, stops the store without a lease.",
			change: func(ctx context.Context, e env) error {
				if err := e.other.Delete(ctx, "k"); err != nil {
					return err
				}
				return e.bus.Publish(ctx, hitbox.Invalidation{Origin: "other", Keys: []string{"k"}})
			},
			stat: "cache.loads.crossed", front: true},
		{name: "A Delete by another instance, unheard, is refused by the lease.", lease: true,
			change: func(ctx context.Context, e env) error { return e.other.Delete(ctx, "k") },
			stat:   "cache.loads.lease_lost"},
		{name: "A Set by another instance wins over the load through the lease.", lease: true,
			change: func(ctx context.Context, e env) error { return e.other.Set(ctx, "k", "new") },
			want:   "new", stat: "cache.loads.lease_lost"},
		{name: "A purge of the load's tag by another instance is refused by the lease.", lease: true, tags: []string{"t"},
			change: func(ctx context.Context, e env) error { return e.other.InvalidateTags(ctx, "t") },
			stat:   "cache.loads.lease_lost"},
		{name: "A Remove straight on the store is refused by the lease.", lease: true,
			change: func(ctx context.Context, e env) error {
				_, err := hitbox.Remove(ctx, e.store, "k")
				return err
			},
			stat: "cache.loads.lease_lost"},
		{name: "A cached not-found is a load's store too: a Set by another instance wins over it.", lease: true, notFound: true,
			change: func(ctx context.Context, e env) error { return e.other.Set(ctx, "k", "new") },
			want:   "new", stat: "cache.loads.lease_lost"},
		{name: "A cached not-found a local Delete crossed is not stored, without a lease.", notFound: true,
			change: func(ctx context.Context, e env) error { return e.mine.Delete(ctx, "k") },
			stat:   "cache.loads.crossed"},
	}
	for _, tc := range cases {
		for _, withFront := range []bool{false, true} {
			if tc.front && !withFront {
				continue
			}
			t.Run(fmt.Sprintf("%s/front=%v", tc.name, withFront), func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				var store hitbox.Backend = mapstore.New(mapstore.Options{NoLeases: true})
				if tc.lease {
					store = newLeasing(mapstore.Options{})
				}
				bus := hitbox.NewLocalBus()
				defer bus.Close()
				opts := cache.Options{MissTTL: time.Minute}
				if withFront {
					opts.Front = cache.Front[string]{MaxEntries: 100, Bus: bus}
				}
				mine := cache.New[string](store, opts)
				defer mine.Close()
				other := cache.New[string](store, cache.Options{})
				defer other.Close()
				if withFront {
					// The bus is up: its first message.
					bus.Resume()
				}

				entered, release := make(chan struct{}), make(chan struct{})
				type answer struct {
					v   string
					err error
				}
				done := make(chan answer, 1)
				go func() {
					v, err := mine.GetOrLoad(ctx, "k", func(context.Context) (string, error) {
						close(entered)
						<-release
						if tc.notFound {
							return "", hitbox.ErrMiss
						}
						return "old", nil
					}, cache.WithTags(tc.tags...))
					done <- answer{v, err}
				}()
				<-entered
				if err := tc.change(ctx, env{mine: mine, other: other, store: store, bus: bus}); err != nil {
					t.Fatalf("change: %v", err)
				}
				close(release)
				a := <-done
				switch {
				case tc.notFound && !errors.Is(a.err, hitbox.ErrMiss):
					t.Fatalf("GetOrLoad = %q, %v; want the loader's not-found", a.v, a.err)
				case !tc.notFound && (a.v != "old" || a.err != nil):
					t.Fatalf("GetOrLoad = %q, %v; want the loaded value returned", a.v, a.err)
				}
				for _, c := range []*cache.Cache[string]{mine, other} {
					for range 2 { // the second read may come from the front
						v, err := c.Get(ctx, "k")
						if tc.want == "" && !errors.Is(err, hitbox.ErrMiss) {
							t.Fatalf("Get after the change = %q, %v; want a miss", v, err)
						}
						if tc.want != "" && (v != tc.want || err != nil) {
							t.Fatalf("Get after the change = %q, %v; want %q", v, err, tc.want)
						}
					}
				}
				if n := stat(mine, tc.stat); n != 1 {
					t.Fatalf("%s = %d, want 1", tc.stat, n)
				}
			})
		}
	}
}

// TestLeaseCost checks what leases cost: a cold GetOrLoad takes one lease,
// a hit none; a batch load takes one per missing key and stores each
// through it.
func TestLeaseCost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newLeasing(mapstore.Options{})
	c := cache.New[string](store, cache.Options{Front: cache.Front[string]{MaxEntries: 10}})
	defer c.Close()
	load := func(context.Context) (string, error) { return "v", nil }
	if v, err := c.GetOrLoad(ctx, "k", load); v != "v" || err != nil {
		t.Fatalf("cold GetOrLoad = %q, %v", v, err)
	}
	if n := store.LeasesTaken(); n != 1 {
		t.Fatalf("a cold GetOrLoad took %d leases, want 1", n)
	}
	other := cache.New[string](store, cache.Options{}) // no front: a hit reads the store
	defer other.Close()
	for _, c := range []*cache.Cache[string]{c, other} {
		if v, err := c.GetOrLoad(ctx, "k", load); v != "v" || err != nil {
			t.Fatalf("warm GetOrLoad = %q, %v", v, err)
		}
	}
	if n := store.LeasesTaken(); n != 1 {
		t.Fatalf("after two hits, %d leases taken, want 1", n)
	}
	got, err := c.GetOrLoadMany(ctx, []string{"k", "a", "b"}, func(_ context.Context, keys []string) (map[string]string, error) {
		out := map[string]string{}
		for _, k := range keys {
			out[k] = "v" + k
		}
		return out, nil
	})
	if err != nil || got["a"] != "va" || got["b"] != "vb" || got["k"] != "v" {
		t.Fatalf("GetOrLoadMany = %v, %v", got, err)
	}
	if n := store.LeasesTaken(); n != 3 {
		t.Fatalf("after a batch of two missing keys, %d leases taken, want 3", n)
	}
	if v, err := other.Get(ctx, "b"); v != "vb" || err != nil {
		t.Fatalf("Get of a batch-loaded key = %q, %v", v, err)
	}
}

// TestGetOrLoadManyCrossed checks that a change crossing a batch load stops
// the store of the keys it changed and only those, over a Leaser (another
// instance's Set) and without one (this instance's Delete).
func TestGetOrLoadManyCrossed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		lease  bool
		change func(ctx context.Context, mine, other *cache.Cache[string]) error
		want1  string // what k1 reads after; "" for a miss
	}{
		{"Another instance's Set of k1 wins over the batch, through k1's lease; k2 is stored.", true,
			func(ctx context.Context, _, other *cache.Cache[string]) error { return other.Set(ctx, "k1", "new") }, "new"},
		{"This instance's Delete of k1 stops k1's store without a lease; k2 is stored.", false,
			func(ctx context.Context, mine, _ *cache.Cache[string]) error { return mine.Delete(ctx, "k1") }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var store hitbox.Backend = mapstore.New(mapstore.Options{NoLeases: true})
			if tc.lease {
				store = newLeasing(mapstore.Options{})
			}
			mine := cache.New[string](store, cache.Options{Front: cache.Front[string]{MaxEntries: 10}})
			defer mine.Close()
			other := cache.New[string](store, cache.Options{})
			defer other.Close()
			entered, release := make(chan struct{}), make(chan struct{})
			done := make(chan error, 1)
			go func() {
				got, err := mine.GetOrLoadMany(ctx, []string{"k1", "k2"}, func(context.Context, []string) (map[string]string, error) {
					close(entered)
					<-release
					return map[string]string{"k1": "old1", "k2": "old2"}, nil
				})
				if err == nil && (got["k1"] != "old1" || got["k2"] != "old2") {
					err = fmt.Errorf("got %v, want the loaded values", got)
				}
				done <- err
			}()
			<-entered
			if err := tc.change(ctx, mine, other); err != nil {
				t.Fatal(err)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("GetOrLoadMany: %v", err)
			}
			for _, c := range []*cache.Cache[string]{mine, other} {
				v, err := c.Get(ctx, "k1")
				if tc.want1 == "" && !errors.Is(err, hitbox.ErrMiss) || tc.want1 != "" && v != tc.want1 {
					t.Fatalf("Get(k1) = %q, %v; want %q", v, err, tc.want1)
				}
				if v, err := c.Get(ctx, "k2"); v != "old2" || err != nil {
					t.Fatalf("Get(k2) = %q, %v; want the loaded value", v, err)
				}
			}
		})
	}
}

// TestRefreshCrossedByADelete checks that a background refresh of a stale
// value is a load like any: another instance's Delete crossing it leaves
// the key deleted.
func TestRefreshCrossedByADelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock()
	store := newLeasing(mapstore.Options{Now: clock.Now})
	opts := cache.Options{TTL: time.Minute, StaleFor: time.Hour, Now: clock.Now}
	mine := cache.New[string](store, opts)
	other := cache.New[string](store, opts)
	defer other.Close()
	if err := mine.Set(ctx, "k", "v1"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Minute)
	entered, release := make(chan struct{}), make(chan struct{})
	v, err := mine.GetOrLoad(ctx, "k", func(context.Context) (string, error) {
		close(entered)
		<-release
		return "v2", nil
	})
	if v != "v1" || err != nil {
		t.Fatalf("stale GetOrLoad = %q, %v; want the stale value", v, err)
	}
	<-entered
	if err := other.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	close(release)
	// Close would cancel the refresh's store: wait for the refusal first.
	for deadline := time.Now().Add(10 * time.Second); stat(mine, "cache.loads.lease_lost") == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	mine.Close()
	if v, err := other.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get after the Delete = %q, %v; want a miss", v, err)
	}
	if n := stat(mine, "cache.loads.lease_lost"); n != 1 {
		t.Fatalf("lease_lost = %d, want 1", n)
	}
}

// TestFrontDown checks that a front obeys its bus's Down: from Down until
// the next All it answers no read itself and keeps nothing, reading the
// pipeline every time, and serves its copy only when the pipeline fails
// (stale-if-error); the All clears it and it answers hits again.
func TestFrontDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inner := mapstore.New(mapstore.Options{})
	store := faulty.Wrap(inner)
	bus := hitbox.NewLocalBus()
	defer bus.Close()
	c := cache.New[string](store, cache.Options{Front: cache.Front[string]{MaxEntries: 10, Bus: bus}})
	defer c.Close()
	bus.Resume()
	reads := func() int { return store.Calls(hitbox.OpGet) }
	must(t, c.Set(ctx, "k", "v1"))
	if v, err := c.Get(ctx, "k"); v != "v1" || err != nil || reads() != 0 {
		t.Fatalf("up: Get = %q, %v after %d pipeline reads; want v1 from the front", v, err, reads())
	}

	bus.Interrupt()
	// Another instance's write, which the bus cannot report now.
	must(t, inner.Set(ctx, "k", hitbox.Entry{Value: []byte("v2")}))
	for i := range 2 {
		if v, err := c.Get(ctx, "k"); v != "v2" || err != nil || reads() != i+1 {
			t.Fatalf("down: Get #%d = %q, %v after %d pipeline reads; want v2 read through", i+1, v, err, reads())
		}
	}
	must(t, c.Set(ctx, "j", "w"))
	if v, err := c.Get(ctx, "j"); v != "w" || err != nil || reads() != 3 {
		t.Fatalf("down: Get of a key written while down = %q, %v after %d reads; want it read through", v, err, reads())
	}

	store.FailGet(errOutage)
	actx, ans := hitbox.TrackAnswer(ctx)
	v, st, err := c.Lookup(actx, "k")
	if v != "v1" || st != hitbox.Stale || err != nil {
		t.Fatalf("down, pipeline failing: Lookup = %q, %v, %v; want the front's copy, stale", v, st, err)
	}
	if !ans.Unproven() {
		t.Error("the front's copy served while down is not marked unproven on the read's Answer")
	}
	loaded, err := c.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "", errors.New("source down") })
	if loaded != "v1" || err != nil {
		t.Fatalf("down, pipeline and source failing: GetOrLoad = %q, %v; want the front's copy", loaded, err)
	}
	loaded, err = c.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "v3", nil })
	if loaded != "v3" || err != nil {
		t.Fatalf("down, pipeline failing: GetOrLoad = %q, %v; want the source's value before the front's copy", loaded, err)
	}
	if v, err := c.Get(ctx, "k"); err == nil {
		t.Fatalf("down, pipeline failing, after the load's store: Get = %q; want the error (the store dropped the front's copy)", v)
	}
	store.Heal()

	bus.Resume()
	store.FailGet(errOutage)
	if v, err := c.Get(ctx, "k"); err == nil {
		t.Fatalf("after All, pipeline failing: Get = %q; want the error, the front cleared", v)
	}
	store.Heal()
	before := reads()
	for range 2 {
		if v, err := c.Get(ctx, "k"); v != "v3" || err != nil {
			t.Fatalf("after All: Get = %q, %v; want v3, which the load stored", v, err)
		}
	}
	if n := reads() - before; n != 1 {
		t.Fatalf("after All: %d pipeline reads for two Gets, want 1 (the front answers again)", n)
	}
}

// downAtStore is a leasing store whose stores fail, as in an outage, once
// down is set: the failure is no refusal, so nothing tells the load
// whether a change crossed it.
type downAtStore struct {
	*mapstore.Store
	down atomic.Bool
}

func (d *downAtStore) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, le hitbox.Lease) error {
	if d.down.Load() {
		return &hitbox.Error{Op: hitbox.OpSet, Backend: d.Label(), Err: hitbox.ErrUnavailable}
	}
	return d.Store.SetLeased(ctx, key, e, tags, le)
}

// TestJoinerOfALoadNotStored checks that a caller who joins a load after
// a change crossed it does not get the load's answer, which the source
// may have given before the change: whether the store was refused (the
// change made here, or elsewhere and seen by the lease) or failed (an
// outage: nothing then vouches for the answer), the caller loads again.
// The leader's call began before the change and keeps the old answer.
func TestJoinerOfALoadNotStored(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		leaderMany bool // the leader calls GetOrLoadMany
		joinerMany bool // the joiner calls GetOrLoadMany
		local      bool // this cache makes the change, not another instance
		fail       bool // the store fails, as in an outage, rather than being refused
	}{
		{name: "GetOrLoad joins a load a local Delete crossed", local: true},
		{name: "GetOrLoad joins a load another instance's Delete crossed"},
		{name: "GetOrLoadMany joins a load a local Delete crossed", joinerMany: true, local: true},
		{name: "GetOrLoadMany joins a load another instance's Delete crossed", joinerMany: true},
		{name: "GetOrLoad joins GetOrLoad, whose store fails", fail: true},
		{name: "GetOrLoadMany joins GetOrLoad, whose store fails", joinerMany: true, fail: true},
		{name: "GetOrLoad joins GetOrLoadMany, whose store fails", leaderMany: true, fail: true},
		{name: "GetOrLoadMany joins GetOrLoadMany, whose store fails", leaderMany: true, joinerMany: true, fail: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := &downAtStore{Store: newLeasing(mapstore.Options{})}
			mine := cache.New[string](store, cache.Options{})
			defer mine.Close()
			other := cache.New[string](store.Store, cache.Options{})
			defer other.Close()

			var source atomic.Value
			source.Store("old")
			entered, release := make(chan struct{}), make(chan struct{})
			var first atomic.Bool
			load := func(context.Context) (string, error) {
				v := source.Load().(string) // read at the start, as a query would
				if first.CompareAndSwap(false, true) {
					close(entered)
					<-release
				}
				return v, nil
			}
			loadMany := func(ctx context.Context, keys []string) (map[string]string, error) {
				v, err := load(ctx)
				return map[string]string{"k": v}, err
			}
			call := func(many bool) string {
				if many {
					got, _ := mine.GetOrLoadMany(ctx, []string{"k"}, loadMany)
					return got["k"]
				}
				v, _ := mine.GetOrLoad(ctx, "k", load)
				return v
			}
			leader := make(chan string, 1)
			go func() { leader <- call(tc.leaderMany) }()
			<-entered
			source.Store("new")
			changer := other
			if tc.local {
				changer = mine
			}
			if err := changer.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if tc.fail {
				store.down.Store(true) // the outage begins before the load stores
			}
			joiner := make(chan string, 1)
			go func() { joiner <- call(tc.joinerMany) }()
			for cache.LoadJoiners(mine, "k") == 0 {
				time.Sleep(time.Millisecond)
			}
			close(release)
			if v := <-leader; v != "old" {
				t.Errorf("leader = %q, want old (its call began before the Delete)", v)
			}
			if v := <-joiner; v != "new" {
				t.Errorf("joiner = %q, want new: it began after the Delete returned", v)
			}
		})
	}
}

// heldLeasedStore is a leasing store whose SetLeased waits for release, as
// a round trip to a slow server would.
type heldLeasedStore struct {
	*mapstore.Store
	entered, release chan struct{}
}

func (h *heldLeasedStore) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	close(h.entered)
	<-h.release
	return h.Store.SetLeased(ctx, key, e, tags, l)
}

// TestChangeDoesNotWaitForALeasedStore checks that over a pipeline with
// leases a Set and a purge made while a load's store is on its way do not
// wait for it (the lease orders them in the pipeline), and that the store
// is then refused: what they wrote stands.
func TestChangeDoesNotWaitForALeasedStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &heldLeasedStore{Store: newLeasing(mapstore.Options{}), entered: make(chan struct{}), release: make(chan struct{})}
	c := cache.New[string](store, cache.Options{})
	defer c.Close()
	loaded := make(chan string, 1)
	go func() {
		v, _ := c.GetOrLoad(ctx, "k", func(context.Context) (string, error) { return "old", nil }, cache.WithTags("t"))
		loaded <- v
	}()
	<-store.entered
	changed := make(chan error, 1)
	go func() {
		if err := c.InvalidateTags(ctx, "t"); err != nil {
			changed <- err
			return
		}
		changed <- c.Set(ctx, "k", "new")
	}()
	select {
	case err := <-changed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second): // a hang, not a speed bound
		close(store.release)
		t.Fatal("a purge and a Set waited for a load's leased store")
	}
	close(store.release)
	if v := <-loaded; v != "old" {
		t.Fatalf("GetOrLoad = %q, want the loaded value", v)
	}
	if v, err := c.Get(ctx, "k"); v != "new" || err != nil {
		t.Fatalf("Get = %q, %v; want the Set's value", v, err)
	}
}
