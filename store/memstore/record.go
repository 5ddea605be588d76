package memstore

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/hitbox-go/hitbox"
)

// A record is what the store hands bigcache for one entry: a fixed header
// holding the two deadlines, then the value bytes as given.
//
//	[0:8]   Expire, whole seconds since January 1, year 1 UTC (int64, little endian)
//	[8:12]  Expire, nanoseconds within that second (uint32)
//	[12:20] Stale, seconds as above
//	[20:24] Stale, nanoseconds
//	[24:]   the value
//
// Seconds count from time.Time's zero instant rather than 1970 so that the
// zero time (no deadline) encodes as all zero bytes, and so every time.Time a
// caller or a fake clock can produce survives the round trip exactly, which
// Unix nanoseconds (good for 1678 to 2262 only) would not promise.
const headerSize = 24

// zeroToUnix is the number of seconds from time.Time's zero instant to the
// Unix epoch.
const zeroToUnix = 62135596800

// putTime writes t into the 12 bytes at b.
func putTime(b []byte, t time.Time) {
	if t.IsZero() {
		clear(b[:12])
		return
	}
	binary.LittleEndian.PutUint64(b, uint64(t.Unix()+zeroToUnix))
	binary.LittleEndian.PutUint32(b[8:], uint32(t.Nanosecond()))
}

// readTime reads the 12 bytes at b; ok is false when the nanoseconds are out
// of range, which only a damaged record holds.
func readTime(b []byte) (t time.Time, ok bool) {
	sec := int64(binary.LittleEndian.Uint64(b))
	nsec := binary.LittleEndian.Uint32(b[8:])
	if nsec >= 1e9 {
		return time.Time{}, false
	}
	if sec == 0 && nsec == 0 {
		return time.Time{}, true
	}
	return time.Unix(sec-zeroToUnix, int64(nsec)), true
}

// appendRecord appends the record for value and its deadlines to dst.
func appendRecord(dst []byte, expire, stale time.Time, value []byte) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, headerSize)...) // no allocation: append grows dst in place
	putTime(dst[n:], expire)
	putTime(dst[n+12:], stale)
	return append(dst, value...)
}

// readRecord splits a record read back from bigcache. The value aliases rec,
// which is bigcache's own fresh copy, so no second allocation is made.
func readRecord(rec []byte) (hitbox.Entry, error) {
	if len(rec) < headerSize {
		return hitbox.Entry{}, fmt.Errorf("%w: %d-byte record is shorter than its %d-byte header",
			hitbox.ErrCorrupt, len(rec), headerSize)
	}
	expire, ok1 := readTime(rec)
	stale, ok2 := readTime(rec[12:])
	if !ok1 || !ok2 {
		return hitbox.Entry{}, fmt.Errorf("%w: deadline nanoseconds out of range", hitbox.ErrCorrupt)
	}
	return hitbox.Entry{Value: rec[headerSize:], Expire: expire, Stale: stale}, nil
}
