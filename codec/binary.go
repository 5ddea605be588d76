package codec

import (
	"encoding"
	"fmt"
)

// Binary returns the Format that calls the value's own
// encoding.BinaryMarshaler and encoding.BinaryUnmarshaler methods: the
// fastest choice when a type has a hand-written encoding. Marshal accepts a
// value whose type or pointer type has MarshalBinary; Unmarshal needs a
// pointer whose type has UnmarshalBinary. Either fails with a clear error
// when the method is missing. Refusing hostile bytes without panicking is
// then the type's own job. Its ID is 5.
func Binary() Format { return binaryFormat{} }

type binaryFormat struct{}

func (binaryFormat) Marshal(v any) ([]byte, error) {
	if isNilPointer(v) {
		return nil, fmt.Errorf("codec: binary: Marshal of nil %T", v)
	}
	m, ok := v.(encoding.BinaryMarshaler)
	if !ok {
		m, ok = addressable(v).(encoding.BinaryMarshaler)
	}
	if !ok {
		return nil, fmt.Errorf("codec: binary: %T does not implement encoding.BinaryMarshaler", v)
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("codec: binary: %w", err)
	}
	return b, nil
}

func (binaryFormat) Unmarshal(data []byte, v any) error {
	u, ok := v.(encoding.BinaryUnmarshaler)
	if !ok {
		return fmt.Errorf("codec: binary: %T does not implement encoding.BinaryUnmarshaler", v)
	}
	if isNilPointer(v) {
		return fmt.Errorf("codec: binary: Unmarshal into nil %T", v)
	}
	if err := u.UnmarshalBinary(data); err != nil {
		return fmt.Errorf("codec: binary: %w", err)
	}
	return nil
}

func (binaryFormat) ID() byte     { return 5 }
func (binaryFormat) Name() string { return "binary" }
