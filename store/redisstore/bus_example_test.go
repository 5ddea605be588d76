package redisstore_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// A tier of an in-process L1 over a Redis L2, kept coherent with every
// other process's L1 by Redis's own tracking: a write to a key under the
// prefix, by any client, drops every copy. (This example needs a server,
// so it is compiled but not run by go test.)
func ExampleNewTrackingBus() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()

	const prefix = "myapp:cache:"
	l2, err := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	if err != nil {
		log.Fatal(err)
	}
	bus, err := redisstore.NewTrackingBus(rdb, prefix, redisstore.BusOptions{}) // the store's prefix
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close() // after the tier's Close, which unsubscribes
	l1, err := memstore.New(memstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	cache := tier.NewWith(tier.Options{
		Bus: bus,
		// This process's own writes come back from Redis as well: let the
		// tier keep the copies it has just written.
		OwnWrites: time.Second,
		// However coherent, an L1 copy lives a minute at most.
		MaxTTL: []time.Duration{time.Minute},
	}, l1, l2)
	defer cache.Close()

	err = cache.Set(ctx, "user:42", hitbox.Entry{Value: []byte("Ada"), Expire: time.Now().Add(time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
}

// Where the server may refuse CLIENT TRACKING (some managed services do),
// try it at start and fall back to a pub/sub channel when Redis says no.
// (Compiled, not run.)
func ExampleNewPubSubBus() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()

	const prefix = "myapp:cache:"
	var bus hitbox.Bus
	tracking, err := redisstore.NewTrackingBus(rdb, prefix, redisstore.BusOptions{})
	if err != nil {
		log.Fatal(err)
	}
	readyCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	err = tracking.Ready(readyCtx)
	cancel()
	var refused redis.Error
	if errors.As(err, &refused) { // the server answered, and it was no
		_ = tracking.Close()
		pubsub, err := redisstore.NewPubSubBus(rdb, prefix+"invalidate", redisstore.BusOptions{})
		if err != nil {
			log.Fatal(err)
		}
		defer pubsub.Close()
		bus = pubsub
	} else {
		defer tracking.Close() // ready, or Redis not reachable yet: it keeps trying
		bus = tracking
	}

	l2, err := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	if err != nil {
		log.Fatal(err)
	}
	l1, err := memstore.New(memstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// OwnWrites matters to the tracking bus only; pub/sub messages carry
	// the writer's ID.
	cache := tier.NewWith(tier.Options{Bus: bus, OwnWrites: time.Second}, l1, l2)
	defer cache.Close()
}
