package codec

import (
	"encoding/json"
	"fmt"
)

// JSON returns the Format that uses encoding/json: readable, portable and
// the slowest of the structured formats. Its ID is 1.
func JSON() Format { return jsonFormat{} }

type jsonFormat struct{}

func (jsonFormat) Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("codec: json: %w", err)
	}
	return b, nil
}

func (jsonFormat) Unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("codec: json: %w", err)
	}
	return nil
}

func (jsonFormat) ID() byte     { return 1 }
func (jsonFormat) Name() string { return "json" }
