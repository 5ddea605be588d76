package httpcache

import "net/http"

// byteRange is one satisfiable byte range of a representation.
type byteRange struct{ start, length int64 }

// parseRange parses a Range header field (RFC 9110 §14.2).
func parseRange(header string, size int64) (ranges []byteRange, ok bool, unsatisfiable bool) {
	return nil, false, false
}

// ifRangeAllows implements RFC 9110 §13.1.5.
func ifRangeAllows(ifRange string, stored http.Header) bool { return false }

// serveRanges writes a 206 or a 416 from a stored complete response.
func serveRanges(w http.ResponseWriter, status int, hdr http.Header, body []byte, ranges []byteRange) {
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
