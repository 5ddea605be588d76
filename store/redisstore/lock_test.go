package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// lockKey is where the store keeps the lock on key (a documented
// convention the tests rely on to play a lock's expiry).
func lockKey(prefix, key string) string { return prefix + key + "\x00lock" }

// TestLock checks the lock ability on a server and on a cluster: one
// holder at a time, release and extend by token only, and the entry under
// the same key untouched.
func TestLock(t *testing.T) {
	t.Parallel()
	type setup struct {
		name string
		new  func(t *testing.T) (*redisstore.Store, redis.UniversalClient, string)
	}
	for _, s := range []setup{
		{"server", func(t *testing.T) (*redisstore.Store, redis.UniversalClient, string) {
			p := redistest.Prefix(t)
			st, rdb := newStore(t, redisstore.Options{Prefix: p})
			return st, rdb, p
		}},
		{"cluster", func(t *testing.T) (*redisstore.Store, redis.UniversalClient, string) {
			p := redistest.Prefix(t)
			st, rdb := newClusterStore(t, redisstore.Options{Prefix: p})
			return st, rdb, p
		}},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, rdb, prefix := s.new(t)
			if err := st.Set(ctx, "k", hitbox.Entry{Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
			a, err := st.TryLock(ctx, "k", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.TryLock(ctx, "k", time.Minute); !errors.Is(err, hitbox.ErrLocked) {
				t.Fatalf("second TryLock: %v, want ErrLocked", err)
			}
			if ms := rdb.PTTL(ctx, lockKey(prefix, "k")).Val(); ms <= 0 || ms > time.Minute {
				t.Fatalf("the lock lives %v in Redis, want up to a minute", ms)
			}
			if err := a.Extend(ctx, 2*time.Minute); err != nil {
				t.Fatalf("Extend by the holder: %v", err)
			}
			if ms := rdb.PTTL(ctx, lockKey(prefix, "k")).Val(); ms <= time.Minute {
				t.Fatalf("after Extend the lock lives %v, want over a minute", ms)
			}
			// The lock expires (played by deleting it) and another takes it:
			// the first holder can neither extend nor release it.
			rdb.Del(ctx, lockKey(prefix, "k"))
			b, err := st.TryLock(ctx, "k", time.Minute)
			if err != nil {
				t.Fatalf("TryLock after expiry: %v", err)
			}
			if err := a.Extend(ctx, time.Minute); !errors.Is(err, hitbox.ErrLocked) {
				t.Fatalf("Extend by a former holder: %v, want ErrLocked", err)
			}
			if err := a.Unlock(ctx); err != nil {
				t.Fatalf("Unlock by a former holder: %v, want nil (and no effect)", err)
			}
			if _, err := st.TryLock(ctx, "k", time.Minute); !errors.Is(err, hitbox.ErrLocked) {
				t.Fatalf("a former holder's Unlock released the new holder's lock: %v", err)
			}
			if err := b.Unlock(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.Unlock(ctx); err != nil {
				t.Fatalf("second Unlock: %v", err)
			}
			c, err := st.TryLock(ctx, "k", time.Minute)
			if err != nil {
				t.Fatalf("TryLock after Unlock: %v", err)
			}
			_ = c.Unlock(ctx)
			if e, err := st.Get(ctx, "k"); err != nil || string(e.Value) != "v" {
				t.Fatalf("the entry under the locked key: %q, %v", e.Value, err)
			}
			if _, err := st.TryLock(ctx, "k", 0); err == nil {
				t.Fatal("TryLock with no lifetime succeeded")
			}
			if _, err := st.TryLock(ctx, "", time.Second); !errors.Is(err, hitbox.ErrInvalidKey) {
				t.Fatalf("TryLock of an empty key: %v", err)
			}
		})
	}
}
