package tier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
)

// taggedHook is a mapstore with hooks around its tagged calls and its
// batch read, so a test can stop a refill or a tagged write at an exact
// point, and make its purge fail. It counts the reads of one key and the
// batch reads reaching it. It never closes the store, so tiers may share
// it.
type taggedHook struct {
	*mapstore.Store
	afterGetTagged  func(ctx context.Context, key string) // after GetTagged, and after GetMany
	beforeSetTagged func(ctx context.Context, key string)
	wrote           chan struct{} // told after each SetTagged, when set
	invalidateErr   error
	gets, getManys  atomic.Int32 // Get and GetTagged calls; GetMany calls
}

func (h *taggedHook) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	h.gets.Add(1)
	return h.Store.Get(ctx, key)
}

func (h *taggedHook) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	h.gets.Add(1)
	e, tags, err := h.Store.GetTagged(ctx, key)
	if h.afterGetTagged != nil {
		h.afterGetTagged(ctx, key)
	}
	return e, tags, err
}

func (h *taggedHook) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	h.getManys.Add(1)
	res, err := h.Store.GetMany(ctx, keys)
	if h.afterGetTagged != nil {
		h.afterGetTagged(ctx, keys[0])
	}
	return res, err
}

func (h *taggedHook) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if h.beforeSetTagged != nil {
		h.beforeSetTagged(ctx, key)
	}
	err := h.Store.SetTagged(ctx, key, e, tags)
	if h.wrote != nil {
		h.wrote <- struct{}{}
	}
	return err
}

func (h *taggedHook) InvalidateTags(ctx context.Context, tags ...string) error {
	if h.invalidateErr != nil {
		return h.invalidateErr
	}
	return h.Store.InvalidateTags(ctx, tags...)
}

func (h *taggedHook) Close() error { return nil }

// tagsIn returns the tags level s keeps for key, and whether it holds key.
func tagsIn(t *testing.T, s hitbox.Tagger, key string) ([]string, bool) {
	t.Helper()
	_, tags, err := s.GetTagged(context.Background(), key)
	if errors.Is(err, hitbox.ErrMiss) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("GetTagged(%s): %v", key, err)
	}
	return tags, true
}

