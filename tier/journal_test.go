package tier

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// taggedFaulty is a faulty.Backend over a mapstore that keeps tags too,
// failing its tag calls while down is set (faulty has no tag ability).
type taggedFaulty struct {
	*faulty.Backend
	s    *mapstore.Store
	down atomic.Bool
}

func newTaggedFaulty(s *mapstore.Store) *taggedFaulty {
	return &taggedFaulty{Backend: faulty.Wrap(s), s: s}
}

func (f *taggedFaulty) failAll(err error) { f.Backend.FailAll(err); f.down.Store(err != nil) }

func (f *taggedFaulty) heal() { f.Backend.Heal(); f.down.Store(false) }

func (f *taggedFaulty) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if f.down.Load() {
		return &hitbox.Error{Op: hitbox.OpSet, Backend: f.Label(), Err: errBoom}
	}
	return f.s.SetTagged(ctx, key, e, tags)
}

func (f *taggedFaulty) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	if f.down.Load() {
		return hitbox.Entry{}, nil, &hitbox.Error{Op: hitbox.OpGet, Backend: f.Label(), Err: errBoom}
	}
	return f.s.GetTagged(ctx, key)
}

func (f *taggedFaulty) InvalidateTags(ctx context.Context, tags ...string) error {
	if f.down.Load() {
		return &hitbox.Error{Op: hitbox.OpInvalidateTags, Backend: f.Label(), Err: errBoom}
	}
	return f.s.InvalidateTags(ctx, tags...)
}

// TestJournalReplay checks that a removal that could not reach L2 (its
// breaker open, or the call failing) is kept and replayed on L2 before L2
// answers a read again: the caller gets the error at once, L2 keeps the
// old value while it is out of reach, and no read through the tier returns
// it after L2 is back.
func TestJournalReplay(t *testing.T) {
	t.Parallel()
	ops := []struct {
		name   string
		remove func(ctx context.Context, tr *Tier) error
	}{
		{"Delete", func(ctx context.Context, tr *Tier) error { return tr.Delete(ctx, "user:k") }},
		{"DeleteMany", func(ctx context.Context, tr *Tier) error {
			return tr.DeleteMany(ctx, []string{"user:k", "user:other"})
		}},
		{"Remove", func(ctx context.Context, tr *Tier) error { _, err := tr.Remove(ctx, "user:k"); return err }},
		{"InvalidateTags", func(ctx context.Context, tr *Tier) error { return tr.InvalidateTags(ctx, "t") }},
		{"Clear", func(ctx context.Context, tr *Tier) error { return tr.Clear(ctx) }},
		{"ClearPrefix", func(ctx context.Context, tr *Tier) error { return tr.ClearPrefix(ctx, "user:") }},
	}
	modes := []struct {
		name    string
		breaker Breaker
		open    bool // open L2's breaker before the removal
	}{
		{"breaker open", Breaker{Failures: 1, CoolDown: time.Minute}, true},
		{"call fails", Breaker{Failures: -1}, false},
	}
	for _, op := range ops {
		for _, m := range modes {
			t.Run(op.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				c := newClock()
				inner := store(c, "l2")
				l2 := newTaggedFaulty(inner)
				tr := NewWith(Options{Breaker: m.breaker, Now: c.Now}, store(c, "l1"), l2)
				closeT(t, tr)
				if err := tr.SetTagged(ctx, "user:k", entry("old", t0.Add(time.Hour)), []string{"t"}); err != nil {
					t.Fatal(err)
				}
				l2.failAll(errBoom)
				if m.open {
					_, _ = tr.Get(ctx, "absent") // L1 misses, L2 fails: the breaker opens
					if !tr.Stats().Levels[1].Open {
						t.Fatal("L2's breaker did not open")
					}
				}
				if err := op.remove(ctx, tr); err == nil {
					t.Fatal("the removal that missed L2 returned nil")
				}
				if _, err := inner.Get(ctx, "user:k"); err != nil {
					t.Fatalf("L2 lost the old value while out of reach: %v", err)
				}
				l2.heal()
				c.Advance(time.Minute)
				if e, err := tr.Get(ctx, "user:k"); !errors.Is(err, hitbox.ErrMiss) {
					t.Fatalf("Get after recovery = %q, %v; want a miss", e.Value, err)
				}
				if _, err := inner.Get(ctx, "user:k"); !errors.Is(err, hitbox.ErrMiss) {
					t.Errorf("L2 still holds the old value after the replay: %v", err)
				}
			})
		}
	}
}

// TestJournalReplayFails checks that while the replay fails the level
// counts as failing for reads: its old value is never served.
func TestJournalReplayFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	inner := store(c, "l2")
	l2 := faulty.Wrap(inner)
	tr := NewWith(Options{Breaker: Breaker{Failures: -1}, Now: c.Now}, store(c, "l1"), l2)
	closeT(t, tr)
	if err := tr.Set(ctx, "k", entry("old", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	l2.FailDelete(errBoom)
	if err := tr.Delete(ctx, "k"); err == nil {
		t.Fatal("Delete that missed L2 returned nil")
	}
	// Reads work on L2, deletes still fail: the replay cannot be made.
	if e, err := tr.Get(ctx, "k"); err == nil {
		t.Fatalf("Get = %q while the replay fails; want an error", e.Value)
	}
	l2.Heal()
	if e, err := tr.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get after the replay = %q, %v; want a miss", e.Value, err)
	}
}

