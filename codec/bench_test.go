package codec_test

import (
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/hitbox-go/hitbox/codec"
)

// benchSizes are the value sizes compressors are measured at.
var benchSizes = []int{64, 1 << 10, 64 << 10}

// BenchmarkFormat measures each format on a ten-field User; B/value is the
// encoded size. Raw, which takes only bytes, is measured on the User's
// JSON form as the floor.
func BenchmarkFormat(b *testing.B) {
	u := BinaryUser(sampleUser())
	jsonBytes, _ := codec.JSON().Marshal(&u)
	cases := []struct {
		f   codec.Format
		in  any
		out func() any
	}{
		{codec.Raw(), jsonBytes, func() any { return new([]byte) }},
		{codec.JSON(), &u, func() any { return new(BinaryUser) }},
		{codec.CBOR(), (*User)(&u), func() any { return new(User) }},
		{codec.Gob(), (*User)(&u), func() any { return new(User) }},
		{codec.MsgPack(), (*User)(&u), func() any { return new(User) }},
		{codec.Binary(), &u, func() any { return new(BinaryUser) }},
	}
	for _, c := range cases {
		data, err := c.f.Marshal(c.in)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.f.Name()+"/Marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.f.Marshal(c.in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "B/value")
		})
		b.Run(c.f.Name()+"/Unmarshal", func(b *testing.B) {
			b.ReportAllocs()
			v := c.out()
			for b.Loop() {
				if err := c.f.Unmarshal(data, v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(data)), "B/value")
		})
	}
}

// BenchmarkCompress measures each compressor on JSON-like text; ratio is
// compressed size over original size (lower is better). dst is nil, as
// the Compress layer passes it.
func BenchmarkCompress(b *testing.B) {
	for _, c := range compressors {
		for _, n := range benchSizes {
			src := jsonish(n)
			comp, _ := c.Compress(nil, src)
			b.Run(fmt.Sprintf("%s/%s", c.Name(), sizeName(n)), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					if _, err := c.Compress(nil, src); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(comp))/float64(n), "ratio")
			})
		}
	}
}

// BenchmarkDecompress measures restoring what BenchmarkCompress wrote.
func BenchmarkDecompress(b *testing.B) {
	for _, c := range compressors {
		for _, n := range benchSizes {
			src := jsonish(n)
			comp, _ := c.Compress(nil, src)
			b.Run(fmt.Sprintf("%s/%s", c.Name(), sizeName(n)), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(n))
				for b.Loop() {
					if _, err := c.Decompress(nil, comp, n); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(comp))/float64(n), "ratio")
			})
		}
	}
}

// BenchmarkZstdBaseline calls klauspost/compress/zstd directly, with one
// reused encoder and decoder set up as codec.Zstd's are, so the cost of
// codec.Zstd's bounds checking shows as the ratio between the two.
func BenchmarkZstdBaseline(b *testing.B) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithZeroFrames(true))
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	for _, n := range benchSizes {
		src := jsonish(n)
		comp := enc.EncodeAll(src, nil)
		b.Run("Compress/"+sizeName(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				_ = enc.EncodeAll(src, nil)
			}
			b.ReportMetric(float64(len(comp))/float64(n), "ratio")
		})
		b.Run("Decompress/"+sizeName(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if _, err := dec.DecodeAll(comp, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(comp))/float64(n), "ratio")
		})
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