// TestTagged runs the life of tagged entries through every read policy,
// write policy and refill mode, over mapstore levels: tagged writes reach
// every level with their tags, a refill after L1 lost its copy puts the
// tags back in L1, and a purge by tag drops the entries from every level
// while untagged entries and other tags stay. A GetMany reads L2 in one
// batch call, never key by key, and returns the tags in Result.Tags.
func TestTagged(t *testing.T) {
	t.Parallel()
	getOne := func(ctx context.Context, tr *Tier, key string) error {
		_, err := tr.Get(ctx, key)
		return err
	}
	getMany := func(ctx context.Context, tr *Tier, key string) error {
		res, err := tr.GetMany(ctx, []string{key, "absent"})
		switch {
		case err != nil:
			return err
		case res[0].Err == nil && len(res[0].Tags) == 0:
			return errors.New("GetMany returned no tags in Result.Tags")
		case !errors.Is(res[1].Err, hitbox.ErrMiss) || res[1].Tags != nil:
			return fmt.Errorf("GetMany of an absent key: %v with tags %q, want a miss without tags", res[1].Err, res[1].Tags)
		}
		return res[0].Err
	}
	cases := []struct {
		name  string
		opts  Options
		read  func(ctx context.Context, tr *Tier, key string) error
		batch bool // read is one GetMany, which must read L2 in one batch call
	}{
		{"sequential Get, write-through: the default path", Options{}, getOne, false},
		{"sequential GetTagged: the caller asks for the tags", Options{}, func(ctx context.Context, tr *Tier, key string) error {
			_, tags, err := tr.GetTagged(ctx, key)
			if err == nil && len(tags) == 0 {
				return errors.New("GetTagged returned no tags")
			}
			return err
		}, false},
		{"race reads, parallel writes", Options{Read: ReadRace, Write: WriteParallel}, getOne, false},
		{"race reads whose losers finish", Options{Read: ReadRace, Losers: LosersFinish}, getOne, false},
		{"parallel reads, write-behind", Options{Read: ReadParallel, Write: WriteBehind}, getOne, false},
		{"background refill", Options{Refill: RefillBackground}, getOne, false},
		{"GetMany refills the batch with each key's tags, from one batch read of L2", Options{}, getMany, true},
		{"GetMany with a background refill, from one batch read of L2", Options{Refill: RefillBackground}, getMany, true},
		{"GetMany over race reads: batches read level by level all the same", Options{Read: ReadRace}, getMany, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClock()
			l1, l2 := store(c, "l1"), store(c, "l2")
			hl2 := &taggedHook{Store: l2}
			opts := tc.opts
			opts.Now = c.Now
			tr := NewWith(opts, l1, hl2)
			closeT(t, tr)
			exp := t0.Add(time.Hour)

			if err := tr.SetTagged(ctx, "u1", entry("alice", exp), []string{"user:1", "team:a"}); err != nil {
				t.Fatal(err)
			}
			if err := tr.SetTagged(ctx, "u2", entry("bob", exp), []string{"user:2", "team:a"}); err != nil {
				t.Fatal(err)
			}
			if err := tr.Set(ctx, "plain", entry("p", exp)); err != nil {
				t.Fatal(err)
			}
			tr.pool.flush() // write-behind
			for _, lv := range []*mapstore.Store{l1, l2} {
				if tags, ok := tagsIn(t, lv, "u1"); !ok || !slices.Equal(tags, []string{"user:1", "team:a"}) {
					t.Errorf("%s holds u1 with tags %q (%v), want [user:1 team:a]", lv.Label(), tags, ok)
				}
			}

			// L1 loses its copies; a read refills them, tags and all.
			_ = l1.Delete(ctx, "u1")
			_ = l1.Delete(ctx, "u2")
			hl2.gets.Store(0)
			hl2.getManys.Store(0)
			if err := tc.read(ctx, tr, "u1"); err != nil {
				t.Fatalf("read u1: %v", err)
			}
			tr.pool.flush() // background refill
			if g, m := hl2.gets.Load(), hl2.getManys.Load(); tc.batch && (g != 0 || m != 1) {
				t.Errorf("GetMany read L2 with %d GetMany and %d Get/GetTagged calls, want one GetMany", m, g)
			}
			if tags, ok := tagsIn(t, l1, "u1"); !ok || !slices.Equal(tags, []string{"user:1", "team:a"}) {
				t.Fatalf("the refill left u1 in L1 with tags %q (%v), want [user:1 team:a]", tags, ok)
			}

			// Purging user:1 drops u1 from both levels (L1's refilled copy
			// included) and leaves u2 and the untagged entry.
			if err := tr.InvalidateTags(ctx, "user:1"); err != nil {
				t.Fatal(err)
			}
			if _, ok := tagsIn(t, l1, "u1"); ok {
				t.Error("L1 kept u1 after its tag was purged")
			}
			if _, ok := tagsIn(t, l2, "u1"); ok {
				t.Error("L2 kept u1 after its tag was purged")
			}
			if err := tc.read(ctx, tr, "u1"); !errors.Is(err, hitbox.ErrMiss) {
				t.Errorf("read u1 after the purge: %v, want a miss", err)
			}
			if err := tc.read(ctx, tr, "u2"); err != nil {
				t.Errorf("read u2, whose tags were not purged: %v", err)
			}
			if got := read(t, tr, "plain"); got != "p" {
				t.Errorf("the untagged entry reads %q after a purge, want p", got)
			}

			// A purge of the tag both share drops u2 too.
			if err := tr.InvalidateTags(ctx, "team:a"); err != nil {
				t.Fatal(err)
			}
			tr.pool.flush()
			if l1.Len() != 1 || l2.Len() != 1 {
				t.Errorf("after purging team:a the levels hold %d and %d entries, want only the untagged one", l1.Len(), l2.Len())
			}
		})
	}
}

