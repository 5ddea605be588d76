package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// TestTrackingForeignWrites checks what only server-assisted tracking can
// do: a write by a client that is not hitbox at all, under the store's
// prefix, drops every process's L1 copy.
func TestTrackingForeignWrites(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t).Client(t)
	prefix := redistest.Prefix(t)
	a, b := newPair(t, busKinds[0], rdb, func(o *procOptions) { o.prefix = prefix })
	other := redistest.Shared(t).Client(t)
	ctx := context.Background()
	cases := []struct {
		name  string
		write func(key string) error
	}{
		{"SET by another client", func(key string) error { return other.Set(ctx, prefix+key, "x", 0).Err() }},
		{"DEL by another client", func(key string) error { return other.Del(ctx, prefix+key).Err() }},
		{"PEXPIRE by another client", func(key string) error { return other.PExpire(ctx, prefix+key, time.Millisecond).Err() }},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := "k" + strconv.Itoa(i)
			warm(t, a, b, key, "v")
			a.obs.waitKey(t, key) // A's echo of its own write, so the next one is the foreign write's
			wantL1(t, a, key, "v")
			if err := c.write(key); err != nil {
				t.Fatal(err)
			}
			a.obs.waitKey(t, key)
			b.obs.waitKey(t, key)
			wantL1(t, a, key, "")
			wantL1(t, b, key, "")
		})
	}
}

// TestTrackingPrefix checks that the bus reports keys under its prefix
// only, and without the prefix, and several keys of one command together.
func TestTrackingPrefix(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t).Client(t)
	prefix := redistest.Prefix(t)
	bus := busKinds[0].new(t, rdb, prefix, redisstore.BusOptions{HealthCheck: testHealthCheck})
	obs := observe(bus)
	defer obs.stop()
	ctx := context.Background()
	if err := bus.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	obs.waitAll(t)
	other := redistest.Prefix(t) // another test's keys, as it were
	if err := rdb.Set(ctx, other+"x", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, prefix[:len(prefix)-1], "1", 0).Err(); err != nil { // the prefix less its last byte
		t.Fatal(err)
	}
	if err := rdb.MSet(ctx, prefix+"y", "1", prefix+"z", "2").Err(); err != nil {
		t.Fatal(err)
	}
	inv := obs.next(t)
	slices.Sort(inv.Keys)
	if inv.All || inv.Origin != "" || !slices.Equal(inv.Keys, []string{"y", "z"}) {
		t.Fatalf("got %+v, want keys y and z only", inv)
	}
}

// TestTrackingFlush checks that a flush of the database, which tracking
// reports with no key list, clears every L1, and that tracking goes on
// afterwards.
func TestTrackingFlush(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t) // FLUSHDB: never on the shared server
	rdb := srv.Client(t)
	a, b := newPair(t, busKinds[0], rdb, nil)
	warm(t, a, b, "k", "v")
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	a.obs.waitAll(t)
	b.obs.waitAll(t)
	wantL1(t, a, "k", "")
	wantL1(t, b, "k", "")
	wantGet(t, b, "k", "")
	warm(t, a, b, "k", "after")
}

