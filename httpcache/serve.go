package httpcache

import (
	"net/http"
	"strconv"
	"time"
)

// serveStored answers the request from a stored response (RFC 9111 §4):
// its fields as stored, a fresh Age, this cache's Cache-Status, and then a
// 304 when the client's own precondition holds (§4.3.2), a partial
// response when it asked for a range (RFC 9110 §14), else the whole.
// validated says the response was just validated or received, so fields a
// qualified no-cache names may go out too (§5.2.2.4).
func (x *exchange) serveStored(sr *storedResponse, v *view, validated bool) {
	r := x.r
	h := x.rw.Header()
	if x.hdrInRW && v == &x.v {
		// The stored fields are in h already (see lookup).
		if !validated && len(v.cc.noCacheFields) > 0 {
			for name := range h {
				if hasFold(v.cc.noCacheFields, name) {
					delete(h, name)
				}
			}
		}
	} else {
		for name, vals := range v.hdr {
			if name == "Age" {
				continue
			}
			if !validated && len(v.cc.noCacheFields) > 0 && hasFold(v.cc.noCacheFields, name) {
				continue
			}
			h[name] = vals
		}
	}
	h["Age"] = x.slot(1, x.ageValue(v.age))
	if len(v.hdr["Content-Type"]) == 0 && bodyAllowed(sr.status) {
		// Served as stored (§3.1): net/http would otherwise sniff the body
		// and add a Content-Type the origin never sent; a nil value is its
		// way of saying no.
		h["Content-Type"] = nil
	}
	if !x.cs.hasTTL {
		x.cs.ttl, x.cs.hasTTL = v.ttl(), true
	}

	if sr.status >= 200 && sr.status < 300 && preconditionsFail(r.Header, v.hdr, sr) {
		for _, f := range [...]string{"Content-Length", "Content-Type", "Content-Encoding",
			"Content-Language", "Content-Range", "Transfer-Encoding"} {
			delete(h, f)
		}
		x.finishStatus(h)
		x.rw.WriteHeader(http.StatusNotModified)
		return
	}
	if rng := r.Header["Range"]; len(rng) > 0 && r.Method == http.MethodGet && sr.status == http.StatusOK {
		ir := r.Header["If-Range"]
		if len(ir) == 0 || ifRangeAllows(ir[0], v.hdr) {
			if ranges, ok, unsat := parseRange(rng[0], int64(len(sr.body))); ok {
				status := http.StatusPartialContent
				if unsat {
					status = http.StatusRequestedRangeNotSatisfiable
				}
				x.finishStatus(h)
				serveRanges(x.rw, status, h, sr.body, ranges)
				return
			}
		}
	}
	if bodyAllowed(sr.status) {
		if cl := h["Content-Length"]; len(cl) != 1 || !isLength(cl[0], len(sr.body)) {
			h["Content-Length"] = x.slot(2, strconv.Itoa(len(sr.body)))
		}
	}
	x.finishStatus(h)
	x.rw.WriteHeader(sr.status)
	if r.Method != http.MethodHead && len(sr.body) > 0 {
		_, _ = x.rw.Write(sr.body)
	}
}

// isLength reports whether s is the decimal n, so a stored Content-Length
// that is right is sent as it is.
func isLength(s string, n int) bool {
	v, err := strconv.Atoi(s)
	return err == nil && v == n
}

// bodyAllowed reports whether a response with status has content.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// ageValue renders an age as delta-seconds, capped at 2^31 (RFC 9111 §1.2.2).
func ageValue(d time.Duration) string {
	return strconv.FormatInt(ageSeconds(d), 10)
}

// ageValue is the package's ageValue rendered into the exchange's own
// bytes the first time, so a hit allocates nothing for it.
func (x *exchange) ageValue(d time.Duration) string {
	if x.ageUsed {
		return ageValue(d)
	}
	x.ageUsed = true
	return fieldValue(strconv.AppendInt(x.ageBuf[:0], ageSeconds(d), 10))
}

