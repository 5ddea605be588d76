package hitbox_test

import (
	"context"
	"fmt"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// A pipeline of an in-process store, used as a Backend directly: the
// package doc shows this example. Applications usually put a typed cache
// (package cache) over it.
func Example() {
	ctx := context.Background()
	store, _ := memstore.New(memstore.Options{MaxBytes: 256 << 20})
	pipeline := hitbox.Chain(
		layer.Compress(codec.Zstd()),
		layer.Encode(),
	).Then(store)
	_ = pipeline.Set(ctx, "users:id=42", hitbox.Entry{Value: []byte("Ada")})
	e, err := pipeline.Get(ctx, "users:id=42")
	fmt.Println(string(e.Value), err)

	_ = hitbox.Close(pipeline)
	// Output: Ada <nil>
}