// TestTaggedCalls checks the tagged calls' arguments and the levels'
// abilities, one case each.
func TestTaggedCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	exp := t0.Add(time.Hour)
	longTag := strings.Repeat("x", hitbox.MaxTagLen+1)
	cases := []struct {
		name   string
		levels func(c *clock) (l1, l2 hitbox.Backend)
		call   func(tr *Tier) error
		want   error  // nil for success
		in     string // a word the error must name
		stored int    // entries the levels hold afterwards, all told
	}{
		{"SetTagged over a level that is not a Tagger stores nothing: a copy without tags escapes purges",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "l1"), store(c, "plain").Basic() },
			func(tr *Tier) error { return tr.SetTagged(ctx, "k", entry("v", exp), []string{"t"}) },
			hitbox.ErrNotSupported, "plain", 0},
		{"a layer over a store that keeps no tags is no Tagger either, though the layer has the methods",
			func(c *clock) (hitbox.Backend, hitbox.Backend) {
				return store(c, "l1"), layer.Encode()(store(c, "plain").Basic())
			},
			func(tr *Tier) error { return tr.SetTagged(ctx, "k", entry("v", exp), []string{"t"}) },
			hitbox.ErrNotSupported, "plain", 0},
		{"a layer over a Tagger is one: tags pass through it",
			func(c *clock) (hitbox.Backend, hitbox.Backend) {
				return store(c, "l1"), layer.Prefix("app:")(layer.Encode()(store(c, "l2")))
			},
			func(tr *Tier) error { return tr.SetTagged(ctx, "k", entry("v", exp), []string{"t"}) },
			nil, "", 2},
		{"a nested tier with a level that keeps no tags is no Tagger",
			func(c *clock) (hitbox.Backend, hitbox.Backend) {
				return store(c, "l1"), New(store(c, "l2"), store(c, "plain").Basic())
			},
			func(tr *Tier) error { return tr.SetTagged(ctx, "k", entry("v", exp), []string{"t"}) },
			hitbox.ErrNotSupported, "tier", 0},
		{"SetTagged without tags over such a level is a plain Set",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "l1"), store(c, "plain").Basic() },
			func(tr *Tier) error { return tr.SetTagged(ctx, "k", entry("v", exp), nil) },
			nil, "", 2},
		{"the helper hitbox.SetTagged reaches the tier's own check",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "plain").Basic(), store(c, "l2") },
			func(tr *Tier) error { return hitbox.SetTagged(ctx, tr, "k", entry("v", exp), "t") },
			hitbox.ErrNotSupported, "plain", 0},
		{"an empty tag is refused before anything is written",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "l1"), store(c, "l2") },
			func(tr *Tier) error { return tr.SetTagged(ctx, "k", entry("v", exp), []string{"t", ""}) },
			hitbox.ErrInvalidTag, "empty", 0},
		{"more than MaxTags tags on one entry are refused",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "l1"), store(c, "l2") },
			func(tr *Tier) error {
				return tr.SetTagged(ctx, "k", entry("v", exp), slices.Repeat([]string{"t"}, hitbox.MaxTags+1))
			},
			hitbox.ErrInvalidTag, "MaxTags", 0},
		{"an empty key is refused",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "l1"), store(c, "l2") },
			func(tr *Tier) error { return tr.SetTagged(ctx, "", entry("v", exp), []string{"t"}) },
			hitbox.ErrInvalidKey, "", 0},
		{"InvalidateTags without tags does nothing",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "l1"), store(c, "l2") },
			func(tr *Tier) error { return tr.InvalidateTags(ctx) },
			nil, "", 0},
		{"InvalidateTags refuses a tag over MaxTagLen, one no entry can carry",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "l1"), store(c, "l2") },
			func(tr *Tier) error { return tr.InvalidateTags(ctx, "ok", longTag) },
			hitbox.ErrInvalidTag, "MaxTagLen", 0},
		{"InvalidateTags takes more tags than one entry may carry",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "l1"), store(c, "l2") },
			func(tr *Tier) error { return tr.InvalidateTags(ctx, slices.Repeat([]string{"t"}, 3*hitbox.MaxTags)...) },
			nil, "", 0},
		{"InvalidateTags over no Tagger at all is not supported",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "a").Basic(), store(c, "b").Basic() },
			func(tr *Tier) error { return tr.InvalidateTags(ctx, "t") },
			hitbox.ErrNotSupported, "", 0},
		{"InvalidateTags skips a level that is not a Tagger: the tier never stored tags there",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "a").Basic(), store(c, "l2") },
			func(tr *Tier) error { return tr.InvalidateTags(ctx, "t") },
			nil, "", 0},
		{"a closed tier refuses a purge",
			func(c *clock) (hitbox.Backend, hitbox.Backend) { return store(c, "l1"), store(c, "l2") },
			func(tr *Tier) error { _ = tr.Close(); return tr.InvalidateTags(ctx, "t") },
			hitbox.ErrClosed, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l1, l2 := tc.levels(c)
			tr := NewWith(Options{Now: c.Now}, l1, l2)
			closeT(t, tr)
			err := tc.call(tr)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("error %v, want %v", err, tc.want)
			case tc.in != "" && !strings.Contains(err.Error(), tc.in):
				t.Errorf("error %q does not name %q", err, tc.in)
			}
			if tr.closed.Load() {
				return
			}
			n := 0
			for _, b := range []hitbox.Backend{l1, l2} {
				for {
					if tr, ok := b.(*Tier); ok { // its Len counts levels
						for i := range tr.Levels() {
							n += tr.Level(i).(interface{ Len() int }).Len()
						}
						break
					}
					if lb, ok := b.(interface{ Len() int }); ok {
						n += lb.Len()
						break
					}
					u, ok := b.(hitbox.Unwrapper)
					if !ok {
						t.Fatalf("cannot count the entries of %T", b)
					}
					b = u.Unwrap()
				}
			}
			if n != tc.stored {
				t.Errorf("the levels hold %d entries, want %d", n, tc.stored)
			}
		})
	}
}

