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
// and reads them back through the store: it must answer with an entry, a
// miss or ErrCorrupt, and never panic.
func FuzzGet(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3})
	f.Add(appendRecord(nil, time.Time{}, time.Time{}, []byte("value")))
	f.Add(appendRecord(nil, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2029, 1, 1, 0, 0, 0, 5, time.UTC), nil))
	s, err := New(Options{Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, rec []byte) {
		if err := s.cache.Set("k", rec); err != nil {
			t.Skip(err)
		}
		e, err := s.Get(ctx, "k")
		switch {
		case err == nil:
			if !bytes.Equal(e.Value, rec[headerSize:]) {
				t.Fatalf("value %x, want the bytes after the header of %x", e.Value, rec)
			}
		case errors.Is(err, hitbox.ErrMiss), errors.Is(err, hitbox.ErrCorrupt):
		default:
			t.Fatalf("Get: %v, want an entry, a miss or ErrCorrupt", err)
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
		e, err := readRecord(appendRecord(nil, expire, stale, []byte("v")))
		if err != nil {
			t.Fatalf("readRecord: %v", err)
		}
		if !e.Expire.Equal(expire) || !e.Stale.Equal(stale) || e.Expire.IsZero() != expire.IsZero() {
			t.Fatalf("deadlines %v, %v came back as %v, %v", expire, stale, e.Expire, e.Stale)
		}
	})
}
