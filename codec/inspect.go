package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/vmihailenco/msgpack/v5"
)

// FormatByName returns the built-in Format with the given Name ("json",
// "cbor", "gob", "msgpack", "binary", "raw"), and whether there is one:
// for tools that are told which format wrote a value.
func FormatByName(name string) (Format, bool) {
	for _, f := range []Format{Raw(), JSON(), CBOR(), Gob(), MsgPack(), Binary()} {
		if f.Name() == name {
			return f, true
		}
	}
	return nil, false
}

// ErrNoGeneric is returned by DecodeAny for a format whose bytes cannot
// be read without the Go type that wrote them (Gob, Binary).
var ErrNoGeneric = errors.New("codec: the format cannot be decoded without the type that wrote it")

// cborAny decodes CBOR into `any` with maps as map[any]any, which holds
// every key type CBOR allows (integer keys, written by `keyasint`), with
// the same bounds as CBOR's Unmarshal.
var cborAny = mustCBORDec(cbor.DecOptions{
	MaxNestedLevels:  cborMaxNested,
	MaxArrayElements: cborMaxElements,
	MaxMapPairs:      cborMaxElements,
	DefaultMapType:   reflect.TypeFor[map[any]any](),
})

// DecodeAny decodes data, written by f, into a generic value that
// encoding/json marshals, for tools that show a stored value without its
// Go type: JSON as it is (numbers kept exact), CBOR and MessagePack with
// map keys turned into strings (CBOR's integer keys become "1", "2"...),
// byte strings as []byte, and numbers JSON cannot hold (NaN, infinities)
// as strings. Raw gives a string when data is UTF-8 and []byte otherwise.
// Gob and Binary give ErrNoGeneric. It takes the hostile-input bounds of
// f's Unmarshal and never panics.
func DecodeAny(f Format, data []byte) (any, error) {
	var v any
	switch f.(type) {
	case jsonFormat:
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("codec: json: %w", err)
		}
		if d.More() {
			return nil, errors.New("codec: json: trailing data after the value")
		}
		return v, nil
	case cborFormat:
		if err := cborAny.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("codec: cbor: %w", err)
		}
	case msgpackFormat:
		if err := checkMsgPack(data); err != nil {
			return nil, fmt.Errorf("codec: msgpack: %w", err)
		}
		if err := msgpack.Unmarshal(data, &v); err != nil {
			return nil, fmt.Errorf("codec: msgpack: %w", err)
		}
	case rawFormat:
		if utf8.Valid(data) {
			return string(data), nil
		}
		return bytes.Clone(data), nil
	default:
		return nil, fmt.Errorf("%w: %s", ErrNoGeneric, f.Name())
	}
	return generic(v, 0), nil
}

// generic rewrites what CBOR and MessagePack decode into what
// encoding/json can marshal. depth bounds the recursion, though the
// decoders already bound nesting.
func generic(v any, depth int) any {
	if depth > cborMaxNested+1 {
		return nil
	}
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[keyString(k)] = generic(e, depth+1)
		}
		return m
	case map[string]any:
		for k, e := range x {
			x[k] = generic(e, depth+1)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = generic(e, depth+1)
		}
		return x
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Sprint(x)
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Sprint(x)
		}
	case cbor.Tag:
		return map[string]any{"tag": x.Number, "content": generic(x.Content, depth+1)}
	}
	return v
}

// keyString renders a map key as a JSON object name.
func keyString(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(k)
}
