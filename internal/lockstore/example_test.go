package lockstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/lockstore"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

func Example() {
	ctx := context.Background()
	s := lockstore.New(mapstore.New(mapstore.Options{}))
	l, err := hitbox.TryLock(ctx, s, "k", time.Second)
	fmt.Println(err, l.Unlock(ctx), s.Locked())
	// Output:
	// <nil> <nil> [k]
}
