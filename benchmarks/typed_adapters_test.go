package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	rcache "github.com/go-redis/cache/v9"
	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// docTTL is the lifetime every typed contender that has one gives its
// values. go-redis/cache requires one (an hour by default), so hitbox
// gets the same: both then check a deadline on every read. otter, the
// floor, is given none.
const docTTL = time.Hour

// docCache is what every typed contender offers the typed workloads.
type docCache interface {
	// get returns the record under key and whether there was one.
	get(key string) (Doc, bool)
	// set stores d under key for docTTL.
	set(key string, d *Doc) error
	close()
}

// docBatcher is a docCache that reads many keys in one call (one round
// trip to Redis).
type docBatcher interface {
	// getMany reads keys and reports how many it found.
	getMany(keys []string) (int, error)
}

// docChecker is a docCache that can tell, after a timed loop, whether the
// loop measured what it claims to (the tier's L2 contender: no read may
// have been answered by L1).
type docChecker interface {
	check() error
}

// docContender is one library, or one way of using hitbox, opened fresh
// for each data set.
type docContender struct {
	name string
	open func(tb testing.TB, sz typedSize) docCache
}

// --- hitbox -------------------------------------------------------------------

// hitboxDoc is a cache.Cache[Doc] and the pipeline under it, closed with
// it.
type hitboxDoc struct {
	c      *cache.Cache[Doc]
	tier   *tier.Tier // set when the pipeline is a tier, for check
	l2only bool       // check that L1 answered no read
	after  []func()
}

// docOptions are the Cache options every hitbox contender shares: the
// same codec as go-redis/cache, and its default TTL.
func docOptions() cache.Options {
	return cache.Options{Format: codec.MsgPack(), TTL: docTTL}
}

func (h *hitboxDoc) get(key string) (Doc, bool) {
	v, err := h.c.Get(ctx, key)
	return v, err == nil
}

func (h *hitboxDoc) set(key string, d *Doc) error { return h.c.Set(ctx, key, *d) }

// errUnexpectedLoad is what the batch reads' loader returns: every key is
// present, so a call to it is a miss the benchmark counts.
var errUnexpectedLoad = errors.New("a key the benchmark stored was not found")

func (h *hitboxDoc) getMany(keys []string) (int, error) {
	m, err := h.c.GetOrLoadMany(ctx, keys, func(context.Context, []string) (map[string]Doc, error) {
		return nil, errUnexpectedLoad
	})
	return len(m), err
}

func (h *hitboxDoc) check() error {
	if h.tier == nil || !h.l2only {
		return nil
	}
	if n := h.tier.Stats().Levels[0].Hits; n > 0 {
		return fmt.Errorf("L1 answered %d reads: the L2 figures are not all L2 hits", n)
	}
	return nil
}

func (h *hitboxDoc) close() {
	_ = h.c.Close()
	for i := len(h.after) - 1; i >= 0; i-- {
		h.after[i]()
	}
}

