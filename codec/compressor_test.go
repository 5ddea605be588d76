package codec_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/internal/panics"
)

// TestMain checks that no compressor leaves goroutines behind: the shared
// zstd encoders and decoder are built without a stream, so they start none.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// allCompressors lists every compressor at every level.
func allCompressors() []codec.Compressor {
	cs := []codec.Compressor{codec.None(), codec.Snappy()}
	for _, l := range []codec.Level{codec.LevelFastest, codec.LevelDefault, codec.LevelBetter, codec.LevelBest} {
		cs = append(cs, codec.GzipLevel(l), codec.ZstdLevel(l))
	}
	return cs
}

// label names a compressor with its level, when it has one.
func label(c codec.Compressor) string {
	if s, ok := c.(fmt.Stringer); ok {
		return s.String()
	}
	return c.Name()
}

// compressors lists each compressor once, at its default level.
var compressors = []codec.Compressor{codec.None(), codec.Snappy(), codec.Gzip(), codec.Zstd()}

// sizes are the value sizes every compressor is tried at.
var sizes = []int{0, 1, 64, 1 << 10, 64 << 10, 1 << 20}

func TestCompressorIDsAndNames(t *testing.T) {
	t.Parallel()
	// IDs are stored beside values; they never change.
	tests := []struct {
		c    codec.Compressor
		id   byte
		name string
	}{
		{codec.None(), 0, "none"},
		{codec.Snappy(), 1, "snappy"},
		{codec.Gzip(), 2, "gzip"},
		{codec.GzipLevel(codec.LevelBest), 2, "gzip"},
		{codec.Zstd(), 3, "zstd"},
		{codec.ZstdLevel(codec.LevelFastest), 3, "zstd"},
	}
	for _, tt := range tests {
		if tt.c.ID() != tt.id || tt.c.Name() != tt.name {
			t.Errorf("%T: got id %d name %q, want %d %q", tt.c, tt.c.ID(), tt.c.Name(), tt.id, tt.name)
		}
	}
}

func TestCompressorByID(t *testing.T) {
	t.Parallel()
	for _, want := range compressors {
		got, ok := codec.CompressorByID(want.ID())
		if !ok || got.ID() != want.ID() || got.Name() != want.Name() {
			t.Errorf("CompressorByID(%d) = %v, %v; want %s", want.ID(), got, ok, want.Name())
		}
	}
	for _, id := range []byte{4, 5, 0x7f, 0xff} {
		if c, ok := codec.CompressorByID(id); ok || c != nil {
			t.Errorf("CompressorByID(%d) = %v, %v; want nil, false", id, c, ok)
		}
	}
	// A reader at the default level restores what any level wrote.
	src := jsonish(4096)
	for _, w := range allCompressors() {
		comp, err := w.Compress(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := codec.CompressorByID(w.ID())
		got, err := r.Decompress(nil, comp, len(src))
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%s: default-level reader: %v", w.Name(), err)
		}
	}
}

func TestCompressorRoundTrip(t *testing.T) {
	t.Parallel()
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	for _, n := range sizes {
		inputs = append(inputs, input{fmt.Sprintf("%d bytes of text", n), jsonish(n)})
	}
	inputs = append(inputs,
		input{"64 KiB of random bytes", incompressible(64 << 10)},
		input{"1 MiB of one repeated byte", bytes.Repeat([]byte{'a'}, 1<<20)},
	)
	for _, c := range allCompressors() {
		for _, in := range inputs {
			t.Run(label(c)+"/"+in.name, func(t *testing.T) {
				t.Parallel()
				comp, err := c.Compress(nil, in.data)
				if err != nil {
					t.Fatalf("Compress: %v", err)
				}
				got, err := c.Decompress(nil, comp, len(in.data))
				if err != nil {
					t.Fatalf("Decompress: %v", err)
				}
				if !bytes.Equal(got, in.data) {
					t.Fatalf("restored %d bytes differ from the %d written", len(got), len(in.data))
				}
			})
		}
	}
}

func TestCompressorAppends(t *testing.T) {
	t.Parallel()
	// Both directions append to dst and leave what it held alone, whether
	// dst has spare room or not.
	src := jsonish(10 << 10)
	for _, c := range compressors {
		for _, spare := range []int{0, 64 << 10} {
			t.Run(fmt.Sprintf("%s/spare=%d", c.Name(), spare), func(t *testing.T) {
				t.Parallel()
				prefix := []byte("prefix:")
				dst := append(make([]byte, 0, len(prefix)+spare), prefix...)
				comp, err := c.Compress(dst, src)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(comp, prefix) {
					t.Fatalf("Compress lost dst's contents")
				}
				dst = append(make([]byte, 0, len(prefix)+spare), prefix...)
				got, err := c.Decompress(dst, comp[len(prefix):], len(src))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, append(prefix, src...)) {
					t.Fatalf("Decompress did not append to dst")
				}
			})
		}
	}
}

