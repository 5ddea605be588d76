package codec_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/hitbox-go/hitbox/codec"
)

// structured are the formats that encode any Go value.
var structured = []codec.Format{codec.JSON(), codec.CBOR(), codec.Gob(), codec.MsgPack()}

func TestFormatIDsAndNames(t *testing.T) {
	t.Parallel()
	// IDs are stored beside values: changing one breaks every cache
	// written before, so they are pinned here.
	tests := []struct {
		f    codec.Format
		id   byte
		name string
	}{
		{codec.Raw(), 0, "raw"},
		{codec.JSON(), 1, "json"},
		{codec.CBOR(), 2, "cbor"},
		{codec.Gob(), 3, "gob"},
		{codec.MsgPack(), 4, "msgpack"},
		{codec.Binary(), 5, "binary"},
	}
	for _, tt := range tests {
		if tt.f.ID() != tt.id || tt.f.Name() != tt.name {
			t.Errorf("%T: got id %d name %q, want %d %q", tt.f, tt.f.ID(), tt.f.Name(), tt.id, tt.name)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	t.Parallel()
	u := sampleUser()
	tests := []struct {
		name string
		in   any
		out  func() any // a pointer to a fresh zero value of in's type
		eq   func(a, b any) bool
	}{
		{
			name: "a struct of the usual field kinds comes back field for field",
			in:   u,
			out:  func() any { return new(User) },
			eq:   func(a, b any) bool { return a.(User).equal(*b.(*User)) },
		},
		{
			name: "a map keeps every pair",
			in:   map[string]int{"a": 1, "b": -2, "ü": 1 << 40},
			out:  func() any { return new(map[string]int) },
		},
		{
			name: "a slice keeps its order",
			in:   []string{"x", "", "y z", strings.Repeat("long ", 100)},
			out:  func() any { return new([]string) },
		},
		{
			name: "a slice of structs comes back whole",
			in:   []User{u, {ID: 2, Name: "Bob", CreatedAt: u.CreatedAt}},
			out:  func() any { return new([]User) },
			eq: func(a, b any) bool {
				x, y := a.([]User), *b.(*[]User)
				return len(x) == len(y) && x[0].equal(y[0]) && x[1].equal(y[1])
			},
		},
		{
			name: "a bare number survives",
			in:   int64(-42),
			out:  func() any { return new(int64) },
		},
	}
	for _, f := range structured {
		for _, tt := range tests {
			t.Run(f.Name()+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				data, err := f.Marshal(tt.in)
				if err != nil {
					t.Fatalf("Marshal: %v", err)
				}
				got := tt.out()
				if err := f.Unmarshal(data, got); err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
				eq := tt.eq
				if eq == nil {
					eq = func(a, b any) bool { return reflect.DeepEqual(a, reflect.ValueOf(b).Elem().Interface()) }
				}
				if !eq(tt.in, got) {
					t.Errorf("round trip changed the value:\n in: %#v\nout: %#v", tt.in, got)
				}
			})
		}
	}
}

func TestFormatBadBytes(t *testing.T) {
	t.Parallel()
	good := map[string][]byte{}
	for _, f := range append(structured, codec.Binary()) {
		u := BinaryUser(sampleUser())
		b, err := f.Marshal(&u)
		if err != nil {
			t.Fatal(err)
		}
		good[f.Name()] = b
	}
	tests := []struct {
		name string
		data func(f codec.Format) []byte
	}{
		{"empty input is refused", func(codec.Format) []byte { return nil }},
		{"a value cut in half is refused", func(f codec.Format) []byte { b := good[f.Name()]; return b[:len(b)/2] }},
		{"a value missing its last byte is refused", func(f codec.Format) []byte { b := good[f.Name()]; return b[:len(b)-1] }},
		{"bytes of no format are refused", func(codec.Format) []byte { return []byte{0xc1, 0xff, 0xfe, 0x00, 0x13, 0x37} }},
	}
	for _, f := range append(structured, codec.Binary()) {
		for _, tt := range tests {
			t.Run(f.Name()+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var u BinaryUser
				if err := f.Unmarshal(tt.data(f), &u); err == nil {
					t.Errorf("Unmarshal succeeded with %+v", u)
				}
			})
		}
	}
}

