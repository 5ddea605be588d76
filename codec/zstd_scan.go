package codec

import (
	"errors"
	"io"
	"math"

	"github.com/klauspost/compress/zstd"
)

// errZstdOverLimit reports, inside the package, that declared sizes add
// up to more than the limit.
var errZstdOverLimit = errors.New("declared size over the limit")

// zstdScan walks the frames of src by their headers alone and returns the
// total they restore to: exact when every frame declares its content size,
// otherwise an upper bound from the block headers. It fails with
// errZstdOverLimit as soon as declared sizes pass limit, and with another
// error when the structure is damaged. It never allocates, and reads only
// headers: a frame of n blocks costs n small steps.
func zstdScan(src []byte, limit uint64) (size uint64, exact bool, err error) {
	if len(src) == 0 {
		return 0, false, io.ErrUnexpectedEOF
	}
	exact = true
	var h zstd.Header
	for len(src) > 0 {
		rest, err := h.DecodeAndStrip(src)
		if err != nil {
			return 0, false, err
		}
		if h.Skippable {
			if uint64(len(rest)) < uint64(h.SkippableSize) {
				return 0, false, io.ErrUnexpectedEOF
			}
			src = rest[h.SkippableSize:]
			continue
		}
		if h.HasFCS {
			size = addSat(size, h.FrameContentSize)
			if size > limit {
				return 0, false, errZstdOverLimit
			}
		}
		// Each block: a 3-byte header (last flag, type, size), then its
		// payload.
		var bound uint64
		for last := false; !last; {
			if len(rest) < 3 {
				return 0, false, io.ErrUnexpectedEOF
			}
			bh := uint32(rest[0]) | uint32(rest[1])<<8 | uint32(rest[2])<<16
			rest = rest[3:]
			last = bh&1 != 0
			n := int(bh >> 3)
			if n > zstdMaxBlock {
				return 0, false, zstd.ErrCompressedSizeTooBig
			}
			payload := n
			switch (bh >> 1) & 3 {
			case 0: // raw: n bytes, copied
				bound += uint64(n)
			case 1: // RLE: one byte, repeated n times
				bound += uint64(n)
				payload = 1
			case 2: // compressed: n bytes restoring to at most one block
				bound += zstdMaxBlock
			default:
				return 0, false, zstd.ErrReservedBlockType
			}
			if len(rest) < payload {
				return 0, false, io.ErrUnexpectedEOF
			}
			rest = rest[payload:]
		}
		if h.HasCheckSum {
			if len(rest) < 4 {
				return 0, false, io.ErrUnexpectedEOF
			}
			rest = rest[4:]
		}
		switch {
		case !h.HasFCS:
			exact = false
			size = addSat(size, bound)
		case h.FrameContentSize > bound:
			// More than its blocks can hold: the header lies.
			return 0, false, zstd.ErrFrameSizeMismatch
		}
		src = rest
	}
	return size, exact, nil
}

// addSat adds without wrapping around.
func addSat(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
