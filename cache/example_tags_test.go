package cache_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
)

// Tags name groups of entries, so one call drops them all, whatever their
// keys: here everything cached about user 42, in the pipeline and in the
// decoded-object front.
func Example_tags() {
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{}) // a store that keeps tags: a hitbox.Tagger
	users := cache.New[User](hitbox.Chain(layer.Encode()).Then(store), cache.Options{
		TTL:   time.Minute,
		Front: cache.Front[User]{MaxEntries: 1000},
	})
	defer users.Close()

	_ = users.Set(ctx, "users:42", User{ID: 42, Name: "Ada"}, cache.WithTags("user:42"))
	_ = users.Set(ctx, "users:43", User{ID: 43, Name: "Bob"}, cache.WithTags("user:43"))
	lead, _ := users.GetOrLoad(ctx, "teams:7:lead", func(ctx context.Context) (User, error) {
		return User{ID: 42, Name: "Ada"}, nil // the source
	}, cache.WithTags("user:42", "team:7"))
	fmt.Println(lead.Name)

	// User 42 changed: drop every entry about them.
	if err := users.InvalidateTags(ctx, "user:42"); err != nil {
		fmt.Println(err)
	}
	for _, key := range []string{"users:42", "teams:7:lead", "users:43"} {
		_, err := users.Get(ctx, key)
		fmt.Println(key, "miss:", errors.Is(err, hitbox.ErrMiss))
	}
	// Output:
	// Ada
	// users:42 miss: true
	// teams:7:lead miss: true
	// users:43 miss: false
}
