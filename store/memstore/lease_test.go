package memstore

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

func TestLeaseLapses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		elapsed time.Duration
		lost    bool
	}{
		{"a load that stores within the lease's life stores", leaseLife, false},
		{"a load that stores after the lease's life is refused as one a change crossed", leaseLife + time.Nanosecond, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c := newStore(t, Options{})
			l, err := s.Lease(ctx, "k", nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Advance(tc.elapsed)
			err = s.SetLeased(ctx, "k", hitbox.Entry{Value: []byte("v")}, nil, l)
			if got := errors.Is(err, hitbox.ErrLeaseLost); got != tc.lost || (!tc.lost && err != nil) {
				t.Fatalf("SetLeased after %v: %v, want lost=%v", tc.elapsed, err, tc.lost)
			}
		})
	}
}

// TestLeaseRace runs a leased store against a change to the same key, over
// and over: whichever lands first, the change's outcome must be what the
// key reads afterwards, never the leased value.
func TestLeaseRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	changes := []struct {
		name string
		do   func(s *Store) error
		want string // "" for a miss
	}{
		{"Set", func(s *Store) error { return s.Set(ctx, "k", hitbox.Entry{Value: []byte("fresh")}) }, "fresh"},
		{"Delete", func(s *Store) error { return s.Delete(ctx, "k") }, ""},
		{"SetTagged", func(s *Store) error {
			return s.SetTagged(ctx, "k", hitbox.Entry{Value: []byte("fresh")}, []string{"t"})
		}, "fresh"},
		{"Clear", func(s *Store) error { return s.Clear(ctx) }, ""},
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newStore(t, Options{})
			for i := range 300 {
				if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("old")}); err != nil {
					t.Fatal(err)
				}
				l, err := s.Lease(ctx, "k", nil)
				if err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				wg.Add(2)
				go func() {
					defer wg.Done()
					if err := s.SetLeased(ctx, "k", hitbox.Entry{Value: []byte("stale")}, nil, l); err != nil && !errors.Is(err, hitbox.ErrLeaseLost) {
						t.Error(err)
					}
				}()
				go func() {
					defer wg.Done()
					if err := ch.do(s); err != nil {
						t.Error(err)
					}
				}()
				wg.Wait()
				e, err := s.Get(ctx, "k")
				switch {
				case ch.want == "" && !errors.Is(err, hitbox.ErrMiss):
					t.Fatalf("round %d: Get = %q, %v after a %s raced a leased store; want a miss", i, e.Value, err, ch.name)
				case ch.want != "" && string(e.Value) != ch.want:
					t.Fatalf("round %d: Get = %q, %v after a %s raced a leased store; want %q", i, e.Value, err, ch.name, ch.want)
				}
			}
		})
	}
}

// TestChangeWaitsForALeasedWrite holds a stripe as SetLeased does while
// it writes, and checks that a Set of a key on it, which marks its change
// first, writes only after the leased write: its value is what remains.
func TestChangeWaitsForALeasedWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	st := s.leases.of("k")
	gen := st.word.Load()
	if !st.claim(gen) {
		t.Fatal("claim of an idle stripe failed")
	}
	done := make(chan error)
	go func() { done <- s.Set(ctx, "k", hitbox.Entry{Value: []byte("fresh")}) }()
	for st.word.Load() == gen|1 {
		runtime.Gosched() // until the Set has marked its change
	}
	if err := s.cache.Set("k", appendRecord(nil, time.Time{}, time.Time{}, []byte("stale"))); err != nil {
		t.Fatal(err)
	}
	st.release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e, err := s.Get(ctx, "k"); err != nil || string(e.Value) != "fresh" {
		t.Fatalf("Get = %q, %v; want the Set's value, written after the leased one", e.Value, err)
	}
	if st.claim(gen) {
		t.Error("a lease taken before the Set could still claim the stripe")
	}
}