// TestRefillStopsBelowUntaggedLevel: an entry with tags found in L2 is not
// copied into an L1 that cannot keep tags (a copy no purge would reach);
// an untagged one is.
func TestRefillStopsBelowUntaggedLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1, l2 := store(c, "l1"), store(c, "l2")
	exp := t0.Add(time.Hour)
	_ = l2.SetTagged(ctx, "tagged", entry("t", exp), []string{"x"})
	_ = l2.Set(ctx, "plain", entry("p", exp))
	for _, policy := range []ReadPolicy{ReadSequential, ReadRace, ReadParallel} {
		_ = l1.Clear(ctx)
		tr := NewWith(Options{Read: policy, Now: c.Now}, l1.Basic(), l2)
		closeT(t, tr)
		if got := read(t, tr, "tagged"); got != "t" {
			t.Fatalf("%v: tagged reads %q", policy, got)
		}
		if got := read(t, tr, "plain"); got != "p" {
			t.Fatalf("%v: plain reads %q", policy, got)
		}
		if _, err := l1.Get(ctx, "tagged"); err == nil {
			t.Errorf("%v: an L1 that is not a Tagger got a copy of a tagged entry", policy)
		}
		if _, err := l1.Get(ctx, "plain"); err != nil {
			t.Errorf("%v: the untagged entry was not refilled: %v", policy, err)
		}
		res, _ := tr.GetMany(ctx, []string{"tagged"})
		if res[0].Err != nil {
			t.Errorf("%v: GetMany: %v", policy, res[0].Err)
		}
		if _, err := l1.Get(ctx, "tagged"); err == nil {
			t.Errorf("%v: GetMany copied a tagged entry into an L1 that is not a Tagger", policy)
		}
	}
}

// TestPurgeDuringRefill holds a refill after it has read a tagged entry
// from L2, purges the tag, then lets the refill go on: L1 must not hold
// the purged entry, whichever read path made the refill, and whether the
// purge was this tier's own or came from another instance over the bus.
func TestPurgeDuringRefill(t *testing.T) {
	t.Parallel()
	reads := []struct {
		name string
		opts Options
		get  func(ctx context.Context, tr *Tier) error
	}{
		{"sequential Get", Options{}, func(ctx context.Context, tr *Tier) error { _, err := tr.Get(ctx, "k"); return err }},
		{"sequential GetTagged", Options{}, func(ctx context.Context, tr *Tier) error { _, _, err := tr.GetTagged(ctx, "k"); return err }},
		{"race", Options{Read: ReadRace}, func(ctx context.Context, tr *Tier) error { _, err := tr.Get(ctx, "k"); return err }},
		{"parallel", Options{Read: ReadParallel}, func(ctx context.Context, tr *Tier) error { _, err := tr.Get(ctx, "k"); return err }},
		{"background refill", Options{Refill: RefillBackground}, func(ctx context.Context, tr *Tier) error { _, err := tr.Get(ctx, "k"); return err }},
		{"GetMany", Options{}, func(ctx context.Context, tr *Tier) error {
			res, err := tr.GetMany(ctx, []string{"k"})
			if err != nil {
				return err
			}
			return res[0].Err
		}},
	}
	for _, rd := range reads {
		for _, fromBus := range []bool{false, true} {
			name := rd.name + ", own purge"
			if fromBus {
				name = rd.name + ", purge from the bus"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				c := newClock()
				bus := hitbox.NewLocalBus()
				l2 := &taggedHook{Store: store(c, "l2")}
				_ = l2.Store.SetTagged(ctx, "k", entry("old", t0.Add(time.Hour)), []string{"t"})
				g := newGate()
				l2.afterGetTagged = func(ctx context.Context, _ string) { g.wait(ctx) }
				l1 := store(c, "l1")
				opts := rd.opts
				opts.Now, opts.Bus, opts.ID = c.Now, bus, "a"
				tr := NewWith(opts, l1, l2)
				closeT(t, tr)
				other := NewWith(Options{Now: c.Now, Bus: bus, ID: "b"}, store(c, "l1b"), l2)
				closeT(t, other)

				done := make(chan error, 1)
				go func() { done <- rd.get(ctx, tr) }()
				<-g.reached
				purger := tr
				if fromBus {
					purger = other
				}
				if err := purger.InvalidateTags(ctx, "t"); err != nil {
					t.Error(err)
				}
				g.open()
				if err := <-done; err != nil {
					t.Errorf("the racing read: %v, want the entry it read", err)
				}
				tr.pool.flush()
				if _, err := l1.Get(ctx, "k"); err == nil {
					t.Error("L1 holds the entry purged while it was being copied up")
				}
				if got := read(t, tr, "k"); got != "" {
					t.Errorf("the tier reads %q after the purge, want a miss", got)
				}
				if tr.Stats().RefillsSkipped == 0 {
					t.Error("no refill was skipped")
				}
			})
		}
	}
}

