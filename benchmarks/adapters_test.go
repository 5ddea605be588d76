package benchmarks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/allegro/bigcache/v3"
	"github.com/coocood/freecache"
	"github.com/dgraph-io/ristretto/v2"
	"github.com/jellydator/ttlcache/v3"
	"github.com/maypok86/otter/v2"
	gocache "github.com/patrickmn/go-cache"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// subject is the little every contender offers the benchmarks, so one loop
// drives them all and each pays the same one interface call per operation.
// None of them is given an expiry: every library here has a no-expiry
// path, and it is the one all of them share.
type subject[V any] interface {
	// get returns the value under key and whether there was one.
	get(key string) (V, bool)
	// set stores v under key; errDropped means the library chose not to.
	set(key string, v V) error
	// settle waits for writes the library applies in the background.
	settle()
	close()
}

// errDropped is what set returns when a library declines a write by
// design (ristretto drops writes under contention or by admission).
var errDropped = errors.New("write dropped by the cache")

// ctx is the context the hitbox adapters pass: no deadline, no values, the
// cheapest a caller can hand in.
var ctx = context.Background()

// newMemstore returns hitbox's in-process store with the shared byte
// budget and otherwise default options (64 shards, as bigcache below).
func newMemstore(tb testing.TB) *memstore.Store {
	tb.Helper()
	s, err := memstore.New(memstore.Options{MaxBytes: capacity})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// forever is the no-expiry life window bigcache is given, as memstore
// gives it: bigcache evicts entries older than the window on every write,
// so a zero window would evict the data set under the benchmark.
const forever = 100 * 365 * 24 * time.Hour

// newBigcache returns a bigcache sized as its README advises (entries and
// entry size told up front), with memstore's shard count and byte cap and
// no expiry.
func newBigcache(tb testing.TB, sz size) *bigcache.BigCache {
	tb.Helper()
	c, err := bigcache.New(context.Background(), bigcache.Config{
		Shards:             64,
		LifeWindow:         forever,
		MaxEntriesInWindow: sz.keys,
		MaxEntrySize:       sz.bytes + 32,
		HardMaxCacheSize:   capacity >> 20,
		Verbose:            false,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// --- hitbox -----------------------------------------------------------------

// backendBytes is any hitbox.Backend used directly: memstore alone, or a
// pipeline ending in it.
type backendBytes struct{ b hitbox.Backend }

func (c backendBytes) get(key string) ([]byte, bool) {
	e, err := c.b.Get(ctx, key)
	return e.Value, err == nil
}

func (c backendBytes) set(key string, v []byte) error {
	return c.b.Set(ctx, key, hitbox.Entry{Value: v})
}

func (c backendBytes) settle() {}
func (c backendBytes) close()  { _ = hitbox.Close(c.b) }

// typed is a cache.Cache[T] over memstore.
type typed[T any] struct {
	c *cache.Cache[T]
	s *memstore.Store
}

func (c typed[T]) get(key string) (T, bool) {
	v, err := c.c.Get(ctx, key)
	return v, err == nil
}

func (c typed[T]) set(key string, v T) error { return c.c.Set(ctx, key, v) }
func (c typed[T]) settle()                   {}
func (c typed[T]) close()                    { _ = c.c.Close(); _ = c.s.Close() }

// --- byte caches ------------------------------------------------------------

type bigcacheBytes struct{ c *bigcache.BigCache }

func (c bigcacheBytes) get(key string) ([]byte, bool) {
	v, err := c.c.Get(key)
	return v, err == nil
}

func (c bigcacheBytes) set(key string, v []byte) error { return c.c.Set(key, v) }
func (c bigcacheBytes) settle()                        {}
func (c bigcacheBytes) close()                         { _ = c.c.Close() }

// bigcacheCBOR is bigcache storing Users encoded by hand with the same
// codec hitbox uses: the baseline for what hitbox's typed cache adds.
type bigcacheCBOR struct{ c *bigcache.BigCache }

func (c bigcacheCBOR) get(key string) (User, bool) {
	var u User
	b, err := c.c.Get(key)
	if err != nil {
		return u, false
	}
	return u, codec.CBOR().Unmarshal(b, &u) == nil
}

func (c bigcacheCBOR) set(key string, u User) error {
	b, err := codec.CBOR().Marshal(u)
	if err != nil {
		return err
	}
	return c.c.Set(key, b)
}

func (c bigcacheCBOR) settle() {}
func (c bigcacheCBOR) close()  { _ = c.c.Close() }

// freecacheBytes is freecache, whose API takes keys as bytes: the
// conversion of the shared string keys is part of its cost, as it is for a
// caller holding strings.
type freecacheBytes struct{ c *freecache.Cache }

func (c freecacheBytes) get(key string) ([]byte, bool) {
	v, err := c.c.Get([]byte(key))
	return v, err == nil
}

func (c freecacheBytes) set(key string, v []byte) error { return c.c.Set([]byte(key), v, 0) }
func (c freecacheBytes) settle()                        {}
func (c freecacheBytes) close()                         {}

// --- heap caches: they keep the caller's value itself, never a copy ----------

type ristrettoCache[V any] struct {
	c    *ristretto.Cache[string, V]
	cost func(V) int64
}

func (c ristrettoCache[V]) get(key string) (V, bool) { return c.c.Get(key) }

func (c ristrettoCache[V]) set(key string, v V) error {
	if !c.c.Set(key, v, c.cost(v)) {
		return errDropped
	}
	return nil
}

func (c ristrettoCache[V]) settle() { c.c.Wait() }
func (c ristrettoCache[V]) close()  { c.c.Close() }

type otterCache[V any] struct{ c *otter.Cache[string, V] }

func (c otterCache[V]) get(key string) (V, bool)  { return c.c.GetIfPresent(key) }
func (c otterCache[V]) set(key string, v V) error { c.c.Set(key, v); return nil }
func (c otterCache[V]) settle()                   { c.c.CleanUp() }
func (c otterCache[V]) close()                    { c.c.StopAllGoroutines() }

// goCache is patrickmn/go-cache: values travel as interface{} and come back
// through a type assertion.
type goCache[V any] struct{ c *gocache.Cache }

func (c goCache[V]) get(key string) (V, bool) {
	v, ok := c.c.Get(key)
	if !ok {
		var zero V
		return zero, false
	}
	t, ok := v.(V)
	return t, ok
}

func (c goCache[V]) set(key string, v V) error { c.c.Set(key, v, gocache.NoExpiration); return nil }
func (c goCache[V]) settle()                   {}
func (c goCache[V]) close()                    {}

type ttlCache[V any] struct{ c *ttlcache.Cache[string, V] }

func (c ttlCache[V]) get(key string) (V, bool) {
	it := c.c.Get(key)
	if it == nil {
		var zero V
		return zero, false
	}
	return it.Value(), true
}

func (c ttlCache[V]) set(key string, v V) error { c.c.Set(key, v, ttlcache.NoTTL); return nil }
func (c ttlCache[V]) settle()                   {}
func (c ttlCache[V]) close()                    {}

// --- the line-ups -----------------------------------------------------------

// contender is one library, or one way of using hitbox, opened fresh for
// each benchmark.
type contender[V any] struct {
	name string
	open func(tb testing.TB, sz size) subject[V]
}

// byteContenders store []byte values. hitbox, bigcache and freecache copy
// the bytes in on Set and out on Get; the heap caches keep the caller's
// slice itself and hand it back.
var byteContenders = []contender[[]byte]{
	{"hitbox-memstore", func(tb testing.TB, _ size) subject[[]byte] {
		return backendBytes{newMemstore(tb)}
	}},
	{"hitbox-cache", func(tb testing.TB, _ size) subject[[]byte] {
		s := newMemstore(tb)
		return typed[[]byte]{cache.New[[]byte](s, cache.Options{}), s}
	}},
	{"hitbox-encode", func(tb testing.TB, _ size) subject[[]byte] {
		return backendBytes{hitbox.Chain(layer.Encode()).Then(newMemstore(tb))}
	}},
	{"bigcache", func(tb testing.TB, sz size) subject[[]byte] {
		return bigcacheBytes{newBigcache(tb, sz)}
	}},
	{"freecache", func(tb testing.TB, _ size) subject[[]byte] {
		return freecacheBytes{freecache.NewCache(capacity)}
	}},
	{"ristretto", func(tb testing.TB, sz size) subject[[]byte] {
		return ristrettoCache[[]byte]{newRistretto[[]byte](tb, sz.keys, capacity), func(v []byte) int64 { return int64(len(v)) }}
	}},
	{"otter", func(tb testing.TB, _ size) subject[[]byte] {
		return otterCache[[]byte]{otter.Must(&otter.Options[string, []byte]{
			MaximumWeight: capacity,
			Weigher:       func(_ string, v []byte) uint32 { return uint32(len(v)) },
		})}
	}},
	{"go-cache", func(tb testing.TB, _ size) subject[[]byte] {
		return goCache[[]byte]{gocache.New(gocache.NoExpiration, 0)}
	}},
	{"ttlcache", func(tb testing.TB, sz size) subject[[]byte] {
		return ttlCache[[]byte]{ttlcache.New(ttlcache.WithCapacity[string, []byte](uint64(2 * sz.keys)))}
	}},
}

// newRistretto returns a ristretto cache with ten counters per key, as its
// README advises, and room for maxCost counted in the callers' own costs
// (bytes, or one per User), without ristretto's estimate of its own
// overhead added to each.
func newRistretto[V any](tb testing.TB, keys int, maxCost int64) *ristretto.Cache[string, V] {
	tb.Helper()
	c, err := ristretto.NewCache(&ristretto.Config[string, V]{
		NumCounters:        int64(10 * keys),
		MaxCost:            maxCost,
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// valueUsers are the contenders that store a User as bytes: hitbox's typed
// cache, and bigcache with the same codec applied by hand.
var valueUsers = []contender[User]{
	{"hitbox-cache-cbor", func(tb testing.TB, _ size) subject[User] {
		s := newMemstore(tb)
		return typed[User]{cache.New[User](s, cache.Options{Format: codec.CBOR()}), s}
	}},
	{"bigcache-cbor", func(tb testing.TB, sz size) subject[User] {
		return bigcacheCBOR{newBigcache(tb, sz)}
	}},
	// The typed cache with its decoded-object front: a hit is answered
	// from the heap without decoding; a miss reads memstore and decodes.
	{"hitbox-front", func(tb testing.TB, sz size) subject[User] {
		s := newMemstore(tb)
		return typed[User]{cache.New[User](s, cache.Options{
			Format: codec.CBOR(), Front: cache.Front[User]{MaxEntries: 2 * sz.keys},
		}), s}
	}},
}

// pointerUsers are the contenders that keep a *User on the heap: no
// encoding at all, and every reader shares the one record.
var pointerUsers = []contender[*User]{
	{"ristretto-ptr", func(tb testing.TB, sz size) subject[*User] {
		return ristrettoCache[*User]{newRistretto[*User](tb, sz.keys, int64(2*sz.keys)), func(*User) int64 { return 1 }}
	}},
	// The front keeping the pointer it was given, as the heap caches do:
	// the front's own cost over otter, which it is built on.
	{"hitbox-front-ptr", func(tb testing.TB, sz size) subject[*User] {
		s := newMemstore(tb)
		return typed[*User]{cache.New[*User](s, cache.Options{
			Format: codec.CBOR(), Front: cache.Front[*User]{MaxEntries: 2 * sz.keys},
		}), s}
	}},
	{"otter-ptr", func(tb testing.TB, sz size) subject[*User] {
		return otterCache[*User]{otter.Must(&otter.Options[string, *User]{MaximumSize: 2 * sz.keys})}
	}},
	{"go-cache-ptr", func(tb testing.TB, _ size) subject[*User] {
		return goCache[*User]{gocache.New(gocache.NoExpiration, 0)}
	}},
	{"ttlcache-ptr", func(tb testing.TB, sz size) subject[*User] {
		return ttlCache[*User]{ttlcache.New(ttlcache.WithCapacity[string, *User](uint64(2 * sz.keys)))}
	}},
}
