package httpcache

import (
	"net/http"
	"strconv"
	"strings"
)

// Partial content (RFC 9111 §3.3, §3.4). A 206 with one byte range of a
// representation whose length it states is stored like a complete
// response, status and Content-Range included, where a complete one
// would go; it never replaces a complete one. A later request for a
// range inside the stored part is answered from it while it is fresh;
// any other request goes to the handler as a miss (Cache-Status
// fwd=partial), and what comes back replaces it. A new part of the same
// representation (the same strong validator, §3.4) that touches or
// overlaps the stored one is combined with it, into a complete 200 once
// the parts cover the whole.

// fwdPartial is Cache-Status's fwd for a stored part that cannot answer
// the request (RFC 9211 §2.2).
const fwdPartial = "partial"

// whyPartial is the reason a 206 is not stored.
const whyPartial = "partial"

// contentRange reads a Content-Range value that stores: "bytes
// first-last/complete" with first <= last < complete (RFC 9110 §14.4).
func contentRange(v string) (r byteRange, complete int64, ok bool) {
	unit, rest, found := strings.Cut(trimOWS(v), " ")
	if !found || !eqFold(unit, "bytes") {
		return byteRange{}, 0, false
	}
	span, size, found := strings.Cut(trimOWS(rest), "/")
	if !found {
		return byteRange{}, 0, false
	}
	first, last, found := strings.Cut(span, "-")
	if !found {
		return byteRange{}, 0, false
	}
	f, ok1 := parseRangeInt(first)
	l, ok2 := parseRangeInt(last)
	n, ok3 := parseRangeInt(size)
	if !ok1 || !ok2 || !ok3 || f > l || l >= n {
		return byteRange{}, 0, false
	}
	return byteRange{start: f, length: l - f + 1}, n, true
}

// partOf returns the range a stored 206 holds, from its fields.
func partOf(sr *storedResponse) (r byteRange, complete int64, ok bool) {
	v, found := fieldOf(sr.fields, "Content-Range")
	if !found {
		return byteRange{}, 0, false
	}
	return contentRange(v)
}

