package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/layer"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// A store on a single Redis server, at the end of a pipeline. The client is
// the caller's: the store uses it and leaves closing it to whoever created
// it. The package doc shows this example. (It needs a server, so it is
// compiled but not run by go test.)
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(redisstore.ClientOptions("localhost:6379")) // short timeouts, no retries
	defer rdb.Close()                                                  // the store does not own the client

	store, err := redisstore.New(rdb, redisstore.Options{Prefix: "myapp:cache:"})
	if err != nil {
		log.Fatal(err)
	}
	pipeline := hitbox.Chain(layer.Encode()).Then(store)

	err = pipeline.Set(ctx, "greeting", hitbox.Entry{
		Value:  []byte("hello"),
		Expire: time.Now().Add(10 * time.Minute), // sent as PX 600000
	})
	if err != nil {
		log.Fatal(err)
	}
	e, err := pipeline.Get(ctx, "greeting")
	switch {
	case errors.Is(err, hitbox.ErrMiss):
		fmt.Println("not cached")
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Printf("%s, for %v more\n", e.Value, e.TTL(time.Now()).Round(time.Minute))
	}
}

// A store on a Redis Cluster. Its keys spread over every master; batches
// are grouped by hash slot, one round trip per node. (Compiled, not run.)
func Example_cluster() {
	ctx := context.Background()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{"node1:6379", "node2:6379", "node3:6379"},
		ContextTimeoutEnabled: true,
	})
	defer rdb.Close()

	// No braces in the prefix: a "{...}" would put every key on one node.
	store, err := redisstore.New(rdb, redisstore.Options{Prefix: "myapp:", MaxTTL: 24 * time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	results, err := store.GetMany(ctx, []string{"user:1", "user:2", "user:3"})
	if err != nil {
		log.Fatal(err) // the whole batch failed
	}
	for _, r := range results {
		fmt.Println(len(r.Entry.Value), r.Err)
	}
}

// A store behind Sentinel whose changes return nil only once a replica
// has them, so a failover does not lose them; a change no replica
// acknowledges in time fails with ErrNotReplicated. (Compiled, not run.)
func Example_waitReplicas() {
	ctx := context.Background()
	o := redisstore.ClientOptions("")
	failoverClient := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    "mymaster",
		SentinelAddrs: []string{"sentinel1:26379", "sentinel2:26379", "sentinel3:26379"},
		ReadTimeout:   o.ReadTimeout, WriteTimeout: o.WriteTimeout, DialTimeout: o.DialTimeout,
		PoolTimeout: o.PoolTimeout, MaxRetries: o.MaxRetries, ContextTimeoutEnabled: true,
	})
	defer failoverClient.Close()

	store, err := redisstore.New(failoverClient, redisstore.Options{Prefix: "myapp:cache:", WaitReplicas: 1})
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Delete(ctx, "user:1"); errors.Is(err, redisstore.ErrNotReplicated) {
		log.Print("the delete reached no replica in time; retry it") // made on the master, not yet safe
	}
}

// An outage is an error apart from a miss: here nothing listens on the
// port, so the store reports hitbox.ErrUnavailable, with the operation and
// the store's label.
func Example_unavailable() {
	rdb := redis.NewClient(&redis.Options{
		Addr:          "127.0.0.1:1", // nothing listens here
		DialerRetries: 1,
		MaxRetries:    -1,
	})
	defer rdb.Close()
	store, err := redisstore.New(rdb, redisstore.Options{Label: "l2"})
	if err != nil {
		log.Fatal(err)
	}

	_, err = store.Get(context.Background(), "k")
	var he *hitbox.Error
	errors.As(err, &he)
	fmt.Println("unavailable:", errors.Is(err, hitbox.ErrUnavailable))
	fmt.Println("miss:", errors.Is(err, hitbox.ErrMiss))
	fmt.Println("failed:", he.Backend, he.Op)
	// Output:
	// unavailable: true
	// miss: false
	// failed: l2 get
}

// Clear removes only the keys under the store's prefix, so a store without
// one refuses to clear rather than empty a database others may share.
func ExampleStore_Clear() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	store, err := redisstore.New(rdb, redisstore.Options{}) // no Prefix
	if err != nil {
		log.Fatal(err)
	}
	err = store.Clear(context.Background()) // refused before reaching the server
	fmt.Println(errors.Is(err, hitbox.ErrNotSupported))
	// Output: true
}

// Tags group entries so one call drops them all, on every server of a
// cluster: here everything about user 42. (Compiled, not run.)
func ExampleStore_InvalidateTags() {
	ctx := context.Background()
	rdb := redis.NewClient(redisstore.ClientOptions("localhost:6379"))
	defer rdb.Close()
	store, err := redisstore.New(rdb, redisstore.Options{Prefix: "myapp:cache:"})
	if err != nil {
		log.Fatal(err)
	}

	err = store.SetTagged(ctx, "profile:42", hitbox.Entry{Value: []byte("Ada")}, []string{"user:42"})
	if err != nil {
		log.Fatal(err)
	}
	err = store.SetTagged(ctx, "orders:42", hitbox.Entry{Value: []byte("3 orders")}, []string{"user:42", "orders"})
	err = store.InvalidateTags(ctx, "user:42")
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.Get(ctx, "orders:42")
	fmt.Println(errors.Is(err, hitbox.ErrMiss)) // true
}
