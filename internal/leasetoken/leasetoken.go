// Package leasetoken writes the tags of a lease, each with the version it
// had when the lease was taken, into the tail of a store's lease token,
// and reads them back by name when the load stores. The names are in the
// token because a load may store with other tags than it leased with (an
// HTTP response's tags are known only once it arrives), so SetLeased
// must tell which of its tags the lease saw, and at which version.
//
// After the store's own fixed head, a token holds, for each tag:
//
//	uvarint  the length of the name
//	bytes    the name
//	8 bytes  the version, big-endian
//
//	tok = leasetoken.Append(head, "user:1", ver)
//	leased, err := leasetoken.Parse(buf[:0], tok[len(head):])
//	if ver, ok := leasetoken.Lookup(leased, "user:1"); ok { ... }
package leasetoken

import (
	"encoding/binary"
	"fmt"

	"github.com/hitbox-go/hitbox"
)

// Tag is one tag a lease named, with its version when the lease was taken.
type Tag struct {
	Name    string
	Version uint64
}

// ErrMalformed is Parse's error for bytes that are no tag section: a token
// some other store (or no store) handed out. It wraps hitbox.ErrLeaseLost,
// so the load's store is refused and nothing else goes wrong.
var ErrMalformed = fmt.Errorf("malformed lease token: %w", hitbox.ErrLeaseLost)

// Append appends a tag and its version to tok.
func Append(tok []byte, name string, ver uint64) []byte {
	tok = binary.AppendUvarint(tok, uint64(len(name)))
	tok = append(tok, name...)
	return binary.BigEndian.AppendUint64(tok, ver)
}

// Size returns how many bytes Append adds for a tag named name.
func Size(name string) int {
	n := 1
	for l := len(name); l >= 0x80; l >>= 7 {
		n++
	}
	return n + len(name) + 8
}

// Parse appends to dst the tags of sect, a token's tail after the store's
// head, and returns the extended slice. A section that is not a sequence
// of at most hitbox.MaxTags tags as Append writes them (lengths in their
// shortest form), each with a name of 1 to hitbox.MaxTagLen bytes, is an
// error wrapping ErrMalformed. The names
// share sect's memory.
func Parse(dst []Tag, sect string) ([]Tag, error) {
	for n := 0; len(sect) > 0; n++ {
		if n == hitbox.MaxTags {
			return dst, ErrMalformed
		}
		l, w := uvarint(sect)
		if w <= 0 || w > 1 && sect[w-1] == 0 || l == 0 || l > hitbox.MaxTagLen || uint64(len(sect)-w) < l+8 {
			return dst, ErrMalformed
		}
		sect = sect[w:]
		name := sect[:l]
		ver := binary.BigEndian.Uint64([]byte(sect[l : l+8]))
		dst = append(dst, Tag{Name: name, Version: ver})
		sect = sect[l+8:]
	}
	return dst, nil
}

// Lookup returns the version the lease recorded for the tag named name,
// and whether it named it.
func Lookup(tags []Tag, name string) (uint64, bool) {
	for _, t := range tags {
		if t.Name == name {
			return t.Version, true
		}
	}
	return 0, false
}

// uvarint is binary.Uvarint over a string: the value and the bytes it
// took, 0 when s ends first, negative when it overflows 64 bits.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	if len(s) >= binary.MaxVarintLen64 {
		return 0, -binary.MaxVarintLen64
	}
	return 0, 0
}
