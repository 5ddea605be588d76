package tier

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// instances builds two tiers, as two processes would have, each with its own
// L1 over one shared L2, joined by bus.
func instances(t *testing.T, c *clock, bus hitbox.Bus, opts Options) (a, b *Tier, l1a, l1b, l2 *mapstore.Store) {
	t.Helper()
	l2 = store(c, "l2")
	l1a, l1b = store(c, "l1a"), store(c, "l1b")
	opts.Bus, opts.Now = bus, c.Now
	oa, ob := opts, opts
	oa.ID, ob.ID = "a", "b"
	a = NewWith(oa, l1a, unclosed{l2})
	b = NewWith(ob, l1b, unclosed{l2})
	closeT(t, a)
	closeT(t, b)
	return a, b, l1a, l1b, l2
}

// unclosed shares a store between tiers: closing a tier leaves it open.
type unclosed struct{ *mapstore.Store }

func (unclosed) Close() error { return nil }

func read(t *testing.T, tr *Tier, key string) string {
	t.Helper()
	e, err := tr.Get(context.Background(), key)
	if errors.Is(err, hitbox.ErrMiss) {
		return ""
	}
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return string(e.Value)
}

func TestCoherenceLocalBus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	bus := hitbox.NewLocalBus()
	a, b, l1a, l1b, _ := instances(t, c, bus, Options{})
	exp := t0.Add(time.Hour)

	if err := a.Set(ctx, "k", entry("v0", exp)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, "k"); got != "v0" {
		t.Fatalf("B reads %q, want v0", got)
	}
	// B now holds v0 in its L1. A writes v1: B must read v1, never its copy.
	if err := a.Set(ctx, "k", entry("v1", exp)); err != nil {
		t.Fatal(err)
	}
	if l1b.Len() != 0 {
		t.Error("B's L1 kept its copy after A's write")
	}
	if got := read(t, b, "k"); got != "v1" {
		t.Errorf("B reads %q after A's write, want v1", got)
	}
	// A's own write did not evict A's own fresh L1 copy.
	if e, err := l1a.Get(ctx, "k"); err != nil || string(e.Value) != "v1" {
		t.Errorf("A's L1 = %q, %v; its own write evicted it", e.Value, err)
	}
	if a.Stats().Invalidations != 0 {
		t.Error("A counted its own message as an invalidation")
	}

	// A delete reaches B's L1 too.
	if err := a.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, "k"); got != "" {
		t.Errorf("B reads %q after A's delete, want a miss", got)
	}

	// A gap clears every L1.
	_ = a.Set(ctx, "x", entry("x", exp))
	_ = read(t, b, "x")
	bus.Resume()
	if l1a.Len() != 0 || l1b.Len() != 0 {
		t.Errorf("after a gap the L1s hold %d and %d keys, want none", l1a.Len(), l1b.Len())
	}
	if a.Stats().Gaps != 1 || b.Stats().Gaps != 1 {
		t.Error("gaps not counted")
	}

	// A's Clear empties L2 and tells B to clear its L1.
	_ = a.Set(ctx, "y", entry("y", exp))
	_ = read(t, b, "y")
	if err := a.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if l1b.Len() != 0 || read(t, b, "y") != "" {
		t.Error("B kept a key A cleared")
	}
}

func TestCoherenceBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	a, b, _, _, _ := instances(t, c, hitbox.NewLocalBus(), Options{})
	exp := t0.Add(time.Hour)
	_ = a.SetMany(ctx, []hitbox.Item{{Key: "p", Entry: entry("0", exp)}, {Key: "q", Entry: entry("0", exp)}})
	if _, err := b.GetMany(ctx, []string{"p", "q"}); err != nil {
		t.Fatal(err)
	}
	_ = a.SetMany(ctx, []hitbox.Item{{Key: "p", Entry: entry("1", exp)}, {Key: "q", Entry: entry("1", exp)}})
	res, _ := b.GetMany(ctx, []string{"p", "q"})
	for _, r := range res {
		if string(r.Entry.Value) != "1" {
			t.Errorf("B reads %q after A's batch write, want 1", r.Entry.Value)
		}
	}
	_ = a.DeleteMany(ctx, []string{"p", "q"})
	res, _ = b.GetMany(ctx, []string{"p", "q"})
	for _, r := range res {
		if r.Err != hitbox.ErrMiss {
			t.Errorf("B reads %q after A's batch delete, want a miss", r.Entry.Value)
		}
	}
}

// trackingBus behaves like Redis server-assisted tracking over a shared
// store: every write to the store, by anyone, is announced with the key
// alone, no origin, and nothing is published. Announcements wait until
// deliver, as if on the network.
type trackingBus struct {
	hitbox.Backend
	mu      sync.Mutex
	subs    []func(hitbox.Invalidation)
	pending []string
}

func (b *trackingBus) Subscribe(fn func(hitbox.Invalidation)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs = append(b.subs, fn)
	i := len(b.subs) - 1
	return func() {
		b.mu.Lock()
		b.subs[i] = nil
		b.mu.Unlock()
	}
}

func (b *trackingBus) announce(key string) {
	b.mu.Lock()
	b.pending = append(b.pending, key)
	b.mu.Unlock()
}

// deliver sends every announcement made so far.
func (b *trackingBus) deliver() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, key := range b.pending {
		for _, fn := range b.subs {
			if fn != nil {
				fn(hitbox.Invalidation{Keys: []string{key}})
			}
		}
	}
	b.pending = nil
}

