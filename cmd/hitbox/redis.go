package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/store/redisstore"
)

// conn is an open connection to the Redis that holds a store.
type conn struct {
	rdb      redis.UniversalClient
	store    *redisstore.Store
	prefix   string
	describe string // "127.0.0.1:6379 (single server)"
}

func (c *conn) Close() error { return c.rdb.Close() }

// parsedAddr is a --redis address taken apart.
type parsedAddr struct {
	kind   string // "server", "cluster" or "sentinel"
	addrs  []string
	master string         // sentinel only
	url    *redis.Options // a redis:// URL's options
}

// parseAddr reads the address forms the command takes.
func parseAddr(s string) (parsedAddr, error) {
	switch {
	case s == "":
		return parsedAddr{}, usagef("no Redis address: give --redis host:port or set $REDIS_URL")
	case strings.HasPrefix(s, "sentinel://"):
		rest := strings.TrimPrefix(s, "sentinel://")
		hosts, master, ok := strings.Cut(rest, "/")
		if !ok || master == "" || hosts == "" {
			return parsedAddr{}, usagef("--redis %q: want sentinel://host:port[,host:port...]/MASTER", s)
		}
		return parsedAddr{kind: "sentinel", addrs: strings.Split(hosts, ","), master: master}, nil
	case strings.Contains(s, "://"):
		o, err := redis.ParseURL(s)
		if err != nil {
			return parsedAddr{}, usagef("--redis %q: %v", s, err)
		}
		return parsedAddr{kind: "server", addrs: []string{o.Addr}, url: o}, nil
	case strings.Contains(s, ","):
		return parsedAddr{kind: "cluster", addrs: strings.Split(s, ",")}, nil
	}
	return parsedAddr{kind: "server", addrs: []string{s}}, nil
}

// connect opens the Redis at the --redis address and checks that it
// answers. A single address that turns out to be a Cluster node is
// reopened as a cluster client, so every master is reached.
func (c *cli) connect(ctx context.Context) (*conn, error) {
	pa, err := parseAddr(c.opt.redis)
	if err != nil {
		return nil, err
	}
	if c.opt.prefix == "" {
		return nil, usagef("no --prefix: give the store's prefix (redisstore.Options.Prefix), such as hitbox-tour:")
	}
	rdb := open(pa, c.opt.timeout)
	if err := ping(ctx, rdb, c.opt.redis); err != nil {
		_ = rdb.Close()
		return nil, err
	}
	if pa.kind == "server" && isClusterNode(ctx, rdb) {
		_ = rdb.Close()
		pa.kind = "cluster"
		rdb = open(pa, c.opt.timeout)
		if err := ping(ctx, rdb, c.opt.redis); err != nil {
			_ = rdb.Close()
			return nil, err
		}
	}
	st, err := redisstore.New(rdb, redisstore.Options{Prefix: c.opt.prefix})
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	what := map[string]string{"server": "single server", "cluster": "Redis Cluster", "sentinel": "Sentinel master " + pa.master}[pa.kind]
	return &conn{rdb: rdb, store: st, prefix: c.opt.prefix, describe: fmt.Sprintf("%s (%s)", strings.Join(pa.addrs, ","), what)}, nil
}

// open builds the client for pa, with redisstore's client settings and
// I/O timeouts as long as the command's.
func open(pa parsedAddr, timeout time.Duration) redis.UniversalClient {
	dial := min(timeout, 2*time.Second)
	switch pa.kind {
	case "cluster":
		o := redisstore.ClusterClientOptions(pa.addrs...)
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = dial, timeout, timeout, timeout
		return redis.NewClusterClient(o)
	case "sentinel":
		b := redisstore.ClientOptions("")
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:            pa.master,
			SentinelAddrs:         pa.addrs,
			ContextTimeoutEnabled: b.ContextTimeoutEnabled,
			DialTimeout:           dial,
			DialerRetries:         b.DialerRetries,
			ReadTimeout:           timeout,
			WriteTimeout:          timeout,
			MaxRetries:            b.MaxRetries,
			PoolTimeout:           timeout,
		})
	}
	o := redisstore.ClientOptions(pa.addrs[0])
	if pa.url != nil {
		u := pa.url
		o.Username, o.Password, o.DB, o.TLSConfig, o.Protocol = u.Username, u.Password, u.DB, u.TLSConfig, u.Protocol
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = dial, timeout, timeout, timeout
	return redis.NewClient(o)
}

// ping checks that Redis answers, with an error that says so plainly.
func ping(ctx context.Context, rdb redis.UniversalClient, addr string) error {
	if err := rdb.Ping(ctx).Err(); err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("redis at %s did not answer: %w", addr, err)
		}
		return fmt.Errorf("redis at %s is unreachable: %w", addr, err)
	}
	return nil
}

// isClusterNode reports whether a server runs in cluster mode.
func isClusterNode(ctx context.Context, rdb redis.UniversalClient) bool {
	info, err := rdb.Info(ctx, "cluster").Result()
	return err == nil && strings.Contains(info, "cluster_enabled:1")
}

// eachServer calls f on every server holding keys: the one server, or
// every master of a cluster.
func eachServer(ctx context.Context, rdb redis.UniversalClient, f func(ctx context.Context, s *redis.Client) error) error {
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, f)
	case *redis.Client:
		return f(ctx, c)
	}
	return fmt.Errorf("cannot reach every server through a %T", rdb)
}

// quietLogger drops go-redis's own log lines (a failed dial, say): the
// command reports each failure once, in its own words.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
