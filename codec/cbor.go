package codec

import (
	"fmt"
	"reflect"

	"github.com/fxamacker/cbor/v2"
)

// CBOR returns the Format that uses CBOR (RFC 8949) through
// fxamacker/cbor: compact, fast and schema-free. Times keep their
// nanoseconds (RFC 3339 text), and decoding is bounded for hostile input:
// at most 64 levels of nesting and 1<<20 elements in any one array or map.
// Its ID is 2.
func CBOR() Format { return cborFormat{} }

// Limits on what CBOR decoding accepts. The library checks that the input
// is well formed before it allocates, so a declared length cannot outrun
// the bytes; these bound the work and the nesting (stack) on top of that.
const (
	cborMaxNested   = 64
	cborMaxElements = 1 << 20
)

// The modes are built once: building them validates options and caches
// tables, and they are safe for concurrent use.
var (
	cborEnc = mustCBOREnc(cbor.EncOptions{
		// The default (Unix seconds) would drop sub-second precision,
		// which a cache must not do silently.
		Time: cbor.TimeRFC3339Nano,
	})
	cborDec = mustCBORDec(cbor.DecOptions{
		MaxNestedLevels:  cborMaxNested,
		MaxArrayElements: cborMaxElements,
		MaxMapPairs:      cborMaxElements,
		// Decode maps into `any` as map[string]any, like encoding/json,
		// rather than the library's map[any]any.
		DefaultMapType: reflect.TypeFor[map[string]any](),
	})
)

func mustCBOREnc(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic("codec: cbor encode options: " + err.Error())
	}
	return m
}

func mustCBORDec(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic("codec: cbor decode options: " + err.Error())
	}
	return m
}

type cborFormat struct{}

func (cborFormat) Marshal(v any) ([]byte, error) {
	b, err := cborEnc.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("codec: cbor: %w", err)
	}
	return b, nil
}

func (cborFormat) Unmarshal(data []byte, v any) error {
	if err := cborDec.Unmarshal(data, v); err != nil {
		return fmt.Errorf("codec: cbor: %w", err)
	}
	return nil
}

func (cborFormat) ID() byte     { return 2 }
func (cborFormat) Name() string { return "cbor" }
