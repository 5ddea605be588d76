package codec

import "fmt"

// Raw returns the Format that passes bytes through unchanged, for values
// that already are bytes. Marshal accepts []byte, string, *[]byte and
// *string; Unmarshal fills a *[]byte or a *string. Both copy, so the
// cache never aliases a buffer its caller may reuse. Any other type is an
// error. Its ID is 0.
func Raw() Format { return rawFormat{} }

type rawFormat struct{}

func (rawFormat) Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return append([]byte{}, v...), nil
	case string:
		return []byte(v), nil
	case *[]byte:
		if v != nil {
			return append([]byte{}, *v...), nil
		}
	case *string:
		if v != nil {
			return []byte(*v), nil
		}
	}
	return nil, fmt.Errorf("codec: raw: cannot marshal %T; want []byte or string", v)
}

func (rawFormat) Unmarshal(data []byte, v any) error {
	switch v := v.(type) {
	case *[]byte:
		if v != nil {
			*v = append([]byte{}, data...)
			return nil
		}
	case *string:
		if v != nil {
			*v = string(data)
			return nil
		}
	}
	return fmt.Errorf("codec: raw: cannot unmarshal into %T; want a non-nil *[]byte or *string", v)
}

func (rawFormat) ID() byte     { return 0 }
func (rawFormat) Name() string { return "raw" }
