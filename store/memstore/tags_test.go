package memstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

func TestTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		opts Options
		run  func(t *testing.T, s *Store, c *clock)
	}{
		{"an untagged record is written exactly as before tags existed, so old readers and the fast path agree",
			Options{}, func(t *testing.T, s *Store, c *clock) {
				if err := s.SetTagged(ctx, "k", hitbox.Entry{Value: []byte("v")}, nil); err != nil {
					t.Fatal(err)
				}
				rec, err := s.cache.Get("k")
				if err != nil {
					t.Fatal(err)
				}
				if want := appendRecord(nil, time.Time{}, time.Time{}, []byte("v")); string(rec) != string(want) {
					t.Errorf("record %x, want %x", rec, want)
				}
			}},
		{"a full version table forgets a tag, and the entries carrying it read as misses",
			Options{Shards: 1, MaxTagVersions: 2}, func(t *testing.T, s *Store, c *clock) {
				for i, tag := range []string{"a", "b", "c"} {
					if err := s.SetTagged(ctx, tag, hitbox.Entry{Value: []byte{byte(i)}}, []string{tag}); err != nil {
						t.Fatal(err)
					}
				}
				misses := 0
				for _, k := range []string{"a", "b", "c"} {
					if _, err := s.Get(ctx, k); errors.Is(err, hitbox.ErrMiss) {
						misses++
					} else if err != nil {
						t.Fatal(err)
					}
				}
				if misses != 1 {
					t.Errorf("%d of 3 entries missed with room for 2 tags, want exactly 1", misses)
				}
			}},
		{"an expired tagged entry is a miss like any other",
			Options{}, func(t *testing.T, s *Store, c *clock) {
				e := hitbox.Entry{Value: []byte("v"), Expire: c.Now().Add(time.Minute)}
				if err := s.SetTagged(ctx, "k", e, []string{"t"}); err != nil {
					t.Fatal(err)
				}
				c.Advance(time.Minute)
				if _, _, err := s.GetTagged(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
					t.Errorf("GetTagged at Expire: %v, want a miss", err)
				}
			}},
		{"MaxTTL caps a tagged entry as it caps a plain one, and an expired one is not stored",
			Options{MaxTTL: time.Minute}, func(t *testing.T, s *Store, c *clock) {
				if err := s.SetTagged(ctx, "k", hitbox.Entry{Value: []byte("v")}, []string{"t"}); err != nil {
					t.Fatal(err)
				}
				e, tags, err := s.GetTagged(ctx, "k")
				if err != nil || !e.Expire.Equal(c.Now().Add(time.Minute)) || len(tags) != 1 {
					t.Errorf("GetTagged = %v %q, %v; want Expire now+MaxTTL and the tag", e.Expire, tags, err)
				}
				if err := s.SetTagged(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: c.Now()}, []string{"t"}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
					t.Errorf("Get after an expired SetTagged: %v, want a miss", err)
				}
			}},
		{"a value over MaxValueSize is refused with its tags",
			Options{MaxValueSize: 10}, func(t *testing.T, s *Store, c *clock) {
				err := s.SetTagged(ctx, "k", hitbox.Entry{Value: make([]byte, 11)}, []string{"t"})
				if !errors.Is(err, hitbox.ErrTooLarge) {
					t.Errorf("SetTagged of 11 bytes: %v, want ErrTooLarge", err)
				}
			}},
		{"a closed store refuses every tag operation",
			Options{}, func(t *testing.T, s *Store, c *clock) {
				s.Close()
				for op, err := range map[string]error{
					"SetTagged":      s.SetTagged(ctx, "k", hitbox.Entry{}, []string{"t"}),
					"GetTagged":      func() error { _, _, err := s.GetTagged(ctx, "k"); return err }(),
					"InvalidateTags": s.InvalidateTags(ctx, "t"),
				} {
					if !errors.Is(err, hitbox.ErrClosed) {
						t.Errorf("%s after Close: %v, want ErrClosed", op, err)
					}
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c := newStore(t, tc.opts)
			tc.run(t, s, c)
		})
	}
}

// TestWriteRacingPurge: writers store entries with one tag while a purge
// runs; every write that returned before the purge began must read as a
// miss after it, and writes that start after it returned must survive.
func TestWriteRacingPurge(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, Options{})
	ctx := context.Background()
	var (
		purging atomic.Bool
		mu      sync.Mutex
		before  []string
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for w := range 8 {
		wg.Go(func() {
			<-start
			for i := range 200 {
				key := fmt.Sprintf("w%d-%d", w, i)
				if err := s.SetTagged(ctx, key, hitbox.Entry{Value: []byte(key)}, []string{"t", fmt.Sprint("own", w)}); err != nil {
					t.Error(err)
					return
				}
				if !purging.Load() {
					mu.Lock()
					before = append(before, key)
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	runtime.Gosched()
	purging.Store(true)
	if err := s.InvalidateTags(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, k := range before {
		if e, err := s.Get(ctx, k); !errors.Is(err, hitbox.ErrMiss) {
			t.Errorf("%q, written before the purge began, = %q, %v; want a miss", k, e.Value, err)
		}
	}
	if err := s.SetTagged(ctx, "after", hitbox.Entry{Value: []byte("v")}, []string{"t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "after"); err != nil {
		t.Errorf("an entry written after the purge: %v, want a hit", err)
	}
	t.Logf("%d writes finished before the purge began", len(before))
}

// BenchmarkTagMemory measures what one remembered tag costs the version
// table, for tags of 10 bytes ("user:12345"): the cost the package doc
// and Options.MaxTagVersions name it for.
func BenchmarkTagMemory(b *testing.B) {
	const n = 1 << 17
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("user:%05d", i)
	}
	var perTag float64
	for b.Loop() {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		v := newVersions(64, n)
		for _, t := range tags {
			v.use(string([]byte(t))) // a tag of its own, as one read from a request would be
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		perTag = float64(m1.HeapAlloc-m0.HeapAlloc) / n
		runtime.KeepAlive(v)
	}
	b.ReportMetric(perTag, "B/tag")
}
