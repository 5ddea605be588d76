package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// The store keeps its entries on a server that expires them by its own
// clock, so the suite runs in real time; each backend it asks for gets a
// key prefix of its own on the shared server or cluster, and so does each
// sibling, which is how the suite checks that clearing one prefix leaves
// the others.

// TestConformance runs the backend contract on a single server, with the
// default size limit.
func TestConformance(t *testing.T) {
	t.Parallel()
	hitboxtest.TestBackend(t, func(t *testing.T, _ *hitboxtest.Clock) hitbox.Backend {
		s, _ := newStore(t, redisstore.Options{})
		return s
	}, hitboxtest.Options{RealTime: true, MaxValueSize: 4 << 20, Sibling: func(t *testing.T, _ hitbox.Backend) hitbox.Backend {
		s, _ := newStore(t, redisstore.Options{}) // the same server, a prefix of its own
		return s
	}})
}

// TestReadScriptConformance runs the backend contract on a single server
// with Options.ReadScript, whose reads go through a Lua script.
func TestReadScriptConformance(t *testing.T) {
	t.Parallel()
	hitboxtest.TestBackend(t, func(t *testing.T, _ *hitboxtest.Clock) hitbox.Backend {
		s, _ := newStore(t, redisstore.Options{ReadScript: true})
		return s
	}, hitboxtest.Options{RealTime: true, MaxValueSize: 4 << 20, Sibling: func(t *testing.T, _ hitbox.Backend) hitbox.Backend {
		s, _ := newStore(t, redisstore.Options{})
		return s
	}})
}

// TestClusterConformance runs the backend contract on a three-master
// cluster, with a 1 MiB size limit.
func TestClusterConformance(t *testing.T) {
	t.Parallel()
	hitboxtest.TestBackend(t, func(t *testing.T, _ *hitboxtest.Clock) hitbox.Backend {
		s, _ := newClusterStore(t, redisstore.Options{MaxValueSize: 1 << 20})
		return s
	}, hitboxtest.Options{RealTime: true, MaxValueSize: 1 << 20, Sibling: func(t *testing.T, _ hitbox.Backend) hitbox.Backend {
		s, _ := newClusterStore(t, redisstore.Options{MaxValueSize: 1 << 20})
		return s
	}})
}

// TestRingConformance runs the backend contract through a go-redis Ring of
// two servers, a client that routes each command by its first key: the
// store then cuts batches key by key and clears every shard.
func TestRingConformance(t *testing.T) {
	t.Parallel()
	shards := map[string]string{
		"shared":  redistest.Shared(t).Addr,
		"private": redistest.Start(t).Addr,
	}
	newRingStore := func(t *testing.T) *redisstore.Store {
		rdb := redis.NewRing(&redis.RingOptions{Addrs: shards, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = rdb.Close() })
		s, err := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(t)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hitboxtest.TestBackend(t, func(t *testing.T, _ *hitboxtest.Clock) hitbox.Backend {
		return newRingStore(t)
	}, hitboxtest.Options{RealTime: true, MaxValueSize: 4 << 20, Sibling: func(t *testing.T, _ hitbox.Backend) hitbox.Backend {
		return newRingStore(t)
	}})
}

// TestWaitConformance runs the backend contract on a master and replica
// with Options.WaitReplicas: every change waits for the replica's
// acknowledgement, and the contract holds as without it. The timeout is
// generous: the suite writes 4 MiB values from many goroutines, which a
// loaded machine may take longer than the default to replicate.
func TestWaitConformance(t *testing.T) {
	t.Parallel()
	r := redistest.StartReplicated(t)
	newWaitStore := func(t *testing.T) hitbox.Backend {
		s, err := redisstore.New(r.Master.Client(t), redisstore.Options{Prefix: redistest.Prefix(t), WaitReplicas: 1, WaitTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hitboxtest.TestBackend(t, func(t *testing.T, _ *hitboxtest.Clock) hitbox.Backend {
		return newWaitStore(t)
	}, hitboxtest.Options{RealTime: true, MaxValueSize: 4 << 20, Sibling: func(t *testing.T, _ hitbox.Backend) hitbox.Backend {
		return newWaitStore(t)
	}})
}