// TestTrackingRefused checks that a server refusing CLIENT TRACKING (here
// through an ACL, as a managed service might) leaves the bus not ready,
// with the server's reply in Ready's error and in the log.
func TestTrackingRefused(t *testing.T) {
	t.Parallel()
	srv := redistest.Shared(t)
	admin := srv.Client(t)
	user := "notrack:" + redistest.Prefix(t)
	ctx := context.Background()
	if err := admin.Do(ctx, "acl", "setuser", user, "on", ">pw", "~*", "&*", "+@all", "-client|tracking").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Do(context.Background(), "acl", "deluser", user).Err() })
	opts := srv.Options()
	opts.Username, opts.Password = user, "pw"
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })

	logs := newLogSink()
	bus := busKinds[0].new(t, rdb, redistest.Prefix(t), redisstore.BusOptions{Logger: logs.logger()})
	// A bus that cannot track says Down at Subscribe, and nothing after.
	var mu sync.Mutex
	var got []hitbox.Invalidation
	stop := bus.Subscribe(func(inv hitbox.Invalidation) {
		mu.Lock()
		got = append(got, inv)
		mu.Unlock()
	})
	defer func() {
		if err := redisstore.FlushBus(ctx, bus); err != nil {
			t.Error(err)
		}
		stop()
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 1 || !got[0].Down {
			t.Errorf("got %+v from a bus that cannot track, want one Down", got)
		}
	}()
	rec := logs.wait(t, "cannot subscribe")
	if err, _ := rec["err"].(error); !isNoPerm(err) {
		t.Fatalf("logged %v, want the server's NOPERM", rec["err"])
	}
	done, cancel := context.WithCancel(ctx)
	cancel() // Ready must not wait: the reason is known
	err := bus.Ready(done)
	if !errors.Is(err, context.Canceled) || !isNoPerm(err) {
		t.Fatalf("Ready = %v, want the cancellation and the server's NOPERM", err)
	}
	var he *hitbox.Error
	if !errors.As(err, &he) || he.Backend != "redis-tracking" {
		t.Fatalf("Ready = %v, want a *hitbox.Error naming the bus", err)
	}
}

func isNoPerm(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply) && strings.HasPrefix(reply.Error(), "NOPERM")
}

// TestTrackingCluster checks the bus over a Redis Cluster: one tracking
// connection per master, so writes on every node reach the other process.
func TestTrackingCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.SharedCluster(t)
	rdb := cl.Client(t)
	a, b := newPair(t, busKinds[0], rdb, nil)
	ctx := context.Background()
	// Twenty keys land on all three masters.
	for i := range 20 {
		key := fmt.Sprintf("k%d", i)
		warm(t, a, b, key, "old")
	}
	for i := range 20 {
		key := fmt.Sprintf("k%d", i)
		set(t, a, key, "new")
		b.obs.waitKey(t, key)
		wantGet(t, b, key, "new")
	}
	if err := a.t.Delete(ctx, "k0"); err != nil {
		t.Fatal(err)
	}
	b.obs.waitKey(t, "k0")
	wantL1(t, b, "k0", "")
}

// TestTrackingRing checks the bus over a Ring: one tracking connection per
// shard.
func TestTrackingRing(t *testing.T) {
	t.Parallel()
	rdb := redis.NewRing(&redis.RingOptions{
		Addrs:                 map[string]string{"shared": redistest.Shared(t).Addr, "private": redistest.Start(t).Addr},
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	a, b := newPair(t, busKinds[0], rdb, nil)
	for i := range 10 {
		key := fmt.Sprintf("k%d", i)
		warm(t, a, b, key, "old")
		set(t, a, key, "new")
		b.obs.waitKey(t, key)
		wantGet(t, b, key, "new")
	}
}

// TestTrackingTopology checks that a bus over a Ring (as over a cluster)
// starts tracking a shard added after it started, with an All since it
// missed that shard's earlier writes, and stops tracking one removed.
func TestTrackingTopology(t *testing.T) {
	t.Parallel()
	first, second := redistest.Shared(t).Addr, redistest.Start(t).Addr
	rdb := redis.NewRing(&redis.RingOptions{
		Addrs:                 map[string]string{"first": first},
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	logs := newLogSink()
	a, b := newPair(t, busKinds[0], rdb, func(o *procOptions) {
		o.bus.Topology = 10 * time.Millisecond
		o.bus.Logger = logs.logger()
	})

	rdb.SetAddrs(map[string]string{"first": first, "second": second})
	a.obs.waitAll(t)
	b.obs.waitAll(t)
	a.sync(t)
	b.sync(t)
	for i := range 10 { // some land on the second shard
		key := fmt.Sprintf("k%d", i)
		warm(t, a, b, key, "old")
		set(t, a, key, "new")
		b.obs.waitKey(t, key)
		wantGet(t, b, key, "new")
	}

	rdb.SetAddrs(map[string]string{"second": second})
	if rec := logs.wait(t, "stops tracking"); rec["server"] != first {
		t.Fatalf("stopped tracking %v, want %s", rec["server"], first)
	}
}
