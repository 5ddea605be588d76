package hitboxtest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hitbox-go/hitbox"
)

// leaseSuite checks the hitbox.Leaser contract on backends from fresh; it
// is shared by TestBackend and TestLayer.
type leaseSuite struct {
	fresh func(t *testing.T) hitbox.Backend
}

// run runs the lease checks as subtests of t, or skips when the backend
// is not a Leaser, or is one that hands out only the zero Lease (a layer
// over a store without the ability).
func (s leaseSuite) run(t *testing.T) {
	b := s.fresh(t)
	lb, ok := b.(hitbox.Leaser)
	if !ok {
		t.Skip("not a hitbox.Leaser")
	}
	l, err := lb.Lease(context.Background(), "probe", nil)
	if err != nil {
		t.Fatalf("Lease: %v", err)
	}
	if !l.Valid() {
		t.Skip("Lease hands out the zero Lease: the backend below is no Leaser")
	}
	for _, c := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"a lease then SetLeased stores", s.stores},
		{"a lease does not change what Get reads", s.reads},
		{"every change between Lease and SetLeased loses the lease", s.changes},
		{"two leases on one key both store when no change crossed them", s.shared},
		{"changes to other keys and tags leave most leases alone", s.others},
		{"the zero Lease stores unconditionally", s.zero},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

// tagged reports whether b keeps tags, so the checks with tags apply.
func tagged(b hitbox.Backend) bool {
	tg, ok := b.(hitbox.Tagger)
	if !ok {
		return false
	}
	err := tg.SetTagged(context.Background(), "probe:tags", hitbox.Entry{Value: []byte("v")}, []string{"probe"})
	return err == nil
}

func mustLease(t *testing.T, b hitbox.Backend, key string, tags ...string) hitbox.Lease {
	t.Helper()
	l, err := hitbox.TakeLease(context.Background(), b, key, tags)
	if err != nil {
		t.Fatalf("Lease %q %q: %v", key, tags, err)
	}
	if !l.Valid() {
		t.Fatalf("Lease %q %q: the zero Lease", key, tags)
	}
	return l
}

func mustSetLeased(t *testing.T, b hitbox.Backend, key, value string, l hitbox.Lease, tags ...string) {
	t.Helper()
	if err := hitbox.SetLeased(context.Background(), b, key, hitbox.Entry{Value: []byte(value)}, tags, l); err != nil {
		t.Fatalf("SetLeased %q %q with no change since the lease: %v", key, tags, err)
	}
}

// wantValue checks that key reads as value, or as a miss when value is
// empty.
func wantValue(t *testing.T, b hitbox.Backend, key, value, why string) {
	t.Helper()
	e, err := b.Get(context.Background(), key)
	switch {
	case value == "" && !isMiss(err):
		t.Errorf("Get %q = %s, %v; want a miss %s", key, show(e.Value), err, why)
	case value != "" && (err != nil || string(e.Value) != value):
		t.Errorf("Get %q = %s, %v; want %q %s", key, show(e.Value), err, value, why)
	}
}

func (s leaseSuite) stores(t *testing.T) {
	b := s.fresh(t)
	l := mustLease(t, b, "k")
	mustSetLeased(t, b, "k", "loaded", l)
	wantValue(t, b, "k", "loaded", "after SetLeased")
	if !tagged(b) {
		return
	}
	l = mustLease(t, b, "tagged", "t1", "t2")
	mustSetLeased(t, b, "tagged", "loaded", l, "t1", "t2")
	wantTagged(t, b, "tagged", "loaded", []string{"t1", "t2"})
	mustInvalidate(t, b.(hitbox.Tagger), "t2")
	wantPurged(t, b, "tagged")
}