func TestFormatRefusesNonPointer(t *testing.T) {
	t.Parallel()
	for _, f := range append(structured, codec.Binary(), codec.Raw()) {
		data, _ := codec.JSON().Marshal("x")
		var nilUser *User
		for _, v := range []any{User{}, nilUser, nil, "x"} {
			if err := f.Unmarshal(data, v); err == nil {
				t.Errorf("%s: Unmarshal into %T succeeded", f.Name(), v)
			}
		}
	}
}

func TestMsgPackHostileInput(t *testing.T) {
	t.Parallel()
	deep := func(n int) []byte { return append(bytes.Repeat([]byte{0x91}, n), 0xc0) }
	tests := []struct {
		name string
		data []byte
		into func() any
		ok   bool
	}{
		{"an array32 claiming 2^32-1 users is refused before allocating", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}, func() any { return new([]User) }, false},
		{"an array32 claiming 2^32-1 values is refused for any", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, func() any { return new(any) }, false},
		{"a map32 claiming 2^32-1 pairs is refused", []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0}, func() any { return new(map[string]any) }, false},
		{"a str32 longer than the input is refused", []byte{0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'}, func() any { return new(string) }, false},
		{"64 nested arrays are accepted", deep(64), func() any { return new(any) }, true},
		{"65 nested arrays are refused", deep(65), func() any { return new(any) }, false},
		{"100000 nested arrays are refused without deep recursion", deep(100000), func() any { return new(any) }, false},
		{"trailing bytes after the value are refused", []byte{0x01, 0x02}, func() any { return new(int) }, false},
		{"the reserved code 0xc1 is refused", []byte{0xc1}, func() any { return new(any) }, false},
		{"a fixext8 value is skipped whole", []byte{0x92, 0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x01}, func() any { return new([]any) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := codec.MsgPack().Unmarshal(tt.data, tt.into())
			if (err == nil) != tt.ok {
				t.Errorf("Unmarshal: got error %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestCBORHostileInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
	}{
		{"an array claiming 2^32-1 elements is refused", []byte{0x9a, 0xff, 0xff, 0xff, 0xff, 0xf6}},
		{"nesting beyond 64 levels is refused", append(bytes.Repeat([]byte{0x81}, 100), 0xf6)},
		{"an indefinite array with no end is refused", []byte{0x9f, 0x01, 0x02}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v any
			if err := codec.CBOR().Unmarshal(tt.data, &v); err == nil {
				t.Errorf("Unmarshal succeeded with %v", v)
			}
		})
	}
}

func TestCBORKeepsNanoseconds(t *testing.T) {
	t.Parallel()
	// The library's default encodes times as whole Unix seconds; the
	// cache must not drop precision silently.
	in := sampleUser()
	data, err := codec.CBOR().Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out User
	if err := codec.CBOR().Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !out.CreatedAt.Equal(in.CreatedAt) {
		t.Errorf("got %v, want %v", out.CreatedAt, in.CreatedAt)
	}
}

func TestRaw(t *testing.T) {
	t.Parallel()
	b := []byte("bytes")
	s := "text"
	tests := []struct {
		name string
		in   any
		want string
		ok   bool
	}{
		{"a byte slice passes through", b, "bytes", true},
		{"a string passes through", "text", "text", true},
		{"a pointer to a byte slice passes through", &b, "bytes", true},
		{"a pointer to a string passes through", &s, "text", true},
		{"an empty byte slice gives empty bytes", []byte{}, "", true},
		{"an int is refused", 42, "", false},
		{"a nil *string is refused", (*string)(nil), "", false},
		{"nil is refused", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := codec.Raw().Marshal(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("Marshal: got error %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && string(got) != tt.want {
				t.Errorf("Marshal = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRawCopies(t *testing.T) {
	t.Parallel()
	// A caller that reuses its buffer must not change what was cached,
	// nor what was read back.
	in := []byte("abc")
	enc, _ := codec.Raw().Marshal(in)
	in[0] = 'X'
	if string(enc) != "abc" {
		t.Errorf("Marshal aliases its input: %q", enc)
	}
	var out []byte
	if err := codec.Raw().Unmarshal(enc, &out); err != nil {
		t.Fatal(err)
	}
	enc[0] = 'Y'
	if string(out) != "abc" {
		t.Errorf("Unmarshal aliases its input: %q", out)
	}
	var s string
	if err := codec.Raw().Unmarshal([]byte("str"), &s); err != nil || s != "str" {
		t.Errorf("Unmarshal into *string = %q, %v", s, err)
	}
	var n int
	if err := codec.Raw().Unmarshal([]byte("1"), &n); err == nil {
		t.Error("Unmarshal into *int succeeded")
	}
}

// plain has no binary methods.
type plain struct{ A int }

func TestBinary(t *testing.T) {
	t.Parallel()
	u := sampleUser()
	t.Run("a value whose pointer has the methods round-trips", func(t *testing.T) {
		t.Parallel()
		data, err := codec.Binary().Marshal(BinaryUser(u)) // not *BinaryUser
		if err != nil {
			t.Fatal(err)
		}
		var got BinaryUser
		if err := codec.Binary().Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if !u.equal(User(got)) {
			t.Errorf("got %+v, want %+v", got, u)
		}
	})
	t.Run("a type without the methods gets an error naming it", func(t *testing.T) {
		t.Parallel()
		_, err := codec.Binary().Marshal(plain{1})
		if err == nil || !strings.Contains(err.Error(), "codec_test.plain") || !strings.Contains(err.Error(), "BinaryMarshaler") {
			t.Errorf("Marshal error = %v", err)
		}
		err = codec.Binary().Unmarshal([]byte{1}, &plain{})
		if err == nil || !strings.Contains(err.Error(), "BinaryUnmarshaler") {
			t.Errorf("Unmarshal error = %v", err)
		}
	})
	t.Run("a nil pointer is refused rather than called", func(t *testing.T) {
		t.Parallel()
		if _, err := codec.Binary().Marshal((*BinaryUser)(nil)); err == nil {
			t.Error("Marshal of a nil *BinaryUser succeeded")
		}
	})
}

func TestFormatAcceptsValueWithPointerMethods(t *testing.T) {
	t.Parallel()
	// gob and msgpack refuse a non-addressable value whose encoding
	// methods have pointer receivers; the formats take its address so
	// Marshal(v) works as Marshal(&v) does.
	for _, f := range structured {
		t.Run(f.Name(), func(t *testing.T) {
			t.Parallel()
			in := BinaryUser(sampleUser())
			data, err := f.Marshal(in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			var out BinaryUser
			if err := f.Unmarshal(data, &out); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !User(in).equal(User(out)) {
				t.Errorf("got %+v", out)
			}
		})
	}
}

func TestFormatsConcurrent(t *testing.T) {
	t.Parallel()
	// Formats are shared by every goroutine of a cache; run them at once
	// under -race.
	var wg sync.WaitGroup
	for _, f := range append(structured, codec.Binary()) {
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					in := BinaryUser(sampleUser())
					in.ID = int64(g*1000 + i)
					in.Name = fmt.Sprint("user-", i)
					data, err := f.Marshal(&in)
					if err != nil {
						t.Error(err)
						return
					}
					var out BinaryUser
					if err := f.Unmarshal(data, &out); err != nil || !User(in).equal(User(out)) {
						t.Errorf("%s: round trip %v", f.Name(), err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
}