func TestDecompressLimit(t *testing.T) {
	t.Parallel()
	// Levels share their reader, so the default levels stand for all.
	for _, c := range compressors {
		for _, n := range []int{1, 64, 1 << 10, 64 << 10, 1 << 20} {
			src := jsonish(n)
			comp, err := c.Compress(nil, src)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(fmt.Sprintf("%s/%d", label(c), n), func(t *testing.T) {
				t.Parallel()
				// A limit equal to the restored size lets it through.
				got, err := c.Decompress(nil, comp, n)
				if err != nil || !bytes.Equal(got, src) {
					t.Errorf("limit = size: %v", err)
				}
				// One byte less refuses it, naming the limit.
				dst := []byte("keep")
				got, err = c.Decompress(dst, comp, n-1)
				if !errors.Is(err, codec.ErrOverLimit) {
					t.Fatalf("limit = size-1: got %v, want ErrOverLimit", err)
				}
				if !strings.Contains(err.Error(), fmt.Sprint(n-1)) {
					t.Errorf("error %q does not name the limit %d", err, n-1)
				}
				if string(got) != "keep" {
					t.Errorf("a refused Decompress returned %q, want dst unchanged", got)
				}
			})
		}
	}
}

func TestDecompressEmptyAndNegativeLimit(t *testing.T) {
	t.Parallel()
	for _, c := range compressors {
		comp, err := c.Compress(nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// An empty value restores under a zero limit; a negative limit is
		// treated as zero.
		for _, limit := range []int{0, -1} {
			if got, err := c.Decompress(nil, comp, limit); err != nil || len(got) != 0 {
				t.Errorf("%s: empty value, limit %d: %q, %v", c.Name(), limit, got, err)
			}
		}
		comp, _ = c.Compress(nil, []byte("x"))
		if _, err := c.Decompress(nil, comp, -1); !errors.Is(err, codec.ErrOverLimit) {
			t.Errorf("%s: one byte, limit -1: got %v, want ErrOverLimit", c.Name(), err)
		}
	}
}

// zstdStream compresses src as a stream, whose frame does not declare its
// content size, as other writers may produce.
func zstdStream(t testing.TB, src []byte) []byte {
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestZstdBoundedDecoding(t *testing.T) {
	t.Parallel()
	big := jsonish(3 << 20)
	small := jsonish(1000)
	noSize := zstdStream(t, big)
	var h zstd.Header
	if err := h.Decode(noSize); err != nil || h.HasFCS {
		t.Fatalf("the stream frame should not declare its size: %+v %v", h, err)
	}
	one, _ := codec.Zstd().Compress(nil, small)
	concat := append(append([]byte{}, one...), one...)
	concat = append(concat, one...)

	// A frame header that declares 1 GiB; the body does not matter, as
	// the header alone must refuse it.
	bomb, err := (&zstd.Header{HasFCS: true, FrameContentSize: 1 << 30, WindowSize: 1 << 20}).AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	bomb = append(bomb, 0, 0, 0, 0) // room for a block header that is never read

	tests := []struct {
		name  string
		src   []byte
		limit int
		want  []byte // nil: ErrOverLimit
	}{
		{"a frame without a declared size restores under a limit equal to its size", noSize, len(big), big},
		{"a frame without a declared size is refused one byte under", noSize, len(big) - 1, nil},
		{"a frame without a declared size is refused far under, without restoring it all", noSize, 100 << 10, nil},
		{"concatenated frames restore whole under a limit equal to their sum", concat, 3 * len(small), bytes.Repeat(small, 3)},
		{"concatenated frames whose first fits are refused one byte under their sum", concat, 3*len(small) - 1, nil},
		{"a header declaring 1 GiB is refused from the header alone", bomb, 1 << 20, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := codec.Zstd().Decompress(nil, tt.src, tt.limit)
			if tt.want == nil {
				if !errors.Is(err, codec.ErrOverLimit) {
					t.Fatalf("got %d bytes, %v; want ErrOverLimit", len(got), err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("got %d bytes, %v; want %d bytes", len(got), err, len(tt.want))
			}
		})
	}
}

func TestGzipConcatenatedMembers(t *testing.T) {
	t.Parallel()
	// gzip readers restore concatenated members as one value; the limit
	// covers them all.
	a, b := jsonish(5000), jsonish(7000)
	comp, _ := codec.Gzip().Compress(nil, a)
	comp, _ = codec.Gzip().Compress(comp, b)
	got, err := codec.Gzip().Decompress(nil, comp, len(a)+len(b))
	if err != nil || !bytes.Equal(got, append(append([]byte{}, a...), b...)) {
		t.Fatalf("got %d bytes, %v", len(got), err)
	}
	if _, err := codec.Gzip().Decompress(nil, comp, len(a)+len(b)-1); !errors.Is(err, codec.ErrOverLimit) {
		t.Fatalf("one byte under: got %v, want ErrOverLimit", err)
	}
}

func TestDecompressCorrupt(t *testing.T) {
	t.Parallel()
	src := jsonish(20 << 10)
	for _, c := range compressors[1:] { // none has no format to damage
		good, err := c.Compress(nil, src)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			data []byte
		}{
			{"empty input", nil},
			{"one byte", good[:1]},
			{"cut in half", good[:len(good)/2]},
			{"missing its last byte", good[:len(good)-1]},
			{"missing its first byte", good[1:]},
			{"garbage", []byte("this was never compressed by anyone")},
		}
		for _, tt := range tests {
			t.Run(c.Name()+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := c.Decompress(nil, tt.data, 1<<20)
				if !errors.Is(err, codec.ErrDamaged) && !errors.Is(err, codec.ErrOverLimit) {
					t.Fatalf("got %d bytes, %v; want ErrDamaged", len(got), err)
				}
			})
		}
		t.Run(c.Name()+"/every single-byte flip", func(t *testing.T) {
			t.Parallel()
			// Snappy has no checksum, so a flip may restore other bytes;
			// what matters is an error of the documented kinds or a
			// value within the limit, never a panic.
			for i := range good {
				bad := bytes.Clone(good)
				bad[i] ^= 0x5a
				got, err := c.Decompress(nil, bad, len(src))
				switch {
				case err == nil && len(got) > len(src):
					t.Fatalf("flip at %d: restored %d bytes over the limit", i, len(got))
				case err != nil && !errors.Is(err, codec.ErrDamaged) && !errors.Is(err, codec.ErrOverLimit):
					t.Fatalf("flip at %d: undocumented error %v", i, err)
				case err == nil && c.Name() != "snappy" && !bytes.Equal(got, src):
					t.Fatalf("flip at %d: checksummed format restored wrong bytes silently", i)
				}
			}
		})
	}
}

func TestDecompressReusesDst(t *testing.T) {
	// Not parallel: counts allocations.
	src := jsonish(16 << 10)
	for _, c := range []codec.Compressor{codec.None(), codec.Snappy(), codec.Zstd()} {
		comp, _ := c.Compress(nil, src)
		dst := make([]byte, 0, len(src)+1024)
		allocs := testing.AllocsPerRun(20, func() {
			out, err := c.Decompress(dst[:0], comp, len(src))
			if err != nil || len(out) != len(src) {
				t.Fatal(err)
			}
		})
		if allocs != 0 && !raceEnabled { // the race detector makes pools drop items

			t.Errorf("%s: Decompress into a large enough dst allocated %v times, want 0", c.Name(), allocs)
		}
		// The returned slice keeps dst's capacity for later appends.
		out, _ := c.Decompress(dst[:0], comp, len(src))
		if cap(out) != cap(dst) {
			t.Errorf("%s: cap(out) = %d, want dst's %d", c.Name(), cap(out), cap(dst))
		}
	}
}

func TestLevel(t *testing.T) {
	t.Parallel()
	if codec.Level(0) != codec.LevelDefault || codec.LevelDefault.String() != "default" || codec.LevelBest.String() != "best" {
		t.Error("the zero Level must be LevelDefault")
	}
	for _, ctor := range []func(codec.Level) codec.Compressor{codec.GzipLevel, codec.ZstdLevel} {
		if r := panics.Message(func() { ctor(9) }); r != "hitbox/codec: Level: unknown compression level 9" {
			t.Errorf("an unknown level: recovered %q, want the constructor rule's panic", r)
		}
	}
	// Levels trade speed for size: the best level is no larger than the
	// fastest on compressible text.
	src := jsonish(64 << 10)
	for _, ctor := range []func(codec.Level) codec.Compressor{codec.GzipLevel, codec.ZstdLevel} {
		fast, _ := ctor(codec.LevelFastest).Compress(nil, src)
		best, _ := ctor(codec.LevelBest).Compress(nil, src)
		if len(best) > len(fast) {
			t.Errorf("%s: best %d bytes > fastest %d bytes", ctor(0).Name(), len(best), len(fast))
		}
	}
}

func TestCompressorsConcurrent(t *testing.T) {
	t.Parallel()
	// One compressor value serves every goroutine of a cache; its pooled
	// and shared encoders and decoders must not mix their calls.
	var wg sync.WaitGroup
	for _, c := range allCompressors() {
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var dst []byte
				for i := range 8 {
					src := jsonish(100 + (g*8+i)*251)
					comp, err := c.Compress(nil, src)
					if err != nil {
						t.Error(err)
						return
					}
					dst, err = c.Decompress(dst[:0], comp, len(src))
					if err != nil || !bytes.Equal(dst, src) {
						t.Errorf("%s: round trip: %v", c.Name(), err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
}