// TestPurgeDuringTaggedWrite holds a tagged write between its levels,
// purges, and lets it go on: no level above the lowest may keep what the
// purge missed.
func TestPurgeDuringTaggedWrite(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		write WritePolicy
		hold  func(l1, l2 *taggedHook, g *gate)
	}{
		{"write-through: the purge runs after L2 is written, before L1 is", WriteThrough,
			func(l1, _ *taggedHook, g *gate) {
				l1.beforeSetTagged = func(ctx context.Context, _ string) { g.wait(ctx) }
			}},
		{"write-parallel: the purge runs after L2 is written, while L1 is being written", WriteParallel,
			func(l1, l2 *taggedHook, g *gate) {
				l1.beforeSetTagged = func(ctx context.Context, _ string) { g.wait(ctx) }
				l2.wrote = make(chan struct{}, 1)
			}},
		{"write-behind: the purge runs after L1 is written, before the background write of L2", WriteBehind,
			func(_, l2 *taggedHook, g *gate) {
				l2.beforeSetTagged = func(ctx context.Context, _ string) { g.wait(ctx) }
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClock()
			l1 := &taggedHook{Store: store(c, "l1")}
			l2 := &taggedHook{Store: store(c, "l2")}
			g := newGate()
			tc.hold(l1, l2, g)
			tr := NewWith(Options{Write: tc.write, Now: c.Now}, l1, l2)
			closeT(t, tr)

			done := make(chan error, 1)
			go func() { done <- tr.SetTagged(ctx, "k", entry("v", t0.Add(time.Hour)), []string{"t"}) }()
			<-g.reached
			if l2.wrote != nil {
				<-l2.wrote
			}
			if err := tr.InvalidateTags(ctx, "t"); err != nil {
				t.Error(err)
			}
			g.open()
			if err := <-done; err != nil {
				t.Error(err)
			}
			tr.pool.flush()
			_, inL1 := tagsIn(t, l1.Store, "k")
			_, inL2 := tagsIn(t, l2.Store, "k")
			if inL1 && !inL2 {
				t.Error("L1 holds the entry L2 lacks: the purge missed it")
			}
			if tc.write == WriteBehind && (inL1 || inL2) {
				t.Errorf("a write-behind made before the purge survives it (L1 %v, L2 %v)", inL1, inL2)
			}
		})
	}
}

// TestPurgeLevelFails: a level whose purge fails makes InvalidateTags fail,
// but the other levels are purged and the bus told all the same, erring on
// the side of a miss.
func TestPurgeLevelFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	bus := hitbox.NewLocalBus()
	var mu sync.Mutex
	var heard []hitbox.Invalidation
	stop := bus.Subscribe(func(inv hitbox.Invalidation) {
		mu.Lock()
		defer mu.Unlock()
		inv.Tags = slices.Clone(inv.Tags)
		heard = append(heard, inv)
	})
	defer stop()
	down := errors.New("l2 is down")
	l1 := store(c, "l1")
	l2 := &taggedHook{Store: store(c, "l2"), invalidateErr: down}
	tr := NewWith(Options{Now: c.Now, Bus: bus, ID: "a", Breaker: Breaker{Failures: -1}}, l1, l2)
	closeT(t, tr)
	if err := tr.SetTagged(ctx, "k", entry("v", t0.Add(time.Hour)), []string{"t"}); err != nil {
		t.Fatal(err)
	}
	err := tr.InvalidateTags(ctx, "t")
	if !errors.Is(err, down) {
		t.Errorf("InvalidateTags = %v, want the level's error", err)
	}
	if _, ok := tagsIn(t, l1, "k"); ok {
		t.Error("L1 was not purged because L2 failed")
	}
	mu.Lock()
	defer mu.Unlock()
	var purge *hitbox.Invalidation
	for i := range heard {
		if len(heard[i].Tags) > 0 {
			purge = &heard[i]
		}
	}
	if purge == nil || purge.Origin != "a" || !slices.Equal(purge.Tags, []string{"t"}) {
		t.Errorf("the bus heard %+v, want a purge of [t] from a", heard)
	}
}

