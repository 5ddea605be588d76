package codec

import (
	"encoding/binary"
	"errors"
)

// msgpackMaxNested bounds how deeply arrays and maps may nest.
const msgpackMaxNested = 64

var (
	errMsgPackTruncated = errors.New("truncated input")
	errMsgPackReserved  = errors.New("reserved type code 0xc1")
	errMsgPackNested    = errors.New("nested too deeply")
	errMsgPackLength    = errors.New("declared length longer than the input")
	errMsgPackTrailing  = errors.New("trailing bytes after the value")
)

// checkMsgPack walks one MessagePack value without decoding it and fails
// unless data holds exactly one well-formed value. The library allocates
// slices from the declared element count before reading the elements (so
// five hostile bytes can ask for 2^32 elements) and recurses without a
// depth limit; this pass runs first so neither can happen: every declared
// count must fit in the bytes that remain (each element takes at least
// one), and nesting stops at msgpackMaxNested. It is iterative, allocates
// nothing and costs one pass over the header bytes.
//
// Extension payloads are opaque here; a user-registered extension type
// that decodes MessagePack from its payload checks its own input.
func checkMsgPack(data []byte) error {
	// pending[d] is how many values are still expected at depth d.
	var pending [msgpackMaxNested + 1]uint64
	depth := 0
	pending[0] = 1
	i := 0
	for {
		for pending[depth] == 0 {
			if depth == 0 {
				if i != len(data) {
					return errMsgPackTrailing
				}
				return nil
			}
			depth--
		}
		pending[depth]--
		if i >= len(data) {
			return errMsgPackTruncated
		}
		c := data[i]
		i++
		var skip, children uint64
		switch {
		case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
			// fixint, nil, false, true: the code byte is the whole value.
		case c <= 0x8f: // fixmap
			children = 2 * uint64(c&0x0f)
		case c <= 0x9f: // fixarray
			children = uint64(c & 0x0f)
		case c <= 0xbf: // fixstr
			skip = uint64(c & 0x1f)
		case c == 0xc1:
			return errMsgPackReserved
		case c == 0xc4, c == 0xd9: // bin8, str8
			n, err := msgpackUint(data, &i, 1)
			if err != nil {
				return err
			}
			skip = n
		case c == 0xc5, c == 0xda: // bin16, str16
			n, err := msgpackUint(data, &i, 2)
			if err != nil {
				return err
			}
			skip = n
		case c == 0xc6, c == 0xdb: // bin32, str32
			n, err := msgpackUint(data, &i, 4)
			if err != nil {
				return err
			}
			skip = n
		case c == 0xc7, c == 0xc8, c == 0xc9: // ext8, ext16, ext32
			n, err := msgpackUint(data, &i, 1<<(c-0xc7))
			if err != nil {
				return err
			}
			skip = n + 1 // the type byte, then the payload
		case c == 0xca, c == 0xce, c == 0xd2: // float32, uint32, int32
			skip = 4
		case c == 0xcb, c == 0xcf, c == 0xd3: // float64, uint64, int64
			skip = 8
		case c == 0xcc, c == 0xd0: // uint8, int8
			skip = 1
		case c == 0xcd, c == 0xd1: // uint16, int16
			skip = 2
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16
			skip = 1 + 1<<(c-0xd4)
		case c == 0xdc, c == 0xdd: // array16, array32
			n, err := msgpackUint(data, &i, 2<<(c-0xdc))
			if err != nil {
				return err
			}
			children = n
		case c == 0xde, c == 0xdf: // map16, map32
			n, err := msgpackUint(data, &i, 2<<(c-0xde))
			if err != nil {
				return err
			}
			children = 2 * n
		}
		if skip > uint64(len(data)-i) {
			return errMsgPackTruncated
		}
		i += int(skip)
		if children == 0 {
			continue
		}
		if children > uint64(len(data)-i) {
			return errMsgPackLength
		}
		if depth == msgpackMaxNested {
			return errMsgPackNested
		}
		depth++
		pending[depth] = children
	}
}

// msgpackUint reads a big-endian unsigned integer of size bytes at *i and
// advances *i past it.
func msgpackUint(data []byte, i *int, size int) (uint64, error) {
	if len(data)-*i < size {
		return 0, errMsgPackTruncated
	}
	b := data[*i : *i+size]
	*i += size
	switch size {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.BigEndian.Uint16(b)), nil
	default:
		return uint64(binary.BigEndian.Uint32(b)), nil
	}
}
