package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/panics"
	"go.uber.org/goleak"
)

// clock is a fake clock tests move by hand.
type clock = hitboxtest.Clock

func newClock() *clock { return hitboxtest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)) }

// newStore returns a store on a fake clock, closed when the test ends.
func newStore(t *testing.T, opts Options) (*Store, *clock) {
	t.Helper()
	c := newClock()
	if opts.Now == nil {
		opts.Now = c.Now
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      Options
		wantErr   string // the panic and Validate's error, or "" for success
		wantLimit int64
		wantValue int
	}{
		{name: "the zero value takes the defaults: 64 MiB, a quarter of a 1 MiB shard per value",
			opts: Options{}, wantLimit: 64 << 20, wantValue: 256 << 10},
		{name: "MaxBytes is rounded down to a whole MiB, never up",
			opts: Options{MaxBytes: 3<<20 + 12345, Shards: 1}, wantLimit: 3 << 20, wantValue: 3 << 18},
		{name: "the default value limit is 1 MiB when shards are large",
			opts: Options{MaxBytes: 64 << 20, Shards: 4}, wantLimit: 64 << 20, wantValue: 1 << 20},
		{name: "an explicit value limit that fits half a shard is kept",
			opts: Options{MaxBytes: 8 << 20, Shards: 8, MaxValueSize: 400 << 10}, wantLimit: 8 << 20, wantValue: 400 << 10},
		{name: "a cap under 1 MiB is refused: bigcache counts whole MiB",
			opts: Options{MaxBytes: 1<<20 - 1}, wantErr: "hitbox/memstore: Options.MaxBytes: 1048575 is under 1 MiB, the smallest cap bigcache can keep"},
		{name: "a negative cap is refused",
			opts: Options{MaxBytes: -1}, wantErr: "hitbox/memstore: Options.MaxBytes: -1 is under 1 MiB, the smallest cap bigcache can keep"},
		{name: "a shard count that is not a power of two is refused",
			opts: Options{Shards: 48}, wantErr: "hitbox/memstore: Options.Shards: 48 is not a power of two"},
		{name: "a value limit over half a shard is refused, naming the largest that fits",
			opts: Options{MaxBytes: 1 << 20, Shards: 2, MaxValueSize: 300 << 10}, wantErr: "hitbox/memstore: Options.MaxValueSize: 307200 does not fit a shard of 524288 bytes: at most 261841, or raise MaxBytes or lower Shards"},
		{name: "shards too small for any value are refused",
			opts: Options{MaxBytes: 1 << 20, Shards: 2048}, wantErr: "hitbox/memstore: Options.Shards: a shard of 512 bytes (MaxBytes/Shards) is too small: lower Shards or raise MaxBytes"},
		{name: "a negative value limit is refused",
			opts: Options{MaxValueSize: -1}, wantErr: "hitbox/memstore: Options.MaxValueSize: negative (-1)"},
		{name: "a negative MaxTTL is refused",
			opts: Options{MaxTTL: -time.Second}, wantErr: "hitbox/memstore: Options.MaxTTL: negative (-1s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.wantErr != "" {
				// Invalid options are a programmer error: New panics with
				// exactly what Validate returns.
				if err := tt.opts.Validate(); err == nil || err.Error() != tt.wantErr {
					t.Errorf("Validate = %v, want %q", err, tt.wantErr)
				}
				if got := newPanic(tt.opts); got != tt.wantErr {
					t.Errorf("New panicked with %q, want %q", got, tt.wantErr)
				}
				return
			}
			if err := tt.opts.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			s, err := New(tt.opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer s.Close()
			if got := s.Stats().Limit; got != tt.wantLimit {
				t.Errorf("Limit = %d, want %d", got, tt.wantLimit)
			}
			if s.maxValue != tt.wantValue {
				t.Errorf("MaxValueSize = %d, want %d", s.maxValue, tt.wantValue)
			}
			if s.Label() != "memory" {
				t.Errorf("Label = %q, want the default %q", s.Label(), "memory")
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := newStore(t, Options{Label: "l1"})
	now := c.Now()
	tests := []struct {
		name  string
		entry hitbox.Entry
	}{
		{name: "an entry without deadlines keeps them zero",
			entry: hitbox.Entry{Value: []byte("plain")}},
		{name: "both deadlines come back to the nanosecond",
			entry: hitbox.Entry{Value: []byte("timed"), Expire: now.Add(time.Hour + 7), Stale: now.Add(time.Minute + 3)}},
		{name: "a stale deadline already passed is kept: serving stale is the caller's choice",
			entry: hitbox.Entry{Value: []byte("stale"), Expire: now.Add(time.Hour), Stale: now.Add(-time.Hour)}},
		{name: "an empty value is a value",
			entry: hitbox.Entry{Value: []byte{}}},
		{name: "deadlines far in the future survive",
			entry: hitbox.Entry{Value: []byte("far"), Expire: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key := fmt.Sprintf("rt-%d", i)
			if err := s.Set(ctx, key, tt.entry); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := s.Get(ctx, key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got.Value, tt.entry.Value) || !got.Expire.Equal(tt.entry.Expire) || !got.Stale.Equal(tt.entry.Stale) {
				t.Fatalf("Get = %+v, want %+v", got, tt.entry)
			}
			if got.Expire.IsZero() != tt.entry.Expire.IsZero() || got.Stale.IsZero() != tt.entry.Stale.IsZero() {
				t.Fatalf("zero deadlines changed: got %+v, want %+v", got, tt.entry)
			}
		})
	}
}

func TestSetCopiesValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	v := []byte("original")
	if err := s.Set(ctx, "k", hitbox.Entry{Value: v}); err != nil {
		t.Fatal(err)
	}
	copy(v, "mutated!")
	got, err := s.Get(ctx, "k")
	if err != nil || string(got.Value) != "original" {
		t.Fatalf("Get = %q, %v; want the value as it was at Set", got.Value, err)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := newStore(t, Options{})
	start := c.Now()
	e := hitbox.Entry{Value: []byte("v"), Expire: start.Add(10 * time.Second)}
	if err := s.Set(ctx, "k", e); err != nil {
		t.Fatal(err)
	}

	c.Advance(10*time.Second - 1)
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatalf("Get a nanosecond before Expire: %v, want a hit", err)
	}

	c.Advance(1)
	_, err := s.Get(ctx, "k")
	if !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get at Expire: %v, want a miss", err)
	}
	if n := s.Len(); n != 0 {
		t.Fatalf("Len after an expired Get = %d, want 0: the entry is deleted when found", n)
	}
}

func TestSetExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := newStore(t, Options{})
	if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	// A Set replaces, so an already expired entry removes what was there.
	if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("new"), Expire: c.Now()}); err != nil {
		t.Fatalf("Set of an expired entry: %v, want nil", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get after an expired Set: %v, want a miss", err)
	}
	if n := s.Len(); n != 0 {
		t.Fatalf("Len = %d, want 0: an expired entry is not stored", n)
	}
}

func TestMaxTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := newStore(t, Options{MaxTTL: time.Minute, CleanInterval: -1})
	now := c.Now()
	tests := []struct {
		name   string
		expire time.Time
		want   time.Time
	}{
		{name: "no Expire becomes now+MaxTTL", expire: time.Time{}, want: now.Add(time.Minute)},
		{name: "a later Expire is lowered to now+MaxTTL", expire: now.Add(time.Hour), want: now.Add(time.Minute)},
		{name: "an earlier Expire is kept", expire: now.Add(time.Second), want: now.Add(time.Second)},
	}
	for i, tt := range tests {
		key := fmt.Sprintf("ttl-%d", i)
		if err := s.Set(ctx, key, hitbox.Entry{Value: []byte("v"), Expire: tt.expire}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, key)
		if err != nil {
			t.Fatalf("%s: Get: %v", tt.name, err)
		}
		if !got.Expire.Equal(tt.want) {
			t.Errorf("%s: Expire = %v, want %v", tt.name, got.Expire, tt.want)
		}
	}
	c.Advance(time.Minute)
	for i := range tests {
		if _, err := s.Get(ctx, fmt.Sprintf("ttl-%d", i)); !errors.Is(err, hitbox.ErrMiss) {
			t.Errorf("entry %d after MaxTTL: %v, want a miss", i, err)
		}
	}
}

func TestCorruptRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	badNanos := make([]byte, headerSize+3)
	badNanos[8] = 0xff
	badNanos[9] = 0xff
	badNanos[10] = 0xff
	badNanos[11] = 0xff
	tests := []struct {
		name string
		rec  []byte
	}{
		{name: "an empty record has no header", rec: []byte{}},
		{name: "a one-byte record is cut short", rec: []byte{1}},
		{name: "a record one byte short of its header", rec: make([]byte, headerSize-1)},
		{name: "a deadline with nanoseconds past a second", rec: badNanos},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			key := fmt.Sprintf("bad-%d", i)
			if err := s.cache.Set(key, tt.rec); err != nil {
				t.Fatal(err)
			}
			_, err := s.Get(ctx, key)
			if !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("Get = %v, want an error wrapping ErrCorrupt", err)
			}
			var he *hitbox.Error
			if !errors.As(err, &he) || he.Op != "get" || he.Backend != "memory" {
				t.Fatalf("Get error %#v, want a *hitbox.Error naming get and memory", err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, hitbox.ErrMiss) {
				t.Fatalf("second Get = %v, want a miss: the damaged entry is deleted", err)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{MaxValueSize: 100})
	if err := s.Set(ctx, "k", hitbox.Entry{Value: make([]byte, 100)}); err != nil {
		t.Fatalf("Set at the limit: %v", err)
	}
	err := s.Set(ctx, "k", hitbox.Entry{Value: make([]byte, 101)})
	var se *hitbox.SizeError
	if !errors.Is(err, hitbox.ErrTooLarge) || !errors.As(err, &se) {
		t.Fatalf("Set over the limit: %v, want a *hitbox.SizeError", err)
	}
	if se.Size != 101 || se.Limit != 100 {
		t.Fatalf("SizeError = %+v, want size 101 and limit 100", se)
	}
	if got, err := s.Get(ctx, "k"); err != nil || len(got.Value) != 100 {
		t.Fatalf("Get after a refused Set = %d bytes, %v; want the earlier entry untouched", len(got.Value), err)
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	long := strings.Repeat("k", s.maxKey+1)
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{name: "the empty key is refused", key: ""},
		{name: "a key one byte over the limit is refused", key: long},
		{name: "a key at the limit is kept", key: long[1:], ok: true},
		{name: "any bytes make a key", key: "\x00\xff/ü", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			setErr := s.Set(ctx, tt.key, hitbox.Entry{Value: []byte("v")})
			_, getErr := s.Get(ctx, tt.key)
			delErr := s.Delete(ctx, tt.key)
			for op, err := range map[string]error{"set": setErr, "get": getErr, "delete": delErr} {
				if tt.ok && err != nil {
					t.Errorf("%s: %v, want success", op, err)
				}
				if !tt.ok && !errors.Is(err, hitbox.ErrInvalidKey) {
					t.Errorf("%s: %v, want ErrInvalidKey", op, err)
				}
			}
		})
	}
}

// TestMemoryCap checks that the store stays within its cap, and, with
// admission off, that a full store drops its oldest entries first. (With
// admission on, a stream of keys used once may be declined instead; see
// admit_test.go.)
func TestMemoryCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{MaxBytes: 2<<20 + 1000, Shards: 4, DisableAdmission: true})
	value := make([]byte, 1000)
	const n = 6000 // about three times the cap
	for i := range n {
		if err := s.Set(ctx, fmt.Sprintf("key-%d", i), hitbox.Entry{Value: value}); err != nil {
			t.Fatalf("Set %d: %v", i, err)
		}
	}
	st := s.Stats()
	if st.Limit != 2<<20 {
		t.Fatalf("Limit = %d, want 2 MiB", st.Limit)
	}
	if int64(st.Allocated) > st.Limit {
		t.Fatalf("Allocated = %d bytes, over the %d-byte cap", st.Allocated, st.Limit)
	}
	if st.Entries >= n || st.Entries < n/4 {
		t.Fatalf("Entries = %d of %d written, want the oldest evicted and the rest kept", st.Entries, n)
	}
	// First in, first out: the newest entry is there, the first one is gone.
	if _, err := s.Get(ctx, fmt.Sprintf("key-%d", n-1)); err != nil {
		t.Fatalf("newest entry: %v", err)
	}
	if _, err := s.Get(ctx, "key-0"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("oldest entry: %v, want a miss", err)
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ops := map[string]error{}
	_, ops[hitbox.OpGet] = s.Get(ctx, "k")
	ops[hitbox.OpSet] = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
	ops[hitbox.OpDelete] = s.Delete(ctx, "k")
	_, ops[hitbox.OpGetMany] = s.GetMany(ctx, []string{"k"})
	ops[hitbox.OpSetMany] = s.SetMany(ctx, []hitbox.Item{{Key: "k"}})
	ops[hitbox.OpDeleteMany] = s.DeleteMany(ctx, []string{"k"})
	ops[hitbox.OpClear] = s.Clear(ctx)
	for op, err := range ops {
		var he *hitbox.Error
		if !errors.Is(err, context.Canceled) || !errors.As(err, &he) || he.Op != op {
			t.Errorf("%s with a cancelled context: %v, want a *hitbox.Error for %q wrapping context.Canceled", op, err, op)
		}
	}
	if n := s.Len(); n != 0 {
		t.Fatalf("Len = %d, want 0: nothing is written under a cancelled context", n)
	}
}

func TestBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := newStore(t, Options{MaxValueSize: 10})
	items := []hitbox.Item{
		{Key: "a", Entry: hitbox.Entry{Value: []byte("1")}},
		{Key: "b", Entry: hitbox.Entry{Value: make([]byte, 11)}}, // too large
		{Key: "", Entry: hitbox.Entry{Value: []byte("3")}},       // invalid key
		{Key: "d", Entry: hitbox.Entry{Value: []byte("4"), Expire: c.Now().Add(time.Second)}},
	}
	err := s.SetMany(ctx, items)
	if !errors.Is(err, hitbox.ErrTooLarge) || !errors.Is(err, hitbox.ErrInvalidKey) {
		t.Fatalf("SetMany = %v, want both failures joined", err)
	}
	if !strings.Contains(err.Error(), "item 1") || !strings.Contains(err.Error(), "item 2") {
		t.Fatalf("SetMany = %v, want the failed items named", err)
	}

	res, err := s.GetMany(ctx, []string{"a", "b", "d", "zz", ""})
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	want := []struct {
		value string
		err   error
	}{{"1", nil}, {"", hitbox.ErrMiss}, {"4", nil}, {"", hitbox.ErrMiss}, {"", hitbox.ErrInvalidKey}}
	for i, w := range want {
		if w.err != nil {
			if !errors.Is(res[i].Err, w.err) {
				t.Errorf("result %d: %v, want %v", i, res[i].Err, w.err)
			}
			continue
		}
		if res[i].Err != nil || string(res[i].Entry.Value) != w.value {
			t.Errorf("result %d: %q, %v; want %q", i, res[i].Entry.Value, res[i].Err, w.value)
		}
	}

	if err := s.DeleteMany(ctx, []string{"a", "absent", "d"}); err != nil {
		t.Fatalf("DeleteMany: %v", err)
	}
	if n := s.Len(); n != 0 {
		t.Fatalf("Len after DeleteMany = %d, want 0", n)
	}
	if err := s.DeleteMany(ctx, []string{"x", ""}); !errors.Is(err, hitbox.ErrInvalidKey) {
		t.Fatalf("DeleteMany with an empty key: %v, want ErrInvalidKey", err)
	}
}

func TestClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	for i := range 100 {
		if err := s.Set(ctx, fmt.Sprint(i), hitbox.Entry{Value: []byte("v")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if n := s.Len(); n != 0 {
		t.Fatalf("Len after Clear = %d, want 0", n)
	}
	if _, err := s.Get(ctx, "1"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get after Clear: %v, want a miss", err)
	}
	if err := s.Set(ctx, "1", hitbox.Entry{Value: []byte("again")}); err != nil {
		t.Fatalf("Set after Clear: %v", err)
	}
}

// TestMissIsPreallocated is not parallel: testing.AllocsPerRun refuses to
// run beside other tests.
func TestMissIsPreallocated(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, Options{Label: "l1"})
	_, err := s.Get(ctx, "absent")
	var he *hitbox.Error
	if !errors.Is(err, hitbox.ErrMiss) || !errors.As(err, &he) || he.Backend != "l1" || he.Op != "get" {
		t.Fatalf("miss = %#v, want a *hitbox.Error naming get and l1", err)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = s.Get(ctx, "absent") }); allocs != 0 {
		t.Fatalf("a miss allocates %v times, want 0", allocs)
	}
}

