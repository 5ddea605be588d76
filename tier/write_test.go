package tier

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
)

func TestWriteThroughOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	var mu sync.Mutex
	var order []string
	rec := func(label string) func(context.Context, string) {
		return func(context.Context, string) {
			mu.Lock()
			order = append(order, label)
			mu.Unlock()
		}
	}
	l1 := &hooked{Backend: store(c, "l1")}
	l2 := &hooked{Backend: store(c, "l2")}
	l3 := &hooked{Backend: store(c, "l3")}
	l1.beforeSet, l2.beforeSet, l3.beforeSet = rec("l1"), rec("l2"), rec("l3")
	l1.beforeDelete, l2.beforeDelete, l3.beforeDelete = rec("l1"), rec("l2"), rec("l3")
	tr := NewWith(Options{Now: c.Now}, l1, l2, l3)
	closeT(t, tr)

	if err := tr.Set(ctx, "k", entry("v", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := tr.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"l3", "l2", "l1", "l3", "l2", "l1"}; !slices.Equal(order, want) {
		t.Errorf("order = %v, want the lowest level first for Set and Delete: %v", order, want)
	}
}

func TestWriteThroughFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name     string
		fail     int  // the level whose Set fails
		tooLarge bool // it refuses the value instead
		wantErr  bool
		l1, l2   string // what the levels hold after the Set; "" for nothing
	}{
		{"a failing L2 leaves L1 unwritten and drops its old copy", 1, false, true, "", "old"},
		{"a failing L1 still leaves L2 written", 0, false, true, "old", "new"},
		{"an L1 refusing a large value is skipped and loses its old copy", 0, true, false, "", "new"},
		{"an L2 refusing a large value is skipped", 1, true, false, "new", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l := []*faulty.Backend{faulty.Wrap(store(c, "l1")), faulty.Wrap(store(c, "l2"))}
			for _, f := range l {
				_ = f.Set(ctx, "k", entry("old", t0.Add(time.Hour)))
			}
			if tc.tooLarge {
				l[tc.fail].FailSet(&hitbox.SizeError{Size: 3, Limit: 2})
			} else {
				l[tc.fail].FailSet(errBoom)
			}
			tr := NewWith(Options{Now: c.Now}, l[0], l[1])
			closeT(t, tr)

			err := tr.Set(ctx, "k", entry("new", t0.Add(time.Hour)))
			if tc.wantErr != (err != nil) || err != nil && !errors.Is(err, errBoom) {
				t.Fatalf("Set = %v, want error %v", err, tc.wantErr)
			}
			for i, want := range []string{tc.l1, tc.l2} {
				e, err := l[i].Get(ctx, "k")
				if got := string(e.Value); got != want || (want == "") != (err != nil) {
					t.Errorf("L%d holds %q (%v), want %q", i+1, got, err, want)
				}
			}
		})
	}

	t.Run("a value every level refuses is an error", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		l1, l2 := faulty.Wrap(store(c, "l1")), faulty.Wrap(store(c, "l2"))
		l1.FailSet(&hitbox.SizeError{Size: 3, Limit: 2})
		l2.FailSet(&hitbox.SizeError{Size: 3, Limit: 2})
		tr := NewWith(Options{Now: c.Now}, l1, l2)
		closeT(t, tr)
		if err := tr.Set(ctx, "k", entry("new", t0.Add(time.Hour))); !errors.Is(err, hitbox.ErrTooLarge) {
			t.Errorf("Set = %v, want ErrTooLarge", err)
		}
	})
}

func TestWriteParallel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name     string
		required []int
		wantErr  bool
		l1       string
	}{
		{"by default every level is required: L2 failing fails the write and drops L1", nil, true, ""},
		{"when only L1 is required, L2 failing is tolerated", []int{0}, false, "new"},
		{"when L2 is required, its failure fails the write", []int{1}, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l1, l2 := store(c, "l1"), faulty.Wrap(store(c, "l2"))
			l2.FailSet(errBoom)
			tr := NewWith(Options{Write: WriteParallel, Required: tc.required, Now: c.Now}, l1, l2)
			closeT(t, tr)
			err := tr.Set(ctx, "k", entry("new", t0.Add(time.Hour)))
			if tc.wantErr != (err != nil) {
				t.Fatalf("Set = %v, want error %v", err, tc.wantErr)
			}
			e, _ := l1.Get(ctx, "k")
			if string(e.Value) != tc.l1 {
				t.Errorf("L1 holds %q, want %q", e.Value, tc.l1)
			}
			if got := tr.Stats().Levels[1].Errors; got != 1 {
				t.Errorf("L2 errors = %d, want 1", got)
			}
		})
	}
}

