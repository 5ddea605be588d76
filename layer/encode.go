package layer

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"time"

	"github.com/hitbox-go/hitbox"
)

// The envelope Encode writes, in order (integers big-endian):
//
//	magic    2 bytes  'h' 'b'
//	version  1 byte   1
//	flags    1 byte   0; bits are reserved for metadata sections
//	expire   8 bytes  Entry.Expire in Unix nanoseconds, 0 for none
//	stale    8 bytes  Entry.Stale in Unix nanoseconds, 0 for none
//	crc      4 bytes  CRC-32C of the 20 bytes above and the value
//	value    the rest
const (
	envMagic0  = 'h'
	envMagic1  = 'b'
	envVersion = 1
	envHeader  = 24
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode returns a layer that packs the whole entry (value, expire and stale
// deadlines) into one versioned byte string with a CRC-32C, so a store that
// keeps only bytes and a TTL keeps everything. Below it the entry is the
// envelope with Expire alone; above it the entry is whole again.
//
// Bytes Encode did not write (damaged, truncated, foreign) are an error
// wrapping hitbox.ErrCorrupt, never a panic, and the key is deleted below
// with the caller's context. A failed delete is not reported: the error
// stays ErrCorrupt, and the delete is tried again on the next read. The
// Value Get returns shares memory with what the backend below returned.
func Encode() hitbox.Layer {
	return func(next hitbox.Backend) hitbox.Backend { return &transformed{forward: forward{next}} }
}

// sealEnvelope packs e into an envelope appended to dst; only Expire stays
// outside it, for the store below to honour.
func sealEnvelope(dst []byte, e hitbox.Entry) hitbox.Entry {
	return hitbox.Entry{Value: appendEnvelope(dst, e), Expire: e.Expire}
}

// appendEnvelope appends the envelope of e to dst.
func appendEnvelope(dst []byte, e hitbox.Entry) []byte {
	start := len(dst)
	dst = append(dst, envMagic0, envMagic1, envVersion, 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(toNanos(e.Expire)))
	dst = binary.BigEndian.AppendUint64(dst, uint64(toNanos(e.Stale)))
	sum := crc32.Update(crc32.Update(0, castagnoli, dst[start:]), castagnoli, e.Value)
	dst = binary.BigEndian.AppendUint32(dst, sum)
	return append(dst, e.Value...)
}

// openEnvelope checks and unpacks an envelope. The Value it returns is a
// subslice of b, capped so an append by the caller cannot write into b.
func openEnvelope(b []byte) (hitbox.Entry, error) {
	if len(b) < envHeader {
		return hitbox.Entry{}, corrupt("encode", nil, "%d bytes, shorter than the %d-byte header", len(b), envHeader)
	}
	if b[0] != envMagic0 || b[1] != envMagic1 {
		return hitbox.Entry{}, corrupt("encode", nil, "not an envelope (magic %#02x%02x)", b[0], b[1])
	}
	if b[2] != envVersion {
		return hitbox.Entry{}, corrupt("encode", nil, "unknown envelope version %d", b[2])
	}
	if b[3] != 0 {
		return hitbox.Entry{}, corrupt("encode", nil, "unknown envelope flags %#02x", b[3])
	}
	v := b[envHeader:len(b):len(b)]
	sum := crc32.Update(crc32.Update(0, castagnoli, b[:20]), castagnoli, v)
	if got := binary.BigEndian.Uint32(b[20:24]); got != sum {
		return hitbox.Entry{}, corrupt("encode", nil, "checksum mismatch")
	}
	return hitbox.Entry{
		Value:  v,
		Expire: fromNanos(int64(binary.BigEndian.Uint64(b[4:12]))),
		Stale:  fromNanos(int64(binary.BigEndian.Uint64(b[12:20]))),
	}, nil
}

// Unix nanoseconds cover the years 1678 to 2262; deadlines outside are
// clamped, which keeps their meaning (long past, or practically never).
var (
	minNanoTime = time.Unix(0, math.MinInt64)
	maxNanoTime = time.Unix(0, math.MaxInt64)
)

// toNanos maps t to Unix nanoseconds, with 0 reserved for the zero time.
func toNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minNanoTime):
		return math.MinInt64
	case t.After(maxNanoTime):
		return math.MaxInt64
	}
	if n := t.UnixNano(); n != 0 {
		return n
	}
	return 1 // the epoch itself: one nanosecond later still means "long past"
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
