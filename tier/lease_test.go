package tier

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// leasing is a test hitbox.Leaser over a mapstore: every change raises a
// generation and records it against the keys and tags it touched (a clear
// against everything); a lease is the generation it was taken at, and
// SetLeased refuses when a change recorded since covers the key or one of
// the lease's tags. Check and store happen under one lock.
type leasing struct {
	*mapstore.Store
	mu      sync.Mutex
	gen     uint64
	keys    map[string]uint64
	tags    map[string]uint64
	cleared uint64
	leases  int // Lease calls
	stores  int // SetLeased calls

	failLease error  // Lease fails with it when set
	failGet   error  // Get fails with it when set
	beforeSet func() // called before Set takes the lock, when set
}

func newLeasing(s *mapstore.Store) *leasing {
	return &leasing{Store: s, keys: map[string]uint64{}, tags: map[string]uint64{}}
}

// changed records a change of keys, under l.mu.
func (l *leasing) changed(keys ...string) {
	l.gen++
	for _, k := range keys {
		l.keys[k] = l.gen
	}
}

func (l *leasing) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leases++
	if l.failLease != nil {
		return hitbox.Lease{}, &hitbox.Error{Op: hitbox.OpLease, Backend: l.Label(), Err: l.failLease}
	}
	return hitbox.Lease{Token: "g" + strconv.FormatUint(l.gen, 10)}, nil
}

func (l *leasing) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	e, _, err := l.GetTagged(ctx, key)
	return e, err
}

func (l *leasing) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	l.mu.Lock()
	err := l.failGet
	l.mu.Unlock()
	if err != nil {
		return hitbox.Entry{}, nil, &hitbox.Error{Op: hitbox.OpGet, Backend: l.Label(), Err: err}
	}
	return l.Store.GetTagged(ctx, key)
}

func (l *leasing) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, ls hitbox.Lease) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stores++
	if ls.Valid() {
		at, err := strconv.ParseUint(ls.Token[1:], 10, 64)
		if err != nil {
			return err
		}
		crossed := l.keys[key] > at || l.cleared > at
		for _, tg := range tags {
			crossed = crossed || l.tags[tg] > at
		}
		if crossed {
			return &hitbox.Error{Op: hitbox.OpSet, Backend: l.Label(), Err: hitbox.ErrLeaseLost}
		}
	}
	l.changed(key)
	return hitbox.SetTagged(ctx, l.Store, key, e, tags...)
}

func (l *leasing) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if l.beforeSet != nil {
		l.beforeSet()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changed(key)
	return l.Store.Set(ctx, key, e)
}

func (l *leasing) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changed(key)
	return l.Store.SetTagged(ctx, key, e, tags)
}

func (l *leasing) SetMany(ctx context.Context, items []hitbox.Item) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, it := range items {
		l.changed(it.Key)
	}
	return l.Store.SetMany(ctx, items)
}

func (l *leasing) Delete(ctx context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changed(key)
	return l.Store.Delete(ctx, key)
}

func (l *leasing) Remove(ctx context.Context, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changed(key)
	return l.Store.Remove(ctx, key)
}

func (l *leasing) DeleteMany(ctx context.Context, keys []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changed(keys...)
	return l.Store.DeleteMany(ctx, keys)
}

func (l *leasing) Clear(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	l.cleared = l.gen
	return l.Store.Clear(ctx)
}

func (l *leasing) ClearPrefix(ctx context.Context, prefix string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	l.cleared = l.gen // coarse: every lease lapses
	return l.Store.ClearPrefix(ctx, prefix)
}

func (l *leasing) InvalidateTags(ctx context.Context, tags ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	for _, tg := range tags {
		l.tags[tg] = l.gen
	}
	return l.Store.InvalidateTags(ctx, tags...)
}

func (l *leasing) Close() error { return nil } // shared between tiers