// TestJournalOverflow checks each overflow policy: a local level is
// cleared whatever the policy; a shared level is no longer read
// (OverflowDisable), cleared (OverflowClear) or read again with the
// removals forgotten (OverflowForget).
func TestJournalOverflow(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		overflow Overflow
		failL1   bool   // the journal that overflows is L1's
		want     string // what Get("keep") returns after recovery ("" a miss)
		wantK1   string // what Get("k1") returns after recovery
		l2Len    int    // entries left in L2's store after the read
	}{
		{"local level is cleared, L2 answers", OverflowDisable, true, "old", "", 1},
		{"shared, disable: L2 no longer read", OverflowDisable, false, "", "", 4},
		{"shared, clear: L2 cleared before it is read", OverflowClear, false, "", "", 0},
		{"shared, forget: L2 read again, removals lost", OverflowForget, false, "old", "old", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := newClock()
			l1s, l2s := store(c, "l1"), store(c, "l2")
			l1, l2 := faulty.Wrap(l1s), faulty.Wrap(l2s)
			tr := NewWith(Options{Breaker: Breaker{Failures: -1}, Journal: 2, JournalOverflow: tc.overflow,
				Now: c.Now}, l1, l2)
			closeT(t, tr)
			for _, k := range []string{"keep", "k1", "k2", "k3"} {
				if err := tr.Set(ctx, k, entry("old", t0.Add(time.Hour))); err != nil {
					t.Fatal(err)
				}
			}
			if tc.failL1 {
				l1.FailDelete(errBoom)
			} else {
				l2.FailDelete(errBoom)
			}
			for _, k := range []string{"k1", "k2", "k3"} { // three keys: over the limit of 2
				if err := tr.Delete(ctx, k); err == nil {
					t.Fatalf("Delete(%s) returned nil", k)
				}
			}
			l1.Heal()
			l2.Heal()
			if !tc.failL1 {
				_ = l1s.Delete(ctx, "keep") // make the read reach L2
			}
			get := func(k string) string {
				e, err := tr.Get(ctx, k)
				if errors.Is(err, hitbox.ErrMiss) {
					return ""
				}
				if err != nil {
					t.Fatalf("Get(%s): %v", k, err)
				}
				return string(e.Value)
			}
			if got := get("keep"); got != tc.want {
				t.Errorf("Get(keep) = %q, want %q", got, tc.want)
			}
			if got := get("k1"); got != tc.wantK1 {
				t.Errorf("Get(k1) = %q, want %q", got, tc.wantK1)
			}
			if n := l2s.Len(); n != tc.l2Len {
				t.Errorf("L2 holds %d entries, want %d", n, tc.l2Len)
			}
			if tc.failL1 {
				if _, err := l1s.Get(ctx, "k1"); !errors.Is(err, hitbox.ErrMiss) {
					t.Errorf("L1 was not cleared: k1 %v", err)
				}
			}
		})
	}
}

// TestJournalReplayNoConvoy checks that while one call replays a level's
// journal on a level that does not answer (a frozen server), other calls
// do not wait for it: they count the level as failing and go on.
func TestJournalReplayNoConvoy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l2 := faulty.Wrap(store(c, "l2"))
	tr := NewWith(Options{Breaker: Breaker{Failures: -1}, Now: c.Now}, store(c, "l1"), l2)
	closeT(t, tr)
	if err := tr.Set(ctx, "k", entry("v", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	l2.FailDelete(errBoom)
	if err := tr.Delete(ctx, "gone"); err == nil {
		t.Fatal("Delete that missed L2 returned nil")
	}
	l2.Heal()
	release := l2.Block()
	defer release()
	replayed := make(chan error, 1)
	// Keys L1 does not hold, so the reads reach L2.
	go func() { _, err := tr.Get(ctx, "a"); replayed <- err }() // replays, held
	if op := <-l2.Waiting(); op != hitbox.OpDelete {
		t.Fatalf("the held call is %s, want the replay's delete", op)
	}
	// The replay is held: another read does not wait for it.
	second := make(chan error, 1)
	go func() { _, err := tr.Get(ctx, "b"); second <- err }()
	select {
	case err := <-second:
		if !errors.Is(err, hitbox.ErrMiss) {
			t.Errorf("a read during another call's replay = %v, want a miss (L2 skipped)", err)
		}
	case <-time.After(10 * time.Second): // a guard against a hang, not a speed check
		t.Error("a read waited for another call's replay")
		defer func() { <-second }()
	}
	release()
	if err := <-replayed; !errors.Is(err, hitbox.ErrMiss) {
		t.Errorf("the replaying read = %v, want a miss", err)
	}
}
