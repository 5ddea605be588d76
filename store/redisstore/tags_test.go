package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// TestTagsKeys checks where the store keeps tags: a version key per tag
// under the prefix, which no entry can take, which ClearPrefix leaves and
// Clear removes.
func TestTagsKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{})
	if err := s.SetTagged(ctx, "k", entry("v"), []string{"t"}); err != nil {
		t.Fatal(err)
	}
	keys := storedKeys(t, rdb, s)
	vk := storePrefix(s) + redisstore.TagSpace + "t"
	if !slices.Equal(keys, []string{vk, storePrefix(s) + "k"}) {
		t.Fatalf("stored keys %q, want the entry and the version key %q", keys, vk)
	}
	for _, key := range []string{redisstore.TagSpace + "t", redisstore.TagSpace} {
		if err := s.Set(ctx, key, entry("x")); !errors.Is(err, hitbox.ErrInvalidKey) {
			t.Errorf("Set %q: %v, want ErrInvalidKey: the key is a tag version's", key, err)
		}
	}
	for _, p := range []string{"\x00", "\x00tags", redisstore.TagSpace, "k"} {
		if err := s.ClearPrefix(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if keys := storedKeys(t, rdb, s); !slices.Equal(keys, []string{vk}) {
		t.Errorf("after ClearPrefix, stored keys %q, want the version key alone", keys)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := storedKeys(t, rdb, s); len(keys) != 0 {
		t.Errorf("after Clear, stored keys %q, want none: nothing of the store is left behind", keys)
	}
}

// TestTagsVersionLifetime checks that a version key outlives every entry
// that carries it: by at least a minute past the longest, and forever
// when an entry has no Expire.
func TestTagsVersionLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{})
	vk := storePrefix(s) + redisstore.TagSpace + "t"
	pttl := func() time.Duration {
		t.Helper()
		d, err := rdb.PTTL(ctx, vk).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	set := func(key string, life time.Duration) {
		t.Helper()
		e := hitbox.Entry{Value: []byte("v")}
		if life > 0 {
			e.Expire = time.Now().Add(life)
		}
		if err := s.SetTagged(ctx, key, e, []string{"t"}); err != nil {
			t.Fatal(err)
		}
	}
	set("short", time.Second)
	if n, err := rdb.MemoryUsage(ctx, vk).Result(); err == nil {
		t.Logf("a version key of a 1-byte tag takes %d bytes of the server's memory", n)
	}
	if d := pttl(); d < time.Second+time.Minute {
		t.Fatalf("version lives %v after an entry of 1s, want at least 1m1s", d)
	}
	set("long", time.Hour)
	if d := pttl(); d < time.Hour+time.Minute {
		t.Fatalf("version lives %v after an entry of 1h, want at least 1h1m", d)
	}
	set("short2", time.Second)
	if d := pttl(); d < time.Hour {
		t.Fatalf("version lives %v after a shorter entry, want it not shortened below 1h", d)
	}
	set("forever", 0)
	if d := pttl(); d != -1 {
		t.Fatalf("version PTTL %v after an entry without Expire, want none (-1)", d)
	}
	set("later", time.Hour)
	if d := pttl(); d != -1 {
		t.Fatalf("version PTTL %v, want it still without lifetime", d)
	}
}

// TestTagsEviction runs a server with a small maxmemory and allkeys-lru,
// which evicts tag versions and entries alike: an entry whose version was
// evicted must read as a miss, and no entry purged before the eviction may
// come back, whichever keys Redis chose.
func TestTagsEviction(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: "evict:"})
	if err != nil {
		t.Fatal(err)
	}
	// Half the reads go through the read script, which checks versions in
	// the same round trip.
	scripted, err := redisstore.New(rdb, redisstore.Options{Prefix: "evict:", ReadScript: true})
	if err != nil {
		t.Fatal(err)
	}
	used := func() int64 {
		t.Helper()
		info, err := rdb.Info(ctx, "memory").Result()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		t.Fatal("no used_memory in INFO")
		return 0
	}
	limit := used() + 2<<20
	if err := rdb.ConfigSet(ctx, "maxmemory", strconv.FormatInt(limit, 10)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	value := strings.Repeat("v", 200)
	// Half the entries carry a tag purged before the eviction; each of
	// the others carries a tag of its own, so each has a version key of
	// its own to lose.
	for i := range n {
		tags := []string{"own" + strconv.Itoa(i)}
		if i%2 == 0 {
			tags = append(tags, "purged")
		}
		if err := s.SetTagged(ctx, "k"+strconv.Itoa(i), hitbox.Entry{Value: []byte(value)}, tags); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InvalidateTags(ctx, "purged"); err != nil {
		t.Fatal(err)
	}
	// A new version of the purged tag, which the old entries must not
	// mistake for theirs.
	if err := s.SetTagged(ctx, "fresh", hitbox.Entry{Value: []byte("f")}, []string{"purged"}); err != nil {
		t.Fatal(err)
	}
	// Redis's LRU clock ticks once a second, so keys written in the same
	// second look alike to it: age the versions of the odd entries (their
	// own tags) by restoring them with a long idle time, so the eviction
	// reaches them before their entries, as it does to a version whose
	// entries are read through other tiers while it is not.
	for i := 1; i < n; i += 2 {
		vk := "evict:" + redisstore.TagSpace + "own" + strconv.Itoa(i)
		dump, err := rdb.Dump(ctx, vk).Result()
		if errors.Is(err, redis.Nil) {
			continue // evicted already
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := rdb.Do(ctx, "restore", vk, 0, dump, "replace", "idletime", 1_000_000).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Junk goes in until Redis has evicted some hundreds of keys: about
	// as many as the aged versions, so most entries are still there.
	junk := strings.Repeat("j", 1<<10)
	evicted := func() int {
		t.Helper()
		info, err := rdb.Info(ctx, "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "evicted_keys:"); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		t.Fatal("no evicted_keys in INFO")
		return 0
	}
	for i := 0; evicted() < 400; i++ {
		for j := range 20 {
			if err := rdb.Set(ctx, "junk:"+strconv.Itoa(i*20+j), junk, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if i > 10000 {
			t.Fatal("the server evicts nothing")
		}
	}
	lostVersion := 0
	for i := range n {
		key := "k" + strconv.Itoa(i)
		have, err := rdb.Exists(ctx, "evict:"+key).Result()
		if err != nil {
			t.Fatal(err)
		}
		version, err := rdb.Exists(ctx, "evict:"+redisstore.TagSpace+"own"+strconv.Itoa(i)).Result()
		if err != nil {
			t.Fatal(err)
		}
		reader := s
		if i%4 < 2 {
			reader = scripted
		}
		_, getErr := reader.Get(ctx, key)
		switch {
		case i%2 == 0 && !errors.Is(getErr, hitbox.ErrMiss):
			t.Errorf("%s, purged before the eviction: %v, want a miss", key, getErr)
		case have == 1 && version == 0:
			lostVersion++
			if !errors.Is(getErr, hitbox.ErrMiss) {
				t.Errorf("%s, whose version was evicted: %v, want a miss", key, getErr)
			}
		case getErr != nil && !errors.Is(getErr, hitbox.ErrMiss):
			t.Errorf("%s: %v", key, getErr)
		}
	}
	if lostVersion == 0 {
		t.Errorf("no entry outlived its version: the test did not reach the case it is for")
	}
	t.Logf("%d entries outlived their evicted version", lostVersion)
}

// TestTagsClusterAllSlots writes a tagged entry on every hash slot of a
// cluster and purges them all with one call.
func TestTagsClusterAllSlots(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("writes 16384 entries")
	}
	ctx := context.Background()
	s, _ := newClusterStore(t, redisstore.Options{})
	prefix := storePrefix(s)
	keys := make([]string, 16384)
	found := 0
	for i := 0; found < len(keys); i++ {
		k := strconv.Itoa(i)
		if sl := redisstore.Slot(prefix + k); keys[sl] == "" {
			keys[sl] = k
			found++
		}
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < len(keys); i += 16 {
				tags := []string{"all", "part" + strconv.Itoa(i%3)}
				if err := s.SetTagged(ctx, keys[i], hitbox.Entry{Value: []byte(keys[i])}, tags); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Set(ctx, "untagged", entry("u")); err != nil {
		t.Fatal(err)
	}
	res, err := s.GetMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || string(r.Entry.Value) != keys[i] {
			t.Fatalf("before the purge, %q = %q, %v", keys[i], r.Entry.Value, r.Err)
		}
	}
	if err := s.InvalidateTags(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	res, err = s.GetMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !errors.Is(r.Err, hitbox.ErrMiss) {
			t.Errorf("after the purge, %q (slot %d) = %q, %v; want a miss", keys[i], i, r.Entry.Value, r.Err)
		}
	}
	if _, err := s.Get(ctx, "untagged"); err != nil {
		t.Errorf("an untagged entry after the purge: %v", err)
	}
}

// TestTagsWriteRacingPurge runs writers of entries with one tag while the
// tag is purged: every write that returned before the purge began must be
// a miss afterwards, on one server and on a cluster.
func TestTagsWriteRacingPurge(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		new  func(t *testing.T) *redisstore.Store
	}{
		{"single", func(t *testing.T) *redisstore.Store { s, _ := newStore(t, redisstore.Options{}); return s }},
		{"cluster", func(t *testing.T) *redisstore.Store { s, _ := newClusterStore(t, redisstore.Options{}); return s }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := c.new(t)
			ctx := context.Background()
			var (
				purging atomic.Bool
				mu      sync.Mutex
				before  []string
				wg      sync.WaitGroup
				started = make(chan struct{}, 8)
			)
			for w := range 8 {
				wg.Go(func() {
					for i := 0; i < 40 || !purging.Load(); i++ {
						key := fmt.Sprintf("w%d-%d", w, i)
						if err := s.SetTagged(ctx, key, hitbox.Entry{Value: []byte(key)}, []string{"t"}); err != nil {
							t.Error(err)
							return
						}
						if !purging.Load() {
							mu.Lock()
							before = append(before, key)
							mu.Unlock()
						}
						if i == 5 {
							started <- struct{}{}
						}
						if i > 10000 {
							return
						}
					}
				})
			}
			for range 8 {
				<-started // every writer is under way
			}
			purging.Store(true)
			if err := s.InvalidateTags(ctx, "t"); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			res, err := s.GetMany(ctx, before)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if !errors.Is(r.Err, hitbox.ErrMiss) {
					t.Errorf("%q, written before the purge began, = %q, %v; want a miss", before[i], r.Entry.Value, r.Err)
				}
			}
			if err := s.SetTagged(ctx, "after", entry("a"), []string{"t"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, "after"); err != nil {
				t.Errorf("an entry written after the purge: %v, want a hit", err)
			}
		})
	}
}

// TestTagsOnTheBuses checks that a purge reaches other processes: the
// pub/sub bus carries Invalidation.Tags as published, and the tracking bus
// reports a purge made by any client as the tag, from its version key.
func TestTagsOnTheBuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("pubsub", func(t *testing.T) {
		t.Parallel()
		rdb := redistest.Shared(t).Client(t)
		bus, err := redisstore.NewPubSubBus(rdb, redistest.Prefix(t)+"invalidate", redisstore.BusOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = bus.Close() })
		obs := observe(bus)
		defer obs.stop()
		if err := bus.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		obs.waitAll(t)
		if err := bus.Publish(ctx, hitbox.Invalidation{Origin: "a", Tags: []string{"user:42", "p 7"}}); err != nil {
			t.Fatal(err)
		}
		inv := obs.next(t)
		if inv.All || inv.Origin != "a" || !slices.Equal(inv.Tags, []string{"user:42", "p 7"}) {
			t.Fatalf("got %+v, want the tags user:42 and p 7 from a", inv)
		}
	})
	t.Run("tracking", func(t *testing.T) {
		t.Parallel()
		s, rdb := newStore(t, redisstore.Options{})
		bus, err := redisstore.NewTrackingBus(rdb, storePrefix(s), redisstore.BusOptions{HealthCheck: testHealthCheck})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = bus.Close() })
		obs := observe(bus)
		defer obs.stop()
		if err := bus.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		obs.waitAll(t)
		if err := s.SetTagged(ctx, "k", entry("v"), []string{"user:42"}); err != nil {
			t.Fatal(err)
		}
		obs.waitTag(t, "user:42") // the version drawn for the first write
		if err := s.InvalidateTags(ctx, "user:42"); err != nil {
			t.Fatal(err)
		}
		obs.waitTag(t, "user:42")
		// A purge by another client, version key and all: still the tag.
		if err := s.SetTagged(ctx, "k", entry("v"), []string{"user:42"}); err != nil {
			t.Fatal(err)
		}
		obs.waitTag(t, "user:42")
		if err := rdb.Del(ctx, storePrefix(s)+redisstore.TagSpace+"user:42").Err(); err != nil {
			t.Fatal(err)
		}
		inv := obs.waitTag(t, "user:42")
		if len(inv.Keys) != 0 {
			t.Errorf("a version key's change came as keys %q too", inv.Keys)
		}
	})
}

