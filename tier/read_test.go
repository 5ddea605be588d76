package tier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

var errBoom = errors.New("boom")

// levelState is what a level holds, or does, in a read test.
type levelState int

const (
	holds   levelState = iota // holds the key
	misses                    // holds nothing
	fails                     // fails every read
	corrupt                   // answers ErrCorrupt
)

func TestReadMatrix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		l1, l2 levelState
		want   string // the value read; "" for an error
		level  int    // the level that answered
		miss   bool   // the error is a plain miss
	}{
		{"an L1 hit is the answer", holds, holds, "one", 0, false},
		{"an L1 hit is the answer even when L2 fails", holds, fails, "one", 0, false},
		{"an L1 miss falls through to an L2 hit", misses, holds, "two", 1, false},
		{"a failing L1 is a miss: L2 answers", fails, holds, "two", 1, false},
		{"a corrupt L1 entry is a miss: L2 answers", corrupt, holds, "two", 1, false},
		{"misses everywhere are a miss", misses, misses, "", 0, true},
		{"a failing L1 and a missing L2 are a miss", fails, misses, "", 0, true},
		{"a missing L1 and a failing L2 are a miss", misses, fails, "", 0, true},
		{"failures everywhere are an error wrapping both", fails, fails, "", 0, false},
	}
	for _, policy := range []ReadPolicy{Sequential, Race, Parallel} {
		for _, tc := range cases {
			t.Run(policy.String()+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				c := newClock()
				l1, l2 := faulty.Wrap(store(c, "l1")), faulty.Wrap(store(c, "l2"))
				for i, lv := range []struct {
					f     *faulty.Backend
					state levelState
					value string
				}{{l1, tc.l1, "one"}, {l2, tc.l2, "two"}} {
					switch lv.state {
					case holds:
						if err := lv.f.Set(ctx, "k", entry(lv.value, t0.Add(time.Hour))); err != nil {
							t.Fatal(i, err)
						}
					case fails:
						lv.f.FailGet(errBoom)
					case corrupt:
						lv.f.FailGet(hitbox.ErrCorrupt)
					}
				}
				tr := NewWith(Options{Read: policy, Now: c.Now}, l1, l2)
				closeT(t, tr)

				tctx, src := hitbox.TrackAnswer(ctx)
				e, err := tr.Get(tctx, "k")
				if tc.want == "" {
					switch {
					case err == nil:
						t.Fatalf("Get = %q, want an error", e.Value)
					case tc.miss && err != hitbox.ErrMiss:
						t.Fatalf("Get error = %v, want a plain miss", err)
					case !tc.miss && (errors.Is(err, hitbox.ErrMiss) || !errors.Is(err, errBoom)):
						t.Fatalf("Get error = %v, want the levels' errors and no miss", err)
					}
					if src.Found() || src.Path() != "" {
						t.Errorf("source = %q level %d on a failed read", src.Path(), src.Level())
					}
					return
				}
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if policy == Race && tc.l1 == holds && tc.l2 == holds {
					return // either level may win a race
				}
				if string(e.Value) != tc.want {
					t.Fatalf("Get = %q, want %q", e.Value, tc.want)
				}
				if src.Level() != tc.level || src.Path() != fmt.Sprintf("tier.l%d", tc.level+1) {
					t.Errorf("source = %q level %d, want level %d", src.Path(), src.Level(), tc.level)
				}
				st := tr.Stats()
				if st.Levels[tc.level].Hits != 1 {
					t.Errorf("level %d hits = %d, want 1", tc.level, st.Levels[tc.level].Hits)
				}
				if tc.level == 1 {
					// The hit was copied up: L1 holds it now (its reads may still fail).
					l1.Heal()
					got, err := l1.Get(ctx, "k")
					if err != nil || string(got.Value) != tc.want {
						t.Errorf("L1 after refill = %q, %v; want %q", got.Value, err, tc.want)
					}
				}
				if policy == Sequential && tc.level == 0 && l2.Calls(hitbox.OpGet) != 0 {
					t.Error("a sequential L1 hit asked L2")
				}
			})
		}
	}
}

func TestRaceLosers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name   string
		losers Losers
	}{
		{"a cancelled loser sees its context end as soon as L2 wins", Cancel},
		{"a finishing loser runs on after L2 wins, counted as background work", Finish},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l1, l2 := faulty.Wrap(store(c, "l1")), store(c, "l2")
			_ = l2.Set(ctx, "k", entry("two", t0.Add(time.Hour)))
			release := l1.Block()
			defer release()
			tr := NewWith(Options{Read: Race, Losers: tc.losers, Refill: RefillOff, Now: c.Now}, l1, l2)

			e, err := tr.Get(ctx, "k")
			if err != nil || string(e.Value) != "two" {
				t.Fatalf("Get = %q, %v; want L2's value", e.Value, err)
			}
			<-l1.Waiting() // the loser reached L1
			seen := l1.Seen()
			if tc.losers == Cancel {
				<-seen.Done()
				release()
				if err := tr.Close(); err != nil {
					t.Fatal(err)
				}
				if got := tr.Stats().Offload.Queued; got != 0 {
					t.Errorf("queued = %d, want no background work", got)
				}
				return
			}
			if seen.Err() != nil {
				t.Fatalf("the loser's context ended: %v", seen.Err())
			}
			if _, ok := seen.Deadline(); !ok {
				t.Error("the loser's context has no task timeout")
			}
			if st := tr.Stats().Offload; st.Queued != 1 || st.Pending != 1 {
				t.Errorf("offload = %+v, want the loser adopted", st)
			}
			release()
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			if st := tr.Stats().Offload; st.Done != 1 || st.Pending != 0 {
				t.Errorf("offload after Close = %+v, want the loser done", st)
			}
		})
	}
}

func TestRaceLoserDroppedWhenQueueFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1, l2 := faulty.Wrap(store(c, "l1")), store(c, "l2")
	_ = l2.Set(ctx, "k", entry("two", t0.Add(time.Hour)))
	release := l1.Block()
	defer release()
	tr := NewWith(Options{Read: Race, Losers: Finish, Queue: 1, Refill: RefillOff, Now: c.Now}, l1, l2)
	closeT(t, tr)

	for range 2 {
		if _, err := tr.Get(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		<-l1.Waiting()
	}
	// The second loser did not fit: it was cancelled.
	st := tr.Stats().Offload
	if st.Queued != 1 || st.Dropped != 1 {
		t.Errorf("offload = %+v, want one loser adopted and one dropped", st)
	}
	release()
}

func TestParallelFreshestWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	soon, late := t0.Add(time.Minute), t0.Add(time.Hour)
	cases := []struct {
		name   string
		l1, l2 hitbox.Entry
		want   string
	}{
		{"the later deadline wins from below", entry("one", soon), entry("two", late), "two"},
		{"the later deadline wins from above", entry("one", late), entry("two", soon), "one"},
		{"on a tie the upper level wins", entry("one", late), entry("two", late), "one"},
		{"no deadline is later than any", entry("one", late), hitbox.Entry{Value: []byte("two")}, "two"},
		{"fresh beats stale whatever the deadlines",
			hitbox.Entry{Value: []byte("one"), Stale: t0.Add(-time.Second), Expire: late.Add(time.Hour)},
			entry("two", soon), "two"},
		{"between stale entries the later Expire wins",
			hitbox.Entry{Value: []byte("one"), Stale: t0.Add(-time.Minute), Expire: soon},
			hitbox.Entry{Value: []byte("two"), Stale: t0.Add(-time.Second), Expire: late}, "two"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l1, l2 := store(c, "l1"), store(c, "l2")
			_ = l1.Set(ctx, "k", tc.l1)
			_ = l2.Set(ctx, "k", tc.l2)
			tr := NewWith(Options{Read: Parallel, RefillStale: true, Now: c.Now}, l1, l2)
			closeT(t, tr)
			e, err := tr.Get(ctx, "k")
			if err != nil || string(e.Value) != tc.want {
				t.Fatalf("Get = %q, %v; want %q", e.Value, err, tc.want)
			}
		})
	}
}

func TestExpiredLowerEntryNeverBeatsLiveUpper(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1, l2 := store(c, "l1"), store(c, "l2")
	_ = l1.Set(ctx, "k", entry("live", t0.Add(time.Hour)))
	_ = l2.Set(ctx, "k", entry("old", t0.Add(time.Minute)))
	c.Advance(2 * time.Minute)
	tr := NewWith(Options{Read: Parallel, Now: c.Now}, l1, l2)
	closeT(t, tr)
	e, err := tr.Get(ctx, "k")
	if err != nil || string(e.Value) != "live" {
		t.Fatalf("Get = %q, %v; want the live L1 entry", e.Value, err)
	}
}

