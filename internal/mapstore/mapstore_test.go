package mapstore_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// clock is a settable time for one test; the public fake clock lives in
// hitboxtest, which imports this package.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	tests := []struct {
		name string
		run  func(t *testing.T, s *mapstore.Store, c *clock)
	}{
		{"an absent key is a miss", func(t *testing.T, s *mapstore.Store, c *clock) {
			_, err := s.Get(ctx, "k")
			wantIs(t, err, hitbox.ErrMiss)
		}},
		{"a value set is read back as a copy with both deadlines", func(t *testing.T, s *mapstore.Store, c *clock) {
			v := []byte("abc")
			in := hitbox.Entry{Value: v, Expire: t0.Add(time.Hour), Stale: t0.Add(time.Minute)}
			if err := s.Set(ctx, "k", in); err != nil {
				t.Fatal(err)
			}
			v[0] = 'x'
			got, err := s.Get(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Value) != "abc" || !got.Expire.Equal(in.Expire) || !got.Stale.Equal(in.Stale) {
				t.Fatalf("got %+v", got)
			}
			got.Value[0] = 'y'
			again, _ := s.Get(ctx, "k")
			if string(again.Value) != "abc" {
				t.Fatalf("stored value changed through a returned slice: %q", again.Value)
			}
		}},
		{"an entry expires at its Expire on the store's clock", func(t *testing.T, s *mapstore.Store, c *clock) {
			_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: t0.Add(time.Minute)})
			c.Add(time.Minute - 1)
			if _, err := s.Get(ctx, "k"); err != nil {
				t.Fatalf("one nanosecond early: %v", err)
			}
			c.Add(1)
			_, err := s.Get(ctx, "k")
			wantIs(t, err, hitbox.ErrMiss)
			if s.Len() != 0 {
				t.Fatalf("Len = %d after expiry", s.Len())
			}
		}},
		{"an already expired entry is not stored and removes the old one", func(t *testing.T, s *mapstore.Store, c *clock) {
			_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
			if err := s.Set(ctx, "k", hitbox.Entry{Value: []byte("w"), Expire: t0}); err != nil {
				t.Fatal(err)
			}
			_, err := s.Get(ctx, "k")
			wantIs(t, err, hitbox.ErrMiss)
		}},
		{"an empty key is refused by every operation", func(t *testing.T, s *mapstore.Store, c *clock) {
			_, err := s.Get(ctx, "")
			wantIs(t, err, hitbox.ErrInvalidKey)
			wantIs(t, s.Set(ctx, "", hitbox.Entry{}), hitbox.ErrInvalidKey)
			wantIs(t, s.Delete(ctx, ""), hitbox.ErrInvalidKey)
			_, err = s.GetMany(ctx, []string{"a", ""})
			wantIs(t, err, hitbox.ErrInvalidKey)
			wantIs(t, s.SetMany(ctx, []hitbox.Item{{Key: ""}}), hitbox.ErrInvalidKey)
			wantIs(t, s.DeleteMany(ctx, []string{""}), hitbox.ErrInvalidKey)
		}},
		{"a cancelled context fails every operation", func(t *testing.T, s *mapstore.Store, c *clock) {
			_, err := s.Get(cancelled, "k")
			wantIs(t, err, context.Canceled)
			wantIs(t, s.Set(cancelled, "k", hitbox.Entry{}), context.Canceled)
			wantIs(t, s.Delete(cancelled, "k"), context.Canceled)
			_, err = s.GetMany(cancelled, []string{"k"})
			wantIs(t, err, context.Canceled)
			wantIs(t, s.SetMany(cancelled, nil), context.Canceled)
			wantIs(t, s.DeleteMany(cancelled, nil), context.Canceled)
			wantIs(t, s.Clear(cancelled), context.Canceled)
		}},
		{"batches answer per key in order", func(t *testing.T, s *mapstore.Store, c *clock) {
			err := s.SetMany(ctx, []hitbox.Item{{Key: "a", Entry: hitbox.Entry{Value: []byte("1")}}, {Key: "b", Entry: hitbox.Entry{Value: []byte("2")}}})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.GetMany(ctx, []string{"b", "x", "a", "b"})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"2", "", "1", "2"}
			for i, r := range res {
				if want[i] == "" {
					wantIs(t, r.Err, hitbox.ErrMiss)
				} else if r.Err != nil || string(r.Entry.Value) != want[i] {
					t.Errorf("result %d = %q, %v; want %q", i, r.Entry.Value, r.Err, want[i])
				}
			}
			if err := s.DeleteMany(ctx, []string{"a", "x"}); err != nil {
				t.Fatal(err)
			}
			if s.Len() != 1 {
				t.Fatalf("Len = %d, want 1", s.Len())
			}
		}},
		{"clear empties the store", func(t *testing.T, s *mapstore.Store, c *clock) {
			_ = s.Set(ctx, "a", hitbox.Entry{})
			if err := s.Clear(ctx); err != nil || s.Len() != 0 {
				t.Fatalf("Clear = %v, Len = %d", err, s.Len())
			}
		}},
		{"close is idempotent and every operation fails after it", func(t *testing.T, s *mapstore.Store, c *clock) {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("second Close = %v", err)
			}
			_, err := s.Get(ctx, "k")
			wantIs(t, err, hitbox.ErrClosed)
			wantIs(t, s.Set(ctx, "k", hitbox.Entry{}), hitbox.ErrClosed)
			wantIs(t, s.Delete(ctx, "k"), hitbox.ErrClosed)
			_, err = s.GetMany(ctx, []string{"k"})
			wantIs(t, err, hitbox.ErrClosed)
			wantIs(t, s.SetMany(ctx, nil), hitbox.ErrClosed)
			wantIs(t, s.DeleteMany(ctx, nil), hitbox.ErrClosed)
			wantIs(t, s.Clear(ctx), hitbox.ErrClosed)
		}},
		{"the basic view shares entries but no abilities", func(t *testing.T, s *mapstore.Store, c *clock) {
			var b hitbox.Backend = s.Basic()
			switch b.(type) {
			case hitbox.BatchGetter, hitbox.BatchSetter, hitbox.BatchDeleter, hitbox.Clearer, hitbox.Closer:
				t.Fatalf("%T exposes an optional ability", b)
			}
			_ = s.Set(ctx, "k", hitbox.Entry{Value: []byte("v")})
			e, err := b.Get(ctx, "k")
			if err != nil || !bytes.Equal(e.Value, []byte("v")) || b.Label() != "map" {
				t.Fatalf("Get = %q, %v; Label = %q", e.Value, err, b.Label())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: t0}
			tt.run(t, mapstore.New(mapstore.Options{Now: c.Now}), c)
		})
	}
}

