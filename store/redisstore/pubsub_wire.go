package redisstore

import (
	"encoding/binary"
	"errors"

	"github.com/hitbox-go/hitbox"
)

// A PubSubBus message carries one hitbox.Invalidation:
//
//	byte     wireVersion
//	byte     flags: wireAll, wireTags, or 0; no other bit is defined
//	uvarint  length of Origin, then Origin's bytes
//	uvarint  number of keys, then each key as a uvarint length and its bytes
//	         (with wireTags) uvarint number of tags, then each tag likewise
//
// and nothing after. A message with All set carries no keys and no tags.
// wireTags is set only when the message carries tags, so a message
// without tags is exactly what readers older than tags read. A reader that
// meets a version or flag it does not know treats the message as
// unreadable, which its bus turns into All: a newer writer can never make
// an older reader keep a stale copy, and an older reader that gets a tag
// purge clears its local levels instead.
const (
	wireVersion = 1
	wireAll     = 1
	wireTags    = 2
)

// errMessage says a bus message is not one parseMessage can read.
var errMessage = errors.New("redisstore: malformed bus message")

// appendMessage appends the encoding of inv to b.
func appendMessage(b []byte, inv hitbox.Invalidation) []byte {
	var flags byte
	switch {
	case inv.All:
		flags = wireAll
	case len(inv.Tags) > 0:
		flags = wireTags
	}
	b = append(b, wireVersion, flags)
	b = binary.AppendUvarint(b, uint64(len(inv.Origin)))
	b = append(b, inv.Origin...)
	if inv.All {
		return append(b, 0)
	}
	b = appendList(b, inv.Keys)
	if flags&wireTags != 0 {
		b = appendList(b, inv.Tags)
	}
	return b
}

// appendList appends a uvarint count and each string with its length.
func appendList(b []byte, list []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(list)))
	for _, k := range list {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
	}
	return b
}

// messageSize is the length of appendMessage's output for inv.
func messageSize(inv hitbox.Invalidation) int {
	n := 2 + uvarintLen(len(inv.Origin)) + len(inv.Origin)
	if inv.All {
		return n + 1
	}
	n += listSize(inv.Keys)
	if len(inv.Tags) > 0 {
		n += listSize(inv.Tags)
	}
	return n
}

func listSize(list []string) int {
	n := uvarintLen(len(list))
	for _, k := range list {
		n += uvarintLen(len(k)) + len(k)
	}
	return n
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// parseMessage reads a message appendMessage wrote. Origin, Keys and Tags share
// s's memory (strings are immutable, so that is safe and spares a copy).
// It returns errMessage for anything else, whatever s holds.
func parseMessage(s string) (hitbox.Invalidation, error) {
	var inv hitbox.Invalidation
	if len(s) < 2 || s[0] != wireVersion || s[1]&^(wireAll|wireTags) != 0 || s[1] == wireAll|wireTags {
		return inv, errMessage
	}
	inv.All = s[1]&wireAll != 0
	tags := s[1]&wireTags != 0
	s = s[2:]
	origin, s, ok := readString(s)
	if !ok {
		return inv, errMessage
	}
	inv.Origin = origin
	if inv.Keys, s, ok = readList(s); !ok || (inv.All && len(inv.Keys) != 0) {
		return hitbox.Invalidation{}, errMessage
	}
	if tags {
		// The flag is set only for a message with tags: none is a lie.
		if inv.Tags, s, ok = readList(s); !ok || len(inv.Tags) == 0 {
			return hitbox.Invalidation{}, errMessage
		}
	}
	if len(s) != 0 {
		return hitbox.Invalidation{}, errMessage
	}
	return inv, nil
}

// readList reads what appendList wrote: nil for an empty list.
func readList(s string) (list []string, rest string, ok bool) {
	n, w := uvarint(s)
	// Each string takes at least one byte, for its length: a count beyond
	// what is left is a lie, and must not size an allocation.
	if w <= 0 || n > uint64(len(s)-w) {
		return nil, s, false
	}
	s = s[w:]
	if n > 0 {
		list = make([]string, n)
		for i := range list {
			if list[i], s, ok = readString(s); !ok {
				return nil, s, false
			}
		}
	}
	return list, s, true
}

// readString reads a uvarint length and that many bytes from the front of
// s, and returns them and the rest.
func readString(s string) (v, rest string, ok bool) {
	n, w := uvarint(s)
	if w <= 0 || n > uint64(len(s)-w) {
		return "", s, false
	}
	end := w + int(n)
	return s[w:end], s[end:], true
}

// uvarint is binary.Uvarint over a string, so a message is parsed without
// copying it. It returns the value and the bytes read, or 0 and a count of
// zero or less when s holds no complete, in-range value.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1) // overflows 64 bits
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