func TestNestedTiers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, policy := range []ReadPolicy{Sequential, Race, Parallel} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			c := newClock()
			mem, disk, redis := store(c, "memory"), store(c, "disk"), store(c, "redis")
			inner := NewWith(Options{Label: "inner", Read: policy, Now: c.Now}, disk, redis)
			outer := NewWith(Options{Label: "outer", Read: policy, Now: c.Now}, mem, inner)
			closeT(t, outer) // closes inner too

			_ = redis.Set(ctx, "k", entry("v", t0.Add(time.Hour)))
			steps := []struct {
				path  string
				level int
			}{
				{"outer.inner.redis", 1}, // refills disk and memory on the way up
				{"outer.memory", 0},
			}
			for _, s := range steps {
				tctx, src := hitbox.TrackAnswer(ctx)
				e, err := outer.Get(tctx, "k")
				if err != nil || string(e.Value) != "v" {
					t.Fatalf("Get = %q, %v", e.Value, err)
				}
				if policy == Race && s.level == 0 {
					continue // the outer race may go either way once both levels hold it
				}
				if src.Path() != s.path || src.Level() != s.level {
					t.Errorf("source = %q level %d, want %q level %d", src.Path(), src.Level(), s.path, s.level)
				}
			}
			if _, err := disk.Get(ctx, "k"); err != nil {
				t.Errorf("the inner tier did not refill its L1: %v", err)
			}
			_ = mem.Delete(ctx, "k")
			tctx, src := hitbox.TrackAnswer(ctx)
			_, err := outer.Get(tctx, "k")
			// A race inside the inner tier may go either way.
			if err != nil || src.Path() != "outer.inner.disk" && (policy != Race || src.Path() != "outer.inner.redis") {
				t.Errorf("after an outer L1 eviction: %v, path %q; want outer.inner.disk", err, src.Path())
			}

			// A delete through the outer tier reaches every store.
			if err := outer.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			for _, s := range []*mapstore.Store{mem, disk, redis} {
				if s.Len() != 0 {
					t.Errorf("%s still holds the key after Delete", s.Label())
				}
			}
		})
	}
}

func TestSourceThroughLayers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	inner := NewWith(Options{Label: "inner", Now: c.Now}, store(c, "a"), store(c, "b"))
	// A layer that turns every hit of the inner tier into a miss.
	spoil := &spoiler{Backend: inner}
	outer := NewWith(Options{Label: "outer", Now: c.Now}, spoil, store(c, "c"))
	closeT(t, outer)
	_ = inner.Set(ctx, "k", entry("v", t0.Add(time.Hour)))
	_ = outer.Level(1).Set(ctx, "k", entry("w", t0.Add(time.Hour)))
	tctx, src := hitbox.TrackAnswer(ctx)
	if e, err := outer.Get(tctx, "k"); err != nil || string(e.Value) != "w" {
		t.Fatalf("Get = %q, %v", e.Value, err)
	}
	if src.Path() != "outer.c" {
		t.Errorf("path = %q: the spoilt inner hit leaked into it", src.Path())
	}
	src.Reset()
	if src.Found() || src.Path() != "" {
		t.Error("Reset left a path behind")
	}
}

// spoiler turns every Get into ErrCorrupt, as a decoding layer does with
// bytes it cannot read.
type spoiler struct{ hitbox.Backend }

func (s *spoiler) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if _, err := s.Backend.Get(ctx, key); err != nil {
		return hitbox.Entry{}, err
	}
	return hitbox.Entry{}, hitbox.ErrCorrupt
}

func (s *spoiler) Close() error { return hitbox.Close(s.Backend) }

func TestGetMany(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1, l2, l3 := store(c, "l1"), faulty.Wrap(store(c, "l2")), store(c, "l3")
	exp := t0.Add(time.Hour)
	_ = l1.Set(ctx, "a", entry("a1", exp))
	_ = l2.Set(ctx, "b", entry("b2", exp))
	_ = l3.Set(ctx, "c", entry("c3", exp))
	tr := NewWith(Options{Now: c.Now}, l1, l2, l3)
	closeT(t, tr)

	res, err := tr.GetMany(ctx, []string{"a", "b", "c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		if r.Err != nil {
			got = append(got, r.Err.Error())
		} else {
			got = append(got, string(r.Entry.Value))
		}
	}
	if want := []string{"a1", "b2", "c3", hitbox.ErrMiss.Error()}; !slices.Equal(got, want) {
		t.Errorf("GetMany = %q, want %q", got, want)
	}
	// b was refilled into L1, c into L2 and L1.
	for _, k := range []string{"b", "c"} {
		if _, err := l1.Get(ctx, k); err != nil {
			t.Errorf("L1 lacks %s after the batch: %v", k, err)
		}
	}
	if _, err := l2.Get(ctx, "c"); err != nil {
		t.Errorf("L2 lacks c after the batch: %v", err)
	}
	if n := l2.Calls(hitbox.OpGetMany); n != 1 {
		t.Errorf("L2 got %d batch reads, want 1", n)
	}

	// A failing level turns into per-key misses when another level answered,
	// and into errors when none did.
	l2.FailGet(errBoom)
	_ = l3.Delete(ctx, "c")
	_ = l1.Delete(ctx, "c")
	res, err = tr.GetMany(ctx, []string{"c"})
	if err != nil || res[0].Err != hitbox.ErrMiss {
		t.Errorf("GetMany with L2 failing = %v, %v; want a miss", res, err)
	}
	two := NewWith(Options{Now: c.Now}, faulty.Wrap(store(c, "x")), l2)
	closeT(t, two)
	two.Level(0).(*faulty.Backend).FailGet(errBoom)
	res, err = two.GetMany(ctx, []string{"c"})
	if err != nil || !errors.Is(res[0].Err, errBoom) || errors.Is(res[0].Err, hitbox.ErrMiss) {
		t.Errorf("GetMany with every level failing = %v, %v; want the error", res, err)
	}
}
