package leasetoken

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", hitbox.MaxTagLen)
	tags := []Tag{{"a", 1}, {"user:42", 1 << 63}, {long, 0}, {"é", 7}}
	head := []byte("HEAD")
	tok := head
	want := len(head)
	for _, tg := range tags {
		tok = Append(tok, tg.Name, tg.Version)
		want += Size(tg.Name)
	}
	if len(tok) != want {
		t.Fatalf("token of %d bytes, Size says %d", len(tok), want)
	}
	got, err := Parse(nil, string(tok[len(head):]))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(got) != len(tags) {
		t.Fatalf("Parse = %d tags, want %d", len(got), len(tags))
	}
	for i, tg := range tags {
		if got[i] != tg {
			t.Errorf("tag %d = %q %d, want %q %d", i, got[i].Name, got[i].Version, tg.Name, tg.Version)
		}
		if v, ok := Lookup(got, tg.Name); !ok || v != tg.Version {
			t.Errorf("Lookup %q = %d, %v; want %d", tg.Name, v, ok, tg.Version)
		}
	}
	if _, ok := Lookup(got, "b"); ok {
		t.Error("Lookup found a tag the token does not name")
	}
	if got, err := Parse(nil, ""); err != nil || len(got) != 0 {
		t.Errorf("Parse of no tags = %v, %v; want none", got, err)
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	ok := string(Append(nil, "tag", 9))
	tooMany := ""
	for range hitbox.MaxTags + 1 {
		tooMany += ok
	}
	for _, c := range []struct{ name, sect string }{
		{"a name with no version", ok[:len(ok)-1]},
		{"a length past the end", "\x09abc"},
		{"an empty name", string(Append(nil, "", 1))},
		{"a name over the limit", string(Append(nil, strings.Repeat("x", hitbox.MaxTagLen+1), 1))},
		{"a length that overflows", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"},
		{"a cut length", "\x80"},
		{"a length not in its shortest form", "\x81\x00a12345678"},
		{"more tags than a lease may name", tooMany},
	} {
		if _, err := Parse(nil, c.sect); !errors.Is(err, hitbox.ErrLeaseLost) {
			t.Errorf("%s: Parse = %v, want an error wrapping ErrLeaseLost", c.name, err)
		}
	}
}

func TestUvarint(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "\x00", "\x7f", "\x80\x01", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", "\x80\x80"} {
		x, n := uvarint(s)
		wx, wn := binary.Uvarint([]byte(s))
		if x != wx || n != wn {
			t.Errorf("uvarint(%q) = %d, %d; binary.Uvarint says %d, %d", s, x, n, wx, wn)
		}
	}
}

// FuzzParse feeds Parse bytes of any shape: it must never panic, refuse
// anything it cannot read with ErrLeaseLost, and read back exactly what
// Append would write for what it accepts.
func FuzzParse(f *testing.F) {
	f.Add([]byte(nil))
	f.Add(Append(Append(nil, "a", 1), "b", 2))
	f.Add([]byte("\x05ab"))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"))
	f.Fuzz(func(t *testing.T, sect []byte) {
		tags, err := Parse(nil, string(sect))
		if err != nil {
			if !errors.Is(err, hitbox.ErrLeaseLost) {
				t.Fatalf("Parse = %v, want an error wrapping ErrLeaseLost", err)
			}
			return
		}
		var back []byte
		for _, tg := range tags {
			back = Append(back, tg.Name, tg.Version)
		}
		if string(back) != string(sect) {
			t.Fatalf("Parse then Append = %q, want %q", back, sect)
		}
	})
}
