package benchmarks

import (
	"os"
	"testing"

	"github.com/hitbox-go/hitbox/internal/redistest"
)

// TestMain runs the tests and benchmarks, stops the redis-server the Redis
// workloads started when no HITBOX_BENCH_REDIS was given, and checks that
// closing every contender stopped the goroutines it started (ristretto's
// and otter's workers, bigcache's cleaner, go-redis's pools).
func TestMain(m *testing.M) {
	os.Exit(redistest.Main(m))
}

// sanitySize is small, so `go test ./...` here stays quick while still
// spreading keys over every shard.
var sanitySize = size{name: "sanity", bytes: 100, keys: 500}

// TestRoundTrip fills each contender, checks every key reads back as its
// own value and every absent key as a miss, and then overwrites one key
// and reads the new value, so no benchmark figure comes from an adapter
// that does not really cache.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, ct := range byteContenders {
		t.Run("bytes/"+ct.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, ct, byteKind)
		})
	}
	for _, ct := range valueUsers {
		t.Run("user/"+ct.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, ct, userKind)
		})
	}
	for _, ct := range pointerUsers {
		t.Run("user/"+ct.name, func(t *testing.T) {
			t.Parallel()
			roundTrip(t, ct, pointerKind)
		})
	}
}

// roundTrip is one contender's check: openFilled verifies the fill, then
// key 0 takes key 1's value and must give it back.
func roundTrip[V any](t *testing.T, ct contender[V], k kind[V]) {
	c, d := openFilled(t, ct, sanitySize, k)
	defer c.close()
	if err := c.set(d.keys[0], k.value(d, 1)); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	c.settle()
	v, ok := c.get(d.keys[0])
	if !ok || !k.same(d, 1, v) {
		t.Fatalf("after an overwrite %s reads back ok=%v and not the new value", d.keys[0], ok)
	}
}
