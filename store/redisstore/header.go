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
// A zero deadline (none) is all zero bytes. Counting from time.Time's zero
// instant rather than 1970 lets every time.Time survive the round trip to
// the nanosecond, which Unix nanoseconds (1678 to 2262) would not.
const (
	headerSize = 26
	mark       = 0xFF
	version    = 1

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

// decode splits a stored value read back from Redis. The entry's Value
// aliases raw. Anything the store did not write, or a damaged header, is an
// error wrapping hitbox.ErrCorrupt; decode never panics.
func decode(raw []byte) (hitbox.Entry, error) {
	if len(raw) < headerSize {
		return hitbox.Entry{}, fmt.Errorf("%w: %d-byte value is shorter than the %d-byte header",
			hitbox.ErrCorrupt, len(raw), headerSize)
	}
	if raw[0] != mark {
		return hitbox.Entry{}, fmt.Errorf("%w: value was not written by redisstore", hitbox.ErrCorrupt)
	}
	if raw[1] != version {
		return hitbox.Entry{}, fmt.Errorf("%w: unknown format version %d", hitbox.ErrCorrupt, raw[1])
	}
	expire, ok1 := readTime(raw[2:14])
	stale, ok2 := readTime(raw[14:26])
	if !ok1 || !ok2 {
		return hitbox.Entry{}, fmt.Errorf("%w: deadline nanoseconds out of range", hitbox.ErrCorrupt)
	}
	return hitbox.Entry{Value: raw[headerSize:], Expire: expire, Stale: stale}, nil
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
