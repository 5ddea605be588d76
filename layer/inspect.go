package layer

import (
	"encoding/binary"
	"hash/crc32"
	"time"

	"github.com/hitbox-go/hitbox/codec"
)

// Envelope is what the bytes Encode wrote say, for tools that show a stored
// entry (cmd/hitbox). Reading the entry through the layer is the way to use
// it; Envelope is for looking at it.
type Envelope struct {
	// Version and Flags are the envelope's version and flags bytes.
	Version, Flags byte
	// Expire and Stale are the entry's deadlines; zero means none.
	Expire, Stale time.Time
	// Checksum is the CRC-32C the envelope carries, and ChecksumOK whether
	// it matches the header and the value.
	Checksum   uint32
	ChecksumOK bool
	// Value is the value the envelope wraps: a subslice of the input.
	Value []byte
}

// HeaderSize is the length of the header Encode puts before each value.
const HeaderSize = envHeader

// DecodeEnvelope reads the envelope Encode wrote in b, with no side
// effects. It fails, with an error wrapping hitbox.ErrCorrupt, exactly when
// Encode's Get would, and then returns what could still be read: the
// fields before the damage (a checksum that does not match leaves every
// field filled, ChecksumOK false). It never panics.
func DecodeEnvelope(b []byte) (Envelope, error) {
	var env Envelope
	if len(b) >= 3 {
		env.Version = b[2]
	}
	if len(b) >= 4 {
		env.Flags = b[3]
	}
	if len(b) >= envHeader && b[0] == envMagic0 && b[1] == envMagic1 {
		env.Expire = fromNanos(int64(binary.BigEndian.Uint64(b[4:12])))
		env.Stale = fromNanos(int64(binary.BigEndian.Uint64(b[12:20])))
		env.Checksum = binary.BigEndian.Uint32(b[20:24])
		env.Value = b[envHeader:len(b):len(b)]
		sum := crc32.Update(crc32.Update(0, castagnoli, b[:20]), castagnoli, env.Value)
		env.ChecksumOK = sum == env.Checksum
	}
	if _, err := openEnvelope(b); err != nil {
		return env, err
	}
	return env, nil
}

// IsEnvelope reports whether b starts as an envelope of Encode does: its
// magic bytes and a whole header. It tells a tool which layers wrote a
// value it knows nothing else of; DecodeEnvelope says whether it is whole.
func IsEnvelope(b []byte) bool {
	return len(b) >= envHeader && b[0] == envMagic0 && b[1] == envMagic1
}

// Compressed is what a value Compress wrote says: the compressor's id (0,
// codec.None's, for a value stored as it is) and name, the stored size,
// and the restored value.
type Compressed struct {
	ID     byte
	Name   string // "" for an id codec does not know
	Stored int    // bytes as stored, the id byte included
	Value  []byte // the value restored; nil when it could not be
}

// DecodeCompressed restores a value Compress wrote, whatever compressor
// wrote it (codec.CompressorByID), restoring no more than limit bytes
// (DefaultMaxDecompressed when limit is 0). It fails, with an error
// wrapping hitbox.ErrCorrupt, when Compress's Get would with that limit,
// and then still reports the id, name and stored size. It never panics.
func DecodeCompressed(b []byte, limit int) (Compressed, error) {
	if limit <= 0 {
		limit = DefaultMaxDecompressed
	}
	out := Compressed{Stored: len(b)}
	if len(b) > 0 {
		out.ID = b[0]
		if c, ok := codec.CompressorByID(b[0]); ok {
			out.Name = c.Name()
		}
	}
	t := &compressor{c: codec.None(), id: rawID, opt: CompressOptions{MaxDecompressed: limit}}
	v, err := t.unpack(b)
	if err != nil {
		return out, err
	}
	out.Value = v
	return out, nil
}
