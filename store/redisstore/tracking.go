package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/hitbox-go/hitbox"
)

// trackingChannel is where Redis sends invalidation messages to a RESP2
// connection that asked for them with CLIENT TRACKING ... REDIRECT.
const trackingChannel = "__redis__:invalidate"

// TrackingBus is a hitbox.Bus fed by Redis itself, through server-assisted
// client tracking: Redis reports every key under the store's prefix that
// changes, whoever changed it (another hitbox process, a script, redis-cli,
// an expiry or an eviction), so every tier over the store drops its local
// copy. It is not a hitbox.Publisher: there is nothing to announce.
//
// It keeps one connection per server (per master on a Redis Cluster, per
// shard on a Ring) of its own, apart from the client's pool, with
//
//	CLIENT TRACKING ON REDIRECT <its own id> BCAST PREFIX <prefix>
//
// issued as the connection opens, before it subscribes to
// __redis__:invalidate; every reconnection arms tracking again. Messages
// name stored keys: the bus removes the prefix, so tiers get their own
// keys. A flush of the database, a dropped or silent connection (see
// BusOptions.HealthCheck), or subscribers too slow to keep up (see
// BusOptions.Queue) become an Invalidation with All set, and so does each
// (re)connection, as hitbox.Bus requires. A connection lost or failing its
// health check is an Invalidation with Down set at once, delivered before
// anything else the bus learns afterwards, so tiers stop trusting their
// local copies from the first moment of the gap.
//
// Tags: the store keeps each tag's version under the prefix, so tracking
// reports every change to one (InvalidateTags removing it, an eviction or
// an expiry, or SetTagged drawing a new one) and the bus delivers it as an
// Invalidation with that tag in Tags, whichever process or client made
// the change: every tier drops its local entries carrying the tag. The
// first use of a tag reports it too (its version is drawn then), which
// costs a local drop of entries that could only be stale already. So does
// lengthening a version's lifetime (SetTagged does it when an entry would
// outlive its tag's version, to twice what that entry needs): a hot tag
// on entries that live T is then dropped from every tier's local levels
// about once every T plus a minute, a spurious purge the pub/sub bus does
// not make.
//
// A tier's own writes come back too: tracking cannot tell them apart, as
// NOLOOP only spares writes made on the tracking connection itself, and
// the store writes through the client's pool. See tier.Options.OwnWrites.
//
// Redis tracks by key name alone, across databases: a write to the same
// name in another database also invalidates (harmless, only wasteful).
// Tracking needs Redis 6 or later, and managed services may refuse CLIENT
// TRACKING; Ready reports that, and PubSubBus serves there instead.
type TrackingBus struct {
	h      hub
	prefix string

	single *redis.Client // the client, when it talks to one server
	// forEach walks a cluster's masters or a ring's shards; nil for single.
	forEach func(ctx context.Context, fn func(ctx context.Context, c *redis.Client) error) error
}

// Compile-time check that TrackingBus is a hitbox.Bus.
var _ hitbox.Bus = (*TrackingBus)(nil)

// NewTrackingBus returns a bus that reports the changes to the keys under
// prefix, which must be the Prefix of the Store the tiers share (empty for
// a store without one, which tracks every key of the server). The client
// may be a *redis.Client (standalone, or Sentinel-managed: the bus follows
// the master when it reconnects), a *redis.ClusterClient or a *redis.Ring;
// the bus reuses its settings (address, credentials, TLS, timeouts) for
// connections of its own, and does not close it.
//
// NewTrackingBus sends nothing: the bus connects on the first Subscribe or
// Ready, and runs until Close. So it cannot fail at run time: a nil
// client, a client of another type and invalid options are programmer
// errors, which panic ("hitbox/redisstore: NewTrackingBus: nil client", or
// the message opts.Validate returns). The error result is kept for checks
// a later version may make.
func NewTrackingBus(client redis.UniversalClient, prefix string, opts BusOptions) (*TrackingBus, error) {
	opt := opts.resolve("redis-tracking")
	b := &TrackingBus{prefix: prefix}
	switch c := client.(type) {
	case *redis.Client:
		b.single = c
	case *redis.ClusterClient:
		b.forEach = c.ForEachMaster
	case *redis.Ring:
		b.forEach = c.ForEachShard
	case nil:
		panic("hitbox/redisstore: NewTrackingBus: nil client")
	default:
		panic(fmt.Sprintf("hitbox/redisstore: NewTrackingBus: client: a %T, want a *redis.Client, *redis.ClusterClient or *redis.Ring", client))
	}
	b.h.init(opt, b.start)
	return b, nil
}

