package codec

import (
	"bytes"
	"encoding/gob"
	"fmt"
)

// Gob returns the Format that uses encoding/gob. Every value carries its
// own type description, since cached values are read one at a time, so gob
// is larger and slower here than in a stream; use it for types only gob
// handles well. Concrete types behind interface fields must be registered
// with gob.Register, as usual. Its ID is 3.
//
// encoding/gob is not hardened against adversarial input (its own
// documentation says so): a few hundred chosen bytes can make it allocate
// hundreds of megabytes and spin for seconds before it returns an error.
// Use Gob only where the stored bytes are trusted; prefer CBOR or MsgPack
// for a store others can write to.
func Gob() Format { return gobFormat{} }

type gobFormat struct{}

func (gobFormat) Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(withPointerMethods(v)); err != nil {
		return nil, fmt.Errorf("codec: gob: %w", err)
	}
	return buf.Bytes(), nil
}

func (gobFormat) Unmarshal(data []byte, v any) error {
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		return fmt.Errorf("codec: gob: %w", err)
	}
	return nil
}

func (gobFormat) ID() byte     { return 3 }
func (gobFormat) Name() string { return "gob" }
