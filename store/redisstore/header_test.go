package redisstore

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

// TestHeaderRoundTrip checks that deadlines come back to the nanosecond,
// the zero time included, for instants a Unix nanosecond count cannot hold.
func TestHeaderRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 18, 0, 0, 123456789, time.UTC)
	cases := []struct {
		name          string
		expire, stale time.Time
		value         []byte
	}{
		{"no deadlines and an empty value", time.Time{}, time.Time{}, nil},
		{"both deadlines, to the nanosecond", now.Add(time.Hour), now.Add(time.Minute), []byte("v")},
		{"an Expire only", now.Add(time.Nanosecond), time.Time{}, []byte("value")},
		{"a Stale only", time.Time{}, now, []byte{0, 1, 2}},
		{"the Unix epoch is not mistaken for no deadline", time.Unix(0, 0), time.Unix(0, 1), []byte("x")},
		{"far beyond 2262", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Time{}, []byte("y")},
		{"before 1678", time.Time{}, time.Date(1000, 1, 1, 0, 0, 0, 1, time.UTC), []byte("z")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := appendValue(nil, c.expire, c.stale, c.value)
			if len(raw) != headerSize+len(c.value) {
				t.Fatalf("stored %d bytes, want %d", len(raw), headerSize+len(c.value))
			}
			e, tags, err := decode(raw)
			if err != nil || tags != nil {
				t.Fatal(err, tags)
			}
			if !e.Expire.Equal(c.expire) || e.Expire.IsZero() != c.expire.IsZero() {
				t.Errorf("Expire = %v, want %v", e.Expire, c.expire)
			}
			if !e.Stale.Equal(c.stale) || e.Stale.IsZero() != c.stale.IsZero() {
				t.Errorf("Stale = %v, want %v", e.Stale, c.stale)
			}
			if !bytes.Equal(e.Value, c.value) {
				t.Errorf("Value = %q, want %q", e.Value, c.value)
			}
		})
	}
}

// TestHeaderCorrupt checks that what the store did not write is refused
// with ErrCorrupt.
func TestHeaderCorrupt(t *testing.T) {
	t.Parallel()
	good := appendValue(nil, time.Unix(100, 0), time.Time{}, []byte("v"))
	with := func(i int, b byte) []byte {
		raw := bytes.Clone(good)
		raw[i] = b
		return raw
	}
	cases := []struct {
		name string
		raw  []byte
	}{
		{"nothing", nil},
		{"a plain string someone else wrote", []byte("hello, this is a plain string value")},
		{"a header cut short", good[:headerSize-1]},
		{"a foreign first byte", with(0, 'h')},
		{"an unknown version", with(1, 2)},
		{"Expire nanoseconds over a second", with(10, 0x3c)}, // 0x3c000000 > 1e9
		{"Stale nanoseconds over a second", with(22, 0xff)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := decode(c.raw); !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("decode = %v, want ErrCorrupt", err)
			}
		})
	}
}

// FuzzDecode checks that decode never panics and that whatever it accepts,
// tagged or not, is exactly what appendValue or appendTaggedValue writes
// for the entry and tags it returns: a damaged tag section is refused.
func FuzzDecode(f *testing.F) {
	f.Add(appendValue(nil, time.Time{}, time.Time{}, nil))
	f.Add(appendValue(nil, time.Unix(1e9, 5), time.Unix(1e9-1, 0), []byte("value")))
	f.Add([]byte("plain"))
	tagged := appendTaggedValue(nil, time.Unix(1e9, 5), time.Time{}, []tagVersion{{"user:42", "12345678"}, {"x", "abcdefgh"}}, []byte("value"))
	f.Add(tagged)
	f.Add(tagged[:headerSize+7])
	f.Add(append(append([]byte(nil), tagged[:headerSize]...), 0xff, 0xff))
	f.Add(append(append([]byte(nil), tagged[:headerSize]...), 0, 1, 0xff, 0xff, 'a'))
	f.Add(append(append([]byte(nil), tagged[:headerSize]...), 0, 0, 'v'))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, sect, err := decode(raw)
		if err != nil {
			if !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again := appendValue(nil, e.Expire, e.Stale, e.Value)
		if sect != nil {
			var tv []tagVersion
			eachTag(sect, func(tag, ver []byte) { tv = append(tv, tagVersion{string(tag), string(ver)}) })
			if hitbox.CheckTags(tagNames(sect)) != nil {
				t.Fatalf("decoded tags %q that CheckTags refuses", tagNames(sect))
			}
			again = appendTaggedValue(nil, e.Expire, e.Stale, tv, e.Value)
		}
		if !bytes.Equal(again, raw) {
			t.Fatalf("re-encoded %x, read %x", again, raw)
		}
	})
}
