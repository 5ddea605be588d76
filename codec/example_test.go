package codec_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox/codec"
)

func ExampleZstd() {
	z := codec.Zstd()
	value := bytes.Repeat([]byte(`{"name":"ada","lang":"go"},`), 100)

	packed, err := z.Compress(nil, value)
	if err != nil {
		panic(err)
	}
	restored, err := z.Decompress(nil, packed, len(value))
	if err != nil {
		panic(err)
	}
	fmt.Println(z.Name(), z.ID(), bytes.Equal(restored, value), len(packed) < len(value)/10)

	// One byte under the restored size is refused.
	_, err = z.Decompress(nil, packed, len(value)-1)
	fmt.Println(errors.Is(err, codec.ErrOverLimit))
	fmt.Println(err)
	// Output:
	// zstd 3 true true
	// true
	// codec: decompressed size over the limit: restored size over 2699 bytes
}

func ExampleCBOR() {
	type Point struct {
		X, Y int
		Tag  string
	}
	f := codec.CBOR()
	data, err := f.Marshal(Point{X: 3, Y: 4, Tag: "p"})
	if err != nil {
		panic(err)
	}
	var p Point
	if err := f.Unmarshal(data, &p); err != nil {
		panic(err)
	}
	fmt.Printf("%s id=%d %d bytes %+v\n", f.Name(), f.ID(), len(data), p)

	// Bytes it did not write give an error, not a panic.
	fmt.Println(f.Unmarshal([]byte{0xff, 0x00}, &p) != nil)
	// Output:
	// cbor id=2 13 bytes {X:3 Y:4 Tag:p}
	// true
}

func ExampleCompressorByID() {
	// A writer configured with gzip at its best level stores the ID beside
	// the value...
	w := codec.GzipLevel(codec.LevelBest)
	stored := append([]byte{w.ID()}, mustCompress(w, []byte("hello, hello, hello"))...)

	// ...and a reader configured with anything else finds the compressor
	// that restores it.
	r, ok := codec.CompressorByID(stored[0])
	if !ok {
		panic("unknown compressor")
	}
	value, err := r.Decompress(nil, stored[1:], 1<<10)
	fmt.Println(r.Name(), string(value), err)

	_, ok = codec.CompressorByID(42)
	fmt.Println(ok)
	// Output:
	// gzip hello, hello, hello <nil>
	// false
}

func mustCompress(c codec.Compressor, b []byte) []byte {
	out, err := c.Compress(nil, b)
	if err != nil {
		panic(err)
	}
	return out
}

// A value made bytes by a format, compressed with its compressor's ID in
// front, and read back by whoever finds the ID: the package doc shows this
// example.
func Example() {
	f, z := codec.CBOR(), codec.Zstd()
	data, err := f.Marshal(User{ID: 42, Name: "Ada"})
	if err != nil {
		panic(err)
	}
	stored, err := z.Compress([]byte{z.ID()}, data) // the ID, then the value
	if err != nil {
		panic(err)
	}

	// Later, maybe in a process configured with another compressor:
	c, ok := codec.CompressorByID(stored[0])
	if !ok {
		panic("unknown compressor")
	}
	data, err = c.Decompress(nil, stored[1:], 1<<20) // refuse over 1 MiB
	if err != nil {
		panic(err) // errors.Is(err, codec.ErrOverLimit) over the limit
	}
	var u User
	err = f.Unmarshal(data, &u)
	fmt.Println(c.Name(), u.ID, u.Name, err)
	// Output: zstd 42 Ada <nil>
}