func (b *trackingBus) Set(ctx context.Context, key string, e hitbox.Entry) error {
	err := b.Backend.Set(ctx, key, e)
	b.announce(key)
	return err
}

func (b *trackingBus) Delete(ctx context.Context, key string) error {
	err := b.Backend.Delete(ctx, key)
	b.announce(key)
	return err
}

func TestCoherenceTracking(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	exp := t0.Add(time.Hour)
	cases := []struct {
		name    string
		window  time.Duration
		keepOwn bool
	}{
		{"without OwnWrites, an own write's echo evicts the own L1 copy", 0, false},
		{"with OwnWrites, the echo of an own write is ignored", time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			shared := &trackingBus{Backend: store(c, "l2")}
			l1a, l1b := store(c, "l1a"), store(c, "l1b")
			a := NewWith(Options{Bus: shared, OwnWrites: tc.window, Now: c.Now}, l1a, shared)
			b := NewWith(Options{Bus: shared, OwnWrites: tc.window, Now: c.Now}, l1b, shared)
			closeT(t, a)
			closeT(t, b)

			_ = a.Set(ctx, "k", entry("v0", exp))
			shared.deliver()
			_ = read(t, b, "k")
			_ = a.Set(ctx, "k", entry("v1", exp))
			shared.deliver()
			if got := read(t, b, "k"); got != "v1" {
				t.Errorf("B reads %q, want v1", got)
			}
			if got := l1a.Len() == 1; got != tc.keepOwn {
				t.Errorf("A's L1 kept its own write: %v, want %v", got, tc.keepOwn)
			}
			if a.Stats().Invalidations == 0 && !tc.keepOwn {
				t.Error("A's invalidations not counted")
			}

			// A write by someone else (any client of the store) always evicts.
			_ = read(t, a, "k")
			_ = shared.Set(ctx, "k", entry("v2", exp))
			shared.deliver()
			if got := read(t, a, "k"); got != "v2" {
				t.Errorf("A reads %q after a foreign write, want v2", got)
			}
		})
	}
}

func TestOwnWritesExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	shared := &trackingBus{Backend: store(c, "l2")}
	l1 := store(c, "l1")
	// A tier that writes to the shared store without the store announcing
	// it (as if the echo were lost): its expectation must lapse.
	quiet := store(c, "quiet")
	a := NewWith(Options{Bus: shared, OwnWrites: time.Second, Now: c.Now}, l1, quiet)
	closeT(t, a)
	_ = a.Set(ctx, "k", entry("mine", t0.Add(time.Hour)))
	c.Advance(2 * time.Second)
	shared.announce("k") // a foreign write, after the window
	shared.deliver()
	if l1.Len() != 0 {
		t.Error("an expired own-write expectation swallowed a foreign invalidation")
	}
}

// TestInvalidationDuringRefill stops B's read between L2 and its L1 refill
// while A writes: B must not put the old value into its L1.
func TestInvalidationDuringRefill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	bus := hitbox.NewLocalBus()
	l2 := store(c, "l2")
	exp := t0.Add(time.Hour)
	_ = l2.Set(ctx, "k", entry("old", exp))
	g := newGate()
	slow := &hooked{Backend: l2.Basic(), afterGet: func(ctx context.Context, _ string) { g.wait(ctx) }}
	a := NewWith(Options{Bus: bus, Now: c.Now}, store(c, "l1a"), l2.Basic())
	l1b := store(c, "l1b")
	b := NewWith(Options{Bus: bus, Now: c.Now}, l1b, slow)
	closeT(t, a)
	closeT(t, b)

	done := make(chan string)
	go func() {
		e, _ := b.Get(ctx, "k")
		done <- string(e.Value)
	}()
	<-g.reached
	slow.afterGet = nil
	if err := a.Set(ctx, "k", entry("new", exp)); err != nil {
		t.Fatal(err)
	}
	g.open()
	if got := <-done; got != "old" {
		t.Fatalf("B's racing read = %q, want the old value it read", got)
	}
	if l1b.Len() != 0 {
		t.Error("B refilled its L1 with the value A had just replaced")
	}
	if got := read(t, b, "k"); got != "new" {
		t.Errorf("B reads %q, want new", got)
	}
}

func TestCloseUnsubscribes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	bus := hitbox.NewLocalBus()
	a, b, _, _, _ := instances(t, c, bus, Options{})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Set(ctx, "k", entry("v", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if b.Stats().Invalidations != 0 {
		t.Error("a closed tier still receives invalidations")
	}
}

// TestOwnWritesCoalescedEcho: Redis may send one invalidation for two quick
// writes of a key. That one echo must use up both own writes, or the
// leftover would swallow the next foreign write and leave A's L1 stale.
func TestOwnWritesCoalescedEcho(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	shared := &trackingBus{Backend: store(c, "l2")}
	l1 := store(c, "l1")
	a := NewWith(Options{Bus: shared, OwnWrites: time.Minute, Now: c.Now}, l1, shared)
	closeT(t, a)

	exp := t0.Add(time.Hour)
	_ = a.Set(ctx, "k", entry("v1", exp))
	_ = a.Set(ctx, "k", entry("v2", exp))
	shared.pending = []string{"k"} // the server coalesced both echoes
	shared.deliver()

	_ = shared.Backend.Set(ctx, "k", entry("foreign", exp))
	shared.announce("k")
	shared.deliver()
	if got := read(t, a, "k"); got != "foreign" {
		t.Fatalf("A reads %q after a foreign write that followed a coalesced echo, want foreign", got)
	}
}
