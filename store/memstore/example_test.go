package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/memstore"
)

func Example() {
	ctx := context.Background()
	store, err := memstore.New(memstore.Options{MaxBytes: 16 << 20})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	err = store.Set(ctx, "greeting", hitbox.Entry{
		Value:  []byte("hello"),
		Expire: time.Now().Add(time.Minute),
	})
	if err != nil {
		panic(err)
	}
	e, err := store.Get(ctx, "greeting")
	fmt.Println(string(e.Value), err)

	_, err = store.Get(ctx, "absent")
	fmt.Println(errors.Is(err, hitbox.ErrMiss), err)
	// Output:
	// hello <nil>
	// true memory get: hitbox: miss
}

// A fake clock shows an entry disappearing at its Expire.
func ExampleOptions_now() {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	store, err := memstore.New(memstore.Options{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	_ = store.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: now.Add(time.Second)})
	_, err = store.Get(ctx, "k")
	fmt.Println("before Expire:", err)
	now = now.Add(time.Second)
	_, err = store.Get(ctx, "k")
	fmt.Println("at Expire:", errors.Is(err, hitbox.ErrMiss))
	// Output:
	// before Expire: <nil>
	// at Expire: true
}

// A value over MaxValueSize is refused with an error naming the limit.
func ExampleOptions_maxValueSize() {
	store, err := memstore.New(memstore.Options{MaxValueSize: 1024})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	err = store.Set(context.Background(), "big", hitbox.Entry{Value: make([]byte, 2048)})
	fmt.Println(errors.Is(err, hitbox.ErrTooLarge))
	fmt.Println(err)
	// Output:
	// true
	// memory set: hitbox: value of 2048 bytes exceeds the limit of 1024 bytes
}

// Tags group entries so one call drops them all: here every entry about
// user 42.
func ExampleStore_InvalidateTags() {
	ctx := context.Background()
	store, err := memstore.New(memstore.Options{})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	_ = store.SetTagged(ctx, "profile:42", hitbox.Entry{Value: []byte("Ada")}, []string{"user:42"})
	_ = store.Set(ctx, "motd", hitbox.Entry{Value: []byte("hello")})
	_ = store.SetTagged(ctx, "orders:42", hitbox.Entry{Value: []byte("3 orders")}, []string{"user:42", "orders"})
	err = store.InvalidateTags(ctx, "user:42")
	fmt.Println(err)

	_, err = store.Get(ctx, "orders:42")
	fmt.Println(errors.Is(err, hitbox.ErrMiss))
	e, tags, err := store.GetTagged(ctx, "motd")
	fmt.Println(string(e.Value), tags, err)
	// Output:
	// <nil>
	// true
	// hello [] <nil>
}
