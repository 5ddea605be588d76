package httpcache

import (
	"net/http"
	"time"
)

// parseHTTPDate parses an HTTP-date (RFC 9110 §5.6.7).
func parseHTTPDate(s string) (time.Time, bool) {
	t, err := http.ParseTime(s)
	return t, err == nil
}

// parseAge parses the Age field (RFC 9111 §5.1).
func parseAge(lines []string) (int64, bool) { return 0, false }

// parseExpires parses the Expires field (RFC 9111 §5.3).
func parseExpires(lines []string) (t time.Time, present bool, valid bool) {
	return time.Time{}, false, false
}
