package mapstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := mapstore.New(mapstore.Options{Now: func() time.Time { return now }})

	_ = s.Set(ctx, "greeting", hitbox.Entry{Value: []byte("hello"), Expire: now.Add(time.Minute)})
	e, _ := s.Get(ctx, "greeting")
	fmt.Println(string(e.Value), s.Len())

	now = now.Add(time.Minute) // the fake clock reaches Expire
	_, err := s.Get(ctx, "greeting")
	fmt.Println(errors.Is(err, hitbox.ErrMiss))

	// Basic hides the batch abilities, so GetMany loops over Get.
	_, isBatch := hitbox.Backend(s.Basic()).(hitbox.BatchGetter)
	fmt.Println(isBatch)
	// Output:
	// hello 1
	// true
	// false
}