// fieldOf returns the first value of a stored field.
func fieldOf(fields []field, name string) (string, bool) {
	for _, f := range fields {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}

// partialStorable reports why a 206 to r may not be stored, or "": it
// must answer a GET with Range, hold one range (no multipart) of a
// representation of known length, and not displace a complete stored
// response, which answers ranges itself.
func (x *exchange) partialStorable(h http.Header) string {
	if len(x.r.Header["Range"]) == 0 || x.sr != nil && x.sr.status != http.StatusPartialContent {
		return whyPartial
	}
	cr := h["Content-Range"]
	if len(cr) != 1 {
		return whyPartial
	}
	if _, _, ok := contentRange(cr[0]); !ok {
		return whyPartial
	}
	return ""
}

// answerFromPart answers the request from a stored part when it can: a
// GET for one range inside the part, without preconditions, while the
// part is fresh and the request's directives allow it. Otherwise the
// request goes on as a miss, without the part's validators (a 304 would
// confirm only the part). It reports whether it answered.
func (x *exchange) answerFromPart() bool {
	r, v := x.r, &x.v
	part, size, ok := partOf(x.sr)
	if ok && r.Method == http.MethodGet && len(r.Header["Range"]) == 1 && v.fresh() &&
		!x.noCacheReq && !v.cc.noCache && len(v.cc.noCacheFields) == 0 &&
		!(x.req.maxAge >= 0 && v.age > seconds(x.req.maxAge)) &&
		!(x.req.minFresh >= 0 && v.lifetime-v.age < seconds(x.req.minFresh)) &&
		int64(len(x.sr.body)) == part.length {
		for _, f := range [...]string{"If-Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since"} {
			if len(r.Header[f]) > 0 {
				ok = false
			}
		}
		if ok {
			if ranges, valid, unsat := parseRange(r.Header["Range"][0], size); valid && !unsat && len(ranges) == 1 &&
				ranges[0].start >= part.start && ranges[0].start+ranges[0].length <= part.start+part.length {
				x.servePart(ranges[0], part, size)
				return true
			}
		}
	}
	x.part, x.sr = x.sr, nil
	x.ownHeader()
	x.cs.fwd = fwdPartial
	return false
}

// servePart writes the range want of the representation from the stored
// part, which holds the range part of size bytes.
func (x *exchange) servePart(want, part byteRange, size int64) {
	sr, v := x.sr, &x.v
	h := x.rw.Header()
	if !x.hdrInRW {
		for name, vals := range v.hdr {
			h[name] = vals
		}
	}
	x.result = resHit
	x.cs.hit = true
	x.cs.ttl, x.cs.hasTTL = v.ttl(), true
	h["Age"] = []string{ageValue(v.age)}
	if len(v.hdr["Content-Type"]) == 0 {
		h["Content-Type"] = nil // as stored (see serveStored)
	}
	h["Content-Range"] = []string{want.contentRange(size)}
	h["Content-Length"] = []string{strconv.FormatInt(want.length, 10)}
	x.finishStatus(h)
	x.rw.WriteHeader(http.StatusPartialContent)
	off := want.start - part.start
	_, _ = x.rw.Write(sr.body[off : off+want.length])
}

// combinePart returns what to store for a new 206: nil when its body is
// not the range it states; combined with the stored part when both are
// parts of the same representation (one strong validator, one length,
// §3.4) and they touch or overlap, and then a complete 200 when they
// cover it all; else the new part alone.
func (x *exchange) combinePart(sr *storedResponse) *storedResponse {
	part, size, ok := partOf(sr)
	if !ok || int64(len(sr.body)) != part.length {
		return nil
	}
	old := x.part
	if old == nil || !sameStrongValidator(old.fields, sr.fields) {
		return completed(sr, part, size)
	}
	oldPart, oldSize, ok := partOf(old)
	if !ok || oldSize != size || int64(len(old.body)) != oldPart.length ||
		oldPart.start > part.start+part.length || part.start > oldPart.start+oldPart.length {
		return completed(sr, part, size)
	}
	start := min(oldPart.start, part.start)
	end := max(oldPart.start+oldPart.length, part.start+part.length)
	body := make([]byte, end-start)
	copy(body[oldPart.start-start:], old.body)
	copy(body[part.start-start:], sr.body) // the new bytes win where they overlap
	merged := *sr
	merged.body = body
	merged.fields = setField(merged.fields, "Content-Range", byteRange{start: start, length: end - start}.contentRange(size))
	merged.fields = setField(merged.fields, "Content-Length", strconv.FormatInt(end-start, 10))
	return completed(&merged, byteRange{start: start, length: end - start}, size)
}

// completed turns a part that covers its whole representation into the
// complete 200 it is.
func completed(sr *storedResponse, part byteRange, size int64) *storedResponse {
	if part.start != 0 || part.length != size {
		return sr
	}
	whole := *sr
	whole.status = http.StatusOK
	whole.fields = make([]field, 0, len(sr.fields))
	for _, f := range sr.fields {
		if f.name != "Content-Range" {
			whole.fields = append(whole.fields, f)
		}
	}
	whole.fields = setField(whole.fields, "Content-Length", strconv.FormatInt(size, 10))
	return &whole
}

// setField returns fields with name's value replaced (or added), in a
// slice of its own.
func setField(fields []field, name, value string) []field {
	out := make([]field, 0, len(fields)+1)
	for _, f := range fields {
		if f.name != name {
			out = append(out, f)
		}
	}
	return insertField(out, field{name: name, value: value})
}

// sameStrongValidator reports whether two responses share a strong
// validator (RFC 9110 §8.8.1): the same strong entity-tag, or, neither
// having one, the same Last-Modified that each Date makes strong
// (§8.8.2.2).
func sameStrongValidator(a, b []field) bool {
	ea, okA := fieldOf(a, "Etag")
	eb, okB := fieldOf(b, "Etag")
	if okA || okB {
		return okA && okB && strongETag(trimOWS(ea)) && trimOWS(ea) == trimOWS(eb)
	}
	la, okA := fieldOf(a, "Last-Modified")
	lb, okB := fieldOf(b, "Last-Modified")
	if !okA || !okB || la != lb {
		return false
	}
	return strongDate(a, la) && strongDate(b, lb)
}

// strongDate reports whether a Last-Modified is strong: the response's
// Date is at least a second later.
func strongDate(fields []field, lm string) bool {
	t, ok := parseHTTPDate(lm)
	if !ok {
		return false
	}
	d, found := fieldOf(fields, "Date")
	if !found {
		return false
	}
	date, ok := parseHTTPDate(d)
	return ok && date.Sub(t) >= 1e9
}