// Subscribe implements hitbox.Bus. The first call connects the bus. Each
// subscription's first message is an Invalidation with All set when every
// connection of the bus is tracking, and one with Down set otherwise,
// followed by the All once they are; subscriptions are called one after
// another, in the order they were made, from one goroutine.
func (b *TrackingBus) Subscribe(fn func(hitbox.Invalidation)) (stop func()) {
	return b.h.subscribe(fn)
}

// Ready connects the bus if it has not yet, and waits until every one of
// its connections is tracking and subscribed, and the subscriptions have
// been handed the All that comes with connecting: a tier subscribed before
// the call has cleared its local levels for it by the time Ready returns,
// so what it caches next stays. When ctx ends first, Ready returns ctx's
// error together with the last connection error, such as a server refusing
// CLIENT TRACKING (a redis.Error): a service can call it at start to choose
// between this bus and a PubSubBus. Tiers need not wait for it to be
// correct: until the bus is ready they are told it is down, and when it
// gets ready they are told to clear their local levels. It must not be called
// from a subscriber.
func (b *TrackingBus) Ready(ctx context.Context) error { return b.h.readyWait(ctx) }

// Close disconnects the bus, stops its goroutines and ends every
// subscription; it returns once all have stopped. It does not close the
// client. It is idempotent, and must not be called from a subscriber.
func (b *TrackingBus) Close() error {
	b.h.close()
	return nil
}

// start connects to the server, or begins watching the cluster's masters.
func (b *TrackingBus) start() {
	if b.single != nil {
		b.h.addListener(b.listener(b.single.Options()))
		return
	}
	b.h.mu.Lock()
	b.h.goLocked(b.watch)
	b.h.mu.Unlock()
}

// watch keeps one listener per master (or shard) until Close, checking the
// topology every BusOptions.Topology.
func (b *TrackingBus) watch() {
	t := time.NewTimer(0)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-t.C:
		case <-b.h.ctx.Done():
			return
		}
		if err := b.syncNodes(); err != nil {
			b.h.mu.Lock()
			b.h.lastErr = err
			b.h.mu.Unlock()
			b.h.opt.Logger.Warn("hitbox/redisstore: bus cannot list the servers to track; retrying",
				"bus", b.h.opt.Label, "err", err)
			failures++
			t.Reset(max(b.h.backoff(failures), minBackoff))
			continue
		}
		failures = 0
		t.Reset(b.h.opt.Topology)
	}
}

// syncNodes starts a listener for each master not yet tracked and stops
// those of servers that are no longer masters.
func (b *TrackingBus) syncNodes() error {
	ctx, cancel := context.WithTimeout(b.h.ctx, b.h.opt.Topology)
	defer cancel()
	var mu sync.Mutex
	found := make(map[string]*redis.Options)
	err := b.forEach(ctx, func(_ context.Context, c *redis.Client) error {
		o := c.Options()
		mu.Lock()
		found[o.Addr] = o
		mu.Unlock()
		return nil
	})
	if len(found) == 0 {
		if err == nil {
			err = errors.New("no servers")
		}
		return err
	}
	have := b.h.listenerNames()
	for addr, o := range found {
		if !slices.Contains(have, addr) {
			b.h.addListener(b.listener(o))
		}
	}
	if err != nil {
		return err // a partial view: stop nothing on it
	}
	for _, addr := range have {
		if _, ok := found[addr]; !ok {
			b.h.removeListener(addr)
		}
	}
	return nil
}

