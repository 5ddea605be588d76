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
//
// A record written by SetTagged sets the top bit of the Expire nanoseconds
// (which never reach 2^30 otherwise) and holds its tags between the header
// and the value:
//
//	[24:26] the number of tags, 1 to hitbox.MaxTags (uint16, little endian)
//	then per tag: its length (uint16), its bytes, and the tag's version
//	when the entry was written (uint64)
//	then the value
//
// An untagged record has the header and the value alone, so reading one
// costs one more bit test and nothing else.
const headerSize = 24

// tagFlag marks a tagged record, in the Expire nanoseconds.
const tagFlag = 1 << 31

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

// tagVersion is one tag of an entry with the tag's version when the entry
// was written.
type tagVersion struct {
	tag string
	ver uint64
}

// appendTaggedRecord appends the record for value, its deadlines and
// tags (1 to hitbox.MaxTags, each 1 to hitbox.MaxTagLen bytes) to dst.
func appendTaggedRecord(dst []byte, expire, stale time.Time, tags []tagVersion, value []byte) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	putTime(dst[n:], expire)
	putTime(dst[n+12:], stale)
	dst[n+11] |= tagFlag >> 24
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(tags)))
	for _, tv := range tags {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(tv.tag)))
		dst = append(dst, tv.tag...)
		dst = binary.LittleEndian.AppendUint64(dst, tv.ver)
	}
	return append(dst, value...)
}

// errShort is the damage of a record cut short.
var errShort = fmt.Errorf("%w: record shorter than its header", hitbox.ErrCorrupt)

// readRecord splits a record read back from bigcache. The value aliases rec,
// which is bigcache's own fresh copy, so no second allocation is made. For
// a tagged record, tags is its tag section (checked: every pair is whole
// and within the limits); it is nil for an untagged one.
func readRecord(rec []byte) (e hitbox.Entry, tags []byte, err error) {
	if len(rec) < headerSize {
		return hitbox.Entry{}, nil, errShort
	}
	if rec[11]&(tagFlag>>24) != 0 {
		return readTagged(rec)
	}
	expire, ok1 := readTime(rec)
	stale, ok2 := readTime(rec[12:])
	if !ok1 || !ok2 {
		return hitbox.Entry{}, nil, errNanos
	}
	return hitbox.Entry{Value: rec[headerSize:], Expire: expire, Stale: stale}, nil, nil
}

var errNanos = fmt.Errorf("%w: deadline nanoseconds out of range", hitbox.ErrCorrupt)

// readTagged is readRecord for a record with the tag flag.
func readTagged(rec []byte) (hitbox.Entry, []byte, error) {
	var h [12]byte
	copy(h[:], rec)
	h[11] &^= tagFlag >> 24
	expire, ok1 := readTime(h[:])
	stale, ok2 := readTime(rec[12:])
	if !ok1 || !ok2 {
		return hitbox.Entry{}, nil, errNanos
	}
	end, err := tagSectionEnd(rec[headerSize:])
	if err != nil {
		return hitbox.Entry{}, nil, err
	}
	sect := rec[headerSize : headerSize+end]
	return hitbox.Entry{Value: rec[headerSize+end:], Expire: expire, Stale: stale}, sect, nil
}

// tagSectionEnd returns the length of the tag section at the start of b,
// or an error wrapping hitbox.ErrCorrupt when it is damaged: a count or a
// length out of the limits, or a pair cut short.
func tagSectionEnd(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, fmt.Errorf("%w: tag section cut short", hitbox.ErrCorrupt)
	}
	n := int(binary.LittleEndian.Uint16(b))
	if n == 0 || n > hitbox.MaxTags {
		return 0, fmt.Errorf("%w: %d tags", hitbox.ErrCorrupt, n)
	}
	i := 2
	for range n {
		if len(b)-i < 2 {
			return 0, fmt.Errorf("%w: tag section cut short", hitbox.ErrCorrupt)
		}
		l := int(binary.LittleEndian.Uint16(b[i:]))
		if l == 0 || l > hitbox.MaxTagLen {
			return 0, fmt.Errorf("%w: a tag of %d bytes", hitbox.ErrCorrupt, l)
		}
		i += 2
		if len(b)-i < l+8 {
			return 0, fmt.Errorf("%w: tag section cut short", hitbox.ErrCorrupt)
		}
		i += l + 8
	}
	return i, nil
}
