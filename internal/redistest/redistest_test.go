package redistest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/internal/redistest"
)

func TestMain(m *testing.M) {
	os.Exit(redistest.Main(m))
}

// TestServerKillRestart checks that a private server answers, fails once
// killed, and answers again on the same port after a restart, through the
// same client.
func TestServerKillRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)

	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("set: %v", err)
	}
	port := srv.Port

	srv.Kill()
	if err := rdb.Get(ctx, "k").Err(); err == nil || errors.Is(err, redis.Nil) {
		t.Fatalf("get on a killed server: got %v, want a connection error", err)
	}

	srv.Restart(t)
	if srv.Port != port {
		t.Fatalf("restart moved the port from %d to %d", port, srv.Port)
	}
	if err := rdb.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("get after restart: got %v, want redis.Nil (no persistence)", err)
	}
	if err := rdb.Set(ctx, "k", "v2", 0).Err(); err != nil {
		t.Fatalf("set after restart: %v", err)
	}

	srv.Stop()
	srv.Stop() // idempotent
}

// TestServersApart checks that two private servers get different ports.
func TestServersApart(t *testing.T) {
	t.Parallel()
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Addr == b.Addr {
		t.Fatalf("two servers share %s", a.Addr)
	}
}

// TestCluster checks that the shared cluster has three masters that cover
// every slot, and that keys in many slots can be written and read.
func TestCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.SharedCluster(t)
	if len(c.Addrs) != 3 {
		t.Fatalf("got %d nodes, want 3", len(c.Addrs))
	}
	rdb := c.Client(t)

	masters := 0
	err := rdb.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		info, err := n.ClusterInfo(ctx).Result()
		if err == nil && !strings.Contains(info, "cluster_state:ok") {
			err = fmt.Errorf("%s: not ok:\n%s", n.Options().Addr, info)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	shards, err := rdb.ClusterShards(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	slots := 0
	for _, s := range shards {
		masters++
		for _, r := range s.Slots {
			slots += int(r.End - r.Start + 1)
		}
	}
	if masters != 3 || slots != 16384 {
		t.Fatalf("got %d shards covering %d slots, want 3 covering 16384", masters, slots)
	}

	prefix := redistest.Prefix(t)
	for i := range 100 {
		k := fmt.Sprintf("%s%d", prefix, i)
		if err := rdb.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("set %s: %v", k, err)
		}
	}
	for i := range 100 {
		k := fmt.Sprintf("%s%d", prefix, i)
		if got, err := rdb.Get(ctx, k).Int(); err != nil || got != i {
			t.Fatalf("get %s: got %d, %v; want %d", k, got, err, i)
		}
	}
}

// TestShared checks that Shared hands every test the same server.
func TestShared(t *testing.T) {
	t.Parallel()
	a, b := redistest.Shared(t), redistest.Shared(t)
	if a != b {
		t.Fatal("Shared returned two servers")
	}
	if err := a.Client(t).Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestPrefix checks that prefixes differ per call and carry no hash tag or
// glob character.
func TestPrefix(t *testing.T) {
	t.Parallel()
	t.Run("with {braces} and *", func(t *testing.T) {
		a, b := redistest.Prefix(t), redistest.Prefix(t)
		if a == b {
			t.Fatalf("two prefixes are both %q", a)
		}
		if strings.ContainsAny(a, "{}*?[]\\") {
			t.Fatalf("prefix %q holds a hash tag or glob character", a)
		}
	})
}

// TestReplicatedClusterFailover checks that a replicated cluster has a
// replica per master, and that killing the master of a key promotes its
// replica, which then serves the key it had replicated.
func TestReplicatedClusterFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.StartReplicatedCluster(t)
	if len(c.Nodes) != 3 || len(c.Replicas) != 3 {
		t.Fatalf("got %d masters and %d replicas, want 3 and 3", len(c.Nodes), len(c.Replicas))
	}
	// go-redis reloads a cluster's topology on a MOVED reply or at this
	// interval (a minute by default), not when a master stops answering.
	opts := c.Options()
	opts.ClusterStateReloadInterval = 500 * time.Millisecond
	rdb := redis.NewClusterClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	old, err := c.MasterOf("k")
	if err != nil {
		t.Fatal(err)
	}
	// The replica must hold the key before its master dies.
	if err := old.Client(t).Do(ctx, "WAIT", 1, 5000).Err(); err != nil {
		t.Fatal(err)
	}

	old.Kill()
	c.WaitHealthy(t)
	now, err := c.MasterOf("k")
	if err != nil {
		t.Fatal(err)
	}
	if now == old {
		t.Fatalf("%s still serves k after it was killed", old.Addr)
	}
	// The client learns the new topology after its first failed calls.
	var got string
	err = poll(func() (err error) { got, err = rdb.Get(ctx, "k").Result(); return err })
	if err != nil || got != "v" {
		t.Fatalf("get k from the promoted replica: %q, %v", got, err)
	}
}

// TestSentinelFailover checks that the sentinels promote the replica when
// the master dies, and that a failover client follows them to it.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := redistest.StartSentinel(t)
	if addr, err := s.MasterAddr(); err != nil || addr != s.Master.Addr {
		t.Fatalf("sentinels see the master at %q (%v), want %s", addr, err, s.Master.Addr)
	}
	rdb := s.Client(t)
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(ctx, "WAIT", 1, 5000).Err(); err != nil {
		t.Fatal(err)
	}

	s.Master.Kill()
	var got string
	err := poll(func() error {
		addr, err := s.MasterAddr()
		if err == nil && addr != s.Replica.Addr {
			err = fmt.Errorf("master still at %s", addr)
		}
		if err == nil {
			got, err = rdb.Get(ctx, "k").Result()
		}
		return err
	})
	if err != nil || got != "v" {
		t.Fatalf("after the failover: %q, %v", got, err)
	}
}

// poll retries f until it succeeds or a minute has passed (a sentinel
// failover takes a few seconds; the bound only ends a hung test).
func poll(f func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond) // paces the retries; nothing is measured
	}
}

// TestReplicated checks that the replica of StartReplicated is in sync: a
// write on the master that WAIT says one replica acknowledged is on the
// replica.
func TestReplicated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := redistest.StartReplicated(t)
	var acked *redis.IntCmd
	_, err := r.Master.Client(t).Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "k", "v", 0)
		acked = redis.NewIntCmd(ctx, "wait", 1, 2000)
		return p.Process(ctx, acked)
	})
	if err != nil || acked.Val() != 1 {
		t.Fatalf("a write on the master: %v, %d replicas acknowledged; want 1", err, acked.Val())
	}
	if got, err := r.Replica.Client(t).Get(ctx, "k").Result(); got != "v" {
		t.Fatalf("the replica answers %q, %v; want %q", got, err, "v")
	}
}