// newDocMemstore returns a memstore holding any typed data set with room
// to spare.
func newDocMemstore(tb testing.TB) *memstore.Store {
	tb.Helper()
	s, err := memstore.New(memstore.Options{MaxBytes: 128 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// redisLevel returns a redisstore under a fresh prefix on the benchmark
// server, and what closes it and removes its keys.
func redisLevel(tb testing.TB, name string) (*redisstore.Store, func()) {
	tb.Helper()
	client := hitboxClient(redisAddr(tb))
	prefix := redisPrefix(name)
	s, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	if err != nil {
		_ = client.Close()
		tb.Fatal(err)
	}
	return s, func() { _ = s.Close(); dropKeys(client, prefix); _ = client.Close() }
}

// openHitboxFront is Cache[Doc] over memstore with its decoded-object
// front, as large as the data set twice over.
func openHitboxFront(tb testing.TB, sz typedSize) docCache {
	s := newDocMemstore(tb)
	o := docOptions()
	o.Front = cache.Front[Doc]{MaxEntries: 2 * sz.keys}
	return &hitboxDoc{c: cache.New[Doc](s, o), after: []func(){func() { _ = s.Close() }}}
}

// openHitboxMemstore is Cache[Doc] over memstore: each read copies the
// bytes out and decodes them.
func openHitboxMemstore(tb testing.TB, _ typedSize) docCache {
	s := newDocMemstore(tb)
	return &hitboxDoc{c: cache.New[Doc](s, docOptions()), after: []func(){func() { _ = s.Close() }}}
}

// openHitboxRedis is Cache[Doc] over redisstore alone.
func openHitboxRedis(tb testing.TB, _ typedSize) docCache {
	s, done := redisLevel(tb, "hitbox")
	return &hitboxDoc{c: cache.New[Doc](s, docOptions()), after: []func(){done}}
}

// openHitboxTier is Cache[Doc] over tier.New(memstore, redisstore) with
// the default options: write-through, sequential reads, synchronous
// refill.
func openHitboxTier(tb testing.TB, _ typedSize) docCache {
	l1 := newDocMemstore(tb)
	l2, done := redisLevel(tb, "hitbox-tier")
	t := tier.New(l1, l2)
	return &hitboxDoc{c: cache.New[Doc](t, docOptions()), tier: t,
		after: []func(){done, func() { _ = l1.Close() }, func() { _ = t.Close() }}}
}

// openHitboxTierL2 is the tier of openHitboxTier with L1 capped to a
// nanosecond (Options.MaxTTL): every read misses L1 (the entry it finds
// there has expired, and is dropped), reads L2, decodes, and refills L1 in
// full, so each operation is the L2-hit-with-refill path. check confirms
// L1 answered nothing.
func openHitboxTierL2(tb testing.TB, _ typedSize) docCache {
	l1 := newDocMemstore(tb)
	l2, done := redisLevel(tb, "hitbox-tier-l2")
	t := tier.NewWith(tier.Options{MaxTTL: []time.Duration{time.Nanosecond}}, l1, l2)
	return &hitboxDoc{c: cache.New[Doc](t, docOptions()), tier: t, l2only: true,
		after: []func(){done, func() { _ = l1.Close() }, func() { _ = t.Close() }}}
}

// --- go-redis/cache -------------------------------------------------------------

// redisCacheDoc is go-redis/cache: its default codec (MessagePack, with
// values of 64 bytes and more compressed by s2), a TinyLFU local cache
// and/or Redis.
type redisCacheDoc struct {
	c      *rcache.Cache
	prefix string // go-redis/cache has none of its own: keys are prefixed here
	client *redis.Client
}

func (r *redisCacheDoc) get(key string) (Doc, bool) {
	var d Doc
	err := r.c.Get(ctx, r.prefix+key, &d)
	return d, err == nil
}

func (r *redisCacheDoc) set(key string, d *Doc) error {
	return r.c.Set(&rcache.Item{Ctx: ctx, Key: r.prefix + key, Value: d, TTL: docTTL})
}

func (r *redisCacheDoc) close() {
	if r.client != nil {
		dropKeys(r.client, r.prefix)
		_ = r.client.Close()
	}
}

// openRedisCacheLocal is go-redis/cache with its TinyLFU local cache
// alone, as large as the data set twice over, with the TTL it is
// documented with (a minute in its README; an hour here, its default item
// TTL, so nothing expires while it is read).
func openRedisCacheLocal(_ testing.TB, sz typedSize) docCache {
	return &redisCacheDoc{c: rcache.New(&rcache.Options{LocalCache: rcache.NewTinyLFU(2*sz.keys, docTTL)})}
}

// openRedisCacheRedis is go-redis/cache over Redis alone.
func openRedisCacheRedis(tb testing.TB, _ typedSize) docCache {
	client := plainClient(redisAddr(tb))
	return &redisCacheDoc{c: rcache.New(&rcache.Options{Redis: client}), prefix: redisPrefix("go-redis-cache"), client: client}
}

// openRedisCacheBoth is go-redis/cache as its README shows it: TinyLFU in
// front of Redis.
func openRedisCacheBoth(tb testing.TB, sz typedSize) docCache {
	client := plainClient(redisAddr(tb))
	return &redisCacheDoc{
		c:      rcache.New(&rcache.Options{Redis: client, LocalCache: rcache.NewTinyLFU(2*sz.keys, docTTL)}),
		prefix: redisPrefix("go-redis-cache"), client: client,
	}
}

// --- go-redis, raw: the network floor -----------------------------------------

// rawDoc is go-redis used by hand: GET and MessagePack decoding, SET of
// the encoded bytes with docTTL, MGET for batches.
type rawDoc struct {
	client *redis.Client
	prefix string
}

func (r *rawDoc) get(key string) (Doc, bool) {
	var d Doc
	b, err := r.client.Get(ctx, r.prefix+key).Bytes()
	if err != nil {
		return d, false
	}
	return d, msgpack.Unmarshal(b, &d) == nil
}

func (r *rawDoc) set(key string, d *Doc) error {
	b, err := msgpack.Marshal(d)
	if err != nil {
		return err
	}
	return r.client.Set(ctx, r.prefix+key, b, docTTL).Err()
}

func (r *rawDoc) getMany(keys []string) (int, error) {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.prefix + k
	}
	vals, err := r.client.MGet(ctx, full...).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var d Doc
		if msgpack.Unmarshal([]byte(s), &d) == nil {
			n++
		}
	}
	return n, nil
}

func (r *rawDoc) close() {
	dropKeys(r.client, r.prefix)
	_ = r.client.Close()
}

func openRaw(tb testing.TB, _ typedSize) docCache {
	return &rawDoc{client: plainClient(redisAddr(tb)), prefix: redisPrefix("go-redis-raw")}
}

// --- otter: the in-heap floor ---------------------------------------------------

// otterDoc keeps *Doc on the heap: no encoding, no copy, no deadline.
type otterDoc struct{ c *otter.Cache[string, *Doc] }

func (o otterDoc) get(key string) (Doc, bool) {
	p, ok := o.c.GetIfPresent(key)
	if !ok {
		return Doc{}, false
	}
	return *p, true
}

func (o otterDoc) set(key string, d *Doc) error { o.c.Set(key, d); return nil }
func (o otterDoc) close()                       { o.c.StopAllGoroutines() }

func openOtter(_ testing.TB, sz typedSize) docCache {
	return otterDoc{otter.Must(&otter.Options[string, *Doc]{MaximumSize: 2 * sz.keys})}
}

// --- the line-ups -------------------------------------------------------------

// typedHitContenders answer reads from process memory.
var typedHitContenders = []docContender{
	{"hitbox-front", openHitboxFront},
	{"hitbox-memstore", openHitboxMemstore},
	{"go-redis-cache-local", openRedisCacheLocal},
	{"otter", openOtter},
}

// typedRedisContenders answer reads from Redis.
var typedRedisContenders = []docContender{
	{"hitbox-redis", openHitboxRedis},
	{"hitbox-tier-l2", openHitboxTierL2},
	{"go-redis-cache-redis", openRedisCacheRedis},
	{"go-redis-raw", openRaw},
}

// typedWriteContenders write to process memory and Redis (the raw floor:
// Redis only).
var typedWriteContenders = []docContender{
	{"hitbox-tier", openHitboxTier},
	{"go-redis-cache", openRedisCacheBoth},
	{"go-redis-raw", openRaw},
}
