package codec

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Zstd returns the Zstandard Compressor (klauspost/compress) at
// LevelDefault: a high ratio at a speed close to snappy's. Its ID is 3.
func Zstd() Compressor { return ZstdLevel(LevelDefault) }

// ZstdLevel returns the Zstandard Compressor at level l. Every level writes
// the same format and all share one decoder. It panics on a Level that is
// not one of the declared constants.
//
// Each level has one encoder, built on first use and shared by every
// caller through EncodeAll; one decoder serves all levels through
// DecodeAll. Decompress bounds its output per call: it first walks the
// frame and block headers (no decoding) and fails fast when the declared
// content sizes add up to more than the limit. It then decodes into a
// buffer sized to the declared total, with the decoder told to stop at the
// buffer's capacity (WithDecodeAllCapLimit), so a frame that lies about
// its size cannot grow it. A frame that declares no size (other writers'
// streams; never one written here) gets an upper bound from its block
// headers, capped at the limit plus one block, and is refused once it
// restores past the limit. Whatever the limit, Zstd never restores more
// than 1 GiB.
func ZstdLevel(l Level) Compressor { return &zstdByLevel[l.index()] }

var zstdByLevel = [levels]zstdCompressor{
	{level: LevelFastest, zLevel: zstd.SpeedFastest},
	{level: LevelDefault, zLevel: zstd.SpeedDefault},
	{level: LevelBetter, zLevel: zstd.SpeedBetterCompression},
	{level: LevelBest, zLevel: zstd.SpeedBestCompression},
}

const (
	// zstdMaxOutput is the decoder's own ceiling, a backstop under the
	// per-call limit.
	zstdMaxOutput = 1 << 30
	// zstdMaxWindow refuses frames that ask for a larger back-reference
	// window than any encoder here writes (8 MiB), with room for other
	// writers' high levels.
	zstdMaxWindow = 64 << 20
	// zstdSlack is spare capacity beyond the expected size: the decoder's
	// fast copy paths need a few bytes past the end, else it takes slower,
	// exact ones.
	zstdSlack = 64
	// zstdMaxBlock is the most one block can restore to.
	zstdMaxBlock = 128 << 10
)

// The one decoder, shared by all levels. DecodeAll is safe for concurrent
// use; its concurrency option sets how many calls decode at once.
var (
	zstdDecOnce sync.Once
	zstdDec     *zstd.Decoder
	zstdDecErr  error
)

func zstdDecoder() (*zstd.Decoder, error) {
	zstdDecOnce.Do(func() {
		// A nil reader: DecodeAll only, so no goroutines are started.
		zstdDec, zstdDecErr = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0), // GOMAXPROCS
			zstd.WithDecoderMaxMemory(zstdMaxOutput),
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecodeAllCapLimit(true),
		)
	})
	return zstdDec, zstdDecErr
}

type zstdCompressor struct {
	level   Level
	zLevel  zstd.EncoderLevel
	encOnce sync.Once
	enc     *zstd.Encoder
	encErr  error
}

func (c *zstdCompressor) encoder() (*zstd.Encoder, error) {
	c.encOnce.Do(func() {
		// A nil writer: EncodeAll only, so no goroutines are started.
		c.enc, c.encErr = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(c.zLevel),
			// An empty input still yields a frame, so every output of
			// Compress is something Decompress accepts.
			zstd.WithZeroFrames(true),
		)
	})
	return c.enc, c.encErr
}

func (c *zstdCompressor) Compress(dst, src []byte) ([]byte, error) {
	enc, err := c.encoder()
	if err != nil {
		return dst, fmt.Errorf("codec: zstd: %w", err)
	}
	return enc.EncodeAll(src, dst), nil
}

func (c *zstdCompressor) Decompress(dst, src []byte, limit int) ([]byte, error) {
	limit = min(clampLimit(limit), zstdMaxOutput)
	dec, err := zstdDecoder()
	if err != nil {
		return dst, fmt.Errorf("codec: zstd: %w", err)
	}
	size, exact, err := zstdScan(src, uint64(limit))
	if err != nil {
		if errors.Is(err, errZstdOverLimit) {
			return dst, tooLarge(limit)
		}
		return dst, corrupt("zstd", err)
	}
	// The decoder stops at the buffer's capacity. With every size
	// declared, the buffer is exactly what the frames restore to. Without,
	// size is an upper bound; past the limit, the buffer holds the limit
	// and one more block, so a frame that runs over is caught after at
	// most one block beyond it.
	want := int(min(size, uint64(limit)+zstdMaxBlock))
	base := len(dst)
	out, err := dec.DecodeAll(src, zstdBuffer(dst, want))
	switch {
	case err == nil && len(out)-base <= limit:
		return zstdKeepCap(dst, out), nil
	case err == nil, !exact && size > uint64(limit) &&
		(len(out)-base > limit || errors.Is(err, zstd.ErrDecoderSizeExceeded)):
		return dst, tooLarge(limit)
	default:
		return dst, corrupt("zstd", err)
	}
}

func (c *zstdCompressor) ID() byte     { return 3 }
func (c *zstdCompressor) Name() string { return "zstd" }

// String names the compressor and its level ("zstd/best"), for logs.
func (c *zstdCompressor) String() string { return "zstd/" + c.level.String() }

// zstdBuffer returns dst with room for want bytes and a little slack, and
// a capacity that ends there: with WithDecodeAllCapLimit the decoder stops
// at the capacity. It reuses dst's spare capacity when there is enough.
func zstdBuffer(dst []byte, want int) []byte {
	n := len(dst) + want + zstdSlack
	if cap(dst) >= n {
		return dst[:len(dst):n]
	}
	return slices.Grow(dst, want+zstdSlack)[:len(dst):n]
}

// zstdKeepCap gives back the capacity zstdBuffer took away, when out is
// still in dst's array, so a caller appending later does not reallocate.
func zstdKeepCap(dst, out []byte) []byte {
	if cap(dst) > cap(out) && cap(out) > 0 && &dst[:cap(dst)][0] == &out[:cap(out)][0] {
		return dst[:len(out)]
	}
	return out
}
