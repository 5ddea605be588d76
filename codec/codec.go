package codec

// Format turns values into bytes and back. Implementations must be safe for
// concurrent use and must return an error, never panic, on bytes they did not
// write.
type Format interface {
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, which is a non-nil pointer.
	Unmarshal(data []byte, v any) error
	// ID is the format's stable one-byte identifier; it is stored beside
	// values so a reader can tell which format wrote them.
	ID() byte
	// Name is a short lowercase name for logs and metrics ("json", "cbor").
	Name() string
}

// Compressor shrinks and restores byte strings. Implementations must be safe
// for concurrent use, reuse their internal encoders and decoders, and return
// an error, never panic, on bytes they did not write.
type Compressor interface {
	// Compress appends the compressed form of src to dst and returns the
	// extended slice.
	Compress(dst, src []byte) ([]byte, error)
	// Decompress appends the restored form of src to dst and returns the
	// extended slice. It fails with an error wrapping ErrOverLimit when the
	// restored form would exceed limit bytes, so a hostile value cannot
	// exhaust memory.
	Decompress(dst, src []byte, limit int) ([]byte, error)
	// ID is the compressor's stable one-byte identifier.
	ID() byte
	// Name is a short lowercase name for logs and metrics ("zstd").
	Name() string
}