// TestCloseStopsCleaner is not parallel: it checks that no goroutine is
// left by the stores it makes, which other tests running beside it would
// blur. Top-level tests that are not parallel finish before parallel ones
// resume.
func TestCloseStopsCleaner(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	s, err := New(Options{MaxTTL: time.Hour, CleanInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close %d: %v, want nil: Close is idempotent", i+1, err)
		}
	}
	ops := map[string]error{}
	_, ops[hitbox.OpGet] = s.Get(ctx, "k")
	ops[hitbox.OpSet] = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
	ops[hitbox.OpDelete] = s.Delete(ctx, "k")
	_, ops[hitbox.OpGetMany] = s.GetMany(ctx, []string{"k"})
	ops[hitbox.OpSetMany] = s.SetMany(ctx, []hitbox.Item{{Key: "k"}})
	ops[hitbox.OpDeleteMany] = s.DeleteMany(ctx, []string{"k"})
	ops[hitbox.OpClear] = s.Clear(ctx)
	for op, err := range ops {
		if !errors.Is(err, hitbox.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
}

// TestNoGoroutineWithoutMaxTTL shows a store without MaxTTL starts no
// goroutine at all. Not parallel, for the reason above.
func TestNoGoroutineWithoutMaxTTL(t *testing.T) {
	before := goleak.IgnoreCurrent()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := goleak.Find(before); err != nil {
		t.Fatalf("New without MaxTTL started a goroutine: %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := newStore(t, Options{MaxBytes: 1 << 20, Shards: 8})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			value := bytes.Repeat([]byte{byte(g)}, 100+g)
			for i := range 2000 {
				key := fmt.Sprintf("k%d", i%64)
				switch i % 5 {
				case 0, 1:
					e := hitbox.Entry{Value: value, Expire: c.Now().Add(time.Duration(i%3) * time.Second)}
					if err := s.Set(ctx, key, e); err != nil {
						t.Errorf("Set: %v", err)
						return
					}
				case 2, 3:
					e, err := s.Get(ctx, key)
					if err != nil && !errors.Is(err, hitbox.ErrMiss) {
						t.Errorf("Get: %v", err)
						return
					}
					// Every value is one byte repeated: a torn read would show.
					if err == nil && len(e.Value) > 0 && !bytes.Equal(e.Value, bytes.Repeat(e.Value[:1], len(e.Value))) {
						t.Errorf("Get returned a mixed value")
						return
					}
				case 4:
					if err := s.Delete(ctx, key); err != nil {
						t.Errorf("Delete: %v", err)
						return
					}
				}
				if i%500 == 0 {
					c.Advance(time.Second)
				}
			}
		}()
	}
	wg.Wait()
}

func TestLogsDamage(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s, _ := newStore(t, Options{Label: "l1", Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err := s.cache.Set("k", []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "k"); !errors.Is(err, hitbox.ErrCorrupt) {
		t.Fatalf("Get: %v, want ErrCorrupt", err)
	}
	if out := buf.String(); !strings.Contains(out, "damaged") || !strings.Contains(out, "backend=l1") {
		t.Fatalf("log = %q, want a warning naming the backend", out)
	}
}

// Remove reports a live entry as removed, and an expired or damaged one
// bigcache still holds as not: a Get would not have returned it.
func TestRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		plant func(s *Store, c *clock)
		want  bool
	}{
		{"A live entry is removed.", func(s *Store, c *clock) {
			_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: c.Now().Add(time.Minute)})
		}, true},
		{"An entry past its Expire, still held by bigcache, was not there.", func(s *Store, c *clock) {
			_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: c.Now().Add(time.Minute)})
			c.Advance(time.Minute)
		}, false},
		{"A damaged record was not there.", func(s *Store, _ *clock) { _ = s.cache.Set("k", []byte{1}) }, false},
		{"An absent key was not there.", func(*Store, *clock) {}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := newStore(t, Options{})
			tt.plant(s, c)
			removed, err := s.Remove(ctx, "k")
			if err != nil || removed != tt.want {
				t.Fatalf("Remove = %v, %v; want %v, nil", removed, err, tt.want)
			}
			if _, err := s.cache.Get("k"); err == nil {
				t.Error("bigcache still holds the key after Remove")
			}
		})
	}
}

// ClearPrefix walks every shard: of many keys spread over all of them, it
// removes exactly those under the prefix.
func TestClearPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, Options{})
	const n = 5000
	for i := range n {
		for _, p := range []string{"drop:", "keep:"} {
			if err := s.Set(ctx, fmt.Sprint(p, i), hitbox.Entry{Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.ClearPrefix(ctx, "drop:"); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := s.Get(ctx, fmt.Sprint("drop:", i)); !errors.Is(err, hitbox.ErrMiss) {
			t.Fatalf("drop:%d after ClearPrefix: %v, want a miss", i, err)
		}
		if _, err := s.Get(ctx, fmt.Sprint("keep:", i)); err != nil {
			t.Fatalf("keep:%d after ClearPrefix: %v", i, err)
		}
	}
	if got := s.cache.Len(); got != n {
		t.Errorf("bigcache holds %d entries, want %d", got, n)
	}
}

// newPanic calls New with opts and returns what it panicked with.
func newPanic(opts Options) string {
	return panics.Message(func() {
		if s, err := New(opts); err == nil {
			s.Close()
		}
	})
}
