package layer_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
)

// jsonish returns n bytes of text that compresses the way cached API
// responses do: repeated field names, varying values.
func jsonish(n int) []byte {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	var b bytes.Buffer
	b.WriteString(`[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteString(`,`)
		}
		b.WriteString(`{"id":`)
		b.WriteString(strings.Repeat("1", 1+r.IntN(6)))
		b.WriteString(`,"name":"user`)
		b.WriteByte(byte('a' + r.IntN(26)))
		b.WriteString(`","email":"someone`)
		b.WriteByte(byte('a' + r.IntN(26)))
		b.WriteString(`@example.com","active":true,"score":`)
		b.WriteByte(byte('0' + r.IntN(10)))
		b.WriteString(`.5}`)
	}
	return b.Bytes()[:n]
}

func noise(n int) []byte {
	r := rand.New(rand.NewPCG(2, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestCompressStores(t *testing.T) {
	t.Parallel()
	zstd := codec.Zstd()
	tests := []struct {
		name  string
		c     codec.Compressor
		opt   layer.CompressOptions
		value []byte
		id    byte // the first stored byte
		raw   bool // stored as it is after that byte
	}{
		{"An empty value is stored as it is.", zstd, layer.CompressOptions{}, []byte{}, 0, true},
		{"A value below the default MinSize is stored as it is.", zstd, layer.CompressOptions{}, jsonish(layer.DefaultMinSize - 1), 0, true},
		{"A compressible value at the default MinSize is compressed.", zstd, layer.CompressOptions{}, jsonish(layer.DefaultMinSize), zstd.ID(), false},
		{"A value below a chosen MinSize is stored as it is.", zstd, layer.CompressOptions{MinSize: 4096}, jsonish(4000), 0, true},
		{"Random bytes, which do not shrink, are stored as they are.", zstd, layer.CompressOptions{}, noise(4096), 0, true},
		{"Snappy writes its own id.", codec.Snappy(), layer.CompressOptions{}, jsonish(1024), codec.Snappy().ID(), false},
		{"Gzip writes its own id.", codec.Gzip(), layer.CompressOptions{}, jsonish(1024), codec.Gzip().ID(), false},
		{"None stores even a large compressible value as it is.", codec.None(), layer.CompressOptions{}, jsonish(4096), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := newRawStore()
			p := layer.CompressWith(tt.c, tt.opt)(store)
			if err := p.Set(ctx, "k", hitbox.Entry{Value: tt.value}); err != nil {
				t.Fatal(err)
			}
			in, _ := store.entry("k")
			if len(in.Value) == 0 || in.Value[0] != tt.id {
				t.Fatalf("stored % x..., want id %d first", in.Value[:min(len(in.Value), 4)], tt.id)
			}
			if got := bytes.Equal(in.Value[1:], tt.value); got != tt.raw {
				t.Fatalf("stored as it is: %v, want %v", got, tt.raw)
			}
			if !tt.raw && len(in.Value) >= len(tt.value) {
				t.Fatalf("compressed %d bytes into %d", len(tt.value), len(in.Value))
			}
			e, err := p.Get(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(e.Value, tt.value) {
				t.Fatalf("read back %d bytes, want the %d written", len(e.Value), len(tt.value))
			}
		})
	}
}

func TestCompressReadsOtherWriters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		writer        codec.Compressor
		reader        codec.Compressor
		writerMinSize int
	}{
		{"A zstd pipeline reads what a snappy pipeline wrote.", codec.Snappy(), codec.Zstd(), 0},
		{"A snappy pipeline reads what a zstd pipeline wrote.", codec.Zstd(), codec.Snappy(), 0},
		{"A zstd pipeline reads what a gzip pipeline wrote.", codec.Gzip(), codec.Zstd(), 0},
		{"A none pipeline reads what a zstd pipeline wrote, so compression can be turned off.", codec.Zstd(), codec.None(), 0},
		{"A zstd pipeline reads what a none pipeline stored as is.", codec.None(), codec.Zstd(), 0},
		{"A snappy pipeline reads small values a zstd pipeline stored as is.", codec.Zstd(), codec.Snappy(), 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := newRawStore()
			value := jsonish(2048)
			w := layer.CompressWith(tt.writer, layer.CompressOptions{MinSize: tt.writerMinSize})(store)
			if err := w.Set(ctx, "k", hitbox.Entry{Value: value}); err != nil {
				t.Fatal(err)
			}
			e, err := layer.Compress(tt.reader)(store).Get(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(e.Value, value) {
				t.Fatal("read back a different value")
			}
		})
	}
}

func TestCompressCorrupt(t *testing.T) {
	t.Parallel()
	good := func(c codec.Compressor) []byte {
		out, err := c.Compress([]byte{c.ID()}, jsonish(2048))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	flip := func(b []byte, i int) []byte { b = bytes.Clone(b); b[i] ^= 0x55; return b }
	zstd := good(codec.Zstd())
	tests := []struct {
		name   string
		stored []byte
		says   string // a part of the message
	}{
		{"An empty value has no compressor id.", []byte{}, "no compressor id"},
		{"An id no compressor has is refused.", []byte{0xEE, 1, 2, 3}, "unknown compressor id 238"},
		{"A damaged zstd body names zstd.", flip(zstd, len(zstd)/2), "zstd"},
		{"A truncated zstd body names zstd.", zstd[:len(zstd)/2], "zstd"},
		{"A zstd id over foreign bytes names zstd.", append([]byte{codec.Zstd().ID()}, "plain text"...), "zstd"},
		{"A damaged gzip body names gzip.", flip(good(codec.Gzip()), 20), "gzip"},
		{"A snappy header that claims more than the limit names snappy.", []byte{codec.Snappy().ID(), 0xff, 0xff, 0xff, 0xff, 0x0f, 0}, "snappy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := newRawStore()
			store.plant("k", tt.stored)
			_, err := layer.Compress(codec.Zstd())(store).Get(ctx, "k")
			if !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("%q does not say %q", err, tt.says)
			}
			if _, ok := store.entry("k"); ok {
				t.Fatal("the damaged key was not deleted")
			}
		})
	}
}

// bomb returns a value that restores to n zero bytes, built without holding
// n bytes in memory.
func bomb(t *testing.T, c codec.Compressor, n int) []byte {
	t.Helper()
	chunk := make([]byte, 1<<20)
	var out []byte
	// Concatenated frames restore to the concatenation in both zstd and
	// gzip, so each chunk compresses on its own.
	for done := 0; done < n; done += len(chunk) {
		var err error
		if out, err = c.Compress(out, chunk); err != nil {
			t.Fatal(err)
		}
	}
	return append([]byte{c.ID()}, out...)
}

// TestCompressBomb runs alone (no t.Parallel) so the bytes it measures are
// its own.
func TestCompressBomb(t *testing.T) {
	const limit = 1 << 20
	for _, c := range []codec.Compressor{codec.Zstd(), codec.Gzip()} {
		t.Run(c.Name(), func(t *testing.T) {
			store := newRawStore()
			b := bomb(t, c, 16<<20)
			store.plant("k", b)
			p := layer.CompressWith(c, layer.CompressOptions{MaxDecompressed: limit})(store)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := p.Get(context.Background(), "k")
			runtime.ReadMemStats(&after)
			if !errors.Is(err, hitbox.ErrCorrupt) || !errors.Is(err, codec.ErrOverLimit) {
				t.Fatalf("got %v, want ErrCorrupt wrapping codec.ErrOverLimit", err)
			}
			if !strings.Contains(err.Error(), "1048576") {
				t.Fatalf("%q does not name the limit", err)
			}
			t.Logf("%s: %d bytes that restore to 16 MiB; %d bytes allocated to refuse them", c.Name(), len(b), after.TotalAlloc-before.TotalAlloc)
			if n := after.TotalAlloc - before.TotalAlloc; n > 16*limit {
				t.Fatalf("allocated %d bytes for a %d-byte limit", n, limit)
			}
		})
	}
}

func TestCompressBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newRawStore()
	p := layer.CompressWith(codec.Zstd(), layer.CompressOptions{MinSize: 1})(store)
	big, small := jsonish(4096), []byte("x")
	if err := hitbox.SetMany(ctx, p, []hitbox.Item{{Key: "big", Entry: hitbox.Entry{Value: big}}, {Key: "small", Entry: hitbox.Entry{Value: small}}}); err != nil {
		t.Fatal(err)
	}
	if in, _ := store.entry("big"); in.Value[0] != codec.Zstd().ID() {
		t.Fatal("SetMany did not compress")
	}
	store.plant("bad", []byte{0xEE})
	rs, err := hitbox.GetMany(ctx, p, []string{"big", "small", "bad", "none"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rs[0].Entry.Value, big) || !bytes.Equal(rs[1].Entry.Value, small) {
		t.Fatal("GetMany did not restore the values")
	}
	if !errors.Is(rs[2].Err, hitbox.ErrCorrupt) || !errors.Is(rs[3].Err, hitbox.ErrMiss) {
		t.Fatalf("got %v and %v, want ErrCorrupt and ErrMiss", rs[2].Err, rs[3].Err)
	}
	if _, ok := store.entry("bad"); ok {
		t.Fatal("the damaged key was not deleted")
	}
}

// TestCompressSetRefusesWhatGetWould is the reported case scaled down: a run
// of zeros over MaxDecompressed compresses to little, so a store takes it,
// but Get could never restore it. Set must refuse it instead.
func TestCompressSetRefusesWhatGetWould(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	ctx := context.Background()
	random := make([]byte, limit+1)
	for i := range random {
		random[i] = byte(i*7919>>3) ^ byte(i>>11)
	}
	for _, c := range []codec.Compressor{codec.Zstd(), codec.Gzip(), codec.Snappy(), codec.None()} {
		for _, tc := range []struct {
			name    string
			value   []byte
			refused bool
		}{
			{"A run of zeros of exactly MaxDecompressed bytes is stored and comes back.", make([]byte, limit), false},
			{"A run of zeros one byte over MaxDecompressed is refused, though it compresses to little.", make([]byte, limit+1), true},
			{"A value over MaxDecompressed is refused even when it would be stored as it is.", random, true},
		} {
			t.Run(c.Name()+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				store := newRawStore()
				p := layer.CompressWith(c, layer.CompressOptions{MaxDecompressed: limit})(store)
				if err := p.Set(ctx, "k", hitbox.Entry{Value: []byte("old")}); err != nil {
					t.Fatal(err)
				}
				err := p.Set(ctx, "k", hitbox.Entry{Value: tc.value})
				if !tc.refused {
					if err != nil {
						t.Fatalf("Set: %v", err)
					}
					got, err := p.Get(ctx, "k")
					if err != nil || !bytes.Equal(got.Value, tc.value) {
						t.Fatalf("Get after an accepted Set: %d bytes, %v; want the value back", len(got.Value), err)
					}
					return
				}
				var se *hitbox.SizeError
				if !errors.As(err, &se) || !errors.Is(err, hitbox.ErrTooLarge) || se.Limit != limit || se.Size != len(tc.value) {
					t.Fatalf("Set of %d bytes: %v; want a *hitbox.SizeError{Size: %d, Limit: %d}", len(tc.value), err, len(tc.value), limit)
				}
				if !strings.Contains(err.Error(), "1048576") {
					t.Errorf("%q does not name the limit", err)
				}
				if _, err := p.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
					t.Errorf("Get after a refused Set: %v; want a miss, not the value it was meant to replace", err)
				}
			})
		}
	}
}

