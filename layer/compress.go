package layer

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
)

// Defaults for CompressOptions.
const (
	// DefaultMinSize is the smallest value Compress compresses. On JSON
	// text, zstd, snappy and gzip save nothing below about 128 bytes (one
	// record, no repeats to find) and 35 to 45% at 192, so smaller values
	// are not worth the CPU.
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
	// MaxDecompressed bounds the restored size of one value, in bytes, so a
	// hostile or damaged value cannot exhaust memory. Zero means
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
func Compress(c codec.Compressor) hitbox.Layer { return CompressWith(c, CompressOptions{}) }

// CompressWith is Compress with options.
func CompressWith(c codec.Compressor, o CompressOptions) hitbox.Layer {
	if c == nil {
		panic("hitbox/layer: Compress needs a compressor")
	}
	if o.MinSize < 0 || o.MaxDecompressed < 0 {
		panic("hitbox/layer: Compress: negative size in CompressOptions")
	}
	if o.MinSize == 0 {
		o.MinSize = DefaultMinSize
	}
	if o.MaxDecompressed == 0 {
		o.MaxDecompressed = DefaultMaxDecompressed
	}
	return func(next hitbox.Backend) hitbox.Backend {
		return &compressed{forward: forward{next}, c: c, id: c.ID(), opt: o}
	}
}

type compressed struct {
	forward
	c   codec.Compressor
	id  byte
	opt CompressOptions
}

func (l *compressed) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	e, err := l.next.Get(ctx, key)
	if err != nil {
		return e, err
	}
	if e.Value, err = l.unpack(e.Value); err != nil {
		// Best effort: a damaged value would fail every read until it
		// expires, and a failed delete is tried again on the next read.
		_ = l.next.Delete(ctx, key)
		return hitbox.Entry{}, l.fail(hitbox.OpGet, err)
	}
	return e, nil
}

func (l *compressed) Set(ctx context.Context, key string, e hitbox.Entry) error {
	b := getBuf()
	v, err := l.pack(*b, e.Value)
	if err != nil {
		putBuf(b, v)
		return l.fail(hitbox.OpSet, err)
	}
	e.Value = v
	err = l.next.Set(ctx, key, e)
	putBuf(b, v)
	return err
}

func (l *compressed) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	rs, err := hitbox.GetMany(ctx, l.next, keys)
	if err != nil {
		return nil, err
	}
	out := make([]hitbox.Result, len(rs))
	var bad []string
	for i, r := range rs {
		out[i] = r
		if r.Err != nil {
			continue
		}
		if out[i].Entry.Value, out[i].Err = l.unpack(r.Entry.Value); out[i].Err != nil {
			out[i].Entry, out[i].Err = hitbox.Entry{}, l.fail(hitbox.OpGet, out[i].Err)
			bad = append(bad, keys[i])
		}
	}
	if len(bad) > 0 {
		_ = hitbox.DeleteMany(ctx, l.next, bad) // best effort, as in Get
	}
	return out, nil
}

func (l *compressed) SetMany(ctx context.Context, items []hitbox.Item) error {
	packed := make([]hitbox.Item, len(items))
	held := make([]*[]byte, len(items))
	defer func() {
		for i, b := range held {
			if b != nil {
				putBuf(b, packed[i].Entry.Value)
			}
		}
	}()
	for i, it := range items {
		held[i] = getBuf()
		v, err := l.pack(*held[i], it.Entry.Value)
		packed[i] = hitbox.Item{Key: it.Key, Entry: it.Entry}
		packed[i].Entry.Value = v
		if err != nil {
			return l.fail(hitbox.OpSetMany, err)
		}
	}
	return hitbox.SetMany(ctx, l.next, packed)
}

// pack appends the stored form of v to dst: the compressor's id and the
// compressed bytes, or rawID and v itself when v is small or does not shrink.
func (l *compressed) pack(dst, v []byte) ([]byte, error) {
	if len(v) >= l.opt.MinSize && l.id != rawID {
		out, err := l.c.Compress(append(dst, l.id), v)
		if err != nil {
			return dst[:0], fmt.Errorf("hitbox/layer: compress: %s: %w", l.c.Name(), err)
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
func (l *compressed) unpack(v []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, corrupt("compress", nil, "empty value, no compressor id")
	}
	id, body := v[0], v[1:]
	if id == rawID {
		return body[:len(body):len(body)], nil
	}
	c := l.c
	if id != l.id {
		var ok bool
		if c, ok = codec.CompressorByID(id); !ok {
			return nil, corrupt("compress", nil, "unknown compressor id %d", id)
		}
	}
	out, err := c.Decompress(nil, body, l.opt.MaxDecompressed)
	if err != nil {
		if errors.Is(err, codec.ErrTooLarge) {
			return nil, corrupt("compress", err, "%s value restores to over the %d-byte limit", c.Name(), l.opt.MaxDecompressed)
		}
		return nil, corrupt("compress", err, "%s value cannot be restored", c.Name())
	}
	if out == nil {
		out = []byte{}
	}
	return out, nil
}