func TestLabelDefaultsToMap(t *testing.T) {
	t.Parallel()
	if got := mapstore.New(mapstore.Options{}).Label(); got != "map" {
		t.Fatalf("Label = %q", got)
	}
	if got := mapstore.New(mapstore.Options{Label: "l1"}).Label(); got != "l1" {
		t.Fatalf("Label = %q", got)
	}
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("err = %v, want one wrapping %v", err, target)
	}
}

func TestTags(t *testing.T) {
	ctx := context.Background()
	s := mapstore.New(mapstore.Options{})
	e := hitbox.Entry{Value: []byte("v"), Expire: time.Now().Add(time.Hour)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.SetTagged(ctx, "a", e, []string{"user:1", "org:1"}))
	must(s.SetTagged(ctx, "b", e, []string{"user:2", "org:1"}))
	must(s.Set(ctx, "c", e))

	if _, tags, err := s.GetTagged(ctx, "a"); err != nil || !slices.Equal(tags, []string{"user:1", "org:1"}) {
		t.Fatalf("GetTagged(a) tags = %v, %v; want the tags it was written with", tags, err)
	}
	must(s.InvalidateTags(ctx, "user:1"))
	// The purged tag drops a, for Get and Remove alike; b and the untagged c stay.
	if _, err := s.Get(ctx, "a"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("Get(a) after purging user:1: %v, want a miss", err)
	}
	for _, k := range []string{"b", "c"} {
		if _, err := s.Get(ctx, k); err != nil {
			t.Fatalf("Get(%s) after purging user:1: %v, want a hit", k, err)
		}
	}
	// A write after the purge carries the new version and survives it.
	must(s.SetTagged(ctx, "a", e, []string{"user:1"}))
	if _, err := s.Get(ctx, "a"); err != nil {
		t.Fatalf("Get(a) written after the purge: %v, want a hit", err)
	}
	// A plain Set replaces a tagged entry and drops its tags with it.
	must(s.Set(ctx, "b", e))
	must(s.InvalidateTags(ctx, "org:1"))
	if removed, err := s.Remove(ctx, "b"); !removed || err != nil {
		t.Fatalf("Remove(b) = %v, %v: the plain Set should have left b untagged", removed, err)
	}
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (a and c)", s.Len())
	}
}
