package redisstore_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// TestMain shares one server and one cluster between the package's tests
// (each test keeps to its own key prefix), stops them after the last test,
// and then checks that no goroutine outlived its test: every client is
// closed at its test's cleanup.
func TestMain(m *testing.M) {
	os.Exit(redistest.Main(m))
}

// newStore returns a store on the shared server under a prefix of t's own,
// and a client to look at the server with.
func newStore(t testing.TB, opts redisstore.Options) (*redisstore.Store, *redis.Client) {
	t.Helper()
	rdb := redistest.Shared(t).Client(t)
	if opts.Prefix == "" {
		opts.Prefix = redistest.Prefix(t)
	}
	s, err := redisstore.New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, rdb
}

// newClusterStore is newStore on the shared cluster.
func newClusterStore(t testing.TB, opts redisstore.Options) (*redisstore.Store, *redis.ClusterClient) {
	t.Helper()
	rdb := redistest.SharedCluster(t).Client(t)
	if opts.Prefix == "" {
		opts.Prefix = redistest.Prefix(t)
	}
	s, err := redisstore.New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, rdb
}

// clock is a settable clock for Options.Now.
type clock = hitboxtest.Clock

func newClock() *clock { return hitboxtest.NewClock(time.Now()) }

// recorder is a go-redis hook that keeps the arguments of every command
// sent, so tests can check what the store asked of Redis.
type recorder struct {
	mu   sync.Mutex
	cmds [][]any
}

func (r *recorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *recorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.add(cmd)
		return next(ctx, cmd)
	}
}

func (r *recorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			r.add(c)
		}
		return next(ctx, cmds)
	}
}

func (r *recorder) add(cmd redis.Cmder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, append([]any(nil), cmd.Args()...))
}

// last returns the arguments of the last command named name.
func (r *recorder) last(name string) []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.cmds) - 1; i >= 0; i-- {
		if n, _ := r.cmds[i][0].(string); n == name {
			return r.cmds[i]
		}
	}
	return nil
}

// count returns how many commands named name were sent.
func (r *recorder) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.cmds {
		if s, _ := c[0].(string); s == name {
			n++
		}
	}
	return n
}
