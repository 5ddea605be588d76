package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Gzip returns the gzip Compressor (klauspost/compress) at LevelDefault.
// Its ID is 2.
func Gzip() Compressor { return GzipLevel(LevelDefault) }

// GzipLevel returns the gzip Compressor at level l. Every level writes the
// same format, so any of them reads what another wrote. Writers and readers
// are pooled, one pool of writers per level. It panics on a Level that is
// not one of the declared constants.
func GzipLevel(l Level) Compressor { return &gzipByLevel[l.index()] }

// gzipByLevel holds one compressor, and so one writer pool, per level.
var gzipByLevel = [levels]gzipCompressor{
	{level: LevelFastest, gzLevel: gzip.BestSpeed},
	{level: LevelDefault, gzLevel: gzip.DefaultCompression},
	{level: LevelBetter, gzLevel: 7},
	{level: LevelBest, gzLevel: gzip.BestCompression},
}

// gzipReaders pools readers for every level: the reader does not depend on
// the level that wrote the stream.
var gzipReaders sync.Pool

type gzipCompressor struct {
	level   Level
	gzLevel int
	writers sync.Pool // of *gzipWriter
}

// gzipWriter is a pooled writer with the buffer it appends to, so Compress
// allocates neither.
type gzipWriter struct {
	w   *gzip.Writer
	out appendWriter
}

// appendWriter is an io.Writer that appends to a byte slice.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// gzipReader is a pooled reader with its source and bound, so Decompress
// allocates nothing but its output.
type gzipReader struct {
	r       gzip.Reader
	src     bytes.Reader
	lim     io.LimitedReader
	scratch [512]byte
}

// gzipMaxRatio bounds how much one compressed byte can restore to under
// deflate (about 1032:1); it caps the size hint taken from the trailer.
const gzipMaxRatio = 1032

func (c *gzipCompressor) Compress(dst, src []byte) ([]byte, error) {
	zw, _ := c.writers.Get().(*gzipWriter)
	if zw == nil {
		zw = new(gzipWriter)
		w, err := gzip.NewWriterLevel(&zw.out, c.gzLevel)
		if err != nil {
			return dst, err
		}
		zw.w = w
	}
	zw.out.b = dst
	zw.w.Reset(&zw.out)
	_, err := zw.w.Write(src)
	if err == nil {
		err = zw.w.Close()
	}
	out := zw.out.b
	zw.out.b = nil // the pool must not keep the caller's buffer
	c.writers.Put(zw)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func (c *gzipCompressor) Decompress(dst, src []byte, limit int) ([]byte, error) {
	limit = clampLimit(limit)
	zr, _ := gzipReaders.Get().(*gzipReader)
	if zr == nil {
		zr = new(gzipReader)
	}
	defer func() {
		zr.src.Reset(nil) // the pool must not keep the caller's input
		gzipReaders.Put(zr)
	}()

	zr.src.Reset(src)
	if err := zr.r.Reset(&zr.src); err != nil {
		return dst, corrupt("gzip", err)
	}
	// Read at most limit+1 bytes: one more than allowed proves the
	// restored form is over the limit without restoring all of it.
	zr.lim = io.LimitedReader{R: &zr.r, N: int64(limit) + 1}

	base := len(dst)
	out := slices.Grow(dst, gzipSizeHint(src, limit))
	for {
		if len(out) == cap(out) {
			// Probe with the scratch buffer before growing: when the
			// hint was exact, the next read only reports the end.
			n, err := zr.lim.Read(zr.scratch[:])
			out = append(out, zr.scratch[:n]...)
			if done, err := gzipReadDone(err); done {
				if err != nil {
					return dst, err
				}
				break
			}
			continue
		}
		n, err := zr.lim.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		if done, err := gzipReadDone(err); done {
			if err != nil {
				return dst, err
			}
			break
		}
	}
	if len(out)-base > limit {
		return dst, tooLarge(limit)
	}
	return out, nil
}

// gzipReadDone tells whether a read ended the loop, and with what error.
func gzipReadDone(err error) (bool, error) {
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, io.EOF):
		return true, nil
	default:
		return true, corrupt("gzip", err)
	}
}

// gzipSizeHint guesses the restored size from the trailer (the size modulo
// 2^32 of the last member), never beyond the limit or what the input could
// possibly restore to, so a lying trailer cannot make us over-allocate.
func gzipSizeHint(src []byte, limit int) int {
	if len(src) < 4 {
		return 0
	}
	hint := uint64(binary.LittleEndian.Uint32(src[len(src)-4:]))
	hint = min(hint, uint64(limit), uint64(len(src))*gzipMaxRatio)
	return int(hint)
}

func (c *gzipCompressor) ID() byte     { return 2 }
func (c *gzipCompressor) Name() string { return "gzip" }

// String names the compressor and its level ("gzip/best"), for logs.
func (c *gzipCompressor) String() string { return "gzip/" + c.level.String() }
