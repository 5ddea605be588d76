package tier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

type ctxKey struct{}

func TestOffloadQueue(t *testing.T) {
	t.Parallel()
	c := newClock()
	g := newGate()
	var seen context.Context
	l1 := &hooked{Backend: store(c, "l1")}
	l1.beforeSet = func(ctx context.Context, key string) {
		if key == "a" {
			seen = ctx
			g.wait(ctx)
		}
	}
	l2 := store(c, "l2")
	tr := NewWith(Options{Refill: RefillBackground, Workers: 1, Queue: 1, TaskTimeout: time.Minute, Now: c.Now}, l1, l2)
	closeT(t, tr)
	exp := t0.Add(time.Hour)
	for _, k := range []string{"a", "b", "c"} {
		_ = l2.Set(context.Background(), k, entry(k, exp))
	}

	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "caller"))
	if _, err := tr.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	cancel() // the caller is gone; its refill runs on
	<-g.reached
	for _, k := range []string{"b", "b", "c"} {
		if _, err := tr.Get(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	st := tr.Stats().Offload
	if st.Queued != 2 || st.Merged != 1 || st.Dropped != 1 || st.Pending != 2 {
		t.Errorf("offload = %+v; want a running, b queued once (merged once), c dropped", st)
	}
	if seen.Err() != nil || seen.Value(ctxKey{}) != "caller" {
		t.Errorf("task context: err %v, value %v; want the caller's values without its cancellation", seen.Err(), seen.Value(ctxKey{}))
	}
	if d, ok := seen.Deadline(); !ok || d.IsZero() {
		t.Error("task context has no timeout")
	}
	g.open()
	tr.pool.flush()
	if st := tr.Stats(); st.Offload.Done != 2 || st.Refills != 2 {
		t.Errorf("stats = %+v; want two refills done", st)
	}
}

func TestCloseWithPendingWork(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		drain   time.Duration
		open    bool // the test lets the running task finish
		done    uint64
		dropped uint64
		refills uint64
	}{
		{"Close drains queued and running work that finishes in time", time.Hour, true, 2, 0, 2},
		{"Close that may not drain cancels running work and drops queued work", -1, false, 1, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			g := newGate()
			l1 := &hooked{Backend: store(c, "l1")}
			l1.beforeSet = func(ctx context.Context, key string) {
				if key == "a" {
					g.wait(ctx)
				}
			}
			l2 := store(c, "l2")
			ctx := context.Background()
			for _, k := range []string{"a", "b"} {
				_ = l2.Set(ctx, k, entry(k, t0.Add(time.Hour)))
			}
			tr := NewWith(Options{Refill: RefillBackground, Workers: 1, DrainTimeout: tc.drain, Now: c.Now}, l1, l2)
			_, _ = tr.Get(ctx, "a")
			<-g.reached
			_, _ = tr.Get(ctx, "b")

			closed := make(chan error)
			go func() { closed <- tr.Close() }()
			if tc.open {
				g.open()
			}
			if err := <-closed; err != nil {
				t.Fatal(err)
			}
			st := tr.Stats()
			if st.Offload.Done != tc.done || st.Offload.Dropped != tc.dropped || st.Refills != tc.refills || st.Offload.Pending != 0 {
				t.Errorf("after Close: %+v, refills %d; want done %d, dropped %d, refills %d",
					st.Offload, st.Refills, tc.done, tc.dropped, tc.refills)
			}
			// Work offered after Close is dropped, not run.
			if tr.pool.submit(ctx, kindRefill, "z", func(context.Context) { t.Error("ran after Close") }) {
				t.Error("submit after Close was accepted")
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	c := newClock()
	tr := New(store(c, "l1"), store(c, "l2"))
	for range 2 {
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for name, err := range map[string]error{
		"get":    func() error { _, err := tr.Get(ctx, "k"); return err }(),
		"set":    tr.Set(ctx, "k", entry("v", t0.Add(time.Hour))),
		"delete": tr.Delete(ctx, "k"),
		"clear":  tr.Clear(ctx),
	} {
		if !errors.Is(err, hitbox.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}