// TestCoherenceTags: two instances, each with its own L1 over one shared
// L2, joined by a LocalBus. A purge on one drops the tagged entries from
// both L1s and from L2; a purge on the other reaches back; entries without
// the tag stay everywhere.
func TestCoherenceTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	a, b, l1a, l1b, l2 := instances(t, c, hitbox.NewLocalBus(), Options{})
	exp := t0.Add(time.Hour)
	for _, k := range []string{"p1", "p2"} {
		if err := a.SetTagged(ctx, k, entry(k, exp), []string{"product:7"}); err != nil {
			t.Fatal(err)
		}
	}
	_ = a.SetTagged(ctx, "other", entry("o", exp), []string{"product:8"})
	_ = a.Set(ctx, "plain", entry("x", exp))
	for _, k := range []string{"p1", "p2", "other", "plain"} {
		if read(t, b, k) == "" {
			t.Fatalf("B misses %s", k)
		}
	}
	// B's L1 copies came from L2 with their tags.
	if tags, ok := tagsIn(t, l1b, "p1"); !ok || !slices.Equal(tags, []string{"product:7"}) {
		t.Fatalf("B's L1 holds p1 with tags %q (%v)", tags, ok)
	}

	if err := a.InvalidateTags(ctx, "product:7"); err != nil {
		t.Fatal(err)
	}
	for _, lv := range []*mapstore.Store{l1a, l1b, l2} {
		for _, k := range []string{"p1", "p2"} {
			if _, ok := tagsIn(t, lv, k); ok {
				t.Errorf("%s kept %s after A purged its tag", lv.Label(), k)
			}
		}
		if lv.Len() != 2 {
			t.Errorf("%s holds %d entries, want the 2 the purge did not concern", lv.Label(), lv.Len())
		}
	}
	if read(t, b, "p1") != "" || read(t, a, "p2") != "" {
		t.Error("a purged entry still reads")
	}
	if got := b.Stats().TagInvalidations; got != 1 {
		t.Errorf("B counted %d tags invalidated from the bus, want 1", got)
	}
	if got := a.Stats().TagInvalidations; got != 0 {
		t.Errorf("A counted its own purge from the bus (%d)", got)
	}

	// And back: B purges, A's L1 drops its copy.
	_ = read(t, a, "other")
	if err := b.InvalidateTags(ctx, "product:8"); err != nil {
		t.Fatal(err)
	}
	if _, ok := tagsIn(t, l1a, "other"); ok {
		t.Error("A's L1 kept an entry B purged")
	}
	if read(t, a, "plain") != "x" || read(t, b, "plain") != "x" {
		t.Error("the untagged entry did not survive the purges")
	}
}

// TestCoherenceTagsBadMessage: a bus message whose tags include ones no
// store can hold still purges the others, and keys and tags in one message
// are both honoured.
func TestCoherenceTagsBadMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	bus := hitbox.NewLocalBus()
	l1 := store(c, "l1")
	tr := NewWith(Options{Now: c.Now, Bus: bus}, l1, store(c, "l2"))
	closeT(t, tr)
	exp := t0.Add(time.Hour)
	_ = tr.SetTagged(ctx, "tagged", entry("t", exp), []string{"good"})
	_ = tr.Set(ctx, "key", entry("k", exp))
	err := bus.Publish(ctx, hitbox.Invalidation{Origin: "elsewhere", Keys: []string{"key"},
		Tags: []string{"", "good", strings.Repeat("x", hitbox.MaxTagLen+1)}})
	if err != nil {
		t.Fatal(err)
	}
	if l1.Len() != 0 {
		t.Errorf("L1 holds %d entries after a message naming both, want none", l1.Len())
	}
	if got := tr.Stats().TagInvalidations; got != 1 {
		t.Errorf("%d tags counted, want the 1 valid one", got)
	}
}

// TestNestedTierTags: a tier whose L2 is another tier is a Tagger all the
// way down; a purge reaches the innermost level.
func TestNestedTierTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	a, b, cc := store(c, "a"), store(c, "b"), store(c, "c")
	inner := NewWith(Options{Label: "inner", Now: c.Now}, b, cc)
	tr := NewWith(Options{Now: c.Now}, a, inner)
	closeT(t, tr)
	if err := tr.SetTagged(ctx, "k", entry("v", t0.Add(time.Hour)), []string{"t"}); err != nil {
		t.Fatal(err)
	}
	_ = a.Delete(ctx, "k")
	_ = b.Delete(ctx, "k")
	if got := read(t, tr, "k"); got != "v" {
		t.Fatalf("reads %q", got)
	}
	for _, s := range []*mapstore.Store{a, b, cc} {
		if tags, ok := tagsIn(t, s, "k"); !ok || !slices.Equal(tags, []string{"t"}) {
			t.Errorf("%s holds k with tags %q (%v) after the refill", s.Label(), tags, ok)
		}
	}
	if err := tr.InvalidateTags(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	if a.Len()+b.Len()+cc.Len() != 0 {
		t.Error("the purge did not reach every level of the nested tiers")
	}
}

