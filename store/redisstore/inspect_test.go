package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// TestParseStored reads back what the store wrote to a real server, whole
// and damaged.
func TestParseStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{})
	prefix := redisstore.StorePrefix(s)
	expire := time.Now().Add(time.Hour).Round(0)
	stale := expire.Add(-10 * time.Minute)
	if err := s.Set(ctx, "plain", hitbox.Entry{Value: []byte("v1"), Expire: expire, Stale: stale}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTagged(ctx, "tagged", hitbox.Entry{Value: []byte("v2"), Expire: expire}, []string{"user:1", "all"}); err != nil {
		t.Fatal(err)
	}
	raw := func(key string) []byte {
		b, err := rdb.Get(ctx, prefix+key).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	plain, tagged := raw("plain"), raw("tagged")
	cases := []struct {
		name     string
		b        []byte
		wantErr  bool
		version  byte
		value    string
		tags     []string
		deadline bool
	}{
		{"an untagged entry reads whole", plain, false, 1, "v1", nil, true},
		{"a tagged entry reads with its tags", tagged, false, 2, "v2", []string{"user:1", "all"}, true},
		{"a tag section cut short keeps the version and deadlines", tagged[:30], true, 2, "", nil, true},
		{"a header cut short keeps the version", plain[:10], true, 1, "", nil, false},
		{"a value another program wrote is foreign", []byte("hello"), true, 0, "", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := redisstore.ParseStored(tc.b)
			if (err != nil) != tc.wantErr || err != nil && !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt %v", err, tc.wantErr)
			}
			if st.Version != tc.version || string(st.Value) != tc.value {
				t.Errorf("version %d value %q, want %d %q", st.Version, st.Value, tc.version, tc.value)
			}
			var tags []string
			for _, tg := range st.Tags {
				tags = append(tags, tg.Tag)
				if len(tg.Version) != 8 {
					t.Errorf("tag %q has a %d-byte version", tg.Tag, len(tg.Version))
				}
			}
			if !slices.Equal(tags, tc.tags) {
				t.Errorf("tags %q, want %q", tags, tc.tags)
			}
			if tc.deadline && !st.Expire.Equal(expire) {
				t.Errorf("expire %v, want %v", st.Expire, expire)
			}
		})
	}
	// The version a tagged entry carries is the one its tag's key holds
	// until a purge.
	st, _ := redisstore.ParseStored(tagged)
	cur, err := rdb.Get(ctx, redisstore.TagVersionKey(prefix, "user:1")).Bytes()
	if err != nil || !bytes.Equal(cur, st.Tags[0].Version) {
		t.Fatalf("version key holds %x (%v), entry carries %x", cur, err, st.Tags[0].Version)
	}
	if tag, ok := redisstore.TagOfKey(prefix, redisstore.TagVersionKey(prefix, "user:1")); !ok || tag != "user:1" {
		t.Fatalf("TagOfKey = %q, %v", tag, ok)
	}
	if _, ok := redisstore.TagOfKey(prefix, prefix+"plain"); ok {
		t.Fatal("TagOfKey took an entry's key for a version's")
	}
}

