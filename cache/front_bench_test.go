package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// BenchmarkFrontTaggedHit compares a front hit of an entry written with
// three tags, which checks their generations, with one of an untagged
// entry, which checks no generation.
func BenchmarkFrontTaggedHit(b *testing.B) {
	ctx := context.Background()
	users := cache.New[benchUser](mapstore.New(mapstore.Options{}), cache.Options{
		Format: codec.CBOR(), TTL: time.Hour,
		Front: cache.Front[benchUser]{MaxEntries: 1000},
	})
	defer users.Close()
	if err := users.Set(ctx, "untagged", sampleUser); err != nil {
		b.Fatal(err)
	}
	if err := users.Set(ctx, "tagged", sampleUser, cache.WithTags("user:42", "team:7", "org:1")); err != nil {
		b.Fatal(err)
	}
	for _, key := range []string{"untagged", "tagged"} {
		b.Run(key, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := users.Get(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