// ageSeconds is an age in whole seconds, capped as ageValue says.
func ageSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if s < 0 {
		s = 0
	}
	if s > maxDelta {
		s = maxDelta
	}
	return s
}

// preconditionsFail evaluates the client's If-None-Match, or failing that
// If-Modified-Since, against a stored response (RFC 9111 §4.3.2, RFC 9110
// §13.1.2, §13.1.3): true means the answer is 304. If-None-Match uses weak
// comparison; If-Modified-Since compares with Last-Modified, or Date when
// there is none.
func preconditionsFail(req, stored http.Header, sr *storedResponse) bool {
	if inm := req["If-None-Match"]; len(inm) > 0 {
		tags := stored["Etag"]
		for _, line := range inm {
			if matchAnyWeak(line, tags) {
				return true
			}
		}
		return false
	}
	ims := req["If-Modified-Since"]
	if len(ims) == 0 {
		return false
	}
	since, ok := parseHTTPDate(ims[0])
	if !ok {
		return false
	}
	var lm time.Time
	if v := stored["Last-Modified"]; len(v) > 0 {
		lm, ok = parseHTTPDate(v[0])
	} else {
		ok = false
	}
	if !ok {
		if v := stored["Date"]; len(v) > 0 {
			lm, ok = parseHTTPDate(v[0])
		}
	}
	if !ok {
		lm = sr.responseTime
	}
	return !lm.After(since)
}

// matchAnyWeak reports whether an If-None-Match line ("*" or a list of
// entity-tags) matches a stored response with the given tags: "*" always,
// a tag by weak comparison (RFC 9110 §8.8.3.2): the opaque tags are equal,
// W/ prefixes aside.
func matchAnyWeak(line string, stored []string) bool {
	s := line
	for {
		i := skipOWS(s, 0)
		s = s[i:]
		if s == "" {
			return false
		}
		if s[0] == ',' {
			s = s[1:]
			continue
		}
		if s[0] == '*' {
			// RFC 9110 §13.1.2: "*" is false when a current representation
			// exists, ETag or not: the stored response is one.
			return true
		}
		tag, rest, ok := nextETag(s)
		if !ok {
			return false // a malformed list matches nothing
		}
		for _, st := range stored {
			if st, _, ok := nextETag(trimOWS(st)); ok && opaque(st) == opaque(tag) {
				return true
			}
		}
		s = rest
	}
}

// nextETag splits one entity-tag ([W/]"...") off the front of s.
func nextETag(s string) (tag, rest string, ok bool) {
	i := 0
	if len(s) >= 2 && s[0] == 'W' && s[1] == '/' {
		i = 2
	}
	if i >= len(s) || s[i] != '"' {
		return "", "", false
	}
	for j := i + 1; j < len(s); j++ {
		if s[j] == '"' {
			return s[:j+1], s[j+1:], true
		}
	}
	return "", "", false
}

// opaque drops a weak indicator.
func opaque(tag string) string {
	if len(tag) >= 2 && tag[0] == 'W' {
		return tag[2:]
	}
	return tag
}

// serveOnError answers an origin failure with the stale stored response
// (RFC 5861 §4, RFC 9111 §4.3.3).
func (x *exchange) serveOnError(status int, detail string) {
	x.restoreHeader()
	x.result = resStale
	x.cs.fwd = fwdStale
	x.cs.fwdStatus = status
	if detail != "" && x.cs.detail == "" {
		x.cs.detail = detail
	}
	x.serveStored(x.sr, &x.v, false)
}

// restoreHeader puts the response header back as it was before the
// handler ran, dropping what the handler set on a response that is not
// sent.
func (x *exchange) restoreHeader() {
	h := x.rw.Header()
	for k := range h {
		if _, ok := x.pre[k]; !ok {
			delete(h, k)
		}
	}
	for k, v := range x.pre {
		h[k] = v
	}
}

// isErrorStatus reports the statuses RFC 5861 §4 counts as an error that
// stale-if-error may hide: 500, 502, 503 and 504 (a reverse proxy answers
// an unreachable origin with 502).
func isErrorStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
