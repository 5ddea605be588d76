package httpcache

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/http"
	"time"
	"unsafe"

	"github.com/hitbox-go/hitbox"
)

// The stored form of a record (one hitbox.Entry Value):
//
//	magic "hbH" | version 1 | kind ('R' response, 'V' vary index)
//	| uvarint len(meta) | meta | body (responses only) | CRC-32C of all before it (4 bytes, little-endian)
//
// meta of a response: uvarint status, varint request time (Unix seconds),
// uvarint nanoseconds, the same for the response time, uvarint field count
// and each field as two strings, uvarint Vary name count and the names,
// uvarint Vary value count and the values, the variantOf string, uvarint
// body length. meta of a vary index: uvarint name count and the names.
// A string is a uvarint length and its bytes.
//
// The whole of meta is converted to one string when decoding, so every
// string of a record shares it, and the body aliases the input: decoding a
// response costs a handful of allocations whatever its header count. The
// checksum turns a damaged value into a miss, not a wrong answer.
const (
	storedMagic   = "hbH"
	storedVersion = 1
	kindResponse  = 'R'
	kindVaryIndex = 'V'

	// Hard caps on counts, far above what a sane response carries; lengths
	// are checked against the remaining input besides.
	maxStoredFields = 1 << 12
	maxStoredVary   = 1 << 8
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Decoding errors; each wraps hitbox.ErrCorrupt, so a damaged value is
// counted and dropped as a miss.
var (
	errTruncated = fmt.Errorf("httpcache: stored record truncated: %w", hitbox.ErrCorrupt)
	errMagic     = fmt.Errorf("httpcache: not a stored record: %w", hitbox.ErrCorrupt)
	errVersion   = fmt.Errorf("httpcache: unknown stored record version: %w", hitbox.ErrCorrupt)
	errChecksum  = fmt.Errorf("httpcache: stored record checksum mismatch: %w", hitbox.ErrCorrupt)
	errCount     = fmt.Errorf("httpcache: stored record count out of range: %w", hitbox.ErrCorrupt)
	errTrailing  = fmt.Errorf("httpcache: stored record has trailing bytes: %w", hitbox.ErrCorrupt)
	errStatus    = fmt.Errorf("httpcache: stored record status out of range: %w", hitbox.ErrCorrupt)
	errKind      = fmt.Errorf("httpcache: stored record of another kind: %w", hitbox.ErrCorrupt)
)

// field is one header field line as received.
type field struct{ name, value string }

// storedResponse is one stored response: what a later request is answered
// from.
type storedResponse struct {
	status                    int
	fields                    []field // as received minus hop-by-hop and Connection-named ones
	body                      []byte  // after unmarshalStored, aliases the decoded input: never modify it
	requestTime, responseTime time.Time
	varyNames                 []string // the response's Vary names (parseVary)
	varyValues                []string // the request values they selected (varyValues)
	variantOf                 string   // the middleware's own use
}

// marshal appends the stored form of s to dst and returns the extended
// slice.
func (s *storedResponse) marshal(dst []byte) []byte {
	meta := 0
	meta += uvarintLen(uint64(s.status))
	meta += timeLen(s.requestTime) + timeLen(s.responseTime)
	meta += uvarintLen(uint64(len(s.fields)))
	for _, f := range s.fields {
		meta += stringLen(f.name) + stringLen(f.value)
	}
	meta += stringsLen(s.varyNames) + stringsLen(s.varyValues)
	meta += stringLen(s.variantOf)
	meta += uvarintLen(uint64(len(s.body)))

	start := len(dst)
	dst = growBytes(dst, len(storedMagic)+2+uvarintLen(uint64(meta))+meta+len(s.body)+4)
	dst = append(dst, storedMagic...)
	dst = append(dst, storedVersion, kindResponse)
	dst = binary.AppendUvarint(dst, uint64(meta))
	dst = binary.AppendUvarint(dst, uint64(s.status))
	dst = appendTime(dst, s.requestTime)
	dst = appendTime(dst, s.responseTime)
	dst = binary.AppendUvarint(dst, uint64(len(s.fields)))
	for _, f := range s.fields {
		dst = appendString(dst, f.name)
		dst = appendString(dst, f.value)
	}
	dst = appendStrings(dst, s.varyNames)
	dst = appendStrings(dst, s.varyValues)
	dst = appendString(dst, s.variantOf)
	dst = binary.AppendUvarint(dst, uint64(len(s.body)))
	dst = append(dst, s.body...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable))
}

