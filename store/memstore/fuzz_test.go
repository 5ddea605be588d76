package memstore

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

// FuzzGet writes arbitrary bytes straight into bigcache, as damage would,
// and reads them back through the store, by Get and by GetTagged: it must
// answer with an entry, a miss or ErrCorrupt, and never panic. Damaged tag
// sections (counts, lengths, pairs cut short) are among the seeds, and so
// are tagged records whose versions are current, so the fuzzer reaches
// the hit path of tagged records too.
func FuzzGet(f *testing.F) {
	s, err := New(Options{Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	live := []tagVersion{{"a", s.vers.use("a")}, {"user:42", s.vers.use("user:42")}}
	tagged := appendTaggedRecord(nil, time.Time{}, time.Time{}, live, []byte("value"))
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Add(appendRecord(nil, time.Time{}, time.Time{}, []byte("value")))
	f.Add(appendRecord(nil, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2029, 1, 1, 0, 0, 0, 5, time.UTC), nil))
	f.Add(tagged)
	f.Add(tagged[:headerSize+5])                                                          // a pair cut short
	f.Add(append(append([]byte(nil), tagged[:headerSize]...), 0xff, 0xff))                // 65535 tags
	f.Add(append(append([]byte(nil), tagged[:headerSize]...), 1, 0, 0xff, 0xff, 'a'))     // a 65535-byte tag
	f.Add(append(append([]byte(nil), tagged[:headerSize]...), 0, 0, 'v'))                 // no tags at all
	f.Add(appendTaggedRecord(nil, time.Time{}, time.Time{}, []tagVersion{{"a", 1}}, nil)) // an old version
	f.Fuzz(func(t *testing.T, rec []byte) {
		if err := s.cache.Set("k", rec); err != nil {
			t.Skip(err)
		}
		e, err := s.Get(ctx, "k")
		switch {
		case err == nil:
			if !bytes.HasSuffix(rec, e.Value) || len(rec)-len(e.Value) < headerSize {
				t.Fatalf("value %x, want the bytes after the header (and tags) of %x", e.Value, rec)
			}
		case errors.Is(err, hitbox.ErrMiss), errors.Is(err, hitbox.ErrCorrupt):
		default:
			t.Fatalf("Get: %v, want an entry, a miss or ErrCorrupt", err)
		}
		if err := s.cache.Set("k", rec); err != nil {
			t.Skip(err)
		}
		e, tags, err := s.GetTagged(ctx, "k")
		switch {
		case err == nil:
			if !bytes.HasSuffix(rec, e.Value) {
				t.Fatalf("GetTagged value %x is not the end of %x", e.Value, rec)
			}
			if hitbox.CheckTags(tags) != nil {
				t.Fatalf("GetTagged returned tags %q that CheckTags refuses", tags)
			}
		case errors.Is(err, hitbox.ErrMiss), errors.Is(err, hitbox.ErrCorrupt):
		default:
			t.Fatalf("GetTagged: %v, want an entry, a miss or ErrCorrupt", err)
		}
	})
}

// FuzzDeadlines checks that any deadline a caller can build survives the
// record encoding exactly.
func FuzzDeadlines(f *testing.F) {
	f.Add(int64(0), int64(0), int64(0), int64(0))
	f.Add(int64(-62135596800), int64(0), int64(1), int64(999999999))
	f.Add(int64(1893456000), int64(123), int64(253402300799), int64(999999999))
	f.Fuzz(func(t *testing.T, es, en, ss, sn int64) {
		expire := time.Unix(es, en)
		stale := time.Unix(ss, sn)
		e, _, err := readRecord(appendRecord(nil, expire, stale, []byte("v")))
		if err != nil {
			t.Fatalf("readRecord: %v", err)
		}
		if !e.Expire.Equal(expire) || !e.Stale.Equal(stale) || e.Expire.IsZero() != expire.IsZero() {
			t.Fatalf("deadlines %v, %v came back as %v, %v", expire, stale, e.Expire, e.Stale)
		}
		e, sect, err := readRecord(appendTaggedRecord(nil, expire, stale, []tagVersion{{"t", 7}}, []byte("v")))
		if err != nil || sect == nil || string(e.Value) != "v" {
			t.Fatalf("readRecord of a tagged record: %q, %x, %v", e.Value, sect, err)
		}
		if !e.Expire.Equal(expire) || !e.Stale.Equal(stale) || e.Expire.IsZero() != expire.IsZero() {
			t.Fatalf("tagged: deadlines %v, %v came back as %v, %v", expire, stale, e.Expire, e.Stale)
		}
	})
}
