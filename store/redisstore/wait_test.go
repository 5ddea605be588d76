package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// waitStores returns a store with opts on r's master (a prefix of its own
// unless opts has one), whose client records every command sent, and a
// store under the same prefix on r's replica, to read what it holds.
func waitStores(t testing.TB, r *redistest.Replicated, mopt *redis.Options, opts redisstore.Options) (*redisstore.Store, *redisstore.Store, *recorder) {
	t.Helper()
	if mopt == nil {
		mopt = r.Master.Options()
	}
	rdb := redis.NewClient(mopt)
	t.Cleanup(func() { _ = rdb.Close() })
	rec := &recorder{}
	rdb.AddHook(rec) // before New, which clones the client for its changes
	if opts.Prefix == "" {
		opts.Prefix = redistest.Prefix(t)
	}
	s, err := redisstore.New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	replica, err := redisstore.New(r.Replica.Client(t), redisstore.Options{Prefix: opts.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	return s, replica, rec
}

// change is one change of the store, made on keys that hold entries, and
// what the replica holds once it has been acknowledged.
type change struct {
	name string
	do   func(ctx context.Context, s *redisstore.Store) error
	// gone are keys the replica must miss after it, held are keys it must
	// hold then.
	gone, held []string
}

// waitEntry is what the changes write.
var waitEntry = hitbox.Entry{Value: []byte("v"), Expire: time.Now().Add(time.Hour)}

// changes lists every change of a store: each one must wait for the
// replicas. fill writes the entries they change first.
func changes() (fill func(ctx context.Context, s *redisstore.Store) error, cs []change) {
	fill = func(ctx context.Context, s *redisstore.Store) error {
		for _, k := range []string{"del", "dm1", "dm2", "rm", "clp:1", "clp:2", "clear"} {
			if err := s.Set(ctx, k, waitEntry); err != nil {
				return err
			}
		}
		return s.SetTagged(ctx, "tagged", waitEntry, []string{"purged"})
	}
	set := func(ctx context.Context, s *redisstore.Store, key string) error {
		return s.Set(ctx, key, hitbox.Entry{Value: []byte("new"), Expire: waitEntry.Expire})
	}
	cs = []change{
		{"Set", func(ctx context.Context, s *redisstore.Store) error { return set(ctx, s, "set") }, nil, []string{"set"}},
		{"SetTagged", func(ctx context.Context, s *redisstore.Store) error {
			return s.SetTagged(ctx, "settagged", waitEntry, []string{"t1"})
		}, nil, []string{"settagged"}},
		{"SetMany", func(ctx context.Context, s *redisstore.Store) error {
			return s.SetMany(ctx, []hitbox.Item{{Key: "sm1", Entry: waitEntry}, {Key: "sm2", Entry: waitEntry}})
		}, nil, []string{"sm1", "sm2"}},
		{"SetLeased", func(ctx context.Context, s *redisstore.Store) error {
			l, err := s.Lease(ctx, "leased", []string{"t2"})
			if err != nil {
				return err
			}
			return s.SetLeased(ctx, "leased", waitEntry, []string{"t2"}, l)
		}, nil, []string{"leased"}},
		{"Delete", func(ctx context.Context, s *redisstore.Store) error { return s.Delete(ctx, "del") }, []string{"del"}, nil},
		{"DeleteMany", func(ctx context.Context, s *redisstore.Store) error {
			return s.DeleteMany(ctx, []string{"dm1", "dm2"})
		}, []string{"dm1", "dm2"}, nil},
		{"Remove", func(ctx context.Context, s *redisstore.Store) error {
			ok, err := s.Remove(ctx, "rm")
			if err == nil && !ok {
				return errors.New("Remove found nothing")
			}
			return err
		}, []string{"rm"}, nil},
		{"InvalidateTags", func(ctx context.Context, s *redisstore.Store) error {
			return s.InvalidateTags(ctx, "purged")
		}, []string{"tagged"}, nil},
		{"ClearPrefix", func(ctx context.Context, s *redisstore.Store) error {
			return s.ClearPrefix(ctx, "clp:")
		}, []string{"clp:1", "clp:2"}, nil},
		{"Clear", func(ctx context.Context, s *redisstore.Store) error { return s.Clear(ctx) }, []string{"clear", "set"}, nil},
	}
	return fill, cs
}

// TestWaitReplicated checks that with Options.WaitReplicas every change
// returns nil while the replica is up, and that the replica holds the
// change as soon as it returns (no polling: that is what WAIT promises).
// Each change sends a WAIT.
func TestWaitReplicated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := redistest.StartReplicated(t)
	s, replica, rec := waitStores(t, r, nil, redisstore.Options{WaitReplicas: 1, WaitTimeout: 2 * time.Second})
	fill, cs := changes()
	if err := fill(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		before := rec.count("wait")
		if err := c.do(ctx, s); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if rec.count("wait") == before {
			t.Errorf("%s sent no WAIT", c.name)
		}
		if got := rec.last("wait"); len(got) != 3 || got[1] != 1 || got[2] != int64(2000) {
			t.Errorf("%s: last WAIT %v, want [wait 1 2000]", c.name, got)
		}
		for _, k := range c.held {
			if _, err := replica.Get(ctx, k); err != nil {
				t.Errorf("%s returned nil, but the replica does not hold %q: %v", c.name, k, err)
			}
		}
		for _, k := range c.gone {
			if _, err := replica.Get(ctx, k); !errors.Is(err, hitbox.ErrMiss) {
				t.Errorf("%s returned nil, but the replica still answers %q: %v", c.name, k, err)
			}
		}
	}
}

// TestWaitNotReplicated checks that every change returns ErrNotReplicated,
// naming the numbers, once the replica no longer acknowledges, after
// WaitTimeout and not much longer: while the replica is frozen (SIGSTOP),
// and after it left replication (REPLICAOF NO ONE).
func TestWaitNotReplicated(t *testing.T) {
	t.Parallel()
	const timeout = 50 * time.Millisecond
	ctx := context.Background()
	r := redistest.StartReplicated(t)
	// ClientOptions' settings, the ones a cache starts from, and its
	// default WaitTimeout.
	sDef, _, _ := waitStores(t, r, redisstore.ClientOptions(r.Master.Addr), redisstore.Options{WaitReplicas: 1})
	prefix := redistest.Prefix(t)
	s, _, _ := waitStores(t, r, nil, redisstore.Options{Prefix: prefix, WaitReplicas: 1, WaitTimeout: timeout})
	// The entries the changes change are written, and acknowledged, with
	// a timeout a loaded machine meets.
	filler, _, _ := waitStores(t, r, nil, redisstore.Options{Prefix: prefix, WaitReplicas: 1, WaitTimeout: 2 * time.Second})
	fill, cs := changes()
	if err := fill(ctx, filler); err != nil {
		t.Fatal(err)
	}
	r.Replica.Pause()
	t.Cleanup(r.Replica.Resume)
	check := func(name string, err error, wait time.Duration, took time.Duration) {
		t.Helper()
		switch {
		case !errors.Is(err, redisstore.ErrNotReplicated) || !errors.Is(err, hitbox.ErrUnavailable):
			t.Errorf("%s with the replica frozen: %v, want ErrNotReplicated and ErrUnavailable", name, err)
		case !strings.Contains(err.Error(), "wanted 1, got 0 within "+wait.String()):
			t.Errorf("%s: %q does not name the numbers", name, err)
		case took < wait || took > wait+2*time.Second:
			t.Errorf("%s took %v, want about %v", name, took, wait)
		}
	}
	start := time.Now()
	err := sDef.Set(ctx, "default", waitEntry)
	check("Set with ClientOptions and the default WaitTimeout", err, 100*time.Millisecond, time.Since(start))

	for _, c := range cs {
		start := time.Now()
		err := c.do(ctx, s)
		check(c.name, err, timeout, time.Since(start))
	}

	// Out of replication: the master counts no replica at all.
	r.Replica.Resume()
	if err := r.Replica.Client(t).ReplicaOf(ctx, "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	err = s.Set(ctx, "detached", waitEntry)
	check("Set with the replica detached", err, timeout, time.Since(start))
}

// TestWaitOff checks that without Options.WaitReplicas no change sends a
// WAIT, and none waits for a frozen replica.
func TestWaitOff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := redistest.StartReplicated(t)
	s, _, rec := waitStores(t, r, nil, redisstore.Options{})
	fill, cs := changes()
	if err := fill(ctx, s); err != nil {
		t.Fatal(err)
	}
	r.Replica.Pause()
	t.Cleanup(r.Replica.Resume)
	for _, c := range cs {
		if err := c.do(ctx, s); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if n := rec.count("wait"); n != 0 {
		t.Errorf("%d WAITs sent without WaitReplicas", n)
	}
}

// TestWaitFailoverClient checks the option through a Sentinel failover
// client, the setting it is for: a change returns nil while the replica
// acknowledges, ErrNotReplicated while it is frozen.
func TestWaitFailoverClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sn := redistest.StartSentinel(t)
	s, err := redisstore.New(sn.Client(t), redisstore.Options{Prefix: redistest.Prefix(t), WaitReplicas: 1, WaitTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k", waitEntry); err != nil {
		t.Fatal(err)
	}
	sn.Replica.Pause()
	defer sn.Replica.Resume()
	if err := s.Delete(ctx, "k"); !errors.Is(err, redisstore.ErrNotReplicated) {
		t.Fatalf("Delete with the replica frozen: %v, want ErrNotReplicated", err)
	}
}

// TestWaitRefused checks that New refuses Options.WaitReplicas over a
// client that cannot send WAIT on a change's connection, and that
// Validate refuses options that cannot work.
func TestWaitRefused(t *testing.T) {
	t.Parallel()
	opts := redisstore.Options{WaitReplicas: 1}
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cluster.Close()
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer ring.Close()
	for _, c := range []redis.UniversalClient{cluster, ring} {
		s, err := redisstore.New(c, opts)
		if s != nil || !errors.Is(err, hitbox.ErrNotSupported) || !strings.Contains(err.Error(), "WaitReplicas") {
			t.Errorf("New over a %T with WaitReplicas: %v, %v; want a refusal wrapping ErrNotSupported", c, s, err)
		}
	}
	// The WAIT's reply must come within the client's ReadTimeout.
	rdb := redis.NewClient(redisstore.ClientOptions("127.0.0.1:1"))
	defer rdb.Close()
	if s, err := redisstore.New(rdb, redisstore.Options{WaitReplicas: 1, WaitTimeout: 200 * time.Millisecond}); s != nil || err == nil || !strings.Contains(err.Error(), "ReadTimeout") {
		t.Errorf("New with WaitTimeout at the client's ReadTimeout: %v, %v; want a refusal naming ReadTimeout", s, err)
	}
	for _, tc := range []struct {
		opts  redisstore.Options
		field string
	}{
		{redisstore.Options{WaitReplicas: -1}, "Options.WaitReplicas"},
		{redisstore.Options{WaitReplicas: 1, WaitTimeout: -time.Second}, "Options.WaitTimeout"},
		{redisstore.Options{WaitTimeout: time.Second}, "Options.WaitTimeout"},
	} {
		if err := tc.opts.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tc.opts, err, tc.field)
		}
	}
}

// BenchmarkWaitSet measures what waiting for one replica adds to a Set on
// a master and replica on loopback: allocations, and round trips per Set
// (trips/op, from a go-redis hook: the WAIT rides in the Set's pipeline).
func BenchmarkWaitSet(b *testing.B) {
	ctx := context.Background()
	r := redistest.StartReplicated(b)
	for _, bc := range []struct {
		name string
		opts redisstore.Options
	}{
		{"off", redisstore.Options{}},
		{"replicas=1", redisstore.Options{WaitReplicas: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rdb := r.Master.Client(b)
			tc := &tripCounter{}
			rdb.AddHook(tc)
			bc.opts.Prefix = redistest.Prefix(b)
			s, err := redisstore.New(rdb, bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			e := hitbox.Entry{Value: make([]byte, 100), Expire: time.Now().Add(time.Hour)}
			b.ReportAllocs()
			tc.n.Store(0)
			for b.Loop() {
				if err := s.Set(ctx, "k", e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(tc.n.Load())/float64(b.N), "trips/op")
		})
	}
}