// unmarshalStored decodes a stored response. Damaged, truncated or foreign
// input gives an error wrapping hitbox.ErrCorrupt, never a panic; a vary
// index record gives one too. The result's body aliases b.
func unmarshalStored(b []byte) (*storedResponse, error) {
	kind, meta, rest, err := openRecord(b, false)
	if err != nil {
		return nil, err
	}
	if kind != kindResponse {
		return nil, errKind
	}
	return decodeResponse(meta, rest)
}

// openRecord checks the envelope and returns the kind, meta as one string,
// and what follows meta (before the checksum). With alias, meta shares b's
// bytes instead of being a copy: for a value read from a Backend, which
// the caller must not modify and which the body aliases already, so the
// hit path decodes without allocating.
func openRecord(b []byte, alias bool) (kind byte, meta string, rest []byte, err error) {
	if len(b) < len(storedMagic)+2+1+4 {
		return 0, "", nil, errTruncated
	}
	if string(b[:len(storedMagic)]) != storedMagic {
		return 0, "", nil, errMagic
	}
	if b[len(storedMagic)] != storedVersion {
		return 0, "", nil, errVersion
	}
	payload, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(payload, crcTable) != sum {
		return 0, "", nil, errChecksum
	}
	kind = b[len(storedMagic)+1]
	p := payload[len(storedMagic)+2:]
	n, w := binary.Uvarint(p)
	if w <= 0 || n > uint64(len(p)-w) {
		return 0, "", nil, errTruncated
	}
	p = p[w:]
	if alias && n > 0 {
		return kind, unsafe.String(&p[0], int(n)), p[n:], nil
	}
	return kind, string(p[:n]), p[n:], nil
}

func decodeResponse(meta string, rest []byte) (*storedResponse, error) {
	return decodeResponseInto(&storedResponse{}, nil, meta, rest)
}

// decodeResponseInto is decodeResponse writing into s, and into fieldBuf
// when the fields fit: the hit path decodes into buffers of its own
// rather than allocating.
func decodeResponseInto(s *storedResponse, fieldBuf []field, meta string, rest []byte) (*storedResponse, error) {
	d := decoder{s: meta}
	status := d.uvarint()
	if d.err == nil && (status < 100 || status > 999) {
		return nil, errStatus
	}
	s.status = int(status)
	s.requestTime = d.time()
	s.responseTime = d.time()
	// Every field takes at least two bytes (two empty strings): a count
	// larger than half of what is left is a lie, refused before allocating.
	if n := d.count(maxStoredFields, 2); n > 0 {
		if n <= cap(fieldBuf) {
			s.fields = fieldBuf[:n:n]
		} else {
			s.fields = make([]field, n)
		}
		for i := range s.fields {
			s.fields[i] = field{name: d.string(), value: d.string()}
		}
	}
	s.varyNames = d.strings()
	s.varyValues = d.strings()
	s.variantOf = d.string()
	bodyLen := d.uvarint()
	if d.err != nil {
		return nil, d.err
	}
	if d.s != "" {
		return nil, errTrailing
	}
	if bodyLen != uint64(len(rest)) {
		if bodyLen > uint64(len(rest)) {
			return nil, errTruncated
		}
		return nil, errTrailing
	}
	if len(rest) > 0 {
		s.body = rest[:len(rest):len(rest)]
	}
	return s, nil
}

// header returns the stored fields as an http.Header: names as stored,
// the order of each name's lines kept.
func (s *storedResponse) header() http.Header { return s.headerIn(nil) }

// headerIn is header using vals, when it is large enough, as the backing
// array of the field values.
func (s *storedResponse) headerIn(vals []string) http.Header {
	return s.fillHeader(make(http.Header, len(s.fields)), vals)
}

// fillHeader adds the fields to h, an empty map, as headerIn does.
func (s *storedResponse) fillHeader(h http.Header, vals []string) http.Header {
	// One backing array for the common case of one line per name.
	if cap(vals) >= len(s.fields) {
		vals = vals[:len(s.fields)]
	} else {
		vals = make([]string, len(s.fields))
	}
	for i, f := range s.fields {
		if v, ok := h[f.name]; ok {
			h[f.name] = append(v, f.value)
			continue
		}
		vals[i] = f.value
		h[f.name] = vals[i : i+1 : i+1]
	}
	return h
}