func TestWriteBehind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("L1 at once, L2 in the background, the caller's bytes not kept", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		l1, l2 := store(c, "l1"), store(c, "l2")
		tr := NewWith(Options{Write: WriteBehind, Now: c.Now}, l1, l2)
		closeT(t, tr)
		v := []byte("new")
		if err := tr.Set(ctx, "k", hitbox.Entry{Value: v, Expire: t0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		copy(v, "xxx")
		if _, err := l1.Get(ctx, "k"); err != nil {
			t.Fatalf("L1 after Set: %v", err)
		}
		tr.pool.flush()
		if e, err := l2.Get(ctx, "k"); err != nil || string(e.Value) != "new" {
			t.Errorf("L2 after the background write = %q, %v", e.Value, err)
		}
	})

	t.Run("a Delete cancels a queued write and overtakes a running one", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		g := newGate()
		l2 := &hooked{Backend: store(c, "l2")}
		l2.beforeSet = func(ctx context.Context, key string) {
			if key == "running" {
				g.wait(ctx)
			}
		}
		l1 := store(c, "l1")
		tr := NewWith(Options{Write: WriteBehind, Workers: 1, Now: c.Now}, l1, l2)
		closeT(t, tr)
		exp := t0.Add(time.Hour)
		_ = tr.Set(ctx, "running", entry("v", exp))
		<-g.reached // the only worker is busy writing "running" to L2
		_ = tr.Set(ctx, "queued", entry("v", exp))
		for _, k := range []string{"queued", "running"} {
			if err := tr.Delete(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		g.open()
		tr.pool.flush()
		if n := l2.Backend.(interface{ Len() int }).Len(); n != 0 {
			t.Errorf("L2 holds %d keys after the deletes, want none", n)
		}
		if n := l1.Len(); n != 0 {
			t.Errorf("L1 holds %d keys after the deletes, want none", n)
		}
	})

	t.Run("a read that copied the old value up meanwhile does not keep it", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		g := newGate()
		l1 := store(c, "l1")
		l2 := &hooked{Backend: store(c, "l2")}
		l2.beforeSet = func(ctx context.Context, key string) {
			if key == "busy" {
				g.wait(ctx)
			}
		}
		exp := t0.Add(time.Hour)
		_ = l2.Backend.Set(ctx, "k", entry("old", exp))
		tr := NewWith(Options{Write: WriteBehind, Workers: 1, Now: c.Now}, l1, l2)
		closeT(t, tr)
		_ = tr.Set(ctx, "busy", entry("v", exp))
		<-g.reached
		_ = tr.Set(ctx, "k", entry("new", exp))
		_ = l1.Delete(ctx, "k") // evicted before the background write
		if e, _ := tr.Get(ctx, "k"); string(e.Value) != "old" {
			t.Fatalf("Get = %q, want the old value still in L2", e.Value)
		}
		g.open()
		tr.pool.flush()
		for _, lv := range []hitbox.Backend{l1, l2} {
			if e, err := lv.Get(ctx, "k"); err != nil || string(e.Value) != "new" {
				t.Errorf("%s = %q, %v; want the new value", lv.Label(), e.Value, err)
			}
		}
	})

	t.Run("a newer Set replaces a queued write", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		g := newGate()
		l2 := &hooked{Backend: store(c, "l2")}
		l2.beforeSet = func(ctx context.Context, key string) {
			if key == "busy" {
				g.wait(ctx)
			}
		}
		tr := NewWith(Options{Write: WriteBehind, Workers: 1, Now: c.Now}, store(c, "l1"), l2)
		closeT(t, tr)
		exp := t0.Add(time.Hour)
		_ = tr.Set(ctx, "busy", entry("v", exp))
		<-g.reached
		_ = tr.Set(ctx, "k", entry("one", exp))
		_ = tr.Set(ctx, "k", entry("two", exp))
		g.open()
		tr.pool.flush()
		if e, err := l2.Get(ctx, "k"); err != nil || string(e.Value) != "two" {
			t.Errorf("L2 = %q, %v; want the newer value", e.Value, err)
		}
		if st := tr.Stats().Offload; st.Merged != 1 || st.Done != 2 {
			t.Errorf("offload = %+v, want one merged task and two run", st)
		}
	})
}

func TestDeleteJoinsErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	errOne, errTwo := errors.New("one"), errors.New("two")
	l1, l2 := faulty.Wrap(store(c, "l1")), faulty.Wrap(store(c, "l2"))
	l1.FailDelete(errOne)
	l2.FailDelete(errTwo)
	tr := NewWith(Options{Now: c.Now}, l1, l2)
	closeT(t, tr)
	err := tr.Delete(ctx, "k")
	if !errors.Is(err, errOne) || !errors.Is(err, errTwo) {
		t.Errorf("Delete = %v, want both levels' errors", err)
	}
	// L1 was still asked after L2 failed.
	if l1.Calls(hitbox.OpDelete) != 1 {
		t.Error("Delete stopped at the failing lower level")
	}
}

// TestDeleteDuringRefill stops a read at the two points where a delete can
// slip in between reading L2 and refilling L1, and checks the deleted value
// never comes back.
func TestDeleteDuringRefill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name string
		stop func(l1, l2 *hooked, g *gate)
	}{
		{"the delete lands after the read has L2's value", func(_, l2 *hooked, g *gate) {
			l2.afterGet = func(ctx context.Context, _ string) { g.wait(ctx) }
		}},
		{"the delete lands while the refill writes L1", func(l1, _ *hooked, g *gate) {
			l1.beforeSet = func(ctx context.Context, _ string) { g.wait(ctx) }
		}},
	}
	for _, tc := range cases {
		for _, mode := range []RefillMode{RefillSync, RefillBackground} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				c := newClock()
				l1 := &hooked{Backend: store(c, "l1")}
				l2 := &hooked{Backend: store(c, "l2")}
				_ = l2.Backend.Set(ctx, "k", entry("old", t0.Add(time.Hour)))
				g := newGate()
				tc.stop(l1, l2, g)
				tr := NewWith(Options{Refill: mode, Now: c.Now}, l1, l2)
				closeT(t, tr)

				done := make(chan struct{})
				go func() {
					defer close(done)
					_, _ = tr.Get(ctx, "k")
				}()
				<-g.reached
				l1.beforeSet, l2.afterGet = nil, nil
				if err := tr.Delete(ctx, "k"); err != nil {
					t.Error(err)
				}
				g.open()
				<-done
				tr.pool.flush()
				if e, err := tr.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
					t.Errorf("Get after Delete = %q, %v: the deleted value came back", e.Value, err)
				}
				if tr.Stats().RefillsSkipped == 0 {
					t.Error("no refill was skipped")
				}
			})
		}
	}
}

// TestConcurrentWritesKeepLevelsConsistent hammers one key with reads, sets
// and deletes; afterwards L1 never holds a value L2 lacks.
func TestConcurrentWritesKeepLevelsConsistent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, w := range []WritePolicy{WriteThrough, WriteParallel, WriteBehind} {
		t.Run(w.String(), func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l1, l2 := store(c, "l1"), store(c, "l2")
			tr := NewWith(Options{Write: w, Now: c.Now}, l1, l2)
			closeT(t, tr)
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 300 {
						switch (g + i) % 3 {
						case 0:
							_, _ = tr.Get(ctx, "k")
						case 1:
							_ = tr.Set(ctx, "k", entry(string(rune('a'+g)), t0.Add(time.Hour)))
						default:
							_ = tr.Delete(ctx, "k")
							_, _ = tr.Get(ctx, "k")
						}
					}
				}()
			}
			wg.Wait()
			tr.pool.flush()
			e1, err1 := l1.Get(ctx, "k")
			e2, err2 := l2.Get(ctx, "k")
			if err1 == nil && (err2 != nil || string(e1.Value) != string(e2.Value)) {
				t.Errorf("L1 holds %q, L2 %q (%v): L1 kept a value L2 lacks", e1.Value, e2.Value, err2)
			}
		})
	}
}

func TestRefillLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hour := t0.Add(time.Hour)
	cases := []struct {
		name    string
		opts    Options
		in      hitbox.Entry
		refill  bool
		expire  time.Time
		staleAt time.Time
	}{
		{"the remaining lifetime is kept as is", Options{}, entry("v", hour), true, hour, time.Time{}},
		{"MaxTTL caps the L1 copy", Options{MaxTTL: []time.Duration{time.Minute}}, entry("v", hour), true, t0.Add(time.Minute), time.Time{}},
		{"MaxTTL never lengthens a shorter lifetime", Options{MaxTTL: []time.Duration{time.Hour}},
			entry("v", t0.Add(time.Second)), true, t0.Add(time.Second), time.Time{}},
		{"an entry without deadline gets MaxTTL", Options{MaxTTL: []time.Duration{time.Minute}},
			hitbox.Entry{Value: []byte("v")}, true, t0.Add(time.Minute), time.Time{}},
		{"the stale deadline is cut to the capped Expire", Options{MaxTTL: []time.Duration{time.Minute}},
			hitbox.Entry{Value: []byte("v"), Stale: t0.Add(30 * time.Minute), Expire: hour}, true, t0.Add(time.Minute), t0.Add(time.Minute)},
		{"a stale hit is served, not refilled", Options{},
			hitbox.Entry{Value: []byte("v"), Stale: t0.Add(-time.Second), Expire: hour}, false, time.Time{}, time.Time{}},
		{"a stale hit is refilled when asked", Options{RefillStale: true},
			hitbox.Entry{Value: []byte("v"), Stale: t0.Add(-time.Second), Expire: hour}, true, hour, t0.Add(-time.Second)},
		{"nothing is refilled when refill is off", Options{Refill: RefillOff}, entry("v", hour), false, time.Time{}, time.Time{}},
		{"a background refill keeps the lifetime too", Options{Refill: RefillBackground, MaxTTL: []time.Duration{time.Minute}},
			entry("v", hour), true, t0.Add(time.Minute), time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l1, l2 := store(c, "l1"), store(c, "l2")
			_ = l2.Set(ctx, "k", tc.in)
			tc.opts.Now = c.Now
			tr := NewWith(tc.opts, l1, l2)
			closeT(t, tr)
			if e, err := tr.Get(ctx, "k"); err != nil || string(e.Value) != "v" {
				t.Fatalf("Get = %q, %v", e.Value, err)
			}
			tr.pool.flush()
			e, err := l1.Get(ctx, "k")
			if !tc.refill {
				if err == nil {
					t.Errorf("L1 was refilled: %+v", e)
				}
				return
			}
			if err != nil {
				t.Fatalf("L1 was not refilled: %v", err)
			}
			if !e.Expire.Equal(tc.expire) || !e.Stale.Equal(tc.staleAt) {
				t.Errorf("L1 copy expires %v (stale %v), want %v (stale %v)", e.Expire, e.Stale, tc.expire, tc.staleAt)
			}
		})
	}
}

func TestMaxTTLCapsSet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1, l2 := store(c, "l1"), store(c, "l2")
	tr := NewWith(Options{MaxTTL: []time.Duration{time.Minute}, Now: c.Now}, l1, l2)
	closeT(t, tr)
	_ = tr.Set(ctx, "k", entry("v", t0.Add(time.Hour)))
	e1, _ := l1.Get(ctx, "k")
	e2, _ := l2.Get(ctx, "k")
	if !e1.Expire.Equal(t0.Add(time.Minute)) || !e2.Expire.Equal(t0.Add(time.Hour)) {
		t.Errorf("L1 expires %v, L2 %v; want L1 capped to a minute and L2 untouched", e1.Expire, e2.Expire)
	}
}

func TestBatchWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, w := range []WritePolicy{WriteThrough, WriteParallel, WriteBehind} {
		t.Run(w.String(), func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l1, l2 := faulty.Wrap(store(c, "l1")), faulty.Wrap(store(c, "l2"))
			tr := NewWith(Options{Write: w, Now: c.Now}, l1, l2)
			closeT(t, tr)
			exp := t0.Add(time.Hour)
			items := []hitbox.Item{{Key: "a", Entry: entry("1", exp)}, {Key: "b", Entry: entry("2", exp)}}
			if err := tr.SetMany(ctx, items); err != nil {
				t.Fatal(err)
			}
			tr.pool.flush()
			for _, f := range []*faulty.Backend{l1, l2} {
				res, _ := f.GetMany(ctx, []string{"a", "b"})
				if res[0].Err != nil || res[1].Err != nil {
					t.Errorf("%s lacks a key after SetMany: %v", f.Label(), res)
				}
			}
			if w != WriteBehind && l2.Calls(hitbox.OpSetMany) != 1 {
				t.Errorf("L2 got %d batch writes, want 1", l2.Calls(hitbox.OpSetMany))
			}
			if err := tr.DeleteMany(ctx, []string{"a", "b"}); err != nil {
				t.Fatal(err)
			}
			for _, f := range []*faulty.Backend{l1, l2} {
				if n := f.Unwrap().(interface{ Len() int }).Len(); n != 0 {
					t.Errorf("%s holds %d keys after DeleteMany", f.Label(), n)
				}
			}
			if err := tr.SetMany(ctx, []hitbox.Item{{Key: "", Entry: entry("1", exp)}}); !errors.Is(err, hitbox.ErrInvalidKey) {
				t.Errorf("SetMany with an empty key = %v", err)
			}
		})
	}
}