// TestLease checks the tier's lease over a leasing shared level and a
// plain L1: a load's store succeeds when nothing crossed it, and is refused
// with hitbox.ErrLeaseLost, storing nothing in any level, when a change to
// the key or a purge of one of its tags crossed it, whoever made it.
func TestLease(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		tags    []string
		cross   func(ctx context.Context, self *Tier, other *Tier) error // between Lease and SetLeased; nil for none
		lost    bool
		wantL2  string // what the shared level holds afterwards ("" none)
		wantGet string // what self reads afterwards
	}{
		{"nothing crosses the load: stored in both levels", nil, nil, false, "loaded", "loaded"},
		{"another instance's Set crosses it", nil, func(ctx context.Context, _, o *Tier) error {
			return o.Set(ctx, "k", entry("other", t0.Add(time.Hour)))
		}, true, "other", "other"},
		{"another instance's Delete crosses it", nil, func(ctx context.Context, _, o *Tier) error {
			return o.Delete(ctx, "k")
		}, true, "", ""},
		{"this tier's own Delete crosses it", nil, func(ctx context.Context, s, _ *Tier) error {
			return s.Delete(ctx, "k")
		}, true, "", ""},
		{"a purge of one of its tags crosses it", []string{"t1", "t2"}, func(ctx context.Context, _, o *Tier) error {
			return o.InvalidateTags(ctx, "t2")
		}, true, "", ""},
		{"a purge of other tags does not", []string{"t1"}, func(ctx context.Context, _, o *Tier) error {
			return o.InvalidateTags(ctx, "t9")
		}, false, "loaded", "loaded"},
		{"a Clear crosses it", nil, func(ctx context.Context, _, o *Tier) error {
			return o.Clear(ctx)
		}, true, "", ""},
		{"a change to another key does not", nil, func(ctx context.Context, _, o *Tier) error {
			return o.Set(ctx, "j", entry("j", t0.Add(time.Hour)))
		}, false, "loaded", "loaded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClock()
			bus := hitbox.NewLocalBus()
			l2 := newLeasing(store(c, "l2"))
			l1 := store(c, "l1")
			self := NewWith(Options{ID: "self", Bus: bus, Now: c.Now}, l1, l2)
			other := NewWith(Options{ID: "other", Bus: bus, Now: c.Now}, store(c, "l1o"), l2)
			closeT(t, self)
			closeT(t, other)

			l, err := hitbox.TakeLease(ctx, self, "k", tc.tags)
			if err != nil || !l.Valid() {
				t.Fatalf("Lease = %+v, %v; want a lease", l, err)
			}
			if l2.leases != 1 {
				t.Errorf("%d Lease calls reached the shared level, want 1", l2.leases)
			}
			if tc.cross != nil {
				if err := tc.cross(ctx, self, other); err != nil {
					t.Fatal(err)
				}
			}
			err = hitbox.SetLeased(ctx, self, "k", entry("loaded", t0.Add(time.Hour)), tc.tags, l)
			if got := errors.Is(err, hitbox.ErrLeaseLost); got != tc.lost {
				t.Fatalf("SetLeased = %v; lost %v, want %v", err, got, tc.lost)
			}
			if tc.lost {
				if e, err := l1.Get(ctx, "k"); err == nil && string(e.Value) == "loaded" {
					t.Error("a refused store wrote L1")
				}
			}
			var inL2 string
			if e, err := l2.Get(ctx, "k"); err == nil {
				inL2 = string(e.Value)
			}
			if inL2 != tc.wantL2 {
				t.Errorf("shared level holds %q, want %q", inL2, tc.wantL2)
			}
			if got := read(t, self, "k"); got != tc.wantGet {
				t.Errorf("self reads %q, want %q", got, tc.wantGet)
			}
		})
	}
}