// listener returns a listener on a client of the bus's own for the server
// o describes, which arms tracking on every connection it opens.
func (b *TrackingBus) listener(o *redis.Options) *listener {
	c := redis.NewClient(trackingOptions(o, b.prefix))
	subscribe := func(ctx context.Context) (*redis.PubSub, error) {
		ps := c.Subscribe(ctx)
		if err := ps.Subscribe(ctx, trackingChannel); err != nil {
			_ = ps.Close()
			return nil, err
		}
		return ps, nil
	}
	return newListener(&b.h, o.Addr, subscribe, b.handle, func() { _ = c.Close() })
}

// handle turns a tracking message into the tier's keys. The key list is
// go-redis's own, fresh for each message, so it is cut down in place.
func (b *TrackingBus) handle(m *redis.Message) {
	if m.Channel != trackingChannel {
		return
	}
	keys := m.PayloadSlice
	if keys == nil {
		// Not the key list tracking sends: someone published here. What
		// it meant is unknown, so assume the worst.
		b.h.opt.Logger.Warn("hitbox/redisstore: unexpected message on the tracking channel; clearing local levels",
			"bus", b.h.opt.Label)
		b.h.push(allEvent.inv)
		return
	}
	n := 0
	var tags []string
	for _, k := range keys {
		if !strings.HasPrefix(k, b.prefix) || len(k) == len(b.prefix) {
			continue
		}
		k = k[len(b.prefix):]
		if tag, ok := strings.CutPrefix(k, tagSpace); ok {
			// A tag's version key changed: purged, evicted, expired or
			// drawn anew. Entries written with the old version are
			// misses in the store now, so local copies go too.
			if tag != "" {
				tags = append(tags, tag)
			}
			continue
		}
		keys[n] = k
		n++
	}
	if n > 0 || tags != nil {
		inv := hitbox.Invalidation{Tags: tags}
		if n > 0 {
			inv.Keys = keys[:n]
		}
		b.h.push(inv)
	}
}

// trackingOptions derives, from the options of the user's client for one
// server, those of the bus's client for it: the same server, credentials,
// TLS and timeouts; RESP2, so tracking messages arrive as pub/sub
// messages; no pool to speak of, no client-side cache; and an OnConnect
// that runs the user's, then arms tracking, so every connection the
// client opens (each reconnection) tracks before it subscribes.
func trackingOptions(o *redis.Options, prefix string) *redis.Options {
	c := *o
	c.Protocol = 2
	user := o.OnConnect
	c.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
		if user != nil {
			if err := user(ctx, cn); err != nil {
				return err
			}
		}
		return armTracking(ctx, cn, prefix)
	}
	if c.ClientName == "" {
		c.ClientName = "hitbox-tracking"
	}
	c.PoolSize = 1
	c.MinIdleConns = 0
	c.MaxIdleConns = 0
	c.MaxActiveConns = 0
	c.PipelinePoolSize = -1
	c.ConnMaxLifetime = 0
	c.AutoPipelineOptions = nil
	c.Limiter = nil
	c.PushNotificationProcessor = nil
	c.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	c.ClientSideCacheConfig = nil
	c.ClientSideCache = nil
	return &c
}

// armTracking turns on broadcast tracking of prefix on cn, redirected to
// cn itself: once cn subscribes to trackingChannel, the messages arrive on
// it.
func armTracking(ctx context.Context, cn *redis.Conn, prefix string) error {
	id, err := cn.ClientID(ctx).Result()
	if err != nil {
		return err
	}
	args := []any{"client", "tracking", "on", "redirect", id, "bcast"}
	if prefix != "" {
		args = append(args, "prefix", prefix)
	}
	return cn.Do(ctx, args...).Err()
}
