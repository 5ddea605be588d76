package codec

import (
	"errors"
	"slices"

	"github.com/golang/snappy"
)

// Snappy returns the Compressor that uses golang/snappy's block format:
// very fast, modest ratio, no levels. The restored size is read from the
// block header and checked against the limit before anything is
// allocated. Its ID is 1.
func Snappy() Compressor { return snappyCompressor{} }

type snappyCompressor struct{}

func (snappyCompressor) Compress(dst, src []byte) ([]byte, error) {
	n := snappy.MaxEncodedLen(len(src))
	if n < 0 {
		return dst, errors.New("codec: snappy: input too large to compress")
	}
	dst = slices.Grow(dst, n)
	// Encode writes at the start of the buffer it is given; give it the
	// spare capacity so the result lands after dst's contents.
	out := snappy.Encode(dst[len(dst):len(dst)+n], src)
	return dst[:len(dst)+len(out)], nil
}

func (snappyCompressor) Decompress(dst, src []byte, limit int) ([]byte, error) {
	limit = clampLimit(limit)
	n, err := snappy.DecodedLen(src)
	if err != nil {
		return dst, corrupt("snappy", err)
	}
	if n > limit {
		return dst, tooLarge(limit)
	}
	dst = slices.Grow(dst, n)
	out, err := snappy.Decode(dst[len(dst):len(dst)+n], src)
	if err != nil {
		return dst, corrupt("snappy", err)
	}
	return dst[:len(dst)+len(out)], nil
}

func (snappyCompressor) ID() byte     { return 1 }
func (snappyCompressor) Name() string { return "snappy" }
