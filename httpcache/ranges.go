package httpcache

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
)

// maxRanges bounds the ranges of one request: more is a broken client or a
// denial-of-service attempt, which RFC 9110 §14.2 lets a server ignore.
const maxRanges = 64

// byteRange is one satisfiable byte range of a representation: length bytes
// from offset start.
type byteRange struct{ start, length int64 }

// contentRange renders r as a Content-Range value (RFC 9110 §14.4).
func (r byteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.start, 10) + "-" + strconv.FormatInt(r.start+r.length-1, 10) +
		"/" + strconv.FormatInt(size, 10)
}

// parseRange returns the satisfiable ranges of a Range header field for a
// representation of size bytes (RFC 9110 §14.1.2, §14.2). ok is false when
// the header is to be ignored and the whole representation sent with 200: a
// unit other than bytes, an invalid ranges-specifier (any invalid
// range-spec makes it so, §14.1.1), too many ranges, ranges that overlap so
// much that they ask for more than the whole, or an empty representation.
// unsatisfiable is true (with ok) when the specifier is valid but no range
// in it is satisfiable: the answer is 416. Numbers too large for an int64
// are read as "very large" rather than as an error (§14.1.2).
func parseRange(header string, size int64) (ranges []byteRange, ok bool, unsatisfiable bool) {
	unit, set, found := strings.Cut(trimOWS(header), "=")
	if !found || !eqFold(trimOWS(unit), "bytes") || size <= 0 {
		return nil, false, false
	}
	n, sum := 0, int64(0)
	for set != "" {
		var spec string
		spec, set, _ = strings.Cut(set, ",")
		spec = trimOWS(spec)
		if spec == "" {
			continue // empty list elements are allowed (RFC 9110 §5.6.1)
		}
		if n++; n > maxRanges {
			return nil, false, false
		}
		first, last, dash := strings.Cut(spec, "-")
		if !dash {
			return nil, false, false
		}
		if first == "" {
			// suffix-range: the last N bytes.
			suffix, valid := parseRangeInt(last)
			if !valid {
				return nil, false, false
			}
			if suffix == 0 {
				continue // unsatisfiable
			}
			suffix = min(suffix, size)
			ranges = append(ranges, byteRange{start: size - suffix, length: suffix})
			sum += suffix
			continue
		}
		start, valid := parseRangeInt(first)
		if !valid {
			return nil, false, false
		}
		end := size - 1
		if last != "" {
			e, valid := parseRangeInt(last)
			if !valid || e < start {
				return nil, false, false // §14.1.1: last-pos < first-pos is invalid
			}
			end = min(e, size-1)
		}
		if start >= size {
			continue // unsatisfiable
		}
		ranges = append(ranges, byteRange{start: start, length: end - start + 1})
		sum += end - start + 1
	}
	if n == 0 {
		return nil, false, false // "bytes=" alone: range-set needs a member
	}
	if len(ranges) == 0 {
		return nil, true, true
	}
	if len(ranges) > 1 && sum > size {
		// Overlapping ranges asking for more than the whole: send the whole.
		return nil, false, false
	}
	return ranges, true, false
}

// parseRangeInt parses 1*DIGIT; a value beyond int64 saturates.
func parseRangeInt(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	const limit = 1 << 62
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > limit/10 {
			n = limit // saturated; keep checking the digits
			continue
		}
		n = n*10 + int64(c-'0')
	}
	return min(n, limit), true
}

// ifRangeAllows evaluates an If-Range condition against a stored response
// (RFC 9110 §13.1.5): an entity-tag must match the stored ETag by strong
// comparison (§8.8.3.2); an HTTP-date must equal the stored Last-Modified
// exactly and that Last-Modified must be strong, which for a cache means
// the stored Date is at least one second later (§8.8.2.2). Anything else,
// an unparseable value included, is false: the Range is ignored.
func ifRangeAllows(ifRange string, stored http.Header) bool {
	v := trimOWS(ifRange)
	if v == "" {
		return false
	}
	if len(v) >= 3 && strings.IndexByte(v[:3], '"') >= 0 {
		// An entity-tag. A weak one never matches strongly.
		etag := trimOWS(stored.Get("ETag"))
		return strongETag(v) && strongETag(etag) && v == etag
	}
	t, ok := parseHTTPDate(v)
	if !ok {
		return false
	}
	lm, ok := parseHTTPDate(stored.Get("Last-Modified"))
	if !ok || !lm.Equal(t) {
		return false
	}
	date, ok := parseHTTPDate(stored.Get("Date"))
	return ok && date.Sub(lm) >= 1e9
}

// strongETag reports whether s is a strong entity-tag: DQUOTE *etagc DQUOTE
// (RFC 9110 §8.8.3).
func strongETag(s string) bool {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; c == '"' || c < 0x21 || c == 0x7f {
			return false
		}
	}
	return true
}

// serveRanges writes a partial response made from a stored complete one:
// for status 206, a single range with Content-Range, several as
// multipart/byteranges (RFC 9110 §14.6), each part with the stored
// Content-Type and its own Content-Range; for status 416, an empty body
// with Content-Range "bytes */size" (§14.4). hdr holds the stored fields to
// send (it may be w.Header() itself); the fields describing the whole
// content are replaced.
func serveRanges(w http.ResponseWriter, status int, hdr http.Header, body []byte, ranges []byteRange) {
	h := w.Header()
	for k, v := range hdr {
		h[k] = v
	}
	size := int64(len(body))
	h.Del("Content-Range")
	if status != http.StatusPartialContent || len(ranges) == 0 {
		h.Del("Content-Type")
		h.Del("Content-Encoding")
		h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return
	}
	for _, r := range ranges {
		if r.start < 0 || r.length <= 0 || r.start+r.length > size {
			// Not from parseRange for this body: refuse rather than panic.
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			h.Set("Content-Length", "0")
			h.Del("Content-Type")
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
	}
	if len(ranges) == 1 {
		r := ranges[0]
		h.Set("Content-Range", r.contentRange(size))
		h.Set("Content-Length", strconv.FormatInt(r.length, 10))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(body[r.start : r.start+r.length])
		return
	}
	ctype := h.Get("Content-Type")
	boundary := newBoundary()
	parts := make([]string, len(ranges))
	total := int64(0)
	for i, r := range ranges {
		var b strings.Builder
		b.WriteString("\r\n--")
		b.WriteString(boundary)
		if ctype != "" {
			b.WriteString("\r\nContent-Type: ")
			b.WriteString(ctype)
		}
		b.WriteString("\r\nContent-Range: ")
		b.WriteString(r.contentRange(size))
		b.WriteString("\r\n\r\n")
		parts[i] = b.String()
		total += int64(len(parts[i])) + r.length
	}
	closing := "\r\n--" + boundary + "--\r\n"
	total += int64(len(closing))
	h.Set("Content-Type", "multipart/byteranges; boundary="+boundary)
	h.Set("Content-Length", strconv.FormatInt(total, 10))
	w.WriteHeader(http.StatusPartialContent)
	for i, r := range ranges {
		_, _ = w.Write([]byte(parts[i]))
		_, _ = w.Write(body[r.start : r.start+r.length])
	}
	_, _ = w.Write([]byte(closing))
}

// newBoundary returns a random multipart boundary (letters and digits only,
// so it needs no quoting).
func newBoundary() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 32)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}
