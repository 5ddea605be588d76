package tier_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/tier"
)

// newStore stands in for any backend: in production L2 would be Redis.
func newStore(label string) *memstore.Store {
	s, err := memstore.New(memstore.Options{Label: label, MaxBytes: 1 << 20, Shards: 1})
	if err != nil {
		panic(err)
	}
	return s
}

func Example() {
	ctx := context.Background()
	l1, l2 := newStore("memory"), newStore("redis")
	t := tier.New(l1, l2)
	defer t.Close()

	// Another instance put the entry in the shared L2.
	_ = l2.Set(ctx, "user:1", hitbox.Entry{Value: []byte("alice"), Expire: time.Now().Add(time.Hour)})

	for range 2 {
		tctx, src := hitbox.TrackAnswer(ctx)
		e, err := t.Get(tctx, "user:1")
		fmt.Println(string(e.Value), err, src.Path())
	}
	// Output:
	// alice <nil> tier.redis
	// alice <nil> tier.memory
}

func ExampleNewWith() {
	ctx := context.Background()
	l1, l2 := newStore("memory"), newStore("redis")
	t := tier.NewWith(tier.Options{
		Read:   tier.Parallel,                // ask both levels, keep the freshest
		MaxTTL: []time.Duration{time.Minute}, // an L1 copy lives at most a minute
	}, l1, l2)
	defer t.Close()

	expire := time.Now().Add(time.Hour)
	_ = l1.Set(ctx, "k", hitbox.Entry{Value: []byte("older"), Expire: expire.Add(-time.Minute)})
	_ = l2.Set(ctx, "k", hitbox.Entry{Value: []byte("newer"), Expire: expire})

	e, _ := t.Get(ctx, "k")
	copied, _ := l1.Get(ctx, "k")
	fmt.Println(string(e.Value), string(copied.Value), time.Until(copied.Expire) <= time.Minute)
	// Output: newer newer true
}

func ExampleLocalBus() {
	ctx := context.Background()
	shared := newStore("redis")
	bus := hitbox.NewLocalBus()
	// Two instances, each with its own L1, over one shared L2.
	a := tier.NewWith(tier.Options{Bus: bus}, newStore("memory"), shared)
	b := tier.NewWith(tier.Options{Bus: bus}, newStore("memory"), shared)
	defer a.Close() // closes shared too; closing it twice is harmless
	defer b.Close()

	expire := time.Now().Add(time.Hour)
	_ = a.Set(ctx, "k", hitbox.Entry{Value: []byte("v1"), Expire: expire})
	e, _ := b.Get(ctx, "k") // b now has v1 in its L1
	fmt.Println(string(e.Value))

	_ = a.Set(ctx, "k", hitbox.Entry{Value: []byte("v2"), Expire: expire})
	e, _ = b.Get(ctx, "k") // a's write dropped b's copy
	fmt.Println(string(e.Value))
	// Output:
	// v1
	// v2
}