// waitTag waits for an invalidation of tag and returns it.
func (o *observer) waitTag(t testing.TB, tag string) hitbox.Invalidation {
	t.Helper()
	for {
		inv := o.next(t)
		if !inv.All && slices.Contains(inv.Tags, tag) {
			return inv
		}
	}
}

// storePrefix is the Prefix a test's store was made with.
func storePrefix(s *redisstore.Store) string { return redisstore.StorePrefix(s) }

// storedKeys lists, sorted, the keys under the store's prefix.
func storedKeys(t *testing.T, rdb *redis.Client, s *redisstore.Store) []string {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), storePrefix(s)+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// TestReadScriptForeignValues: through the read script, what the store did
// not write is damaged as it is through GET: a list, a plain string, and a
// tagged header whose tag section is cut short.
func TestReadScriptForeignValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{ReadScript: true})
	p := storePrefix(s)
	if err := rdb.LPush(ctx, p+"list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, p+"plain", "hello", 0).Err(); err != nil {
		t.Fatal(err)
	}
	cut := "\xff\x02" + strings.Repeat("\x00", 24) + "\x00\x02\x00\x01t"
	if err := rdb.Set(ctx, p+"cut", cut, 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"list", "plain", "cut"} {
		if _, err := s.Get(ctx, key); !errors.Is(err, hitbox.ErrCorrupt) {
			t.Errorf("Get %q: %v, want ErrCorrupt", key, err)
		}
		if n, err := rdb.Exists(ctx, p+key).Result(); err != nil || n != 0 {
			t.Errorf("%q is still stored (%d, %v): a damaged value is removed", key, n, err)
		}
	}
}