// TestCompressSetManyRefusesWhatGetWould checks a batch ends as a loop of
// Set would: the items within the limit written, the others reported by
// index, and a key whose last item was refused holding nothing.
func TestCompressSetManyRefusesWhatGetWould(t *testing.T) {
	t.Parallel()
	const limit = 4 << 10
	ctx := context.Background()
	store := newRawStore()
	p := layer.CompressWith(codec.Zstd(), layer.CompressOptions{MaxDecompressed: limit})(store)
	over, fits := make([]byte, limit+1), jsonish(limit)
	for _, k := range []string{"over", "then-over", "over-then-fits"} {
		if err := p.Set(ctx, k, hitbox.Entry{Value: []byte("old")}); err != nil {
			t.Fatal(err)
		}
	}
	err := hitbox.SetMany(ctx, p, []hitbox.Item{
		{Key: "fits", Entry: hitbox.Entry{Value: fits}},
		{Key: "over", Entry: hitbox.Entry{Value: over}},
		{Key: "then-over", Entry: hitbox.Entry{Value: fits}},
		{Key: "then-over", Entry: hitbox.Entry{Value: over}},
		{Key: "over-then-fits", Entry: hitbox.Entry{Value: over}},
		{Key: "over-then-fits", Entry: hitbox.Entry{Value: fits}},
	})
	var se *hitbox.SizeError
	if !errors.As(err, &se) || se.Limit != limit {
		t.Fatalf("SetMany: %v; want a *hitbox.SizeError naming the %d-byte limit", err, limit)
	}
	for _, item := range []string{"item 1:", "item 3:", "item 4:"} {
		if !strings.Contains(err.Error(), item) {
			t.Errorf("SetMany's error %q does not name %s", err, item)
		}
	}
	for _, tc := range []struct {
		key  string
		want []byte // nil: a miss
	}{
		{"fits", fits},
		{"over", nil},
		{"then-over", nil},
		{"over-then-fits", fits},
	} {
		got, err := p.Get(ctx, tc.key)
		switch {
		case tc.want == nil && !errors.Is(err, hitbox.ErrMiss):
			t.Errorf("%s: %d bytes, %v; want a miss", tc.key, len(got.Value), err)
		case tc.want != nil && (err != nil || !bytes.Equal(got.Value, tc.want)):
			t.Errorf("%s: %d bytes, %v; want the %d bytes written", tc.key, len(got.Value), err, len(tc.want))
		}
	}
}
