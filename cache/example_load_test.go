package cache_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// A front keeps decoded values in memory; a bus keeps it coherent with
// the writes of other instances.
func ExampleFront() {
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	bus := hitbox.NewLocalBus() // in production: a redisstore.TrackingBus
	defer bus.Close()
	users := cache.New[User](store, cache.Options{
		TTL:   time.Minute,
		Front: cache.Front[User]{MaxEntries: 10_000, Bus: bus},
	})
	defer users.Close()

	_ = users.Set(ctx, "u:1", User{ID: 1, Name: "Ada"})
	u, _ := users.Get(ctx, "u:1") // from the front: no decoding
	fmt.Println(u.Name)

	// Another instance writes the key and its invalidation arrives.
	other := cache.New[User](store, cache.Options{TTL: time.Minute})
	_ = other.Set(ctx, "u:1", User{ID: 1, Name: "Grace"})
	_ = bus.Publish(ctx, hitbox.Invalidation{Keys: []string{"u:1"}})
	u, _ = users.Get(ctx, "u:1")
	fmt.Println(u.Name)
	// Output:
	// Ada
	// Grace
}

// GetOrLoadMany asks the source once, for the keys the cache lacks; a key
// the source does not return is "not found", remembered for MissTTL.
func ExampleCache_GetOrLoadMany() {
	ctx := context.Background()
	users := cache.New[User](mapstore.New(mapstore.Options{}), cache.Options{TTL: time.Minute, MissTTL: 10 * time.Second})
	defer users.Close()
	_ = users.Set(ctx, "u:1", User{ID: 1, Name: "Ada"})

	load := func(_ context.Context, keys []string) (map[string]User, error) {
		fmt.Println("loading", keys)
		return map[string]User{"u:2": {ID: 2, Name: "Grace"}}, nil
	}
	for range 2 {
		got, _ := users.GetOrLoadMany(ctx, []string{"u:1", "u:2", "u:3"}, load)
		names := []string{}
		for _, u := range got {
			names = append(names, u.Name)
		}
		slices.Sort(names)
		fmt.Println(names)
	}
	_, err := users.Get(ctx, "u:3")
	fmt.Println(errors.Is(err, hitbox.ErrMiss))
	// Output:
	// loading [u:2 u:3]
	// [Ada Grace]
	// [Ada Grace]
	// true
}
