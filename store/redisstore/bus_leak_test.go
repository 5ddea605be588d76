package redisstore_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// TestBusCloseLeavesNoGoroutine checks that nothing a bus started outlives
// its Close: connections, readers, health checks, the dispatcher and, on a
// cluster, the topology watch. It does not run in parallel, so that the
// goroutines of other tests do not blur the count; TestMain checks the
// whole package again at the end.
func TestBusCloseLeavesNoGoroutine(t *testing.T) {
	srv, cl := redistest.Shared(t), redistest.SharedCluster(t) // started before the count
	for _, kind := range busKinds {
		t.Run(kind.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			clients := []redis.UniversalClient{redis.NewClient(srv.Options()), redis.NewClusterClient(cl.Options())}
			for _, rdb := range clients {
				bus := kind.new(t, rdb, redistest.Prefix(t), redisstore.BusOptions{})
				stop := bus.Subscribe(func(hitbox.Invalidation) {})
				if err := bus.Ready(context.Background()); err != nil {
					t.Fatal(err)
				}
				stop()
				if err := bus.Close(); err != nil {
					t.Fatal(err)
				}
				if err := rdb.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
