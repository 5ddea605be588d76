package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hitbox-go/hitbox"
)

// fullWithOld returns a one-shard store whose queue is exactly full: its
// first record is key holding old, and cold keys fill the rest, so the
// next write of a 2 KB record has to evict. The admission then forgets
// every use, as it does once its window has passed: key's next write is
// its only use and is declined.
func fullWithOld(t *testing.T, opts Options, key string, old []byte) *Store {
	t.Helper()
	ctx := context.Background()
	opts.MaxBytes, opts.Shards = 1<<20, 1
	s, _ := newStore(t, opts)
	if err := s.Set(ctx, key, hitbox.Entry{Value: old}); err != nil {
		t.Fatal(err)
	}
	// Count the queue's bytes as the admission does, with admission off
	// too, and stop when another cold record would not fit.
	written := int64(queueRecord(len(key), headerSize+len(old)))
	cold := hitbox.Entry{Value: make([]byte, 1000)}
	for i := 0; ; i++ {
		k := fmt.Sprintf("cold:%06d", i)
		n := int64(queueRecord(len(k), headerSize+len(cold.Value)))
		if written+n > 1<<20 {
			break
		}
		if err := s.Set(ctx, k, cold); err != nil {
			t.Fatal(err)
		}
		written += n
	}
	if e, err := s.Get(ctx, key); err != nil || !bytes.Equal(e.Value, old) {
		t.Fatalf("before the full store's write, %q reads %q, %v; want the old value", key, e.Value, err)
	}
	if s.adm != nil {
		s.adm.sk.Store(newSketch(1024))
	}
	return s
}

// TestAdmissionDeclinedWriteLeavesNoOldValue checks that a write a full
// store declines removes what the key held, so no read returns the value
// the write replaced, and that without admission the write is kept.
func TestAdmissionDeclinedWriteLeavesNoOldValue(t *testing.T) {
	t.Parallel()
	old, updated := []byte("old value"), bytes.Repeat([]byte("new value "), 200)
	tests := []struct {
		name     string
		opts     Options
		write    func(s *Store, key string) error
		wantKept bool
	}{
		{name: "a declined Set of a present key deletes it: the key misses",
			write: func(s *Store, key string) error {
				return s.Set(context.Background(), key, hitbox.Entry{Value: updated})
			}},
		{name: "a declined SetTagged of a present key deletes it too",
			write: func(s *Store, key string) error {
				return s.SetTagged(context.Background(), key, hitbox.Entry{Value: updated}, []string{"t"})
			}},
		{name: "a declined SetMany item deletes its key too",
			write: func(s *Store, key string) error {
				return s.SetMany(context.Background(), []hitbox.Item{{Key: key, Entry: hitbox.Entry{Value: updated}}})
			}},
		{name: "a declined SetLeased deletes its key too",
			write: func(s *Store, key string) error {
				ctx := context.Background()
				l, err := s.Lease(ctx, key, []string{"t"})
				if err != nil {
					return err
				}
				return s.SetLeased(ctx, key, hitbox.Entry{Value: updated}, []string{"t"}, l)
			}},
		{name: "a write of a key read since it was forgotten is kept: its second use",
			wantKept: true,
			write: func(s *Store, key string) error {
				if _, err := s.Get(context.Background(), key); err != nil {
					return err
				}
				return s.Set(context.Background(), key, hitbox.Entry{Value: updated})
			}},
		{name: "with DisableAdmission the same write is kept",
			opts: Options{DisableAdmission: true}, wantKept: true,
			write: func(s *Store, key string) error {
				return s.Set(context.Background(), key, hitbox.Entry{Value: updated})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const key = "k"
			s := fullWithOld(t, tt.opts, key, old)
			if err := tt.write(s, key); err != nil {
				t.Fatalf("write: %v", err)
			}
			e, err := s.Get(context.Background(), key)
			switch {
			case tt.wantKept && (err != nil || !bytes.Equal(e.Value, updated)):
				t.Fatalf("Get = %q, %v; want the new value", e.Value, err)
			case !tt.wantKept && !errors.Is(err, hitbox.ErrMiss):
				t.Fatalf("Get = %q, %v; want a miss (the write was declined)", e.Value, err)
			}
		})
	}
}

