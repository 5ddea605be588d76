package cache_test

import (
	"context"
	"testing"

	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/store/memstore"
)

// benchUser is a value of the shape services cache: a dozen fields.
type benchUser struct {
	ID        int64
	Name      string
	Email     string
	Active    bool
	Score     float64
	Roles     []string
	Country   string
	Language  string
	CreatedAt int64
	UpdatedAt int64
}

var sampleUser = benchUser{
	ID: 42, Name: "Ada Lovelace", Email: "ada@example.com", Active: true, Score: 99.5,
	Roles: []string{"admin", "editor"}, Country: "GB", Language: "en",
	CreatedAt: 1700000000, UpdatedAt: 1700000500,
}

func newBenchStore(b *testing.B) *memstore.Store {
	b.Helper()
	s, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkCacheGetCBOR compares a typed Get over memstore with what it is
// made of: the store's Get and CBOR decoding. Its allocations should be
// those two's and no more.
func BenchmarkCacheGetCBOR(b *testing.B) {
	ctx := context.Background()
	store := newBenchStore(b)
	users := cache.New[benchUser](store, cache.Options{Format: codec.CBOR()})
	if err := users.Set(ctx, "u", sampleUser); err != nil {
		b.Fatal(err)
	}
	b.Run("Cache.Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := users.Get(ctx, "u"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store.Get+Unmarshal", func(b *testing.B) {
		f := codec.CBOR()
		b.ReportAllocs()
		for b.Loop() {
			e, err := store.Get(ctx, "u")
			if err != nil {
				b.Fatal(err)
			}
			var u benchUser
			if err := f.Unmarshal(e.Value, &u); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCacheGetBytes measures the raw path: Cache[[]byte] against the
// store it reads.
func BenchmarkCacheGetBytes(b *testing.B) {
	ctx := context.Background()
	store := newBenchStore(b)
	raw := cache.New[[]byte](store, cache.Options{})
	if err := raw.Set(ctx, "b", make([]byte, 1024)); err != nil {
		b.Fatal(err)
	}
	b.Run("Cache.Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := raw.Get(ctx, "b"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store.Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := store.Get(ctx, "b"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
