package layer

import (
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
)

// Defaults for CompressOptions.
const (
	// DefaultMinSize is the smallest value Compress compresses. A short
	// value holds too few repeats for zstd, snappy or gzip to save what
	// their CPU costs; BenchmarkCompress in codec/benchmark_test.go reports
	// the ratio each reaches on JSON-like text, by size.
	DefaultMinSize = 192
	// DefaultMaxDecompressed bounds the restored size of one value.
	DefaultMaxDecompressed = 64 << 20
)

// rawID marks a value stored as it is. It is codec.None's id, so
// Compress(codec.None()) stores every value as it is while still reading
// values that other compressors wrote: the way to turn compression off.
const rawID byte = 0

// CompressOptions tunes Compress. The zero value means the defaults.
type CompressOptions struct {
	// MinSize is the smallest value, in bytes, worth compressing; smaller
	// values are stored as they are. Zero means DefaultMinSize.
	MinSize int
	// MaxDecompressed bounds the size of one value, in bytes: Get restores
	// no more, so a hostile or damaged value cannot exhaust memory, and Set
	// refuses a longer value, which Get could not return. Zero means
	// DefaultMaxDecompressed.
	MaxDecompressed int
}

// Compress returns a layer that compresses values with c on the way down and
// restores them on the way up, with the default CompressOptions.
//
// Each stored value starts with one byte naming the compressor that wrote it,
// so a pipeline whose compressor changed still reads old values (through
// codec.CompressorByID). Values below MinSize, and values that do not shrink,
// are stored as they are. A value that cannot be restored (an unknown
// compressor, damaged bytes, a restored size over MaxDecompressed) is an
// error wrapping hitbox.ErrCorrupt, and the key is deleted below (best
// effort: a failed delete is tried again on the next read).
//
// What Set accepts, Get returns: Set refuses a value over MaxDecompressed,
// however well it would compress, with a *hitbox.SizeError naming that
// limit (errors.Is hitbox.ErrTooLarge), and deletes the key below so a
// reader never sees the value the refused write was meant to replace.
func Compress(c codec.Compressor) hitbox.Layer { return CompressWith(c, CompressOptions{}) }

// CompressWith is Compress with options. The pair stays, unlike the
// module's other constructors, so the common case keeps the one-argument
// form a pipeline is read by (Chain(Compress(codec.Zstd()), ...)), and Go
// has no optional arguments. Invalid options are a programmer
// error: it panics with the message o.Validate returns, and with
// "hitbox/layer: Compress: nil compressor" when c is nil.
func CompressWith(c codec.Compressor, o CompressOptions) hitbox.Layer {
	if c == nil {
		panic("hitbox/layer: Compress: nil compressor")
	}
	if err := o.Validate(); err != nil {
		panic(err.Error())
	}
	if o.MinSize == 0 {
		o.MinSize = DefaultMinSize
	}
	if o.MaxDecompressed == 0 {
		o.MaxDecompressed = DefaultMaxDecompressed
	}
	t := &compressor{c: c, id: c.ID(), opt: o}
	return func(next hitbox.Backend) hitbox.Backend { return &transformed{forward{next}, t} }
}

// Validate reports the first option that cannot work, with the message
// CompressWith panics with: "hitbox/layer: CompressOptions.<field>: <why>".
// Zero values are valid: they mean the defaults.
func (o CompressOptions) Validate() error {
	switch {
	case o.MinSize < 0:
		return fmt.Errorf("hitbox/layer: CompressOptions.MinSize: negative (%d)", o.MinSize)
	case o.MaxDecompressed < 0:
		return fmt.Errorf("hitbox/layer: CompressOptions.MaxDecompressed: negative (%d)", o.MaxDecompressed)
	}
	return nil
}

// compressor is Compress's value transform (see transformed).
type compressor struct {
	c   codec.Compressor
	id  byte
	opt CompressOptions
}

func (t *compressor) seal(dst []byte, e hitbox.Entry) (hitbox.Entry, error) {
	if len(e.Value) > t.opt.MaxDecompressed {
		return hitbox.Entry{}, &hitbox.SizeError{Size: len(e.Value), Limit: t.opt.MaxDecompressed}
	}
	v, err := t.pack(dst, e.Value)
	e.Value = v
	return e, err
}

func (t *compressor) open(e hitbox.Entry) (hitbox.Entry, error) {
	v, err := t.unpack(e.Value)
	e.Value = v
	return e, err
}

// pack appends the stored form of v to dst: the compressor's id and the
// compressed bytes, or rawID and v itself when v is small or does not shrink.
func (t *compressor) pack(dst, v []byte) ([]byte, error) {
	if len(v) >= t.opt.MinSize && t.id != rawID {
		out, err := t.c.Compress(append(dst, t.id), v)
		if err != nil {
			return dst[:0], fmt.Errorf("hitbox/layer: compress: %s: %w", t.c.Name(), err)
		}
		if len(out) < 1+len(v) {
			return out, nil
		}
		dst = out[:0]
	}
	return append(append(dst, rawID), v...), nil
}

// unpack restores a value written by pack, by this compressor or by any
// other that codec knows. The result is a fresh slice or, for a value stored
// as it is, a subslice of v; either way the caller may keep it.
func (t *compressor) unpack(v []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, corrupt("compress", nil, "empty value, no compressor id")
	}
	id, body := v[0], v[1:]
	if id == rawID {
		return body[:len(body):len(body)], nil
	}
	c := t.c
	if id != t.id {
		var ok bool
		if c, ok = codec.CompressorByID(id); !ok {
			return nil, corrupt("compress", nil, "unknown compressor id %d", id)
		}
	}
	out, err := c.Decompress(nil, body, t.opt.MaxDecompressed)
	if err != nil {
		if errors.Is(err, codec.ErrOverLimit) {
			return nil, corrupt("compress", err, "%s value restores to over the %d-byte limit", c.Name(), t.opt.MaxDecompressed)
		}
		return nil, corrupt("compress", err, "%s value cannot be restored", c.Name())
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}
