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
		{"a tag purge", hitbox.Invalidation{Origin: "a", Tags: []string{"user:42", "\x00\xff {t}*"}}},
		{"keys and tags together", hitbox.Invalidation{Origin: "a", Keys: []string{"k"}, Tags: []string{"t", long}}},
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
			if got.Origin != c.inv.Origin || got.All != c.inv.All || !slices.Equal(got.Keys, c.inv.Keys) || !slices.Equal(got.Tags, c.inv.Tags) {
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
		{"an unknown flag", valid[:1] + "\x04" + valid[2:]},
		{"an origin longer than the message", "\x01\x00\x09a"},
		{"no key count", "\x01\x00\x01a"},
		{"a key count beyond the bytes left", "\x01\x00\x00\xff\xff\xff\xff\x0f"},
		{"a varint over 64 bits", "\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"},
		{"a varint that never ends", "\x01\x00\x80\x80\x80"},
		{"a cut key", valid[:len(valid)-1]},
		{"bytes after the last key", valid + "x"},
		{"a clear with keys", "\x01\x01\x00\x01\x01k"},
		{"an unknown flag beside the tags flag", valid[:1] + "\x06" + valid[2:]},
		{"a clear with the tags flag", "\x01\x03\x00\x00\x01\x01t"},
		{"the tags flag without tags", "\x01\x02\x00\x00\x00"},
		{"the tags flag without a tag count", "\x01\x02\x00\x00"},
		{"a cut tag", "\x01\x02\x00\x00\x01\x02t"},
		{"a tag count beyond the bytes left", "\x01\x02\x00\x00\xff\xff\xff\xff\x0f"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if inv, err := parseMessage(c.msg); err == nil {
				t.Fatalf("parsed %q as %+v", c.msg, inv)
			}
		})
	}
}

// TestMessageWithTagsIsAllForOlderReaders: a reader from before tags
// refused every flag but wireAll, and its bus turned what it refused into
// All. A message with tags must keep a flag such a reader refuses, so an
// old instance clears its local levels rather than keep a purged entry;
// a message without tags must stay readable by it.
func TestMessageWithTagsIsAllForOlderReaders(t *testing.T) {
	t.Parallel()
	oldReaderRefuses := func(b []byte) bool { return b[0] != wireVersion || b[1]&^wireAll != 0 }
	for _, inv := range []hitbox.Invalidation{
		{Origin: "a", Tags: []string{"t"}},
		{Origin: "a", Keys: []string{"k"}, Tags: []string{"t"}},
	} {
		if b := appendMessage(nil, inv); !oldReaderRefuses(b) {
			t.Errorf("%+v encodes as %q, which a reader from before tags would accept without its tags", inv, b)
		}
	}
	for _, inv := range []hitbox.Invalidation{
		{Origin: "a", Keys: []string{"k"}},
		{Origin: "a", All: true, Tags: []string{"ignored when All is set"}},
	} {
		if b := appendMessage(nil, inv); oldReaderRefuses(b) {
			t.Errorf("%+v encodes as %q, which a reader from before tags would refuse", inv, b)
		}
	}
}

// FuzzParseMessage checks that no message panics the parser, and that what
// it accepts survives another round trip unchanged.
func FuzzParseMessage(f *testing.F) {
	f.Add(appendMessage(nil, hitbox.Invalidation{Origin: "a", Keys: []string{"user:42"}}))
	f.Add(appendMessage(nil, hitbox.Invalidation{Origin: "a", All: true}))
	f.Add(appendMessage(nil, hitbox.Invalidation{Origin: "a", Keys: []string{"k"}, Tags: []string{"user:42", "t"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := parseMessage(string(b))
		if err != nil {
			return
		}
		again, err := parseMessage(string(appendMessage(nil, inv)))
		if err != nil || again.Origin != inv.Origin || again.All != inv.All || !slices.Equal(again.Keys, inv.Keys) || !slices.Equal(again.Tags, inv.Tags) {
			t.Fatalf("%+v came back as %+v, %v", inv, again, err)
		}
	})
}