// varyIndex is the record stored at a primary key whose responses vary: the
// Vary names, so a lookup knows which request fields select the variant.
type varyIndex struct{ names []string }

// marshal appends the stored form of v to dst.
// decodeBuf holds one decoded response and room for its fields and header
// values, so reading a typical stored response allocates little. It lives
// in the request's exchange; what is decoded into it stays valid as long
// as anything refers to it.
type decodeBuf struct {
	sr     storedResponse
	fields [decodeBufFields]field
	vals   [decodeBufFields]string
}

// decodeBufFields covers the header fields of most responses.
const decodeBufFields = 12

func (v varyIndex) marshal(dst []byte) []byte {
	meta := stringsLen(v.names)
	start := len(dst)
	dst = growBytes(dst, len(storedMagic)+2+uvarintLen(uint64(meta))+meta+4)
	dst = append(dst, storedMagic...)
	dst = append(dst, storedVersion, kindVaryIndex)
	dst = binary.AppendUvarint(dst, uint64(meta))
	dst = appendStrings(dst, v.names)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], crcTable))
}

// decodeRecord decodes either kind of record: exactly one of resp and idx is
// non-nil when err is nil. Errors wrap hitbox.ErrCorrupt.
func decodeRecord(b []byte) (resp *storedResponse, idx *varyIndex, err error) {
	return decodeRecordInto(b, nil)
}

// decodeRecordInto is decodeRecord decoding a response into buf's
// buffers when buf is not nil.
//
// With buf, the record's strings alias b as its body does (see
// openRecord): b must not change while anything decoded from it is in
// use, which holds for a value a Backend returned.
func decodeRecordInto(b []byte, buf *decodeBuf) (resp *storedResponse, idx *varyIndex, err error) {
	kind, meta, rest, err := openRecord(b, buf != nil)
	if err != nil {
		return nil, nil, err
	}
	switch kind {
	case kindResponse:
		if buf != nil {
			resp, err = decodeResponseInto(&buf.sr, buf.fields[:0], meta, rest)
		} else {
			resp, err = decodeResponse(meta, rest)
		}
		return resp, nil, err
	case kindVaryIndex:
		if len(rest) != 0 {
			return nil, nil, errTrailing
		}
		d := decoder{s: meta}
		names := d.strings()
		if d.err != nil {
			return nil, nil, d.err
		}
		if d.s != "" {
			return nil, nil, errTrailing
		}
		return nil, &varyIndex{names: names}, nil
	}
	return nil, nil, errKind
}

// decoder reads meta; the first error sticks and later reads return zero
// values, so callers check once.
type decoder struct {
	s   string
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	var shift uint
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break // overflow
			}
			d.s = d.s[i+1:]
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.err = errTruncated
	return 0
}

func (d *decoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 {
		d.err = errCount
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)) {
		d.err = errTruncated
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}

// count reads a count of items each at least minSize bytes long, refusing
// one above limit or larger than the remaining input could hold.
func (d *decoder) count(limit int, minSize int) int {
	n := d.uvarint()
	if d.err != nil {
		return 0
	}
	if n > uint64(limit) || n*uint64(minSize) > uint64(len(d.s)) {
		d.err = errCount
		return 0
	}
	return int(n)
}

func (d *decoder) strings() []string {
	n := d.count(maxStoredVary, 1)
	if n == 0 {
		return nil
	}
	v := make([]string, n)
	for i := range v {
		v[i] = d.string()
	}
	return v
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendStrings(dst []byte, v []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	for _, s := range v {
		dst = appendString(dst, s)
	}
	return dst
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func varintLen(x int64) int {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
}

func stringLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func stringsLen(v []string) int {
	n := uvarintLen(uint64(len(v)))
	for _, s := range v {
		n += stringLen(s)
	}
	return n
}

func timeLen(t time.Time) int {
	return varintLen(t.Unix()) + uvarintLen(uint64(t.Nanosecond()))
}

// growBytes makes room for n more bytes in one allocation.
func growBytes(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		return nb
	}
	return b
}
