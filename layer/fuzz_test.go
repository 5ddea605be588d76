package layer_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
)

// FuzzEncodeEnvelope checks that Encode never panics on bytes it reads back,
// that whatever it accepts is exactly what it would write for the entry it
// returned, and that any value and deadlines survive a round trip.
func FuzzEncodeEnvelope(f *testing.F) {
	f.Add([]byte("hb\x01\x00"), []byte("value"), int64(1e18), int64(9e17))
	f.Add([]byte{}, []byte{}, int64(0), int64(0))
	f.Fuzz(func(t *testing.T, stored, value []byte, expire, stale int64) {
		ctx := context.Background()
		e, err := layer.Encode()(static{hitbox.Entry{Value: stored}}).Get(ctx, "k")
		if err != nil && !errors.Is(err, hitbox.ErrCorrupt) {
			t.Fatalf("got %v, want nil or ErrCorrupt", err)
		}
		if err == nil {
			if again := envelope(t, e); !bytes.Equal(again, stored) {
				t.Fatalf("accepted % x, which writes back as % x", stored, again)
			}
		}

		in := hitbox.Entry{Value: value, Expire: nanoTime(expire), Stale: nanoTime(stale)}
		store := newRawStore()
		p := layer.Encode()(store)
		if err := p.Set(ctx, "k", in); err != nil {
			t.Fatal(err)
		}
		out, err := p.Get(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Value, in.Value) || !out.Expire.Equal(in.Expire) || !out.Stale.Equal(in.Stale) {
			t.Fatalf("round trip changed %+v into %+v", in, out)
		}
	})
}

func nanoTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// FuzzCompressGet checks that the Compress layer never panics on stored
// bytes, whatever compressor id they start with, and that it fails only
// with ErrCorrupt.
func FuzzCompressGet(f *testing.F) {
	for _, c := range []codec.Compressor{codec.Zstd(), codec.Snappy(), codec.Gzip()} {
		v, _ := c.Compress([]byte{c.ID()}, jsonish(300))
		f.Add(v)
	}
	f.Add([]byte{0, 'r', 'a', 'w'})
	f.Fuzz(func(t *testing.T, stored []byte) {
		p := layer.CompressWith(codec.Zstd(), layer.CompressOptions{MaxDecompressed: 1 << 20})
		e, err := p(static{hitbox.Entry{Value: stored}}).Get(context.Background(), "k")
		switch {
		case err != nil && !errors.Is(err, hitbox.ErrCorrupt):
			t.Fatalf("got %v, want nil or ErrCorrupt", err)
		case err == nil && len(e.Value) > 1<<20 && stored[0] != 0:
			t.Fatalf("restored %d bytes, over the limit", len(e.Value))
		case err == nil && stored[0] == 0 && !bytes.Equal(e.Value, stored[1:]):
			t.Fatal("a value stored as is came back changed")
		}
	})
}