// TestLeaseAfterFailedRead checks that a level whose last call failed is
// not asked for a lease (a load that waited out its read on a frozen server
// does not wait again) and that the store is then refused rather than made
// unprotected; once a call succeeds on the level, leases reach it again.
func TestLeaseAfterFailedRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l2 := newLeasing(store(c, "l2"))
	tr := NewWith(Options{Now: c.Now}, store(c, "l1"), l2)
	closeT(t, tr)

	l2.failGet = errors.New("i/o timeout")
	if _, err := tr.Get(ctx, "k"); err == nil {
		t.Fatal("Get over a failing shared level succeeded")
	}
	l, err := hitbox.TakeLease(ctx, tr, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if l2.leases != 0 {
		t.Errorf("%d Lease calls reached a level whose read just failed, want 0", l2.leases)
	}
	err = hitbox.SetLeased(ctx, tr, "k", entry("loaded", t0.Add(time.Hour)), nil, l)
	if !errors.Is(err, hitbox.ErrLeaseLost) {
		t.Errorf("SetLeased without the shared level's lease = %v, want ErrLeaseLost", err)
	}
	if _, err := l2.Store.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
		t.Errorf("the shared level took the store (%v), want it refused", err)
	}

	l2.mu.Lock()
	l2.failGet = nil
	l2.mu.Unlock()
	if _, err := tr.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get = %v, want a miss", err)
	}
	l, err = hitbox.TakeLease(ctx, tr, "k", nil)
	if err != nil || l2.leases != 1 {
		t.Fatalf("after a read succeeded: Lease = %v, %d calls reached the level; want 1", err, l2.leases)
	}
	if err := hitbox.SetLeased(ctx, tr, "k", entry("loaded", t0.Add(time.Hour)), nil, l); err != nil {
		t.Errorf("SetLeased = %v", err)
	}

	// A lease taken while the level answered, then a failed call (a batch
	// load's first store on a frozen server): the next store is refused
	// without being sent.
	l, err = hitbox.TakeLease(ctx, tr, "j", nil)
	if err != nil || !l.Valid() {
		t.Fatalf("Lease = %+v, %v", l, err)
	}
	l2.mu.Lock()
	l2.failGet = errors.New("i/o timeout")
	l2.mu.Unlock()
	if _, err := tr.Get(ctx, "x"); err == nil {
		t.Fatal("Get over a failing shared level succeeded")
	}
	sent := l2.stores
	err = hitbox.SetLeased(ctx, tr, "j", entry("loaded", t0.Add(time.Hour)), nil, l)
	if !errors.Is(err, hitbox.ErrUnavailable) || errors.Is(err, hitbox.ErrLeaseLost) {
		t.Errorf("SetLeased after the level's last call failed = %v, want ErrUnavailable", err)
	}
	if l2.stores != sent {
		t.Errorf("%d stores reached a level whose last call failed, want 0", l2.stores-sent)
	}
}

// TestLeaseLocalChange checks that a change to the key that reaches the
// local level while a leased store writes it (a bus invalidation) is not
// undone: the local copy is taken back, the shared level keeps the entry.
func TestLeaseLocalChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	bus := hitbox.NewLocalBus()
	l2 := newLeasing(store(c, "l2"))
	l1s := store(c, "l1")
	l1 := &hooked{Backend: l1s}
	tr := NewWith(Options{ID: "self", Bus: bus, Now: c.Now}, l1, l2)
	closeT(t, tr)
	l, err := tr.Lease(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	l1.beforeSet = func(ctx context.Context, key string) {
		l1.beforeSet = nil
		_ = bus.Publish(ctx, hitbox.Invalidation{Origin: "other", Keys: []string{key}})
	}
	if err := tr.SetLeased(ctx, "k", entry("loaded", t0.Add(time.Hour)), nil, l); err != nil {
		t.Fatalf("SetLeased = %v, want nil: the shared level stored it", err)
	}
	if _, err := l1s.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
		t.Errorf("L1 kept the copy an invalidation crossed: %v", err)
	}
	if e, err := l2.Get(ctx, "k"); err != nil || string(e.Value) != "loaded" {
		t.Errorf("shared level holds %q, %v; want loaded", e.Value, err)
	}
}

// unleased is a level without the Leaser ability.
type unleased struct{ hitbox.Backend }

