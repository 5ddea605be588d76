package layer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
)

var sizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"1KiB", 1 << 10}, {"64KiB", 64 << 10}}

// BenchmarkGetHit measures what one layer adds to a Get hit over a backend
// that costs nothing. "none" is the baseline.
func BenchmarkGetHit(b *testing.B) {
	ctx := context.Background()
	store := static{hitbox.Entry{Value: []byte("v")}}
	for _, bb := range []struct {
		name string
		b    hitbox.Backend
	}{
		{"none", store},
		{"MaxSize", hitbox.Chain(layer.MaxSize(1 << 20)).Then(store)}, // Get is a plain pass-through
		{"Prefix", hitbox.Chain(layer.Prefix("users:")).Then(store)},
		{"Timeout", hitbox.Chain(layer.Timeout(time.Second)).Then(store)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bb.b.Get(ctx, "id=42"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncode measures what Encode adds to a Get hit and to a Set, by
// value size; compare with the "none" rows.
func BenchmarkEncode(b *testing.B) {
	ctx := context.Background()
	for _, s := range sizes {
		v := jsonish(s.n)
		plain := static{hitbox.Entry{Value: v}}
		sealed := layer.Encode()(static{hitbox.Entry{Value: envelope(b, hitbox.Entry{Value: v, Expire: time.Now().Add(time.Hour)})}})
		e := hitbox.Entry{Value: v, Expire: time.Now().Add(time.Hour), Stale: time.Now().Add(time.Minute)}
		for _, bb := range []struct {
			name string
			b    hitbox.Backend
		}{{"none", plain}, {"Encode", sealed}} {
			b.Run(fmt.Sprintf("get/%s/%s", s.name, bb.name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(s.n))
				for b.Loop() {
					if _, err := bb.b.Get(ctx, "k"); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("set/%s/%s", s.name, bb.name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(s.n))
				for b.Loop() {
					if err := bb.b.Set(ctx, "k", e); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// slot keeps the one value last written, in a buffer it reuses, so a
// benchmark of Set then Get measures the layers and barely the store.
type slot struct {
	static
	buf []byte
}

func (s *slot) Set(_ context.Context, _ string, e hitbox.Entry) error {
	s.buf = append(s.buf[:0], e.Value...)
	return nil
}

func (s *slot) Get(context.Context, string) (hitbox.Entry, error) {
	return hitbox.Entry{Value: s.buf}, nil
}

// BenchmarkCompressZstd compares a Set then Get through Compress(Zstd())
// with klauspost's EncodeAll and DecodeAll called directly, reusing the
// encoder and the decoder: "direct" reuses both output buffers too,
// "direct-fresh" decodes into a new slice each time, as a Get must (its
// caller may keep the value), and "codec" calls codec.Zstd() the same way,
// so layer against codec is what the layer itself costs.
func BenchmarkCompressZstd(b *testing.B) {
	ctx := context.Background()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		b.Fatal(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	for _, s := range sizes[1:] {
		v := jsonish(s.n)
		b.Run(s.name+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			var c, d []byte
			for b.Loop() {
				c = enc.EncodeAll(v, c[:0])
				if d, err = dec.DecodeAll(c, d[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/direct-fresh", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			var c []byte
			for b.Loop() {
				c = enc.EncodeAll(v, c[:0])
				if _, err = dec.DecodeAll(c, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/codec", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			z := codec.Zstd()
			var c []byte
			for b.Loop() {
				if c, err = z.Compress(c[:0], v); err != nil {
					b.Fatal(err)
				}
				if _, err = z.Decompress(nil, c, layer.DefaultMaxDecompressed); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/layer", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(s.n))
			p := layer.Compress(codec.Zstd())(&slot{})
			for b.Loop() {
				if err := p.Set(ctx, "k", hitbox.Entry{Value: v}); err != nil {
					b.Fatal(err)
				}
				if _, err := p.Get(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPipelineGetParallel reads one 1 KiB value through Compress and
// Encode from every P at once, to show the shared zstd decoder and the
// buffer pool under contention.
func BenchmarkPipelineGetParallel(b *testing.B) {
	ctx := context.Background()
	s := &slot{}
	if err := hitbox.Chain(layer.Compress(codec.Zstd()), layer.Encode()).Then(s).Set(ctx, "k", hitbox.Entry{Value: jsonish(1 << 10)}); err != nil {
		b.Fatal(err)
	}
	p := hitbox.Chain(layer.Compress(codec.Zstd()), layer.Encode()).Then(static{hitbox.Entry{Value: s.buf}})
	b.ReportAllocs()
	b.SetBytes(1 << 10)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Get(ctx, "k"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
