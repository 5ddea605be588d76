package redisstore

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
)

// Every Redis value the store writes is a fixed header holding the entry's
// two deadlines, then the value bytes as given:
//
//	[0]      0xFF, a mark no UTF-8 text starts with, so a plain string
//	         someone else wrote under the prefix is not mistaken for ours
//	[1]      format version, 1
//	[2:10]   Expire, whole seconds since January 1, year 1 UTC (int64, big endian)
//	[10:14]  Expire, nanoseconds within that second (uint32, big endian)
//	[14:22]  Stale, seconds as above
//	[22:26]  Stale, nanoseconds
//	[26:]    the value
//
// An entry written by SetTagged has format version 2 and its tags between
// the header and the value:
//
//	[26:28]  the number of tags, 1 to hitbox.MaxTags (uint16, big endian)
//	then per tag: its length (uint16), its bytes, and the tag's version
//	when the entry was written (8 bytes, the value of its version key)
//	then the value
//
// A reader that knows only version 1 finds version 2 damaged and drops
// it: a miss, which is right, since it could not check the tags.
//
// A lease (format version 3, see lease.go) may stand before either: a
// 10-byte head, then the entry or nothing.
//
// A zero deadline (none) is all zero bytes. Counting from time.Time's zero
// instant rather than 1970 lets every time.Time survive the round trip to
// the nanosecond, which Unix nanoseconds (1678 to 2262) would not.
const (
	headerSize = 26
	mark       = 0xFF
	version    = 1
	versionTag = 2 // an entry with tags

	// zeroToUnix is the number of seconds from time.Time's zero instant to
	// the Unix epoch.
	zeroToUnix = 62135596800
)

// appendValue appends the stored form of value and its deadlines to dst.
func appendValue(dst []byte, expire, stale time.Time, value []byte) []byte {
	var h [headerSize]byte
	h[0], h[1] = mark, version
	putTime(h[2:14], expire)
	putTime(h[14:26], stale)
	return append(append(dst, h[:]...), value...)
}

// putTime writes t into the 12 bytes of b.
func putTime(b []byte, t time.Time) {
	if t.IsZero() {
		return // b is already zero
	}
	binary.BigEndian.PutUint64(b, uint64(t.Unix()+zeroToUnix))
	binary.BigEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
}

// tagVersion is one tag of an entry with the value its version key held
// when the entry was written.
type tagVersion struct {
	tag string
	ver string // versionLen bytes
}

// versionLen is the length of a tag's version: 8 random bytes.
const versionLen = 8

// maxTagSection is the longest tag section: hitbox.MaxTags tags of
// hitbox.MaxTagLen bytes.
const maxTagSection = 2 + hitbox.MaxTags*(2+hitbox.MaxTagLen+versionLen)

// appendTaggedValue appends the stored form of a tagged entry to dst.
func appendTaggedValue(dst []byte, expire, stale time.Time, tags []tagVersion, value []byte) []byte {
	var h [headerSize]byte
	h[0], h[1] = mark, versionTag
	putTime(h[2:14], expire)
	putTime(h[14:26], stale)
	dst = append(dst, h[:]...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(tags)))
	for _, tv := range tags {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(tv.tag)))
		dst = append(dst, tv.tag...)
		dst = append(dst, tv.ver...)
	}
	return append(dst, value...)
}

// decode splits a stored value read back from Redis, past a lease's head
// (see lease.go); a lease's placeholder alone is errPlaceholder, a miss. The entry's Value
// aliases raw. For a tagged entry, tags is its tag section, checked whole
// (read it with eachTag); it is nil for an untagged one. Anything the
// store did not write, or a damaged header or tag section, is an error
// wrapping hitbox.ErrCorrupt; decode never panics.
func decode(raw []byte) (e hitbox.Entry, tags []byte, err error) {
	if inner, ok := unlease(raw); ok {
		if len(inner) == 0 {
			return hitbox.Entry{}, nil, errPlaceholder
		}
		raw = inner // a lease on it cannot precede another: its format version is refused below
	}
	if len(raw) < headerSize {
		return hitbox.Entry{}, nil, fmt.Errorf("%w: %d-byte value is shorter than the %d-byte header",
			hitbox.ErrCorrupt, len(raw), headerSize)
	}
	if raw[0] != mark {
		return hitbox.Entry{}, nil, fmt.Errorf("%w: value was not written by redisstore", hitbox.ErrCorrupt)
	}
	if raw[1] != version && raw[1] != versionTag {
		return hitbox.Entry{}, nil, fmt.Errorf("%w: unknown format version %d", hitbox.ErrCorrupt, raw[1])
	}
	expire, ok1 := readTime(raw[2:14])
	stale, ok2 := readTime(raw[14:26])
	if !ok1 || !ok2 {
		return hitbox.Entry{}, nil, fmt.Errorf("%w: deadline nanoseconds out of range", hitbox.ErrCorrupt)
	}
	start := headerSize
	if raw[1] == versionTag {
		n, err := tagSectionLen(raw[headerSize:])
		if err != nil {
			return hitbox.Entry{}, nil, err
		}
		tags = raw[headerSize : headerSize+n]
		start += n
	}
	return hitbox.Entry{Value: raw[start:], Expire: expire, Stale: stale}, tags, nil
}

// tagSectionLen returns the length of the tag section at the start of b,
// or an error wrapping hitbox.ErrCorrupt for a count or a tag length out
// of the limits, or a pair cut short.
func tagSectionLen(b []byte) (int, error) {
	short := fmt.Errorf("%w: tag section cut short", hitbox.ErrCorrupt)
	if len(b) < 2 {
		return 0, short
	}
	n := int(binary.BigEndian.Uint16(b))
	if n == 0 || n > hitbox.MaxTags {
		return 0, fmt.Errorf("%w: %d tags", hitbox.ErrCorrupt, n)
	}
	i := 2
	for range n {
		if len(b)-i < 2 {
			return 0, short
		}
		l := int(binary.BigEndian.Uint16(b[i:]))
		if l == 0 || l > hitbox.MaxTagLen {
			return 0, fmt.Errorf("%w: a tag of %d bytes", hitbox.ErrCorrupt, l)
		}
		i += 2
		if len(b)-i < l+versionLen {
			return 0, short
		}
		i += l + versionLen
	}
	return i, nil
}

// eachTag calls f with every tag and version of a section decode checked.
func eachTag(sect []byte, f func(tag, ver []byte)) {
	n := int(binary.BigEndian.Uint16(sect))
	i := 2
	for range n {
		l := int(binary.BigEndian.Uint16(sect[i:]))
		f(sect[i+2:i+2+l], sect[i+2+l:i+2+l+versionLen])
		i += 2 + l + versionLen
	}
}

// readTime reads the 12 bytes of b; ok is false when the nanoseconds are out
// of range, which only a damaged header holds.
func readTime(b []byte) (t time.Time, ok bool) {
	sec := int64(binary.BigEndian.Uint64(b))
	nsec := binary.BigEndian.Uint32(b[8:])
	if nsec >= 1e9 {
		return time.Time{}, false
	}
	if sec == 0 && nsec == 0 {
		return time.Time{}, true
	}
	return time.Unix(sec-zeroToUnix, int64(nsec)), true
}
