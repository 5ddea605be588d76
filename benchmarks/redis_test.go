package benchmarks

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// redisEnv names the environment variable holding the host:port of the
// Redis server the Redis workloads use (cmd/report sets it). Unset, they
// start their own through internal/redistest, or skip when redis-server
// is not installed.
const redisEnv = "HITBOX_BENCH_REDIS"

// redisAddr returns the address of the server the workloads use.
func redisAddr(tb testing.TB) string {
	tb.Helper()
	if addr := os.Getenv(redisEnv); addr != "" {
		return addr
	}
	return redistest.Shared(tb).Addr
}

// prefixes numbers the key prefixes, so contenders sharing the server
// (and runs of the same contender under -count) never read each other's
// keys.
var prefixes atomic.Uint64

// redisPrefix returns a key prefix unique to this process and call.
func redisPrefix(name string) string {
	return fmt.Sprintf("bench:%d:%s:%d:", os.Getpid(), name, prefixes.Add(1))
}

// hitboxClient is the client hitbox's documentation starts from:
// redisstore.ClientOptions (short timeouts, no retries).
func hitboxClient(addr string) *redis.Client {
	return redis.NewClient(redisstore.ClientOptions(addr))
}

// plainClient is the client go-redis/cache's documentation shows:
// go-redis's defaults for the address.
func plainClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr})
}

// dropKeys deletes every key under prefix, so a finished contender leaves
// the server's memory to the next one.
func dropKeys(c *redis.Client, prefix string) {
	ctx := context.Background()
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return
		}
		if len(keys) > 0 {
			c.Unlink(ctx, keys...)
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}
