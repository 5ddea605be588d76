package redisstore

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// Settings of ClientOptions, for a cache whose server is on the same
// network: a healthy Redis answers in well under a millisecond there, so
// these leave a wide margin and still bound what an outage costs a call.
const (
	clientDialTimeout = 250 * time.Millisecond
	clientIOTimeout   = 200 * time.Millisecond
)

// ClientOptions returns the go-redis options a cache should start from for
// the server at addr, chosen so that an outage costs each call a bounded,
// short stall (a cache that answers late is worse than a miss, since the
// source can answer instead):
//
//   - ContextTimeoutEnabled: context deadlines bound network I/O.
//   - DialTimeout 250ms and DialerRetries 1: one dial attempt, not go-redis's
//     five 100ms-spaced ones per new connection (5s each by default), so a
//     killed server costs a call one refused dial.
//   - ReadTimeout and WriteTimeout 200ms (default 5s): the longest a frozen
//     server holds one command.
//   - MaxRetries -1: no retries (default 3, after timeouts too, with backoffs
//     between MinRetryBackoff and MaxRetryBackoff): a failed command is a
//     miss at once, and a tier's breaker counts it.
//   - PoolTimeout 200ms (default ReadTimeout + 1s): the longest a call waits
//     for a connection when all are busy on a slow server.
//
// PoolSize keeps go-redis's default, 10 connections per CPU; raise it when
// more goroutines than that use the cache at once. Change any field before
// redis.NewClient; the same fields exist in redis.ClusterOptions and
// redis.FailoverOptions. TestOutageStall in outage_test.go checks what
// these settings bound: under a GetOrLoad load through a tier of memstore
// over this store, a killed or a frozen server fails no call and stalls
// none beyond two ReadTimeouts (one read, one write's reply) plus
// scheduling. The README's "Outages" and RELIABILITY.md give its figures.
func ClientOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:                  addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           clientDialTimeout,
		DialerRetries:         1,
		ReadTimeout:           clientIOTimeout,
		WriteTimeout:          clientIOTimeout,
		MaxRetries:            -1,
		PoolTimeout:           clientIOTimeout,
	}
}

// clusterReload is how often ClusterClientOptions has the client reload
// the slot map.
const clusterReload = time.Second

// ClusterClientOptions returns ClientOptions's settings for a Redis Cluster
// reached through addrs, plus a ClusterStateReloadInterval of one second:
// go-redis reloads the slot map on a MOVED reply, not when a master stops
// answering, and otherwise only every minute by default, so without it the
// slots of a failed-over master stay unreachable for up to that minute
// (measured in RELIABILITY.md) after its replica has taken over.
func ClusterClientOptions(addrs ...string) *redis.ClusterOptions {
	b := ClientOptions("")
	return &redis.ClusterOptions{
		Addrs:                      addrs,
		ContextTimeoutEnabled:      b.ContextTimeoutEnabled,
		DialTimeout:                b.DialTimeout,
		DialerRetries:              b.DialerRetries,
		ReadTimeout:                b.ReadTimeout,
		WriteTimeout:               b.WriteTimeout,
		MaxRetries:                 b.MaxRetries,
		PoolTimeout:                b.PoolTimeout,
		ClusterStateReloadInterval: clusterReload,
	}
}