// TestKeysAndTags walks the keys and tags of a store on a single server
// and on a cluster, where they spread over every master.
func TestKeysAndTags(t *testing.T) {
	t.Parallel()
	stores := []struct {
		name string
		open func(t *testing.T) *redisstore.Store
	}{
		{"single server", func(t *testing.T) *redisstore.Store { s, _ := newStore(t, redisstore.Options{}); return s }},
		{"cluster", func(t *testing.T) *redisstore.Store { s, _ := newClusterStore(t, redisstore.Options{}); return s }},
	}
	for _, sc := range stores {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := sc.open(t)
			var want []string
			for i := range 40 {
				k := "k:" + string(rune('a'+i%26)) + string(rune('0'+i/26))
				want = append(want, k)
				if err := s.SetTagged(ctx, k, hitbox.Entry{Value: []byte("v")}, []string{"t" + string(rune('0'+i%3))}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Set(ctx, "other*[x]", hitbox.Entry{Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
			collect := func(match string) []string {
				var got []string
				if err := s.Keys(ctx, match, func(k string) error { got = append(got, k); return nil }); err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				return slices.Compact(got)
			}
			slices.Sort(want)
			if got := collect("k:*"); !slices.Equal(got, want) {
				t.Errorf("Keys(k:*) = %q, want %q", got, want)
			}
			if got := collect(""); len(got) != len(want)+1 || !slices.Contains(got, "other*[x]") {
				t.Errorf("Keys() = %d keys %q, want the %d and other*[x]; no tag versions", len(got), got, len(want)+1)
			}
			var tags []string
			if err := s.Tags(ctx, func(tag string) error { tags = append(tags, tag); return nil }); err != nil {
				t.Fatal(err)
			}
			slices.Sort(tags)
			if !slices.Equal(tags, []string{"t0", "t1", "t2"}) {
				t.Errorf("Tags = %q", tags)
			}
			stop := errors.New("enough")
			n := 0
			err := s.Keys(ctx, "", func(string) error { n++; return stop })
			if !errors.Is(err, stop) || n != 1 {
				t.Errorf("Keys stopped after %d calls with %v; want 1 and f's error", n, err)
			}
		})
	}
}

// TestKeysUnreachable checks that a walk of a server that is down fails
// with ErrUnavailable.
func TestKeysUnreachable(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(redisstore.ClientOptions("127.0.0.1:1"))
	t.Cleanup(func() { _ = rdb.Close() })
	s, _ := redisstore.New(rdb, redisstore.Options{Prefix: "p:"})
	err := s.Keys(context.Background(), "", func(string) error { return nil })
	if !errors.Is(err, hitbox.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

// FuzzParseStored checks that ParseStored never panics, fails only with
// ErrCorrupt, and returns a value that ends the input.
func FuzzParseStored(f *testing.F) {
	f.Add([]byte("\xff\x01" + string(make([]byte, 24)) + "value"))
	f.Add([]byte("\xff\x02" + string(make([]byte, 24)) + "\x00\x01\x00\x01t12345678value"))
	f.Add([]byte("plain"))
	f.Add([]byte("\xff\x0312345678"))                                              // a lease's placeholder
	f.Add([]byte("\xff\x0312345678\xff\x01" + string(make([]byte, 24)) + "value")) // an entry after a lease's head
	f.Fuzz(func(t *testing.T, raw []byte) {
		st, err := redisstore.ParseStored(raw)
		if err != nil && !errors.Is(err, hitbox.ErrCorrupt) {
			t.Fatalf("error %v does not wrap ErrCorrupt", err)
		}
		if err == nil && !bytes.HasSuffix(raw, st.Value) {
			t.Fatal("the value is not the end of the input")
		}
	})
}

// TestParseStoredLeased reads a lease's placeholder (a load in flight,
// nothing stored) and an entry stored through a lease (after its head).
func TestParseStoredLeased(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, rdb := newStore(t, redisstore.Options{})
	prefix := redisstore.StorePrefix(s)
	l, err := s.Lease(ctx, "k", []string{"t"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rdb.Get(ctx, prefix+"k").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if st, err := redisstore.ParseStored(b); err != nil || !st.Placeholder || !st.Leased || st.Value != nil {
		t.Errorf("a placeholder: %+v, %v", st, err)
	}
	if err := s.SetLeased(ctx, "k", hitbox.Entry{Value: []byte("v"), Expire: time.Now().Add(time.Hour)}, []string{"t"}, l); err != nil {
		t.Fatal(err)
	}
	if b, err = rdb.Get(ctx, prefix+"k").Bytes(); err != nil {
		t.Fatal(err)
	}
	st, err := redisstore.ParseStored(b)
	if err != nil || st.Placeholder || !st.Leased || st.Version != 2 || string(st.Value) != "v" || len(st.Tags) != 1 {
		t.Errorf("an entry stored through a lease: %+v, %v", st, err)
	}
}