// TestUnrelatedPurgeDuringTaggedWork: a purge of other tags that overlaps
// a tagged refill or a tagged write leaves it alone: a purge drops exactly
// the entries that carry its tags.
func TestUnrelatedPurgeDuringTaggedWork(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts Options
		hold func(l1, l2 *taggedHook, g *gate)
		work func(ctx context.Context, tr *Tier) error
	}{
		{"a refill held after its read of L2", Options{},
			func(_, l2 *taggedHook, g *gate) {
				l2.afterGetTagged = func(ctx context.Context, _ string) { g.wait(ctx) }
			},
			func(ctx context.Context, tr *Tier) error { _, err := tr.Get(ctx, "k"); return err }},
		{"a batch refill held after its batch read of L2", Options{},
			func(_, l2 *taggedHook, g *gate) {
				l2.afterGetTagged = func(ctx context.Context, _ string) { g.wait(ctx) }
			},
			func(ctx context.Context, tr *Tier) error {
				res, err := tr.GetMany(ctx, []string{"k"})
				if err != nil {
					return err
				}
				return res[0].Err
			}},
		{"a write-through held before L1", Options{},
			func(l1, _ *taggedHook, g *gate) {
				l1.beforeSetTagged = func(ctx context.Context, _ string) { g.wait(ctx) }
			},
			func(ctx context.Context, tr *Tier) error {
				return tr.SetTagged(ctx, "k", entry("v", t0.Add(time.Hour)), []string{"t"})
			}},
		{"a write-behind held before L2", Options{Write: WriteBehind},
			func(_, l2 *taggedHook, g *gate) {
				l2.beforeSetTagged = func(ctx context.Context, _ string) { g.wait(ctx) }
			},
			func(ctx context.Context, tr *Tier) error {
				return tr.SetTagged(ctx, "k", entry("v", t0.Add(time.Hour)), []string{"t"})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClock()
			l1 := &taggedHook{Store: store(c, "l1")}
			l2 := &taggedHook{Store: store(c, "l2")}
			_ = l2.Store.SetTagged(ctx, "k", entry("v", t0.Add(time.Hour)), []string{"t"})
			g := newGate()
			tc.hold(l1, l2, g)
			opts := tc.opts
			opts.Now = c.Now
			tr := NewWith(opts, l1, l2)
			closeT(t, tr)

			done := make(chan error, 1)
			go func() { done <- tc.work(ctx, tr) }()
			<-g.reached
			if err := tr.InvalidateTags(ctx, "other"); err != nil {
				t.Error(err)
			}
			g.open()
			if err := <-done; err != nil {
				t.Error(err)
			}
			tr.pool.flush()
			for _, s := range []*mapstore.Store{l1.Store, l2.Store} {
				if tags, ok := tagsIn(t, s, "k"); !ok || !slices.Equal(tags, []string{"t"}) {
					t.Errorf("%s holds k with tags %q (%v), want [t]: a purge of another tag dropped it", s.Label(), tags, ok)
				}
			}
			if n := tr.Stats().RefillsSkipped; n != 0 {
				t.Errorf("%d refills skipped for a purge of another tag", n)
			}
		})
	}
}

