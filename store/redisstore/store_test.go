package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/panics"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// TestNew checks the options New refuses and the defaults it applies.
// What it refuses is a programmer error: New panics with the message
// Options.Validate returns.
func TestNew(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = rdb.Close() })
	bad := []struct {
		name   string
		client redis.UniversalClient
		opts   redisstore.Options
		want   string
	}{
		{"A nil client cannot work.", nil, redisstore.Options{},
			"hitbox/redisstore: New: nil client"},
		{"A negative MaxValueSize cannot work.", rdb, redisstore.Options{MaxValueSize: -1},
			"hitbox/redisstore: Options.MaxValueSize: -1 is outside 1 to 536870886 bytes"},
		{"A MaxValueSize no Redis string can hold cannot work.", rdb, redisstore.Options{MaxValueSize: 512 << 20},
			"hitbox/redisstore: Options.MaxValueSize: 536870912 is outside 1 to 536870886 bytes"},
		{"A negative MaxTTL cannot work.", rdb, redisstore.Options{MaxTTL: -time.Second},
			"hitbox/redisstore: Options.MaxTTL: negative (-1s)"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if c.client != nil {
				if err := c.opts.Validate(); err == nil || err.Error() != c.want {
					t.Errorf("Validate = %v, want %q", err, c.want)
				}
			}
			got := panics.Message(func() { _, _ = redisstore.New(c.client, c.opts) })
			if got != c.want {
				t.Errorf("New panicked with %q, want %q", got, c.want)
			}
		})
	}
	t.Run("the default label is redis", func(t *testing.T) {
		s, err := redisstore.New(rdb, redisstore.Options{})
		if err != nil || s.Label() != "redis" {
			t.Fatalf("New = %v, label %q", err, s.Label())
		}
	})
}

// TestRoundTrip checks that an entry comes back as it was set, deadlines to
// the nanosecond, for the sizes the issue names.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, redisstore.Options{Label: "l2"})
	now := time.Now()
	cases := []struct {
		name string
		e    hitbox.Entry
	}{
		{"an empty value with no deadlines", hitbox.Entry{Value: []byte{}}},
		{"a value with both deadlines", hitbox.Entry{Value: []byte("v"), Expire: now.Add(time.Hour + 123), Stale: now.Add(time.Minute + 7)}},
		{"a value with a Stale only", hitbox.Entry{Value: []byte("s"), Stale: now.Add(-time.Minute)}},
		{"1 MiB", hitbox.Entry{Value: bytes.Repeat([]byte("0123456789abcdef"), 1<<16), Expire: now.Add(time.Hour)}},
		{"binary bytes", hitbox.Entry{Value: []byte{0, 0xff, '\r', '\n', 0xfe}}},
		{"a deadline centuries away, past what PX can count from now", hitbox.Entry{Value: []byte("far"), Expire: time.Date(9999, 1, 1, 0, 0, 0, 1, time.UTC)}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprint("k", i)
			if err := s.Set(ctx, key, c.e); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Value, c.e.Value) || !got.Expire.Equal(c.e.Expire) || !got.Stale.Equal(c.e.Stale) {
				t.Fatalf("got %d bytes, Expire %v, Stale %v; want %d bytes, %v, %v",
					len(got.Value), got.Expire, got.Stale, len(c.e.Value), c.e.Expire, c.e.Stale)
			}
		})
	}
}

// TestSizes checks the value size limit: the limit itself is stored, one
// byte more is refused with a SizeError naming the limit, and the refused
// Set leaves the key as it was.
func TestSizes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const limit = 64 << 10
	s, _ := newStore(t, redisstore.Options{MaxValueSize: limit})
	if err := s.Set(ctx, "k", hitbox.Entry{Value: make([]byte, limit)}); err != nil {
		t.Fatalf("a value of the limit: %v", err)
	}
	err := s.Set(ctx, "k", hitbox.Entry{Value: make([]byte, limit+1)})
	var se *hitbox.SizeError
	if !errors.Is(err, hitbox.ErrTooLarge) || !errors.As(err, &se) || se.Limit != limit || se.Size != limit+1 {
		t.Fatalf("a value of the limit+1: got %v, want a SizeError of %d over %d", err, limit+1, limit)
	}
	if got, err := s.Get(ctx, "k"); err != nil || len(got.Value) != limit {
		t.Fatalf("after the refused Set: got %d bytes, %v", len(got.Value), err)
	}

	t.Run("the default limit is 4 MiB", func(t *testing.T) {
		d, _ := newStore(t, redisstore.Options{})
		err := d.Set(ctx, "k", hitbox.Entry{Value: make([]byte, 4<<20+1)})
		if !errors.As(err, &se) || se.Limit != 4<<20 {
			t.Fatalf("got %v, want a SizeError with limit 4 MiB", err)
		}
	})
}