func (s leaseSuite) reads(t *testing.T) {
	b := s.fresh(t)
	ctx := context.Background()
	mustLease(t, b, "absent")
	wantValue(t, b, "absent", "", "while a lease is out on it")
	for _, p := range paths(b) {
		res, err := hitbox.GetMany(ctx, p.b, []string{"absent"})
		if err != nil || len(res) != 1 || !isMiss(res[0].Err) {
			t.Errorf("%s GetMany of a leased absent key = %v, %v; want one miss", p.name, res, err)
		}
	}
	if _, tags, err := hitbox.GetTagged(ctx, b, "absent"); !isMiss(err) {
		t.Errorf("GetTagged of a leased absent key = %q, %v; want a miss", tags, err)
	}
	mustSet(t, b, "present", hitbox.Entry{Value: []byte("old")})
	mustLease(t, b, "present")
	wantValue(t, b, "present", "old", "while a lease is out on it")
	if removed, err := hitbox.Remove(ctx, b, "absent"); err != nil || removed {
		t.Errorf("Remove of a leased absent key = %v, %v; want false: a lease is no entry", removed, err)
	}
}

// change is one change the lease checks cross a load with: run makes it
// on key (whose lease carries tag), and after says what key then reads
// as, given what it read before ("" for a miss).
type change struct {
	name  string
	run   func(ctx context.Context, b hitbox.Backend, key, tag string) error
	after func(before string) string
}

var leaseChanges = []change{
	{"Set", func(ctx context.Context, b hitbox.Backend, key, _ string) error {
		return b.Set(ctx, key, hitbox.Entry{Value: []byte("changed")})
	}, func(string) string { return "changed" }},
	{"SetTagged", func(ctx context.Context, b hitbox.Backend, key, _ string) error {
		return hitbox.SetTagged(ctx, b, key, hitbox.Entry{Value: []byte("changed")}, "other")
	}, func(string) string { return "changed" }},
	{"SetMany", func(ctx context.Context, b hitbox.Backend, key, _ string) error {
		return hitbox.SetMany(ctx, b, []hitbox.Item{{Key: key, Entry: hitbox.Entry{Value: []byte("changed")}}})
	}, func(string) string { return "changed" }},
	{"Delete", func(ctx context.Context, b hitbox.Backend, key, _ string) error {
		return b.Delete(ctx, key)
	}, func(string) string { return "" }},
	{"Remove", func(ctx context.Context, b hitbox.Backend, key, _ string) error {
		_, err := hitbox.Remove(ctx, b, key)
		return err
	}, func(string) string { return "" }},
	{"DeleteMany", func(ctx context.Context, b hitbox.Backend, key, _ string) error {
		return hitbox.DeleteMany(ctx, b, []string{key})
	}, func(string) string { return "" }},
	{"Clear", func(ctx context.Context, b hitbox.Backend, _, _ string) error {
		return hitbox.Clear(ctx, b)
	}, func(string) string { return "" }},
	{"ClearPrefix", func(ctx context.Context, b hitbox.Backend, key, _ string) error {
		return hitbox.ClearPrefix(ctx, b, key[:len(key)-1])
	}, func(string) string { return "" }},
	{"InvalidateTags", func(ctx context.Context, b hitbox.Backend, _, tag string) error {
		return hitbox.InvalidateTags(ctx, b, tag)
	}, func(string) string { return "" }},
}

// changes crosses a lease with each change the backend can make, on an
// absent key and on one holding a value, and checks that SetLeased loses
// and stores nothing: the key reads as the change left it.
func (s leaseSuite) changes(t *testing.T) {
	for _, c := range leaseChanges {
		for _, before := range []string{"", "old"} {
			name := c.name + " over a miss"
			if before != "" {
				name = c.name + " over a value"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s.cross(t, c, before)
			})
		}
	}
}

func (s leaseSuite) cross(t *testing.T, c change, before string) {
	b := s.fresh(t)
	ctx := context.Background()
	var tags []string
	if tagged(b) {
		tags = []string{"lease-tag"} // never used before the lease when before is ""
	} else if c.name == "InvalidateTags" || c.name == "SetTagged" {
		t.Skip("the backend keeps no tags")
	}
	if before != "" {
		if err := hitbox.SetTagged(ctx, b, "key1", hitbox.Entry{Value: []byte(before)}, tags...); err != nil {
			t.Fatalf("SetTagged: %v", err)
		}
	}
	l := mustLease(t, b, "key1", tags...)
	err := c.run(ctx, b, "key1", "lease-tag")
	if errors.Is(err, hitbox.ErrNotSupported) {
		t.Skipf("%s refused: %v", c.name, err)
	}
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	err = hitbox.SetLeased(ctx, b, "key1", hitbox.Entry{Value: []byte("loaded")}, tags, l)
	if !errors.Is(err, hitbox.ErrLeaseLost) {
		t.Errorf("SetLeased after a %s crossed the lease = %v, want an error wrapping ErrLeaseLost", c.name, err)
	}
	wantValue(t, b, "key1", c.after(before), "as the "+c.name+" left it: the refused SetLeased stores nothing")
}

