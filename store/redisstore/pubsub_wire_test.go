package redisstore

import (
	"slices"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox"
)

// TestMessageRoundTrip checks that every invalidation comes back as it was
// published, and that messageSize is exact.
func TestMessageRoundTrip(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("k", 300) // a length of two varint bytes
	cases := []struct {
		name string
		inv  hitbox.Invalidation
	}{
		{"one key from a tier", hitbox.Invalidation{Origin: "a", Keys: []string{"user:42"}}},
		{"many keys, one long, one with every byte value", hitbox.Invalidation{Origin: "node-7", Keys: []string{"x", long, "\x00\xff:{tag}"}}},
		{"a clear", hitbox.Invalidation{Origin: "a", All: true}},
		{"no origin", hitbox.Invalidation{Keys: []string{"k"}}},
		{"nothing at all", hitbox.Invalidation{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := appendMessage(nil, c.inv)
			if len(b) != messageSize(c.inv) {
				t.Fatalf("messageSize = %d, message is %d bytes", messageSize(c.inv), len(b))
			}
			got, err := parseMessage(string(b))
			if err != nil {
				t.Fatal(err)
			}
			if got.Origin != c.inv.Origin || got.All != c.inv.All || !slices.Equal(got.Keys, c.inv.Keys) {
				t.Fatalf("got %+v, want %+v", got, c.inv)
			}
		})
	}
}

// TestMessageMalformed checks that parseMessage refuses, without panicking
// or allocating for lies, everything appendMessage would not write.
func TestMessageMalformed(t *testing.T) {
	t.Parallel()
	valid := string(appendMessage(nil, hitbox.Invalidation{Origin: "a", Keys: []string{"k1", "k2"}}))
	cases := []struct {
		name, msg string
	}{
		{"empty", ""},
		{"a version alone", "\x01"},
		{"another version", "\x02" + valid[1:]},
		{"an unknown flag", valid[:1] + "\x02" + valid[2:]},
		{"an origin longer than the message", "\x01\x00\x09a"},
		{"no key count", "\x01\x00\x01a"},
		{"a key count beyond the bytes left", "\x01\x00\x00\xff\xff\xff\xff\x0f"},
		{"a varint over 64 bits", "\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"},
		{"a varint that never ends", "\x01\x00\x80\x80\x80"},
		{"a cut key", valid[:len(valid)-1]},
		{"bytes after the last key", valid + "x"},
		{"a clear with keys", "\x01\x01\x00\x01\x01k"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if inv, err := parseMessage(c.msg); err == nil {
				t.Fatalf("parsed %q as %+v", c.msg, inv)
			}
		})
	}
}

// FuzzParseMessage checks that no message panics the parser, and that what
// it accepts survives another round trip unchanged.
func FuzzParseMessage(f *testing.F) {
	f.Add(appendMessage(nil, hitbox.Invalidation{Origin: "a", Keys: []string{"user:42"}}))
	f.Add(appendMessage(nil, hitbox.Invalidation{Origin: "a", All: true}))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := parseMessage(string(b))
		if err != nil {
			return
		}
		again, err := parseMessage(string(appendMessage(nil, inv)))
		if err != nil || again.Origin != inv.Origin || again.All != inv.All || !slices.Equal(again.Keys, inv.Keys) {
			t.Fatalf("%+v came back as %+v, %v", inv, again, err)
		}
	})
}