// TestExpiry checks the lifetime the store hands Redis and how Get treats
// deadlines, on a fake clock so nothing depends on timing.
func TestExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("PX is the time left, rounded up to the millisecond", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		s, rdb := newStore(t, redisstore.Options{Now: clk.Now})
		rec := &recorder{}
		rdb.AddHook(rec)
		cases := []struct {
			left time.Duration
			want int64
		}{
			{1500*time.Millisecond + 1, 1501},
			{time.Millisecond, 1},
			{time.Nanosecond, 1},
			{2 * time.Second, 2000}, // whole seconds still go as PX, never EX
		}
		for _, c := range cases {
			if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: clk.Now().Add(c.left)}); err != nil {
				t.Fatal(err)
			}
			args := rec.last("set")
			if len(args) != 5 || args[3] != "px" || args[4] != c.want {
				t.Fatalf("%v left: sent %v, want PX %d", c.left, args[3:], c.want)
			}
		}
	})

	t.Run("no Expire means no lifetime", func(t *testing.T) {
		t.Parallel()
		s, rdb := newStore(t, redisstore.Options{})
		rec := &recorder{}
		rdb.AddHook(rec)
		if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
		if args := rec.last("set"); len(args) != 3 {
			t.Fatalf("sent %v, want SET key value alone", args)
		}
	})

	t.Run("a Redis lifetime set earlier is replaced", func(t *testing.T) {
		t.Parallel()
		s, rdb := newStore(t, redisstore.Options{})
		prefix := prefixOf(t, s, rdb)
		_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: time.Now().Add(time.Hour)})
		_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
		if ttl := rdb.PTTL(ctx, prefix+"k").Val(); ttl != -1 {
			t.Fatalf("PTTL = %v, want none", ttl)
		}
	})

	t.Run("MaxTTL bounds entries with no Expire and later ones", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		s, _ := newStore(t, redisstore.Options{Now: clk.Now, MaxTTL: time.Minute})
		bound := clk.Now().Add(time.Minute)
		sooner := clk.Now().Add(time.Second)
		for _, c := range []struct{ set, want time.Time }{
			{time.Time{}, bound},
			{clk.Now().Add(time.Hour), bound},
			{sooner, sooner},
		} {
			if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: c.set}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, "k")
			if err != nil || !got.Expire.Equal(c.want) {
				t.Fatalf("Set with Expire %v: Get = %v, %v; want Expire %v", c.set, got.Expire, err, c.want)
			}
		}
	})

	t.Run("an entry already expired is not written and removes the old one", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		s, rdb := newStore(t, redisstore.Options{Now: clk.Now})
		prefix := prefixOf(t, s, rdb)
		_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("old")})
		for _, expire := range []time.Time{clk.Now(), clk.Now().Add(-time.Hour)} {
			if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("new"), Expire: expire}); err != nil {
				t.Fatal(err)
			}
			if n := rdb.Exists(ctx, prefix+"k").Val(); n != 0 {
				t.Fatal("the key is still in Redis")
			}
		}
	})

	t.Run("Get hides an entry past its Expire that Redis still holds", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		s, _ := newStore(t, redisstore.Options{Now: clk.Now})
		_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: clk.Now().Add(time.Hour)})
		clk.Advance(time.Hour)
		if _, err := s.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
			t.Fatalf("Get at Expire = %v, want a miss", err)
		}
		res, err := s.GetMany(ctx, []string{"k"})
		if err != nil || !errors.Is(res[0].Err, hitbox.ErrMiss) {
			t.Fatalf("GetMany at Expire = %v, %v; want a miss", res, err)
		}
	})
}

// prefixOf finds the prefix a test store writes under, by writing a marker.
func prefixOf(t *testing.T, s *redisstore.Store, rdb *redis.Client) string {
	t.Helper()
	ctx := context.Background()
	marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
	if err := s.Set(ctx, marker, hitbox.Entry{Value: []byte("m")}); err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "*"+marker).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("finding the marker: %v, %v", keys, err)
	}
	_ = s.Delete(ctx, marker)
	return strings.TrimSuffix(keys[0], marker)
}

