package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
)

// PubSubBus is a hitbox.Bus and hitbox.Publisher over an application channel
// of Redis pub/sub: each tier publishes the keys it set or deleted, tagged
// with its ID, and every tier subscribed drops them from its local levels
// (ignoring its own messages, so its own writes keep their fresh copies).
//
// It serves where a TrackingBus cannot: a managed Redis that refuses
// CLIENT TRACKING, a server older than Redis 6, or a cluster where one
// connection beats one per master. It sees only what tiers publish: a
// write by another client, an expiry or a flush drops nothing (bound the
// local copies with tier.Options.MaxTTL if such writes happen).
//
// On a Redis Cluster, PUBLISH reaches the subscribers on every node, so
// one subscriber connection serves, on whichever node the channel's slot
// maps to. A (re)connection, a dropped or silent connection (see
// BusOptions.HealthCheck), a message the bus cannot read, or subscribers too
// slow to keep up (see BusOptions.Queue) become an Invalidation with All
// set, as hitbox.Bus requires; a connection lost or failing its health
// check is first an Invalidation with Down set, at once.
type PubSubBus struct {
	h       hub
	client  redis.UniversalClient
	channel string
}

// Compile-time checks that PubSubBus is a hitbox.Bus and a hitbox.Publisher.
var (
	_ hitbox.Bus       = (*PubSubBus)(nil)
	_ hitbox.Publisher = (*PubSubBus)(nil)
)

// NewPubSubBus returns a bus over channel, published and subscribed through
// client, which it does not close. Every process whose tiers share a store
// must use the same channel, and tiers over different stores (different
// prefixes) different ones, or they clear each other's keys for nothing.
//
// NewPubSubBus sends nothing: the bus subscribes on the first Subscribe or
// Ready, and runs until Close. So it cannot fail at run time: a nil
// client, an empty channel and invalid options are programmer errors,
// which panic ("hitbox/redisstore: NewPubSubBus: empty channel", or the
// message opts.Validate returns). The error result is kept for checks a
// later version may make.
func NewPubSubBus(client redis.UniversalClient, channel string, opts BusOptions) (*PubSubBus, error) {
	if client == nil {
		panic("hitbox/redisstore: NewPubSubBus: nil client")
	}
	if channel == "" {
		panic("hitbox/redisstore: NewPubSubBus: empty channel")
	}
	opt := opts.resolve("redis-pubsub")
	b := &PubSubBus{client: client, channel: channel}
	b.h.init(opt, b.start)
	return b, nil
}

// Subscribe implements hitbox.Bus. The first call connects the bus. Each
// subscription's first message is an Invalidation with All set when the
// bus is subscribed, and one with Down set otherwise, followed by the All
// once it is; subscriptions are called one after another,
// in the order they were made, from one goroutine. Messages a tier
// published come back to it too.
func (b *PubSubBus) Subscribe(fn func(hitbox.Invalidation)) (stop func()) {
	return b.h.subscribe(fn)
}

// Publish implements hitbox.Publisher: it sends inv on the channel, to every
// subscriber of every process, this one's included. It fails with an error
// wrapping hitbox.ErrUnavailable when Redis could not be reached, and with
// hitbox.ErrClosed after Close.
func (b *PubSubBus) Publish(ctx context.Context, inv hitbox.Invalidation) error {
	if b.isClosed() {
		return &hitbox.Error{Op: hitbox.OpPublish, Backend: b.h.opt.Label, Err: hitbox.ErrClosed}
	}
	if inv.All {
		inv.Keys, inv.Tags = nil, nil
	}
	msg := appendMessage(make([]byte, 0, messageSize(inv)), inv)
	if err := b.client.Publish(ctx, b.channel, msg).Err(); err != nil {
		return &hitbox.Error{Op: hitbox.OpPublish, Backend: b.h.opt.Label, Err: cause(ctx, err)}
	}
	return nil
}

// Ready subscribes the bus if it has not yet, and waits until it is and
// the subscriptions have been handed the All that comes with subscribing:
// a tier subscribed before the call has cleared its local levels for it by
// the time Ready returns. When ctx ends first it returns ctx's error
// together with the last connection error. Tiers need not wait for it to
// be correct: until the bus is ready they are told nothing, and when it
// gets ready they are told to clear their local levels. It must not be called
// from a subscriber.
func (b *PubSubBus) Ready(ctx context.Context) error { return b.h.readyWait(ctx) }

// Close unsubscribes, stops the bus's goroutines and ends every
// subscription; it returns once all have stopped, and later Publish calls
// fail with hitbox.ErrClosed. It does not close the client. It is
// idempotent, and must not be called from a subscriber.
func (b *PubSubBus) Close() error {
	b.h.close()
	return nil
}

func (b *PubSubBus) isClosed() bool {
	b.h.mu.Lock()
	defer b.h.mu.Unlock()
	return b.h.closed
}

// start subscribes to the channel.
func (b *PubSubBus) start() {
	subscribe := func(ctx context.Context) (*redis.PubSub, error) {
		ps := b.client.Subscribe(ctx)
		if err := ps.Subscribe(ctx, b.channel); err != nil {
			_ = ps.Close()
			return nil, err
		}
		return ps, nil
	}
	b.h.addListener(newListener(&b.h, b.channel, subscribe, b.handle, nil))
}

// handle delivers a message. One it cannot read may have meant anything,
// so it becomes All.
func (b *PubSubBus) handle(m *redis.Message) {
	if m.Channel != b.channel {
		return
	}
	inv, err := parseMessage(m.Payload)
	if err != nil || m.PayloadSlice != nil {
		b.h.opt.Logger.Warn("hitbox/redisstore: unreadable bus message; clearing local levels",
			"bus", b.h.opt.Label, "size", len(m.Payload))
		inv = allEvent.inv
	}
	if inv.All || len(inv.Keys) > 0 || len(inv.Tags) > 0 {
		b.h.push(inv)
	}
}
