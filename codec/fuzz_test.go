package codec_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/hitbox-go/hitbox/codec"
)

// The seed corpora live in testdata/fuzz/<target>/: valid outputs of each
// compressor and format, truncated and damaged ones, and garbage. The
// default test run replays them; fuzz further with, for example,
//
//	go test -run='^$' -fuzz=FuzzDecompress -fuzztime=60s ./codec/

// fuzzMaxLimit keeps fuzzed limits small enough that a bomb within the
// limit still runs quickly.
const fuzzMaxLimit = 4 << 20

// FuzzDecompress feeds arbitrary bytes and limits to every compressor:
// Decompress must return the documented errors or a value within the
// limit, leave dst's contents alone, and never panic; and whatever the
// bytes, compressing them must round-trip.
func FuzzDecompress(f *testing.F) {
	for _, c := range compressors {
		for _, src := range [][]byte{nil, []byte("a"), jsonish(300), incompressible(100)} {
			comp, _ := c.Compress(nil, src)
			f.Add(c.ID(), uint32(len(src)), comp)
		}
	}
	f.Fuzz(func(t *testing.T, id byte, limit uint32, data []byte) {
		c, _ := codec.CompressorByID(id % 4)
		lim := int(limit % fuzzMaxLimit)
		prefix := []byte("dst")
		out, err := c.Decompress(append([]byte{}, prefix...), data, lim)
		switch {
		case err != nil && !errors.Is(err, codec.ErrDamaged) && !errors.Is(err, codec.ErrOverLimit):
			t.Fatalf("%s: undocumented error: %v", c.Name(), err)
		case err == nil && len(out)-len(prefix) > lim:
			t.Fatalf("%s: restored %d bytes over the limit %d", c.Name(), len(out)-len(prefix), lim)
		case !bytes.HasPrefix(out, prefix):
			t.Fatalf("%s: dst's contents changed", c.Name())
		}

		comp, err := c.Compress(nil, data)
		if err != nil {
			t.Fatalf("%s: Compress: %v", c.Name(), err)
		}
		back, err := c.Decompress(nil, comp, len(data))
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("%s: round trip of %d bytes: %v", c.Name(), len(data), err)
		}
	})
}

// fuzzFormats are the formats FuzzFormats covers, indexed by ID (the first
// value of each seed file), with Gob's place empty.
var fuzzFormats = []codec.Format{codec.Raw(), codec.JSON(), codec.CBOR(), nil, codec.MsgPack(), codec.Binary()}

// FuzzFormats feeds arbitrary bytes to every format's Unmarshal, into
// a struct, a map, a slice and an empty interface: it must return an error
// or a value, never panic or exhaust memory. Gob is left out: encoding/gob
// is not hardened against adversarial input (see Gob), and the fuzzer
// finds 300-byte inputs that take it seconds and hundreds of megabytes.
func FuzzFormats(f *testing.F) {
	u := sampleUser()
	bu := BinaryUser(u)
	for _, fm := range fuzzFormats {
		if fm == nil {
			continue
		}
		for _, v := range []any{&bu, map[string]any{"a": 1.5, "b": []any{"x", true}}, []string{"p", "q"}, "raw"} {
			if data, err := fm.Marshal(v); err == nil {
				f.Add(fm.ID(), data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, id byte, data []byte) {
		fm := fuzzFormats[int(id)%len(fuzzFormats)]
		if fm == nil {
			t.Skip("gob is not hardened against adversarial input")
		}
		targets := []any{new(BinaryUser), new(map[string]any), new([]User), new(any), new([]byte), new(string)}
		for _, v := range targets {
			// Any answer is fine; reaching the next line is the test.
			_ = fm.Unmarshal(data, v)
		}
	})
}
