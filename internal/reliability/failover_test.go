package reliability_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// failoverBound ends a test whose failover never completes. Redis Cluster
// promotes a replica about two seconds after its master dies here, the
// sentinels in about five; the bound only stops a hung test.
const failoverBound = 45 * time.Second

// TestClusterFailover kills the master that holds a key of a Redis Cluster
// with replicas, under a typed GetOrLoad load through three instances that
// share a tracking bus. No read fails or returns a wrong value (L1 and the
// loader answer while the slots have no master); L2 serves the key again
// once the replica is promoted and the clients see it; the bus tracks the
// promoted master, so a write there still drops the other instances' L1
// copies; nothing is left running after Close.
func TestClusterFailover(t *testing.T) {
	c := redistest.StartReplicatedCluster(t)
	failover(t, func() redis.UniversalClient {
		return redis.NewClusterClient(withClusterSettings(c.Options()))
	}, func(key string) {
		m, err := c.MasterOf(prefix + key)
		if err != nil {
			t.Fatal(err)
		}
		m.Kill()
	})
}

// TestSentinelFailover is TestClusterFailover on a master and replica
// watched by three sentinels, through go-redis's failover client.
func TestSentinelFailover(t *testing.T) {
	s := redistest.StartSentinel(t)
	failover(t, func() redis.UniversalClient {
		return redis.NewFailoverClient(withFailoverSettings(s.FailoverOptions()))
	}, func(string) { s.Master.Kill() })
}

// failover runs the failover scenario over clients from newClient; kill
// kills the master that holds key.
func failover(t *testing.T, newClient func() redis.UniversalClient, kill func(key string)) {
	ctx := context.Background()
	before := goleak.IgnoreCurrent() // the servers' output readers
	src := newSource(256)
	ks := keys(t, 300)
	var ins []*instance
	for i := range 3 {
		ins = append(ins, newInstance(t, fmt.Sprintf("app%d", i), newClient(), true, time.Second))
	}
	probeClient := newClient()
	probe, err := redisstore.New(probeClient, redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	ready := func(what string) {
		for _, in := range ins {
			waitFor(t, failoverBound, what, func() error {
				ctx, cancel := context.WithTimeout(ctx, time.Second)
				defer cancel()
				return in.bus.Ready(ctx)
			})
		}
	}
	ready("the buses track the masters")

	l := startLoad(t, src, ins, ks, 8)
	waitFor(t, failoverBound, "warm-up", func() error {
		if n := l.reads.Load(); n < 2000 {
			return fmt.Errorf("%d reads", n)
		}
		return nil
	})

	victim := ks[0]
	serves := func() error {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := probe.Get(ctx, victim)
		if errors.Is(err, hitbox.ErrMiss) {
			return nil
		}
		return err
	}
	if err := serves(); err != nil {
		t.Fatalf("L2 before the kill: %v", err)
	}
	l.resetWorst()
	killed := time.Now()
	kill(victim)
	l2Back := waitFor(t, failoverBound, "L2 serves the key again", serves)
	tierBack := waitFor(t, failoverBound, "every tier's L2 breaker closes", func() error {
		if _, _, _, _, open := l2Stats(ins); open > 0 {
			return fmt.Errorf("%d breakers open", open)
		}
		return nil
	}) + l2Back
	// Keep the load on a little past the recovery, then stop it.
	waitFor(t, failoverBound, "load after recovery", func() error {
		if time.Since(killed) < tierBack+time.Second {
			return errors.New("not yet")
		}
		return nil
	})
	l.Stop()
	opens, errs, skipped, _, _ := l2Stats(ins)
	t.Logf("after the kill: L2 serves the key in %v, every breaker closed in %v", l2Back.Round(time.Millisecond), tierBack.Round(time.Millisecond))
	t.Logf("load: %s", l)
	t.Logf("L2 breaker openings %d, L2 errors %d, calls skipped %d", opens, errs, skipped)
	l.checkReads(t)

	// The bus tracks the promoted master: B caches the key in L1, A
	// writes it, B's copy goes.
	rearm := waitFor(t, failoverBound, "the buses track the promoted master", func() error {
		for _, in := range ins {
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			err := in.bus.Ready(ctx)
			cancel()
			if err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("buses tracking again %v after the recovery", rearm.Round(time.Millisecond))
	a, b := ins[0], ins[1]
	if _, err := b.cache.GetOrLoad(ctx, victim, src.load(victim)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.l1.Get(ctx, victim); err != nil {
		t.Fatalf("B's L1 lacks the key it just read: %v", err)
	}
	if err := a.cache.Set(ctx, victim, src.bump(victim)); err != nil {
		t.Fatalf("a write after the failover: %v", err)
	}
	dropped := waitFor(t, 10*time.Second, "B's L1 copy dropped by the bus", func() error {
		if _, err := b.l1.Get(ctx, victim); !errors.Is(err, hitbox.ErrMiss) {
			return fmt.Errorf("still there (%v)", err)
		}
		return nil
	})
	t.Logf("a write on the promoted master dropped another instance's L1 copy in %v", dropped.Round(time.Millisecond))
	v, err := b.cache.GetOrLoad(ctx, victim, src.load(victim))
	if err != nil || v.Version != src.current(victim) {
		t.Fatalf("B after the write: version %d, %v; want %d", v.Version, err, src.current(victim))
	}

	for _, in := range ins {
		if err := in.Close(); err != nil {
			t.Error(err)
		}
	}
	_ = probe.Close()
	_ = probeClient.Close()
	verifyNone(t, before)
}
