package tier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
)

func TestBreaker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1, l2 := faulty.Wrap(store(c, "l1")), faulty.Wrap(store(c, "l2"))
	l2.FailGet(errBoom)
	tr := NewWith(Options{Breaker: Breaker{Failures: 3, CoolDown: time.Minute}, Now: c.Now}, l1, l2)
	closeT(t, tr)

	get := func() error {
		_, err := tr.Get(ctx, "k")
		return err
	}
	steps := []struct {
		name    string
		advance time.Duration
		heal    bool
		calls   int // L2 Gets so far
		open    bool
		opens   uint64
	}{
		{"three failures in a row open the breaker", 0, false, 3, true, 1},
		{"while open, L2 is not asked", 0, false, 3, true, 1},
		{"after the cool-down one probe goes through and fails: open again", time.Minute, false, 4, true, 2},
		{"before the next cool-down ends, still skipped", 30 * time.Second, false, 4, true, 2},
		{"a probe that succeeds closes it", time.Minute, true, 5, false, 2},
		{"closed, every read reaches L2 again", 0, false, 6, false, 2},
	}
	for i, s := range steps {
		c.Advance(s.advance)
		if s.heal {
			l2.Heal()
		}
		n := 1
		if i == 0 {
			n = 3
		}
		for range n {
			if err := get(); err != hitbox.ErrMiss {
				t.Fatalf("%s: Get = %v, want a plain miss (L1 answered)", s.name, err)
			}
		}
		st := tr.Stats().Levels[1]
		if got := l2.Calls(hitbox.OpGet); got != s.calls || st.Open != s.open || st.Opens != s.opens {
			t.Errorf("%s: L2 calls %d, open %v, opens %d; want %d, %v, %d",
				s.name, got, st.Open, st.Opens, s.calls, s.open, s.opens)
		}
	}
	if st := tr.Stats().Levels[1]; st.Skipped != 2 || st.Errors != 4 {
		t.Errorf("L2 skipped %d, errors %d; want 2 and 4", st.Skipped, st.Errors)
	}
}

func TestBreakerEveryLevelOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1 := faulty.Wrap(store(c, "l1"))
	l1.FailAll(errBoom)
	tr := NewWith(Options{Breaker: Breaker{Failures: 1}, Now: c.Now}, l1)
	_, _ = tr.Get(ctx, "k")
	_, err := tr.Get(ctx, "k")
	if !errors.Is(err, ErrOpen) || !errors.Is(err, hitbox.ErrUnavailable) {
		t.Errorf("Get with every breaker open = %v, want ErrOpen and ErrUnavailable", err)
	}
	if err := tr.Set(ctx, "k", entry("v", t0.Add(time.Hour))); !errors.Is(err, ErrOpen) {
		t.Errorf("Set on an open level = %v, want ErrOpen", err)
	}
	if err := tr.Close(); !errors.Is(err, errBoom) {
		t.Errorf("Close = %v, want the level's error", err)
	}
}

func TestBreakerIgnoresCallerCancellation(t *testing.T) {
	t.Parallel()
	c := newClock()
	l1 := faulty.Wrap(store(c, "l1"))
	release := l1.Block()
	defer release()
	tr := NewWith(Options{Breaker: Breaker{Failures: 1}, Now: c.Now}, l1)
	closeT(t, tr)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 3 {
		if _, err := tr.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Get = %v, want the caller's cancellation", err)
		}
	}
	if st := tr.Stats().Levels[0]; st.Open || st.Errors != 0 {
		t.Errorf("level stats %+v: the caller's cancellation counted against the level", st)
	}
	release()
}

func TestBreakerDisabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock()
	l1 := faulty.Wrap(store(c, "l1"))
	l1.FailGet(errBoom)
	tr := NewWith(Options{Breaker: Breaker{Failures: -1}, Now: c.Now}, l1)
	closeT(t, tr)
	for range 10 {
		_, _ = tr.Get(ctx, "k")
	}
	if l1.Calls(hitbox.OpGet) != 10 || tr.Stats().Levels[0].Open {
		t.Error("a disabled breaker skipped the level")
	}
}
