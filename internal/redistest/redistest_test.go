package redistest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox/internal/redistest"
)

func TestMain(m *testing.M) {
	code := redistest.Main(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
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
