package httpcache

import (
	"net/http"
	"time"

	"github.com/hitbox-go/hitbox"
)

// field is one header field line as received.
type field struct{ name, value string }

// storedResponse is one stored response.
type storedResponse struct {
	status                    int
	fields                    []field
	body                      []byte
	requestTime, responseTime time.Time
	varyNames                 []string
	varyValues                []string
	variantOf                 string
}

func (s *storedResponse) marshal(dst []byte) []byte { return dst }

func unmarshalStored(b []byte) (*storedResponse, error) { return nil, hitbox.ErrCorrupt }

func (s *storedResponse) header() http.Header {
	h := make(http.Header, len(s.fields))
	for _, f := range s.fields {
		h[f.name] = append(h[f.name], f.value)
	}
	return h
}

// varyIndex is the record stored at a primary key whose responses vary.
type varyIndex struct{ names []string }

func (v varyIndex) marshal(dst []byte) []byte { return dst }

// decodeRecord decodes a stored record.
func decodeRecord(b []byte) (resp *storedResponse, idx *varyIndex, err error) {
	return nil, nil, hitbox.ErrCorrupt
}