// TestCorrupt checks that values the store did not write are reported as
// ErrCorrupt and removed, never returned, never a panic.
func TestCorrupt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{})
	prefix := prefixOf(t, s, rdb)
	cases := []struct {
		name  string
		write func(k string) error
	}{
		{"a plain string", func(k string) error { return rdb.Set(ctx, k, "plain", 0).Err() }},
		{"an empty string", func(k string) error { return rdb.Set(ctx, k, "", 0).Err() }},
		{"a header of another version", func(k string) error { return rdb.Set(ctx, k, "\xff\x09"+strings.Repeat("\x00", 30), 0).Err() }},
		{"a list", func(k string) error { return rdb.RPush(ctx, k, "a").Err() }},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprint("bad", i)
			if err := c.write(prefix + key); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("Get = %v, want ErrCorrupt", err)
			}
			if n := rdb.Exists(ctx, prefix+key).Val(); n != 0 {
				t.Fatal("the damaged key was not removed")
			}
		})
	}
	t.Run("in a batch, per key", func(t *testing.T) {
		_ = rdb.Set(ctx, prefix+"b1", "plain", 0)
		_ = rdb.RPush(ctx, prefix+"b2", "a") // MGET reads a list as nil: a miss
		_ = s.Set(ctx, "b3", hitbox.Entry{Value: []byte("ok")})
		res, err := s.GetMany(ctx, []string{"b1", "b2", "b3"})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(res[0].Err, hitbox.ErrCorrupt) || !errors.Is(res[1].Err, hitbox.ErrMiss) || string(res[2].Entry.Value) != "ok" {
			t.Fatalf("got %+v", res)
		}
		if n := rdb.Exists(ctx, prefix+"b1").Val(); n != 0 {
			t.Fatal("the damaged key was not removed")
		}
	})
}

