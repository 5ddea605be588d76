package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// TestPubSubForeignMessages checks how the bus takes messages it did not
// publish: a well-formed one from another publisher drops its keys; an
// unreadable one, which may have meant anything, clears every L1.
func TestPubSubForeignMessages(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t).Client(t)
	prefix := redistest.Prefix(t)
	channel := prefix + "invalidate" // as busKinds names it
	a, b := newPair(t, busKinds[1], rdb, func(o *procOptions) { o.prefix = prefix })
	ctx := context.Background()

	other, err := redisstore.NewPubSubBus(rdb, channel, redisstore.BusOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	warm(t, a, b, "k", "v")
	if err := other.Publish(ctx, hitbox.Invalidation{Origin: "c", Keys: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	if inv := b.obs.waitKey(t, "k"); inv.All || inv.Origin != "c" {
		t.Fatalf("got %+v, want k from c", inv)
	}
	wantL1(t, b, "k", "")

	warm(t, a, b, "k", "v2")
	for _, junk := range []string{"", "garbage", "\x02\x00\x00\x00"} {
		if err := rdb.Publish(ctx, channel, junk).Err(); err != nil {
			t.Fatal(err)
		}
		b.obs.waitAll(t)
	}
	wantL1(t, b, "k", "")
}

// TestPubSubUnavailable checks that Publish reports a server it cannot
// reach as hitbox.ErrUnavailable, and that the tier's write reports it too
// (the shared level has the value; the other L1s may not know).
func TestPubSubUnavailable(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	p := newProcess(t, busKinds[1], rdb, procOptions{id: "a", prefix: redistest.Prefix(t)})
	srv.Kill()
	err := p.bus.(hitbox.Publisher).Publish(context.Background(), hitbox.Invalidation{Keys: []string{"k"}})
	var he *hitbox.Error
	if !errors.Is(err, hitbox.ErrUnavailable) || !errors.As(err, &he) || he.Op != "publish" {
		t.Fatalf("Publish = %v, want a publish error wrapping ErrUnavailable", err)
	}
}

// TestPubSubCluster checks the bus over a Redis Cluster, where PUBLISH on
// any node reaches subscribers on every node.
func TestPubSubCluster(t *testing.T) {
	t.Parallel()
	rdb := redistest.SharedCluster(t).Client(t)
	a, b := newPair(t, busKinds[1], rdb, nil)
	for i := range 5 {
		key := fmt.Sprintf("k%d", i)
		warm(t, a, b, key, "old")
		set(t, a, key, "new")
		b.obs.waitKey(t, key)
		wantGet(t, b, key, "new")
	}
}
