package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// The card's pipeline: metrics outermost, then compression and encoding,
// ending in a tier of an in-process L1 over a Redis L2. The README shows
// this example; it needs a Redis server, so it is compiled but not run.
func Example_pipeline() {
	ctx := context.Background()
	l1, err := memstore.New(memstore.Options{MaxBytes: 256 << 20})
	if err != nil {
		panic(err)
	}
	client := redis.NewClient(redisstore.ClientOptions("localhost:6379")) // short timeouts, no retries
	l2, err := redisstore.New(client, redisstore.Options{Prefix: "app:"})
	if err != nil {
		panic(err)
	}

	pipeline := hitbox.Chain(
		hitboxotel.Metrics(),
		layer.Compress(codec.Zstd()),
		layer.Encode(),
	).Then(tier.New(l1, l2))
	defer hitbox.Close(pipeline)

	users := cache.New[User](pipeline, cache.Options{Format: codec.CBOR(), TTL: time.Minute})
	defer users.Close()

	key := hitbox.NewKey("users").WithInt("id", 42).String()
	u, err := users.GetOrLoad(ctx, key, func(ctx context.Context) (User, error) {
		return User{ID: 42, Name: "Ada"}, nil // the source: a database, a service
	})
	fmt.Println(u.Name, err)
}

// The same shape runs anywhere: here both levels are in-process stores.
func Example_tier() {
	ctx := context.Background()
	l1, _ := memstore.New(memstore.Options{Label: "l1"})
	l2, _ := memstore.New(memstore.Options{Label: "l2"})
	pipeline := hitbox.Chain(layer.Compress(codec.Zstd()), layer.Encode()).Then(tier.New(l1, l2))
	defer hitbox.Close(pipeline) // closes the tier, which closes its levels

	users := cache.New[User](pipeline, cache.Options{Format: codec.CBOR(), TTL: time.Minute})
	defer users.Close()
	key := hitbox.NewKey("users").WithInt("id", 7).String()
	_ = users.Set(ctx, key, User{ID: 7, Name: "Grace"})
	_ = l1.Delete(ctx, key) // L1 loses it; L2 still has it

	for range 2 {
		tctx, src := hitbox.TrackAnswer(ctx)
		u, err := users.Get(tctx, key)
		fmt.Println(u.Name, err, "from", src.Path())
	}
	// Output:
	// Grace <nil> from tier.l2
	// Grace <nil> from tier.l1
}

// database stands for the source of truth a cache sits in front of.
type database struct{}

func (database) User(_ context.Context, id int) (User, error) {
	return User{ID: id, Name: "Ada"}, nil
}

var db database

// A typed cache over a pipeline of an in-process store: the package doc
// shows this example.
func Example() {
	ctx := context.Background()
	store, _ := memstore.New(memstore.Options{MaxBytes: 256 << 20})
	pipeline := hitbox.Chain(
		layer.Compress(codec.Zstd()),
		layer.Encode(),
	).Then(store)

	users := cache.New[User](pipeline, cache.Options{
		Format:   codec.CBOR(),
		TTL:      time.Minute,
		StaleFor: 10 * time.Second,
	})
	u, err := users.GetOrLoad(ctx, hitbox.NewKey("users").WithInt("id", 42).String(),
		func(ctx context.Context) (User, error) { return db.User(ctx, 42) })
	fmt.Println(u.Name, err)

	users.Close()
	_ = hitbox.Close(pipeline)
	// Output: Ada <nil>
}
