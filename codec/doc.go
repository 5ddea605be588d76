// Package codec turns values into bytes and back (Format) and shrinks and
// restores byte strings (Compressor), for hitbox caches and anything else
// that stores bytes.
//
// Formats: JSON, CBOR, Gob, MsgPack, Binary (the value's own
// MarshalBinary) and Raw (bytes and strings as they are). Compressors:
// None, Snappy, Gzip and Zstd, the last two at a chosen Level. Every one
// has a stable one-byte ID to store beside what it wrote, so a reader can
// pick the right one later; CompressorByID maps an ID back to a
// compressor. All are safe for concurrent use and cheap to call: CBOR's
// modes, zstd's encoders and decoder and gzip's pools are built once and
// shared.
//
// Decoding is written for bytes an attacker may have chosen. Decompress
// takes a limit and fails with ErrOverLimit before restoring more than it,
// and with ErrDamaged on damaged input; Unmarshal returns an error, never
// panics, and bounds nesting and declared lengths. The package's Example:
//
//	f, z := codec.CBOR(), codec.Zstd()
//	data, err := f.Marshal(User{ID: 42, Name: "Ada"})
//	if err != nil {
//		panic(err)
//	}
//	stored, err := z.Compress([]byte{z.ID()}, data) // the ID, then the value
//	if err != nil {
//		panic(err)
//	}
//
//	// Later, maybe in a process configured with another compressor:
//	c, ok := codec.CompressorByID(stored[0])
//	if !ok {
//		panic("unknown compressor")
//	}
//	data, err = c.Decompress(nil, stored[1:], 1<<20) // refuse over 1 MiB
//	if err != nil {
//		panic(err) // errors.Is(err, codec.ErrOverLimit) over the limit
//	}
//	var u User
//	err = f.Unmarshal(data, &u)
//	fmt.Println(c.Name(), u.ID, u.Name, err)
package codec
