package codec_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/hitbox-go/hitbox/codec"
)

// keyed is a struct CBOR writes with integer keys, as the tour's User.
type keyed struct {
	ID   int64    `cbor:"1,keyasint" msgpack:"id" json:"id"`
	Name string   `cbor:"2,keyasint" msgpack:"name" json:"name"`
	Tags []string `cbor:"3,keyasint" msgpack:"tags" json:"tags"`
}

func TestDecodeAny(t *testing.T) {
	t.Parallel()
	v := keyed{ID: 7, Name: "Ada", Tags: []string{"a"}}
	enc := func(f codec.Format, v any) []byte {
		b, err := f.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name    string
		f       codec.Format
		data    []byte
		want    string // the JSON of what DecodeAny returns
		wantErr bool
	}{
		{"JSON reads as it is, numbers exact", codec.JSON(), []byte(`{"n":12345678901234567890}`), `{"n":12345678901234567890}`, false},
		{"CBOR integer keys become strings", codec.CBOR(), enc(codec.CBOR(), v), `{"1":7,"2":"Ada","3":["a"]}`, false},
		{"MessagePack reads with its names", codec.MsgPack(), enc(codec.MsgPack(), v), `{"id":7,"name":"Ada","tags":["a"]}`, false},
		{"a NaN becomes a string", codec.CBOR(), enc(codec.CBOR(), math.NaN()), `"NaN"`, false},
		{"raw UTF-8 is a string", codec.Raw(), []byte("héllo"), `"héllo"`, false},
		{"raw binary is bytes", codec.Raw(), []byte{0xff, 0}, `"/wA="`, false},
		{"JSON with trailing data is refused", codec.JSON(), []byte(`{} {}`), "", true},
		{"damaged CBOR is refused", codec.CBOR(), []byte{0xa4, 1}, "", true},
		{"gob needs its type", codec.Gob(), enc(codec.Gob(), v), "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := codec.DecodeAny(tc.f, tc.data)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatalf("json cannot marshal %#v: %v", got, err)
			}
			if string(b) != tc.want {
				t.Errorf("got %s, want %s", b, tc.want)
			}
		})
	}
	if _, err := codec.DecodeAny(codec.Binary(), nil); !errors.Is(err, codec.ErrNoGeneric) {
		t.Errorf("Binary: %v, want ErrNoGeneric", err)
	}
}

func TestFormatByName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"json", "cbor", "gob", "msgpack", "binary", "raw"} {
		if f, ok := codec.FormatByName(name); !ok || f.Name() != name {
			t.Errorf("FormatByName(%q) = %v, %v", name, f, ok)
		}
	}
	if _, ok := codec.FormatByName("yaml"); ok {
		t.Error("found a yaml format")
	}
}

// FuzzDecodeAny checks that DecodeAny never panics and that whatever it
// returns, encoding/json marshals.
func FuzzDecodeAny(f *testing.F) {
	b, _ := codec.CBOR().Marshal(keyed{ID: 1, Name: "x"})
	f.Add(byte(2), b)
	b, _ = codec.MsgPack().Marshal(keyed{ID: 1, Name: "x"})
	f.Add(byte(4), b)
	f.Add(byte(1), []byte(`{"a":[1,2]}`))
	f.Fuzz(func(t *testing.T, which byte, data []byte) {
		names := []string{"json", "cbor", "msgpack", "raw"}
		fm, _ := codec.FormatByName(names[int(which)%len(names)])
		v, err := codec.DecodeAny(fm, data)
		if err != nil {
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("%s: json cannot marshal %#v: %v", fm.Name(), v, err)
		}
	})
}
