package codec

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// MsgPack returns the Format that uses MessagePack through
// vmihailenco/msgpack: compact and fast. Struct fields are named by their
// `msgpack:"..."` tags (not their json tags), and times keep their
// nanoseconds. Input is checked before decoding (see checkMsgPack), so
// hostile bytes cannot make it allocate far beyond their own size or
// recurse deeper than 64 levels. Its ID is 4.
func MsgPack() Format { return msgpackFormat{} }

type msgpackFormat struct{}

func (msgpackFormat) Marshal(v any) ([]byte, error) {
	b, err := msgpack.Marshal(withPointerMethods(v))
	if err != nil {
		return nil, fmt.Errorf("codec: msgpack: %w", err)
	}
	return b, nil
}

func (msgpackFormat) Unmarshal(data []byte, v any) error {
	if err := checkMsgPack(data); err != nil {
		return fmt.Errorf("codec: msgpack: %w", err)
	}
	if err := msgpack.Unmarshal(data, v); err != nil {
		return fmt.Errorf("codec: msgpack: %w", err)
	}
	return nil
}

func (msgpackFormat) ID() byte     { return 4 }
func (msgpackFormat) Name() string { return "msgpack" }
