package httpcache

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/hitbox-go/hitbox"
)

// A stored value starts with one byte saying what follows, so a key holds
// either a response or the index of a varying resource's variants.
const (
	recResponse byte = 'R' // then a storedResponse
	recIndex    byte = 'I' // then an 8-byte epoch and a varyIndex
)

// indexRecord is what a primary key holds when its responses vary (RFC 9111
// §4.1): the Vary field names that select a variant, and the epoch that
// names this generation of variants in their keys.
type indexRecord struct {
	names []string
	epoch uint64
}

// newEpoch returns a fresh epoch for an index written anew. It is random so
// that an index recreated after an invalidation, even at the same instant
// of a fake clock, never leads to the variants stored before it.
func newEpoch() uint64 { return rand.Uint64() }

func appendResponse(dst []byte, sr *storedResponse) []byte {
	return sr.marshal(append(dst, recResponse))
}

func appendIndex(dst []byte, idx indexRecord) []byte {
	dst = append(dst, recIndex)
	dst = binary.BigEndian.AppendUint64(dst, idx.epoch)
	return varyIndex{names: idx.names}.marshal(dst)
}

// decodeValueInto reads a stored value. Anything it cannot read is an error
// wrapping hitbox.ErrCorrupt: the caller treats it as a miss.
// A response is decoded into buf when buf is not nil (see decodeBuf).
func decodeValueInto(b []byte, buf *decodeBuf) (*storedResponse, *indexRecord, error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("httpcache: empty record: %w", hitbox.ErrCorrupt)
	}
	switch b[0] {
	case recResponse:
		sr, _, err := decodeRecordInto(b[1:], buf)
		if err == nil && sr == nil {
			err = fmt.Errorf("httpcache: index where a response was expected: %w", hitbox.ErrCorrupt)
		}
		if err != nil {
			return nil, nil, err
		}
		return sr, nil, nil
	case recIndex:
		if len(b) < 9 {
			return nil, nil, fmt.Errorf("httpcache: short index record: %w", hitbox.ErrCorrupt)
		}
		_, idx, err := decodeRecord(b[9:])
		if err == nil && (idx == nil || len(idx.names) == 0) {
			err = fmt.Errorf("httpcache: response where an index was expected: %w", hitbox.ErrCorrupt)
		}
		if err != nil {
			return nil, nil, err
		}
		return nil, &indexRecord{names: idx.names, epoch: binary.BigEndian.Uint64(b[1:9])}, nil
	}
	return nil, nil, fmt.Errorf("httpcache: unknown record kind %#x: %w", b[0], hitbox.ErrCorrupt)
}
