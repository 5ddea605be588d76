package hitbox_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// announce is a layer that prints each Get on its way down and up, to show
// the order of a chain.
func announce(name string) hitbox.Layer {
	return func(next hitbox.Backend) hitbox.Backend {
		return announced{Backend: next, name: name}
	}
}

type announced struct {
	hitbox.Backend
	name string
}

func (a announced) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	fmt.Println(a.name, "down")
	e, err := a.Backend.Get(ctx, key)
	fmt.Println(a.name, "up")
	return e, err
}

// The first layer listed is the outermost: it sees a call first on the way
// down and its answer last on the way up.
func ExampleChain() {
	pipeline := hitbox.Chain(announce("outer"), announce("inner")).Then(mapstore.New(mapstore.Options{}))

	_, err := pipeline.Get(context.Background(), "k")
	fmt.Println(errors.Is(err, hitbox.ErrMiss))
	// Output:
	// outer down
	// inner down
	// inner up
	// outer up
	// true
}

func ExampleNewKey() {
	fmt.Println(hitbox.NewKey("users").Version(2).WithInt("id", 42).With("lang", "en"))
	// Output: users:v2:id=42:lang=en
}

func ExampleEntry_StateAt() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	e := hitbox.Entry{Value: []byte("v"), Stale: now.Add(time.Minute), Expire: now.Add(2 * time.Minute)}
	for _, d := range []time.Duration{0, time.Minute, 2 * time.Minute} {
		fmt.Println(e.StateAt(now.Add(d)))
	}
	// Output:
	// fresh
	// stale
	// expired
}

// Remove is a Delete that says whether there was anything to delete, as an
// HTTP purge needs to answer 404 for an absent entry. A backend without the
// Remover ability is asked with a Get and a Delete instead.
func ExampleRemove() {
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	_ = store.Set(ctx, "page:/home", hitbox.Entry{Value: []byte("<html>")})

	for _, key := range []string{"page:/home", "page:/home", "page:/never"} {
		removed, err := hitbox.Remove(ctx, store, key)
		fmt.Println(key, removed, err)
	}
	// Output:
	// page:/home true <nil>
	// page:/home false <nil>
	// page:/never false <nil>
}

// ClearPrefix clears one namespace of a store shared by several: here two
// tenants, each behind its own layer.Prefix-style key prefix.
func ExampleClearPrefix() {
	ctx := context.Background()
	store := mapstore.New(mapstore.Options{})
	for _, key := range []string{"tenant-1:a", "tenant-1:b", "tenant-2:a"} {
		_ = store.Set(ctx, key, hitbox.Entry{Value: []byte("v")})
	}

	err := hitbox.ClearPrefix(ctx, store, "tenant-1:")
	fmt.Println(err, store.Len())

	err = hitbox.ClearPrefix(ctx, store.Basic(), "tenant-2:") // no ability: no unsafe fallback
	fmt.Println(errors.Is(err, hitbox.ErrNotSupported), store.Len())
	// Output:
	// <nil> 1
	// true 1
}

// A store with a MaxTTL option caps each entry on Set.
func ExampleEntry_CapTTL() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, e := range []hitbox.Entry{
		{Value: []byte("no deadline")},
		{Value: []byte("a day"), Expire: now.Add(24 * time.Hour)},
		{Value: []byte("a second"), Expire: now.Add(time.Second)},
	} {
		fmt.Println(string(e.Value), e.CapTTL(now, time.Hour).TTL(now))
	}
	// Output:
	// no deadline 1h0m0s
	// a day 1h0m0s
	// a second 1s
}