// TestAdmissionKeepsEveryWriteWithRoom checks that a store with room keeps
// every write, however rarely its key is used, and that Clear gives the
// room back.
func TestAdmissionKeepsEveryWriteWithRoom(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{MaxBytes: 1 << 20, Shards: 1})
	for round := range 2 {
		for i := range 500 {
			k := fmt.Sprintf("key:%d", i)
			if err := s.Set(ctx, k, hitbox.Entry{Value: make([]byte, 1000)}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 500 {
			if _, err := s.Get(ctx, fmt.Sprintf("key:%d", i)); err != nil {
				t.Fatalf("round %d: key:%d: %v", round, i, err)
			}
		}
		if err := s.Clear(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSketch checks the frequency sketch's estimates: a first sighting
// lands in the doorkeeper, later ones in the counters, which saturate at
// 15 and halve when the sample is full, and a resized sketch keeps them.
func TestSketch(t *testing.T) {
	t.Parallel()
	sk := newSketch(1000)
	const h = 0x89abcdef
	if got := sk.estimate(h); got != 0 {
		t.Fatalf("unseen estimate %d, want 0", got)
	}
	sk.add(h)
	if got := sk.estimate(h); got != 1 {
		t.Fatalf("after one sighting %d, want 1 (the doorkeeper)", got)
	}
	for range 30 {
		sk.add(h)
	}
	if got := sk.estimate(h); got != 16 {
		t.Fatalf("after 31 sightings %d, want 16 (15 saturated, plus the doorkeeper)", got)
	}
	for _, entries := range []int{8000, 100} {
		if got := sk.resized(entries).estimate(h); got != 16 {
			t.Fatalf("resized to %d entries: %d, want 16", entries, got)
		}
	}
	sk.count(sk.sample)
	if got := sk.estimate(h); got != 7 {
		t.Fatalf("after halving %d, want 7 (15/2, the doorkeeper cleared)", got)
	}
}

// TestSketchAddEstimate checks that addEstimate, the write path's one pass,
// is add then estimate: on twin sketches fed the same sightings (small,
// so keys share counters), it returns what estimate returns after add,
// but 1 for a key's first sighting (its counters hold other keys' counts
// only), and reports a change when add does.
func TestSketchAddEstimate(t *testing.T) {
	t.Parallel()
	one, two := newSketch(64), newSketch(64)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		id := uint32(r.IntN(300))
		door, bits := one.doorBits(id)
		first := door.Load()&bits != bits
		changed := one.add(id)
		want := one.estimate(id)
		if first {
			want = 1
		}
		got, gotChanged := two.addEstimate(id)
		if got != want || gotChanged != changed {
			t.Fatalf("sighting %d of %d: addEstimate = %d, %v; add then estimate = %d, %v", i, id, got, gotChanged, want, changed)
		}
	}
}

// TestBump checks the counters' increment, done on four nibbles at once,
// against one done a nibble at a time, on random words.
func TestBump(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for range 100_000 {
		v := r.Uint64()
		if r.IntN(2) == 0 {
			v |= r.Uint64() // more saturated nibbles
		}
		var units uint64
		for q := range 4 {
			units |= 1 << ((4*q + r.IntN(4)) * 4)
		}
		want, low := v, 15
		for sh := 0; sh < 64; sh += 4 {
			if units>>sh&1 == 0 {
				continue
			}
			if n := v >> sh & 15; n < 15 {
				want += 1 << sh
			}
			low = min(low, int(v>>sh&15))
		}
		if got := bump(v, units); got != want {
			t.Fatalf("bump(%016x, %016x) = %016x, want %016x", v, units, got, want)
		}
		if got := least(v, units); got != low {
			t.Fatalf("least(%016x, %016x) = %d, want %d", v, units, got, low)
		}
	}
}
