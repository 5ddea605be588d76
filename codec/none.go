package codec

// None returns the Compressor that stores bytes as they are, for values
// that do not compress or are too small to gain. Its ID is 0.
func None() Compressor { return noneCompressor{} }

type noneCompressor struct{}

func (noneCompressor) Compress(dst, src []byte) ([]byte, error) {
	return append(dst, src...), nil
}

func (noneCompressor) Decompress(dst, src []byte, limit int) ([]byte, error) {
	if limit = clampLimit(limit); len(src) > limit {
		return dst, tooLarge(limit)
	}
	return append(dst, src...), nil
}

func (noneCompressor) ID() byte     { return 0 }
func (noneCompressor) Name() string { return "none" }