// TestGuardTags checks the tag part of the guard, one case per way a purge
// can fall relative to a tagged write's stamp and check.
func TestGuardTags(t *testing.T) {
	t.Parallel()
	mine := []string{"a", "b"}
	cases := []struct {
		name string
		run  func(g *guard) bool // takes the stamp, returns tagsValid
		want bool
	}{
		{"no purge since the stamp", func(g *guard) bool {
			st := g.tagStamp()
			return g.tagsValid(st, mine)
		}, true},
		{"a purge of the entry's tag ended since the stamp", func(g *guard) bool {
			st := g.tagStamp()
			g.endPurge(g.beginPurge([]string{"x", "b"}))
			return g.tagsValid(st, mine)
		}, false},
		{"a purge of the entry's tag is running at the check", func(g *guard) bool {
			st := g.tagStamp()
			g.beginPurge([]string{"a"})
			return g.tagsValid(st, mine)
		}, false},
		{"a purge of the entry's tag began before the stamp and still runs", func(g *guard) bool {
			g.beginPurge([]string{"a"})
			st := g.tagStamp()
			return g.tagsValid(st, mine)
		}, false},
		{"a purge of the entry's tag began before the stamp and ended after", func(g *guard) bool {
			p := g.beginPurge([]string{"a"})
			st := g.tagStamp()
			g.endPurge(p)
			return g.tagsValid(st, mine)
		}, false},
		{"a purge of the entry's tag ended before the stamp", func(g *guard) bool {
			g.endPurge(g.beginPurge([]string{"a"}))
			st := g.tagStamp()
			return g.tagsValid(st, mine)
		}, true},
		{"a purge of many tags, one of them the entry's", func(g *guard) bool {
			st := g.tagStamp()
			many := slices.Repeat([]string{"x"}, purgeSetOver)
			g.endPurge(g.beginPurge(append(many, "b")))
			return g.tagsValid(st, mine)
		}, false},
		{"a purge of many tags, none of them the entry's", func(g *guard) bool {
			st := g.tagStamp()
			g.endPurge(g.beginPurge(slices.Repeat([]string{"x"}, 2*purgeSetOver)))
			return g.tagsValid(st, mine)
		}, true},
		{"purges of other tags, ended and running", func(g *guard) bool {
			st := g.tagStamp()
			g.endPurge(g.beginPurge([]string{"x"}))
			g.beginPurge([]string{"y"})
			return g.tagsValid(st, mine)
		}, true},
		{"more purges of other tags than the log keeps: it cannot tell, so a miss", func(g *guard) bool {
			st := g.tagStamp()
			for range maxPurgeLog + 1 {
				g.endPurge(g.beginPurge([]string{"x"}))
			}
			return g.tagsValid(st, mine)
		}, false},
		{"a stamp taken after the log forgot old purges is not concerned by them", func(g *guard) bool {
			for range 2 * maxPurgeLog {
				g.endPurge(g.beginPurge([]string{"a"}))
			}
			st := g.tagStamp()
			return g.tagsValid(st, mine) && len(g.purgeLog) <= maxPurgeLog
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var g guard
			g.init()
			if got := tc.run(&g); got != tc.want {
				t.Errorf("tagsValid = %v, want %v", got, tc.want)
			}
		})
	}
}

// hiddenUntagged has the Tagger methods but keeps no tags, and hides what
// it wraps: the tier can only learn at run time that it cannot keep tags.
type hiddenUntagged struct{ *mapstore.Basic }

func (hiddenUntagged) SetTagged(context.Context, string, hitbox.Entry, []string) error {
	return &hitbox.Error{Op: hitbox.OpSet, Backend: "hidden", Err: hitbox.ErrNotSupported}
}

func (h hiddenUntagged) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	e, err := h.Get(ctx, key)
	return e, nil, err
}

func (hiddenUntagged) InvalidateTags(context.Context, ...string) error {
	return &hitbox.Error{Op: hitbox.OpInvalidateTags, Backend: "hidden", Err: hitbox.ErrNotSupported}
}

// TestNotSupportedIsNoFailure: a level that turns out, at run time, not to
// keep tags refuses tagged copies with hitbox.ErrNotSupported; that is no
// sign that it is down, so its breaker stays closed and plain entries keep
// reaching it.
func TestNotSupportedIsNoFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1, l2 := store(c, "l1"), store(c, "l2")
	tr := NewWith(Options{Now: c.Now, Breaker: Breaker{Failures: 2}}, hiddenUntagged{l1.Basic()}, l2)
	closeT(t, tr)
	exp := t0.Add(time.Hour)
	_ = l2.SetTagged(ctx, "tagged", entry("t", exp), []string{"x"})
	for range 5 {
		if got := read(t, tr, "tagged"); got != "t" {
			t.Fatalf("reads %q", got)
		}
		if res, _ := tr.GetMany(ctx, []string{"tagged"}); res[0].Err != nil {
			t.Fatalf("GetMany: %v", res[0].Err)
		}
		if err := tr.SetTagged(ctx, "w", entry("w", exp), []string{"x"}); !errors.Is(err, hitbox.ErrNotSupported) {
			t.Fatalf("SetTagged through the level = %v, want ErrNotSupported", err)
		}
	}
	st := tr.Stats()
	if st.Levels[0].Open || st.Levels[0].Errors != 0 {
		t.Errorf("L1 counted %d errors, breaker open %v, for refusing tags", st.Levels[0].Errors, st.Levels[0].Open)
	}
	if l1.Len() != 0 {
		t.Error("L1 holds a tagged entry it cannot keep the tags of")
	}
	_ = l2.Set(ctx, "plain", entry("p", exp))
	if read(t, tr, "plain") != "p" || l1.Len() != 1 {
		t.Error("the untagged entry did not reach L1")
	}
}
