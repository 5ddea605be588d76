package tier_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// TestTagsRedis is issue 12's end-to-end case: two instances, each a tier
// of memstore over one real Redis, joined by the Redis PubSubBus. A purge
// by tag on one drops the tagged entries from both L1s and from Redis, and
// leaves the others.
func TestTagsRedis(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := redistest.Prefix(t) + ":"
	channel := prefix + "bus"

	type instance struct {
		tr    *tier.Tier
		l1    *memstore.Store
		heard chan hitbox.Invalidation // what the tier's bus delivered, after the tier had it
	}
	start := func(id string) instance {
		rdb := srv.Client(t)
		l1, err := memstore.New(memstore.Options{Label: "memory", MaxBytes: 1 << 20, Shards: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l1.Close() }) // the tier closes it too; twice is harmless
		l2, err := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		bus, err := redisstore.NewPubSubBus(rdb, channel, redisstore.BusOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = bus.Close() })
		tr := tier.NewWith(tier.Options{Bus: bus, ID: id}, l1, l2)
		t.Cleanup(func() { _ = tr.Close() })
		// Subscribed after the tier, so it hears each message once the
		// tier has handled it.
		heard := make(chan hitbox.Invalidation, 64)
		stop := bus.Subscribe(func(inv hitbox.Invalidation) {
			inv.Keys, inv.Tags = slices.Clone(inv.Keys), slices.Clone(inv.Tags)
			heard <- inv
		})
		t.Cleanup(stop)
		// A subscription starts with Down until the bus is connected,
		// then the connection's All.
		inv := wait(ctx, t, heard)
		for inv.Down {
			inv = wait(ctx, t, heard)
		}
		if !inv.All {
			t.Fatalf("the first message after Down is %+v, want the connection's All", inv)
		}
		return instance{tr, l1, heard}
	}
	a, b := start("a"), start("b")
	shared, err := redisstore.New(srv.Client(t), redisstore.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}

	exp := time.Now().Add(time.Hour)
	for _, k := range []string{"p1", "p2"} {
		if err := a.tr.SetTagged(ctx, k, hitbox.Entry{Value: []byte(k), Expire: exp}, []string{"product:7"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.tr.Set(ctx, "plain", hitbox.Entry{Value: []byte("x"), Expire: exp}); err != nil {
		t.Fatal(err)
	}
	// B hears A's three writes before it reads, so none of them drops the
	// copies its reads make.
	for range 3 {
		wait(ctx, t, b.heard)
	}
	for _, k := range []string{"p1", "p2", "plain"} {
		if _, err := b.tr.Get(ctx, k); err != nil {
			t.Fatalf("B reads %s: %v", k, err)
		}
	}
	if _, tags, err := b.l1.GetTagged(ctx, "p1"); err != nil || !slices.Equal(tags, []string{"product:7"}) {
		t.Fatalf("B's L1 holds p1 with tags %q, %v; want [product:7]", tags, err)
	}

	if err := a.tr.InvalidateTags(ctx, "product:7"); err != nil {
		t.Fatal(err)
	}
	for {
		if inv := wait(ctx, t, b.heard); slices.Contains(inv.Tags, "product:7") {
			break // B has purged its L1
		}
	}
	for _, s := range []struct {
		name string
		b    hitbox.Backend
	}{{"A's L1", a.l1}, {"B's L1", b.l1}, {"Redis", shared}} {
		for _, k := range []string{"p1", "p2"} {
			if _, err := s.b.Get(ctx, k); !errors.Is(err, hitbox.ErrMiss) {
				t.Errorf("%s: Get %s after the purge = %v, want a miss", s.name, k, err)
			}
		}
		if _, err := s.b.Get(ctx, "plain"); err != nil {
			t.Errorf("%s lost the untagged entry: %v", s.name, err)
		}
	}
	for _, tr := range []*tier.Tier{a.tr, b.tr} {
		if _, err := tr.Get(ctx, "p1"); !errors.Is(err, hitbox.ErrMiss) {
			t.Errorf("tier %s reads p1 after the purge: %v", tr.ID(), err)
		}
	}
}

// wait returns the next message of heard, failing t when ctx ends first.
func wait(ctx context.Context, t *testing.T, heard <-chan hitbox.Invalidation) hitbox.Invalidation {
	t.Helper()
	select {
	case inv := <-heard:
		return inv
	case <-ctx.Done():
		t.Fatal("no bus message:", ctx.Err())
		return hitbox.Invalidation{}
	}
}
