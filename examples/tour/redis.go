package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/store/redisstore"
)

// openRedis connects to the Redis at addr (host:port or a redis:// URL) and
// returns a store whose keys live under their own prefix, so the tour never
// touches anything else on that server.
func openRedis(ctx context.Context, addr string) (*store, error) {
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
	rs, err := redisstore.New(client, redisstore.Options{Prefix: "hitbox-tour:", CloseClient: true})
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	return &store{
		backend:  rs,
		label:    "redis",
		describe: "Redis at " + opts.Addr + " (keys under hitbox-tour:)",
		remote:   true,
		close: func() {
			_ = rs.Clear(context.Background())
			_ = rs.Close()
		},
	}, nil
}