// TestLeaseAbilities checks the token's parts: a tier over levels without
// the ability hands out the zero Lease (SetLeased is then SetTagged); a
// shared level that failed to lease makes the store refused; a malformed
// token is refused; a tier nested in a tier passes its token through.
func TestLeaseAbilities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	exp := t0.Add(time.Hour)

	plain := New(unleased{store(c, "l1")}, unleased{store(c, "l2")})
	closeT(t, plain)
	if l, err := plain.Lease(ctx, "k", nil); err != nil || l.Valid() {
		t.Errorf("Lease over levels without the ability = %+v, %v; want the zero Lease", l, err)
	}
	if err := plain.SetLeased(ctx, "k", entry("v", exp), nil, hitbox.Lease{}); err != nil {
		t.Errorf("SetLeased with the zero Lease = %v", err)
	}

	l2 := newLeasing(store(c, "l2"))
	failing := NewWith(Options{Breaker: Breaker{Failures: -1}}, store(c, "l1"), l2)
	closeT(t, failing)
	l2.failLease = errBoom
	l, err := failing.Lease(ctx, "k", nil)
	if err != nil || !l.Valid() {
		t.Fatalf("Lease with L2 failing = %+v, %v; want a lease that marks L2", l, err)
	}
	l2.failLease = nil
	if err := failing.SetLeased(ctx, "k", entry("v", exp), nil, l); !errors.Is(err, hitbox.ErrLeaseLost) {
		t.Errorf("SetLeased after L2 could not lease = %v, want ErrLeaseLost", err)
	}
	if err := failing.SetLeased(ctx, "k", entry("v", exp), nil, hitbox.Lease{Token: "3:ab"}); !errors.Is(err, hitbox.ErrLeaseLost) {
		t.Errorf("SetLeased with a malformed token = %v, want ErrLeaseLost", err)
	}

	shared := newLeasing(store(c, "l3"))
	inner := New(store(c, "l2"), shared)
	outer := NewWith(Options{Local: 1}, store(c, "l1"), inner)
	closeT(t, outer)
	l, err = outer.Lease(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := shared.Set(ctx, "k", entry("other", exp)); err != nil {
		t.Fatal(err)
	}
	if err := outer.SetLeased(ctx, "k", entry("v", exp), nil, l); !errors.Is(err, hitbox.ErrLeaseLost) {
		t.Errorf("nested: SetLeased after a change below = %v, want ErrLeaseLost", err)
	}
	l, _ = outer.Lease(ctx, "k", nil)
	if err := outer.SetLeased(ctx, "k", entry("v", exp), nil, l); err != nil {
		t.Errorf("nested: SetLeased with nothing crossing = %v", err)
	}
}

// TestLeaseWriteBehind checks that a leased store is not done behind: the
// shared level has it when SetLeased returns; and that a Set still on its
// way down counts as a change that crossed the lease.
func TestLeaseWriteBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l2s := store(c, "l2")
	l2 := newLeasing(l2s)
	tr := NewWith(Options{Write: WriteBehind, Now: c.Now}, store(c, "l1"), l2)
	closeT(t, tr)
	exp := t0.Add(time.Hour)
	l, err := tr.Lease(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.SetLeased(ctx, "k", entry("loaded", exp), nil, l); err != nil {
		t.Fatal(err)
	}
	if e, err := l2s.Get(ctx, "k"); err != nil || string(e.Value) != "loaded" {
		t.Fatalf("shared level holds %q, %v when SetLeased returns; want loaded", e.Value, err)
	}

	l, err = tr.Lease(ctx, "j", nil)
	if err != nil {
		t.Fatal(err)
	}
	g := newGate() // holds the Set's background write
	defer g.open()
	l2.beforeSet = func() { g.wait(ctx) }
	if err := tr.Set(ctx, "j", entry("set", exp)); err != nil {
		t.Fatal(err)
	}
	<-g.reached
	if err := tr.SetLeased(ctx, "j", entry("loaded", exp), nil, l); !errors.Is(err, hitbox.ErrLeaseLost) {
		t.Errorf("SetLeased while a Set is on its way down = %v, want ErrLeaseLost", err)
	}
	g.open()
	tr.pool.flush()
	if got := read(t, tr, "j"); got != "set" {
		t.Errorf("reads %q, want the Set's value", got)
	}
}