func (s leaseSuite) shared(t *testing.T) {
	b := s.fresh(t)
	l1 := mustLease(t, b, "k")
	l2 := mustLease(t, b, "k")
	mustSetLeased(t, b, "k", "first", l1)
	wantValue(t, b, "k", "first", "after the first SetLeased")
	mustSetLeased(t, b, "k", "second", l2)
	wantValue(t, b, "k", "second", "after the second SetLeased")
	// A later lease, on the value the loads stored, holds too.
	l3 := mustLease(t, b, "k")
	mustSetLeased(t, b, "k", "third", l3)
	wantValue(t, b, "k", "third", "after a lease taken over a leased store")
	mustSet(t, b, "k", hitbox.Entry{Value: []byte("changed")})
	err := hitbox.SetLeased(context.Background(), b, "k", hitbox.Entry{Value: []byte("late")}, nil, l1)
	if !errors.Is(err, hitbox.ErrLeaseLost) {
		t.Errorf("SetLeased on an old lease after a Set = %v, want an error wrapping ErrLeaseLost", err)
	}
	wantValue(t, b, "k", "changed", "after a Set that ended the leases")
}

// others crosses leases with changes to other keys and a purge of another
// tag. A store may spread keys over stripes and end the leases of a whole
// stripe (a false conflict: a refused store, never a stale value), so of
// eight leases, each crossed by a Set and a Delete of keys of its own, at
// least half must hold; a store that ends every lease on any change holds
// none.
func (s leaseSuite) others(t *testing.T) {
	b := s.fresh(t)
	ctx := context.Background()
	var tags []string
	if tagged(b) {
		tags = []string{"mine"}
	}
	const n = 8
	held := 0
	for i := range n {
		key := fmt.Sprintf("a%d", i)
		l := mustLease(t, b, key, tags...)
		mustSet(t, b, fmt.Sprintf("b%d", i), hitbox.Entry{Value: []byte("other")})
		if err := b.Delete(ctx, key+"x"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if tags != nil {
			mustInvalidate(t, b.(hitbox.Tagger), "not-mine")
		}
		err := hitbox.SetLeased(ctx, b, key, hitbox.Entry{Value: []byte("loaded")}, tags, l)
		switch {
		case err == nil:
			held++
			wantValue(t, b, key, "loaded", "after a SetLeased that no change to its key crossed")
		case !errors.Is(err, hitbox.ErrLeaseLost):
			t.Fatalf("SetLeased %q: %v", key, err)
		}
	}
	if held < n/2 {
		t.Errorf("%d of %d leases held when only other keys and another tag changed, want at least %d", held, n, n/2)
	}
}

func (s leaseSuite) zero(t *testing.T) {
	b := s.fresh(t)
	mustSet(t, b, "k", hitbox.Entry{Value: []byte("old")})
	mustSetLeased(t, b, "k", "new", hitbox.Lease{})
	wantValue(t, b, "k", "new", "after SetLeased with the zero Lease")
}

// leases runs the hitbox.Leaser checks when the backend is one.
func (s *backendSuite) leases(t *testing.T) {
	leaseSuite{fresh: func(t *testing.T) hitbox.Backend { b, _ := s.fresh(t); return b }}.run(t)
}

// leases runs the hitbox.Leaser checks through the layer, over a store
// that is one.
func (s *layerSuite) leases(t *testing.T) {
	leaseSuite{fresh: func(t *testing.T) hitbox.Backend { return s.fresh(t).top }}.run(t)
}
