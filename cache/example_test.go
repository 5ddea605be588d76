package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

type User struct {
	ID   int
	Name string
}

func ExampleCache_GetOrLoad() {
	ctx := context.Background()
	users := cache.New[User](mapstore.New(mapstore.Options{}), cache.Options{TTL: time.Minute})
	defer users.Close()

	load := func(ctx context.Context) (User, error) {
		fmt.Println("loading from the source")
		return User{ID: 42, Name: "Ada"}, nil
	}
	key := hitbox.NewKey("users").WithInt("id", 42).String()
	for range 2 {
		u, err := users.GetOrLoad(ctx, key, load)
		fmt.Println(u.Name, err)
	}
	// Output:
	// loading from the source
	// Ada <nil>
	// Ada <nil>
}