// TestErrors checks the error every operation returns for an empty key, a
// closed store and a cancelled context, and the misses.
func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	ops := func(s *redisstore.Store, ctx context.Context, key string) map[string]error {
		errs := map[string]error{}
		_, errs[hitbox.OpGet] = s.Get(ctx, key)
		errs[hitbox.OpSet] = s.Set(ctx, key, hitbox.Entry{Value: []byte("v")})
		errs[hitbox.OpDelete] = s.Delete(ctx, key)
		return errs
	}
	batchOps := func(s *redisstore.Store, ctx context.Context, key string) map[string]error {
		errs := map[string]error{}
		res, err := s.GetMany(ctx, []string{key})
		if err == nil && len(res) == 1 {
			err = res[0].Err
		}
		errs[hitbox.OpGetMany] = err
		errs[hitbox.OpSetMany] = s.SetMany(ctx, []hitbox.Item{{Key: key, Entry: hitbox.Entry{Value: []byte("v")}}})
		errs[hitbox.OpDeleteMany] = s.DeleteMany(ctx, []string{key})
		return errs
	}
	check := func(t *testing.T, errs map[string]error, want error, label string) {
		t.Helper()
		for op, err := range errs {
			var he *hitbox.Error
			if !errors.Is(err, want) || !errors.As(err, &he) || he.Op != op || he.Backend != label {
				t.Errorf("%s: got %v, want a *hitbox.Error{%s, %s} wrapping %v", op, err, op, label, want)
			}
			if errors.Is(err, hitbox.ErrUnavailable) {
				t.Errorf("%s: %v also claims the server is unavailable", op, err)
			}
		}
	}

	t.Run("an empty key is refused", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t, redisstore.Options{Label: "l2"})
		check(t, ops(s, ctx, ""), hitbox.ErrInvalidKey, "l2")
		check(t, batchOps(s, ctx, ""), hitbox.ErrInvalidKey, "l2")
	})

	t.Run("a cancelled context is honoured, and is not an outage", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t, redisstore.Options{})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		errs := ops(s, cctx, "k")
		for op, err := range batchOps(s, cctx, "k") {
			errs[op] = err
		}
		errs[hitbox.OpClear] = s.Clear(cctx)
		check(t, errs, context.Canceled, "redis")
	})

	t.Run("after Close every operation fails with ErrClosed", func(t *testing.T) {
		t.Parallel()
		s, rdb := newStore(t, redisstore.Options{})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		errs := ops(s, ctx, "k")
		for op, err := range batchOps(s, ctx, "k") {
			errs[op] = err
		}
		errs[hitbox.OpClear] = s.Clear(ctx)
		check(t, errs, hitbox.ErrClosed, "redis")
		if err := rdb.Ping(ctx).Err(); err != nil {
			t.Fatalf("Close closed a client the store does not own: %v", err)
		}
	})

	t.Run("CloseClient closes the client, once", func(t *testing.T) {
		t.Parallel()
		rdb := redis.NewClient(redistest.Shared(t).Options())
		s, err := redisstore.New(rdb, redisstore.Options{CloseClient: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := rdb.Ping(ctx).Err(); !errors.Is(err, redis.ErrClosed) {
			t.Fatalf("Ping after Close = %v, want redis.ErrClosed", err)
		}
	})

	t.Run("a client closed under the store gives ErrClosed", func(t *testing.T) {
		t.Parallel()
		rdb := redis.NewClient(redistest.Shared(t).Options())
		s, _ := redisstore.New(rdb, redisstore.Options{})
		_ = rdb.Close()
		check(t, ops(s, ctx, "k"), hitbox.ErrClosed, "redis")
	})

	t.Run("a missing key is a miss", func(t *testing.T) {
		t.Parallel()
		s, _ := newStore(t, redisstore.Options{})
		errs := map[string]error{}
		_, errs[hitbox.OpGet] = s.Get(ctx, "absent")
		res, _ := s.GetMany(ctx, []string{"absent"})
		errs[hitbox.OpGetMany] = res[0].Err
		check(t, errs, hitbox.ErrMiss, "redis")
	})
}

// TestBatch checks the batch operations on a single server, with misses
// and refused keys mixed in.
func TestBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{MaxValueSize: 16})
	rec := &recorder{}
	rdb.AddHook(rec)

	err := s.SetMany(ctx, []hitbox.Item{
		{Key: "a", Entry: hitbox.Entry{Value: []byte("1")}},
		{Key: "", Entry: hitbox.Entry{Value: []byte("2")}},
		{Key: "b", Entry: hitbox.Entry{Value: make([]byte, 17)}},
		{Key: "c", Entry: hitbox.Entry{Value: []byte("3"), Expire: time.Now().Add(time.Hour)}},
	})
	if !errors.Is(err, hitbox.ErrInvalidKey) || !errors.Is(err, hitbox.ErrTooLarge) ||
		!strings.Contains(err.Error(), "item 1") || !strings.Contains(err.Error(), "item 2") {
		t.Fatalf("SetMany = %v, want items 1 and 2 refused", err)
	}

	res, err := s.GetMany(ctx, []string{"a", "b", "", "c", "a"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		value string
		err   error
	}{{"1", nil}, {"", hitbox.ErrMiss}, {"", hitbox.ErrInvalidKey}, {"3", nil}, {"1", nil}}
	for i, w := range want {
		if string(res[i].Entry.Value) != w.value || !errors.Is(res[i].Err, w.err) {
			t.Errorf("result %d: got %q, %v; want %q, %v", i, res[i].Entry.Value, res[i].Err, w.value, w.err)
		}
	}
	if args := rec.last("mget"); len(args) != 5 {
		t.Errorf("sent %v, want one MGET of the four valid keys", args)
	}

	if err := s.DeleteMany(ctx, []string{"a", "c", "absent"}); err != nil {
		t.Fatal(err)
	}
	res, _ = s.GetMany(ctx, []string{"a", "c"})
	if !errors.Is(res[0].Err, hitbox.ErrMiss) || !errors.Is(res[1].Err, hitbox.ErrMiss) {
		t.Fatalf("after DeleteMany: %+v", res)
	}

	t.Run("empty batches do nothing", func(t *testing.T) {
		if res, err := s.GetMany(ctx, nil); err != nil || len(res) != 0 {
			t.Fatalf("GetMany(nil) = %v, %v", res, err)
		}
		if err := s.SetMany(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteMany(ctx, nil); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("over a thousand keys in one round trip", func(t *testing.T) {
		const n = 2500
		items := make([]hitbox.Item, n)
		keys := make([]string, n)
		for i := range items {
			keys[i] = fmt.Sprint("many", i)
			items[i] = hitbox.Item{Key: keys[i], Entry: hitbox.Entry{Value: []byte(fmt.Sprint(i))}}
		}
		if err := s.SetMany(ctx, items); err != nil {
			t.Fatal(err)
		}
		res, err := s.GetMany(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Err != nil || string(r.Entry.Value) != fmt.Sprint(i) {
				t.Fatalf("key %d: %q, %v", i, r.Entry.Value, r.Err)
			}
		}
		if err := s.DeleteMany(ctx, keys); err != nil {
			t.Fatal(err)
		}
		res, _ = s.GetMany(ctx, keys)
		for i, r := range res {
			if !errors.Is(r.Err, hitbox.ErrMiss) {
				t.Fatalf("key %d after DeleteMany: %v", i, r.Err)
			}
		}
	})
}

// TestClear checks that Clear removes its own prefix and nothing else, even
// when the prefix holds glob characters, and refuses to run without one.
func TestClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Shared(t).Client(t)
	base := redistest.Prefix(t)
	mk := func(prefix string) *redisstore.Store {
		s, err := redisstore.New(rdb, redisstore.Options{Prefix: base + prefix})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	star, plain, other := mk("a*"), mk("ab"), mk("b:")
	for _, s := range []*redisstore.Store{star, plain, other} {
		for i := range 2500 { // several SCAN pages
			if err := s.Set(ctx, fmt.Sprint(i), hitbox.Entry{Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := star.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(pattern string) int {
		n := 0
		iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			n++
		}
		return n
	}
	if n := count(base + `a\**`); n != 0 {
		t.Errorf("%d keys left under the cleared prefix", n)
	}
	if n := count(base + "ab*"); n != 2500 {
		t.Errorf("%d keys left under a prefix the glob would match, want 2500", n)
	}
	if n := count(base + "b:*"); n != 2500 {
		t.Errorf("%d keys left under another prefix, want 2500", n)
	}
	_ = plain.Clear(ctx)
	_ = other.Clear(ctx)

	t.Run("without a prefix Clear refuses", func(t *testing.T) {
		s, err := redisstore.New(rdb, redisstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Clear(ctx); !errors.Is(err, hitbox.ErrNotSupported) {
			t.Fatalf("Clear = %v, want ErrNotSupported", err)
		}
	})
}

// TestClearPrefix checks that ClearPrefix removes the keys under the store
// prefix followed by its own, over several SCAN pages, and nothing else:
// not keys a glob would match, not another store's keys under the same
// relative prefix, and, for a store without a prefix, not keys of the
// database that do not start with it.
func TestClearPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Shared(t).Client(t)
	base := redistest.Prefix(t)
	mk := func(prefix string) *redisstore.Store {
		s, err := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	mine, other, bare := mk(base+"mine:"), mk(base+"other:"), mk("")
	items := func(prefix string, n int) []hitbox.Item {
		out := make([]hitbox.Item, n)
		for i := range out {
			out[i] = hitbox.Item{Key: fmt.Sprint(prefix, i), Entry: hitbox.Entry{Value: []byte("v")}}
		}
		return out
	}
	for _, s := range []*redisstore.Store{mine, other} {
		for _, p := range []string{"t*:", "tx:", "t[*]:"} {
			if err := s.SetMany(ctx, items(p, 2500)); err != nil { // several SCAN pages
				t.Fatal(err)
			}
		}
	}
	if err := mine.ClearPrefix(ctx, "t*:"); err != nil {
		t.Fatal(err)
	}
	count := func(pattern string) int {
		n := 0
		iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			n++
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		pattern string
		want    int
	}{
		{base + `mine:t\*:*`, 0},
		{base + "mine:tx:*", 2500},
		{base + `mine:t\[\*\]:*`, 2500},
		{base + "other:*", 7500},
	} {
		if n := count(tc.pattern); n != tc.want {
			t.Errorf("%d keys match %s after ClearPrefix, want %d", n, tc.pattern, tc.want)
		}
	}

	// A store without a prefix clears only what starts with the given one.
	if err := bare.ClearPrefix(ctx, base+"mine:"); err != nil {
		t.Fatal(err)
	}
	if n := count(base + "mine:*"); n != 0 {
		t.Errorf("%d keys left under a prefix cleared through a store without one", n)
	}
	if n := count(base + "other:*"); n != 7500 {
		t.Errorf("%d keys left under another prefix, want 7500", n)
	}
	if err := bare.ClearPrefix(ctx, ""); !errors.Is(err, hitbox.ErrInvalidKey) {
		t.Errorf("ClearPrefix(\"\") = %v, want ErrInvalidKey", err)
	}
	_ = other.Clear(ctx)
}

// TestRemove checks that Remove says whether Redis held the key, in one
// UNLINK.
func TestRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{})
	rec := &recorder{}
	rdb.AddHook(rec)
	if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		removed, err := s.Remove(ctx, "k")
		if err != nil || removed != want {
			t.Fatalf("Remove %d = %v, %v; want %v, nil", i+1, removed, err, want)
		}
	}
	if got := rec.last("unlink"); len(got) != 2 {
		t.Errorf("Remove sent %v, want one UNLINK of the key", got)
	}
	if n := rec.count("get"); n != 0 {
		t.Errorf("Remove read the key %d times, want none", n)
	}
}
