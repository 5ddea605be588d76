package redisstore_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// tripCounter is a go-redis hook that counts round trips: one per command
// sent alone, one per pipeline.
type tripCounter struct{ n atomic.Int64 }

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestLeaseRoundTrips checks the cost of a load's store with a lease: a
// lease is one round trip, and a leased store costs what a plain or
// tagged store does, so a cold miss pays one round trip more.
func TestLeaseRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{})
	tc := &tripCounter{}
	rdb.AddHook(tc)
	// The scripts' first run on the server loads them: one round trip more, once.
	if _, err := s.Lease(ctx, "warm", []string{"warm"}); err != nil {
		t.Fatal(err)
	}
	l, _ := s.Lease(ctx, "warm", []string{"warm"})
	if err := s.SetLeased(ctx, "warm", hitbox.Entry{Value: []byte("v")}, []string{"warm"}, l); err != nil {
		t.Fatal(err)
	}
	e := hitbox.Entry{Value: []byte("v"), Expire: time.Now().Add(time.Minute)}
	var lease hitbox.Lease
	tests := []struct {
		name  string
		do    func() error
		trips int64
	}{
		{"a plain Set is one round trip", func() error { return s.Set(ctx, "plain", e) }, 1},
		{"a lease without tags is one round trip", func() (err error) { lease, err = s.Lease(ctx, "k", nil); return err }, 1},
		{"a leased store without tags is one round trip, as Set", func() error { return s.SetLeased(ctx, "k", e, nil, lease) }, 1},
		{"a tagged Set is two round trips", func() error { return s.SetTagged(ctx, "tagged", e, []string{"t1", "t2"}) }, 2},
		{"a lease with tags is one round trip", func() (err error) { lease, err = s.Lease(ctx, "kt", []string{"t1", "t2"}); return err }, 1},
		{"a leased store with tags is one round trip, one fewer than SetTagged", func() error {
			return s.SetLeased(ctx, "kt", e, []string{"t1", "t2"}, lease)
		}, 1},
	}
	for _, c := range tests { // in order: each lease is used by the next case
		before := tc.n.Load()
		if err := c.do(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := tc.n.Load() - before; n != c.trips {
			t.Errorf("%s: %d round trips, want %d", c.name, n, c.trips)
		}
	}
}

// TestLeaseOverAnEntry checks a lease over an entry being refreshed: the
// entry still reads as before, its key outlives its Expire for the load
// (Get hides the entry past its Expire meanwhile), and the load's store
// replaces it.
func TestLeaseOverAnEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	s, rdb := newStore(t, redisstore.Options{Now: clk.Now})
	prefix := prefixOf(t, s, rdb)
	if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("old"), Expire: clk.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	l, err := s.Lease(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := s.Get(ctx, "k"); err != nil || string(e.Value) != "old" {
		t.Fatalf("Get during the lease = %q, %v; want the entry as before", e.Value, err)
	}
	if ttl := rdb.PTTL(ctx, prefix+"k").Val(); ttl < time.Minute || ttl > 2*time.Minute {
		t.Fatalf("PTTL of the leased key = %v, want the lease's two minutes", ttl)
	}
	clk.Advance(2 * time.Second)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get past the entry's Expire = %v, want a miss", err)
	}
	if err := s.SetLeased(ctx, "k", hitbox.Entry{Value: []byte("new"), Expire: clk.Now().Add(time.Hour)}, nil, l); err != nil {
		t.Fatalf("SetLeased: %v", err)
	}
	if e, err := s.Get(ctx, "k"); err != nil || string(e.Value) != "new" {
		t.Fatalf("Get after the load's store = %q, %v; want it", e.Value, err)
	}
	if ttl := rdb.PTTL(ctx, prefix+"k").Val(); ttl < 59*time.Minute {
		t.Fatalf("PTTL after the load's store = %v, want the entry's hour", ttl)
	}
}

// TestLeasePlaceholderLapses checks that a lease on an absent key lives
// as a placeholder for the lease's two minutes, and that a load which
// outlives it is refused.
func TestLeasePlaceholderLapses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{})
	prefix := prefixOf(t, s, rdb)
	l, err := s.Lease(ctx, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, prefix+"k").Val(); ttl < time.Minute || ttl > 2*time.Minute {
		t.Fatalf("PTTL of the placeholder = %v, want the lease's two minutes", ttl)
	}
	if err := rdb.Unlink(ctx, prefix+"k").Err(); err != nil { // what its lapse does
		t.Fatal(err)
	}
	err = s.SetLeased(ctx, "k", hitbox.Entry{Value: []byte("v")}, nil, l)
	if !errors.Is(err, hitbox.ErrLeaseLost) {
		t.Fatalf("SetLeased after the placeholder lapsed = %v, want ErrLeaseLost", err)
	}
}
