package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// BenchmarkTaggedGet reads 1 KiB entries with three tags beside the same
// entries untagged, on the shared server over loopback: benchstat -col
// /entry gives what tags cost a read (the version check). read=script is
// what a single server does (one round trip, through the read script,
// for both); read=get is a plain GET and, for a tagged entry, an MGET of
// its versions: what a cluster and a ring do.
func BenchmarkTaggedGet(b *testing.B) {
	ctx := context.Background()
	tags := []string{"user:42", "product:7", "page:home"}
	for _, read := range []string{"script", "get"} {
		for _, entry := range []string{"untagged", "tagged"} {
			b.Run("read="+read+"/entry="+entry, func(b *testing.B) {
				rdb := redistest.Shared(b).Client(b)
				s, err := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(b)})
				if err != nil {
					b.Fatal(err)
				}
				redisstore.SetReadScript(s, read == "script")
				b.Cleanup(func() { _ = s.Clear(ctx) })
				keys := make([]string, benchKeys)
				e := hitbox.Entry{Value: make([]byte, 1<<10), Expire: time.Now().Add(time.Hour)}
				for i := range keys {
					keys[i] = "key" + strconv.Itoa(i)
					if entry == "tagged" {
						err = s.SetTagged(ctx, keys[i], e, tags)
					} else {
						err = s.Set(ctx, keys[i], e)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					if _, err := s.Get(ctx, keys[i%benchKeys]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkInvalidateTags purges a tag that 1 entry carries and one that
// 10,000 entries carry, on the shared server over loopback. Each purge
// removes the tag's version key, so both cost one round trip; between
// purges (off the clock) one more entry is written with the tag, so each
// purge finds a version to remove.
func BenchmarkInvalidateTags(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 10000} {
		b.Run("entries="+strconv.Itoa(n), func(b *testing.B) {
			rdb := redistest.Shared(b).Client(b)
			s, err := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(b)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Clear(ctx) })
			e := hitbox.Entry{Value: make([]byte, 64), Expire: time.Now().Add(time.Hour)}
			for i := range n {
				if err := s.SetTagged(ctx, "key"+strconv.Itoa(i), e, []string{"t"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.InvalidateTags(ctx, "t"); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := s.SetTagged(ctx, "key0", e, []string{"t"}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			if _, err := s.Get(ctx, "key"+strconv.Itoa(n-1)); n > 1 && err == nil {
				b.Fatal("an entry written before the purges is still served")
			}
		})
	}
}
