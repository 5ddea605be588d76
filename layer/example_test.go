package layer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
)

// A pipeline bounds each call, puts the key in a namespace, compresses the
// value, packs it with its deadlines into one envelope, and stores that; a
// read undoes every step. The package doc shows this example.
func Example() {
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	pipeline := hitbox.Chain(
		layer.Timeout(50*time.Millisecond), // bounds each call below
		layer.Prefix("users:"),             // one namespace of a shared store
		layer.Compress(codec.Zstd()),       // values of 192 B and more
		layer.Encode(),                     // value and both deadlines in one checked envelope
	).Then(store)

	expire := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	value := []byte(strings.Repeat(`{"id":42,"name":"a user"},`, 40))
	if err := pipeline.Set(ctx, "42", hitbox.Entry{Value: value, Expire: expire, Stale: expire.Add(-time.Hour)}); err != nil {
		fmt.Println(err)
		return
	}
	e, err := pipeline.Get(ctx, "42")
	if err != nil {
		fmt.Println(err)
		return
	}
	below, _ := store.Get(ctx, "users:42")
	fmt.Println("same value:", string(e.Value) == string(value))
	fmt.Println("stale at:", e.Stale.UTC())
	fmt.Println("smaller in the store:", len(below.Value) < len(value))
	// Output:
	// same value: true
	// stale at: 2099-12-31 23:00:00 +0000 UTC
	// smaller in the store: true
}

// Bytes the pipeline did not write are reported as corrupt, and removed.
func ExampleEncode() {
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	pipeline := layer.Encode()(store)

	_ = store.Set(ctx, "k", hitbox.Entry{Value: []byte("written by something else")})
	_, err := pipeline.Get(ctx, "k")
	fmt.Println(errors.Is(err, hitbox.ErrCorrupt))
	_, err = pipeline.Get(ctx, "k")
	fmt.Println(errors.Is(err, hitbox.ErrMiss))
	// Output:
	// true
	// true
}

// Two caches share one store without seeing each other's keys.
func ExamplePrefix() {
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	users := layer.Prefix("users:")(store)
	orders := layer.Prefix("orders:")(store)

	_ = users.Set(ctx, "42", hitbox.Entry{Value: []byte("a user")})
	_ = orders.Set(ctx, "42", hitbox.Entry{Value: []byte("an order")})
	u, _ := store.Get(ctx, "users:42")
	o, _ := store.Get(ctx, "orders:42")
	fmt.Println(string(u.Value), "/", string(o.Value))
	// Output:
	// a user / an order
}

// A pipeline that once compressed with snappy reads its old values after
// moving to zstd: each value names the compressor that wrote it.
func ExampleCompress() {
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	value := []byte(strings.Repeat("hello, world. ", 50))

	before := layer.Compress(codec.Snappy())(store)
	_ = before.Set(ctx, "greeting", hitbox.Entry{Value: value})

	after := layer.Compress(codec.Zstd())(store)
	e, err := after.Get(ctx, "greeting")
	fmt.Println(string(e.Value) == string(value), err)
	// Output:
	// true <nil>
}
