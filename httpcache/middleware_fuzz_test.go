package httpcache

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzMiddleware runs arbitrary origin responses and request fields
// through the cache, twice and after some time: nothing may panic, and
// whatever the cache answers itself is a well-formed response.
func FuzzMiddleware(f *testing.F) {
	f.Add(200, "Cache-Control: max-age=60\nETag: \"a\"", "Range: bytes=0-1", uint16(30), "body")
	f.Add(304, "Vary: *", "If-None-Match: *", uint16(1), "")
	f.Add(206, "CDN-Cache-Control: max-age=5, no-store\nContent-Range: bytes 0-1/2", "Cache-Control: only-if-cached", uint16(5), "xx")
	f.Add(200, "Vary: Accept, Cookie\nExpires: 0\nAge: 99999999999", "Accept: a/b;q=0.5, */*\nCookie: x", uint16(2), "z")
	f.Add(500, "Cache-Control: stale-if-error=60, max-age=1", "Cache-Control: max-stale, min-fresh=x", uint16(200), "e")
	f.Fuzz(func(t *testing.T, status int, respFields, reqFields string, after uint16, body string) {
		if status < 200 || status > 599 {
			status = 200
		}
		h := newHarness(t, Options{})
		h.origin.fn = func(w http.ResponseWriter, r *http.Request) {
			for _, line := range strings.Split(respFields, "\n") {
				name, value, ok := strings.Cut(line, ":")
				if ok && validFieldName(name) {
					w.Header().Add(name, strings.TrimSpace(value))
				}
			}
			w.Header().Del("Content-Length")
			w.WriteHeader(status)
			if r.Method != http.MethodHead {
				_, _ = w.Write([]byte(body))
			}
		}
		var fields []string
		for _, line := range strings.Split(reqFields, "\n") {
			if name, _, ok := strings.Cut(line, ":"); ok && validFieldName(name) {
				fields = append(fields, line)
			}
		}
		for i, method := range []string{"GET", "GET", "HEAD", "POST", "GET"} {
			rec := h.do(method, "/r", fields...)
			if rec.Code < 100 || rec.Code > 599 {
				t.Fatalf("request %d: status %d", i, rec.Code)
			}
			if cl := rec.Header().Get("Content-Length"); cl != "" && method == "GET" && rec.Code == 200 && isHit(rec) {
				if n, err := strconv.Atoi(cl); err != nil || n != rec.Body.Len() {
					t.Fatalf("request %d: Content-Length %q for %d bytes", i, cl, rec.Body.Len())
				}
			}
			h.clock.Advance(time.Duration(after) * time.Second)
		}
		_ = h.cache.Close()
	})
}

func validFieldName(s string) bool {
	return isToken(s)
}
