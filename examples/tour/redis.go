package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// remote is the tour's Redis level and the bus that keeps L1s coherent.
type remote struct {
	store    *redisstore.Store
	bus      hitbox.Bus
	ready    func(context.Context) error // waits until the bus delivers
	describe string
	clear    func() // removes the tour's keys
	close    func()
}

// openRedis connects to the Redis at addr (host:port or a redis:// URL). Its
// keys live under their own prefix, so the tour never touches anything else
// on that server, and it clears that prefix when it is done.
func openRedis(ctx context.Context, addr string) (*remote, error) {
	var opts *redis.Options
	if strings.Contains(addr, "://") {
		var err error
		if opts, err = redis.ParseURL(addr); err != nil {
			return nil, fmt.Errorf("redis address %q: %w", addr, err)
		}
	} else {
		opts = &redis.Options{Addr: addr}
	}
	// Without this go-redis ignores context deadlines on the wire.
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("redis at %s: %w", opts.Addr, err)
	}
	const prefix = "hitbox-tour:"
	rs, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	// Redis's own tracking tells every instance's L1 when a key under the
	// prefix changes, whoever changed it.
	bus, err := redisstore.NewTrackingBus(client, prefix, redisstore.BusOptions{})
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	return &remote{
		store:    rs,
		bus:      bus,
		ready:    bus.Ready,
		describe: "Redis at " + opts.Addr + " (keys under " + prefix + ", L1s kept coherent by Redis tracking)",
		clear:    func() { _ = rs.Clear(context.Background()) },
		close: func() {
			_ = bus.Close()
			_ = client.Close()
		},
	}, nil
}
