package tier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/layer"
)

// TestBusGap plays a bus outage with LocalBus.Interrupt and Resume, under
// each read policy: from Down on, a tier reads through to the shared
// level, so a change made there unseen by the bus is what it returns, not
// its L1 copy; it answers from L1 when the shared level fails, unless the
// caller has a source (hitbox.WithSource): then it fails; it drops
// its L1 copy when the shared level misses; it copies nothing up; and
// after Resume it clears L1 and uses it again.
func TestBusGap(t *testing.T) {
	t.Parallel()
	for _, policy := range []ReadPolicy{ReadSequential, ReadRace, ReadParallel} {
		t.Run(policy.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClock()
			bus := hitbox.NewLocalBus()
			l2s := store(c, "l2")
			l2 := faulty.Wrap(unclosed{l2s})
			l1b := store(c, "l1b")
			a := NewWith(Options{ID: "a", Bus: bus, Now: c.Now, Read: policy, Breaker: Breaker{Failures: -1}},
				store(c, "l1a"), l2)
			b := NewWith(Options{ID: "b", Bus: bus, Now: c.Now, Read: policy, Breaker: Breaker{Failures: -1}},
				l1b, l2)
			closeT(t, a)
			closeT(t, b)
			exp := t0.Add(time.Hour)
			for _, k := range []string{"k", "gone"} {
				if err := a.Set(ctx, k, entry("v1", exp)); err != nil {
					t.Fatal(err)
				}
				if got := read(t, b, k); got != "v1" {
					t.Fatalf("b reads %s = %q before the gap, want v1", k, got)
				}
			}

			bus.Interrupt()
			// Another instance changes the shared level; the bus, down,
			// carries nothing.
			if err := l2s.Set(ctx, "k", entry("v2", exp)); err != nil {
				t.Fatal(err)
			}
			actx, ans := hitbox.TrackAnswer(ctx)
			if e, err := b.Get(actx, "k"); err != nil || string(e.Value) != "v2" {
				t.Errorf("during the gap b reads k = %q, %v; want v2 from the shared level", e.Value, err)
			}
			if ans.Unproven() {
				t.Error("a read the shared level answered in the gap is marked unproven")
			}
			res, err := b.GetMany(ctx, []string{"k"})
			if err != nil || res[0].Err != nil || string(res[0].Entry.Value) != "v2" {
				t.Errorf("during the gap GetMany(k) = %+v, %v; want v2", res, err)
			}
			if e, _ := l1b.Get(ctx, "k"); string(e.Value) != "v1" {
				t.Errorf("b's L1 holds %q, want v1: nothing is copied up in a gap", e.Value)
			}

			l2.FailGet(errors.New("shared level down"))
			actx, ans = hitbox.TrackAnswer(ctx)
			if e, err := b.Get(actx, "k"); err != nil || string(e.Value) != "v1" {
				t.Errorf("shared level failing in the gap: b reads k = %q, %v; want its L1 copy v1", e.Value, err)
			}
			if !ans.Unproven() || ans.Level() != 0 {
				t.Errorf("the gap's stale-if-error copy: Answer level %d, unproven %v; want 0, true", ans.Level(), ans.Unproven())
			}
			// A caller with a source loads rather than take the copy.
			sctx := hitbox.WithSource(ctx)
			if e, err := b.Get(sctx, "k"); err == nil || errors.Is(err, hitbox.ErrMiss) {
				t.Errorf("shared level failing in the gap, WithSource: b.Get(k) = %q, %v; want the shared level's error", e.Value, err)
			}
			if res, err := b.GetMany(sctx, []string{"k"}); err != nil || res[0].Err == nil || errors.Is(res[0].Err, hitbox.ErrMiss) {
				t.Errorf("shared level failing in the gap, WithSource: b.GetMany(k) = %+v, %v; want the shared level's error for k", res, err)
			}
			l2.Heal()

			if err := l2s.Delete(ctx, "gone"); err != nil {
				t.Fatal(err)
			}
			if got := read(t, b, "gone"); got != "" {
				t.Errorf("shared miss in the gap: b reads gone = %q, want a miss", got)
			}
			if _, err := l1b.Get(ctx, "gone"); !errors.Is(err, hitbox.ErrMiss) {
				t.Errorf("b's L1 kept the copy the shared level lost: %v", err)
			}

			bus.Resume()
			if _, err := l1b.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
				t.Errorf("Resume did not clear b's L1: %v", err)
			}
			if got := read(t, b, "k"); got != "v2" {
				t.Fatalf("after Resume b reads k = %q, want v2", got)
			}
			if policy == ReadSequential {
				// Trusted again: an unpublished change below goes unseen,
				// since L1 answers.
				if err := l2s.Set(ctx, "k", entry("v3", exp)); err != nil {
					t.Fatal(err)
				}
				if got := read(t, b, "k"); got != "v2" {
					t.Errorf("after Resume b reads k = %q, want its L1 copy v2", got)
				}
			}
		})
	}
}

// TestBusGapNoShared checks that a tier whose levels are all local ignores
// Down: it has nowhere to read through to.
func TestBusGapNoShared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	bus := hitbox.NewLocalBus()
	tr := NewWith(Options{Bus: bus, Now: c.Now, Local: 2}, store(c, "l1"), store(c, "l2"))
	closeT(t, tr)
	if err := tr.Set(ctx, "k", entry("v", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	bus.Interrupt()
	if got := read(t, tr, "k"); got != "v" {
		t.Errorf("Get = %q, want v", got)
	}
}

// TestHeedsSource checks which pipelines say their reads heed
// hitbox.WithSource: the typed cache skips the context's allocation for
// the others.
func TestHeedsSource(t *testing.T) {
	t.Parallel()
	c := newClock()
	bus := hitbox.NewLocalBus()
	withBus := NewWith(Options{Bus: bus, Now: c.Now}, store(c, "l1"), store(c, "l2"))
	noBus := NewWith(Options{Now: c.Now}, store(c, "l1"), store(c, "l2"))
	localOnly := NewWith(Options{Bus: bus, Now: c.Now, Local: 2}, store(c, "l1"), store(c, "l2"))
	nested := NewWith(Options{Now: c.Now}, store(c, "l0"), withBus)
	for _, tr := range []*Tier{withBus, noBus, localOnly, nested} {
		closeT(t, tr)
	}
	cases := []struct {
		name string
		b    hitbox.Backend
		want bool
	}{
		{"a store", store(c, "s"), false},
		{"a tier with a bus and a shared level", withBus, true},
		{"a tier without a bus", noBus, false},
		{"a tier whose levels are all local", localOnly, false},
		{"a tier over a tier with a bus", nested, true},
		{"a layer over a tier with a bus", layer.Prefix("p:")(withBus), true},
		{"a layer over a store", layer.Prefix("p:")(store(c, "s")), false},
		{"an unknown backend", opaque{store(c, "s")}, true},
	}
	for _, tc := range cases {
		if got := hitbox.ReadsHeedSource(tc.b); got != tc.want {
			t.Errorf("%s: ReadsHeedSource = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// opaque hides what it wraps: neither a layer a walk can pass nor
// a backend that says whether it heeds WithSource.
type opaque struct{ b hitbox.Backend }

func (f opaque) Label() string { return f.b.Label() }
func (f opaque) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	return f.b.Get(ctx, key)
}
func (f opaque) Set(ctx context.Context, key string, e hitbox.Entry) error {
	return f.b.Set(ctx, key, e)
}
func (f opaque) Delete(ctx context.Context, key string) error { return f.b.Delete(ctx, key) }
