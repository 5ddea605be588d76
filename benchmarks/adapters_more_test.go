package benchmarks

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	rediscache "github.com/go-redis/cache/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// Adapters for the memory and hit-ratio workloads, on the subject[[]byte]
// interface of adapters_test.go.

// discard is a backend that keeps nothing: every Get misses and every Set
// is dropped. Under a Cache with a front it leaves the front alone to hold
// and answer, so what is measured is the front's own hit ratio and memory.
type discard struct{}

func (discard) Get(context.Context, string) (hitbox.Entry, error) {
	return hitbox.Entry{}, hitbox.ErrMiss
}
func (discard) Set(context.Context, string, hitbox.Entry) error { return nil }
func (discard) Delete(context.Context, string) error            { return nil }
func (discard) Label() string                                   { return "discard" }

// countGets counts the reads that reach the backend it wraps: under a
// front, a read the front answered never does.
type countGets struct {
	hitbox.Backend
	gets atomic.Int64
}

func (c *countGets) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	c.gets.Add(1)
	return c.Backend.Get(ctx, key)
}

// frontBytes is a cache.Cache[[]byte] with a front, over b. A hit is
// whatever Get answers without error: with the discard backend, only the
// front can.
type frontBytes struct {
	c *cache.Cache[[]byte]
	b hitbox.Backend
}

// newFrontBytes returns the typed cache with a front of entries decoded
// values over b.
func newFrontBytes(b hitbox.Backend, entries int) frontBytes {
	return frontBytes{cache.New[[]byte](b, cache.Options{Front: cache.Front[[]byte]{MaxEntries: entries}}), b}
}

func (c frontBytes) get(key string) ([]byte, bool) {
	v, err := c.c.Get(ctx, key)
	return v, err == nil
}

func (c frontBytes) set(key string, v []byte) error { return c.c.Set(ctx, key, v) }
func (c frontBytes) settle()                        {}
func (c frontBytes) close()                         { _ = c.c.Close(); _ = hitbox.Close(c.b) }

// tinyLFU is go-redis/cache's local cache: a TinyLFU (vmihailenco's, a 1%
// LRU window before a segmented LRU guarded by a count-min sketch) behind
// one mutex, keeping the caller's slice.
type tinyLFU struct{ c *rediscache.TinyLFU }

// tinyLFUTTL is the TTL every entry is given: go-redis/cache's local cache
// has no "no expiry", and a day outlasts every run here.
const tinyLFUTTL = 24 * time.Hour

// newTinyLFU returns go-redis/cache's local cache bounded at entries, as
// its README builds it (rediscache.NewTinyLFU(size, ttl)).
func newTinyLFU(entries int) tinyLFU {
	return tinyLFU{rediscache.NewTinyLFU(entries, tinyLFUTTL)}
}

func (c tinyLFU) get(key string) ([]byte, bool)  { return c.c.Get(key) }
func (c tinyLFU) set(key string, v []byte) error { c.c.Set(key, v); return nil }
func (c tinyLFU) settle()                        {}
func (c tinyLFU) close()                         {}

// --- sizing memstore by entries ---------------------------------------------

// memstoreRecord is the bytes a memstore entry takes in bigcache's queue:
// bigcache's 18-byte header, the key, memstore's 24-byte deadline header
// and the value, after a varint of that length (as memstore's
// Options.MaxBytes documents).
func memstoreRecord(keyLen, valueLen int) int {
	n := 18 + keyLen + 24 + valueLen
	switch {
	case n < 127:
		return n + 1
	case n < 16382:
		return n + 2
	case n < 2097149:
		return n + 3
	}
	return n + 4
}

// memstoreFor sizes a memstore to hold about entries records of keyLen
// keys: the byte cap is what those records take, in the whole MiB that
// bigcache counts, and the value size is chosen so the records fill it,
// one record size for every entry. Shards are memstore's default 64, or
// fewer when that would leave under 100 entries a shard (a FIFO per shard
// of a handful of entries is not how anyone would size a small cache). It
// returns the options and the value size to store.
func memstoreFor(entries, keyLen, minRecord int) (memstore.Options, int, error) {
	const mib = 1 << 20
	shards := 64
	for shards > 1 && entries/shards < 100 {
		shards /= 2
	}
	megabytes := max(1, (entries*minRecord+mib-1)/mib)
	record := megabytes * mib / entries
	value := -1
	for v := record - 18 - keyLen - 24 - 3; v <= record; v++ {
		if memstoreRecord(keyLen, v) == record {
			value = v
			break
		}
	}
	if value < 0 {
		return memstore.Options{}, 0, fmt.Errorf("no value size gives a %d-byte record", record)
	}
	opts := memstore.Options{MaxBytes: int64(megabytes) * mib, Shards: shards}
	if value > min(mib, megabytes*mib/shards/4) { // over memstore's default limit
		opts.MaxValueSize = value
	}
	return opts, value, nil
}

// newSizedMemstore opens a memstore with opts, failing tb if it refuses.
func newSizedMemstore(tb testing.TB, opts memstore.Options) *memstore.Store {
	tb.Helper()
	s, err := memstore.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
