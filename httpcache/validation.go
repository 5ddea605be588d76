package httpcache

import (
	"context"
	"net/http"
	"strconv"
)

// validationRequest returns the request to forward when a stored response
// exists but cannot be used: the client's own preconditions and range are
// replaced by the stored response's validators (RFC 9111 §4.3.1), so the
// answer is either a 304 for what is stored or a full response to store.
func (x *exchange) validationRequest(ctx context.Context) *http.Request {
	r2 := x.r.Clone(ctx)
	h := r2.Header
	for _, f := range [...]string{"If-None-Match", "If-Modified-Since", "If-Range", "Range",
		"If-Match", "If-Unmodified-Since"} {
		delete(h, f)
	}
	if addValidators(h, x.v.hdr) {
		x.validating = true
	}
	return r2
}

// addValidators puts a stored response's validators on a request.
func addValidators(req, stored http.Header) bool {
	ok := false
	if tags := stored["Etag"]; len(tags) > 0 {
		req["If-None-Match"] = append([]string(nil), tags...)
		ok = true
	}
	if lm := stored["Last-Modified"]; len(lm) > 0 {
		req["If-Modified-Since"] = []string{lm[0]}
		ok = true
	}
	return ok
}

// notModified handles a 304 answering the cache's validation (RFC 9111
// §4.3.3, §4.3.4): the stored response's fields are updated, it is stored
// again and it answers the request.
func (x *exchange) notModified() {
	c := x.c
	upd := x.rw.Header().Clone()
	x.restoreHeader()
	if !validatorsMatch(upd, x.v.hdr) {
		// §4.3.4: a 304 whose strong validator names another
		// representation updates nothing. Ask again without validators.
		x.validating, x.fallback = false, false
		r2 := x.r.Clone(x.r.Context())
		for _, f := range [...]string{"If-None-Match", "If-Modified-Since", "If-Range", "Range"} {
			delete(r2.Header, f)
		}
		x.w = writer{x: x, rw: x.rw}
		x.forwardTo(r2)
		return
	}
	nsr := x.updated(upd)
	now := c.opts.Now()
	v := c.viewOf(nsr, now)
	x.cs.fwdStatus = http.StatusNotModified
	x.result = resRevalidated
	// A Set-Cookie in the 304 is for this client: it goes out with the
	// response, but unless StoreSetCookie the stored response is freshened
	// without it (§3.2, §4.3.4) rather than dropped.
	ssr, sv := nsr, &v
	if !c.opts.StoreSetCookie && len(upd["Set-Cookie"]) > 0 {
		delete(upd, "Set-Cookie")
		ssr = x.updated(upd)
		v2 := c.viewOf(ssr, now)
		sv = &v2
	}
	cc, targeted := c.directivesOf(sv.hdr)
	switch why := c.storable(getOf(x.r), &x.req, ssr.status, sv.hdr, &cc, targeted); why {
	case "":
		if x.store(ssr, sv, now) {
			x.cs.stored = true
		}
		if x.raced {
			x.release(nil, 0)
		} else {
			x.release(ssr, http.StatusNotModified)
		}
	case whyRequest:
		x.release(nil, 0)
	default:
		// The update made the response one that may not be stored.
		_ = c.b.Delete(context.WithoutCancel(x.r.Context()), x.lookupKey)
		x.release(nil, 0)
	}
	x.serveStored(nsr, &v, true)
}

// updated returns the selected stored response with its header fields
// updated from upd, a 304 or HEAD response received at x.respTime for a
// request sent at x.reqTime (RFC 9111 §3.2).
func (x *exchange) updated(upd http.Header) *storedResponse {
	sr := x.sr
	return &storedResponse{
		status:       sr.status,
		fields:       x.c.updatedFields(sr.fields, upd, x.pre, x.respTime),
		body:         sr.body,
		requestTime:  x.reqTime,
		responseTime: x.respTime,
		varyNames:    sr.varyNames,
		varyValues:   sr.varyValues,
	}
}

// validatorsMatch reports whether a 304 identifies the stored response for
// update (RFC 9111 §4.3.4; there is one stored response per key): an ETag
// in the 304 must be one the stored response has (a weak one compared
// weakly); without an ETag, a Last-Modified must be the stored one (RFC
// 9110 §8.8.2: Last-Modified is a validator, weak or strong). A 304 with no validator at all updates: it answers the
// validators this cache sent, and an origin need not repeat Last-Modified
// (RFC 9110 §15.4.5).
func validatorsMatch(upd, stored http.Header) bool {
	if tags := upd["Etag"]; len(tags) > 0 {
		tag := trimOWS(tags[0])
		weak := len(tag) >= 2 && tag[0] == 'W' && tag[1] == '/'
		for _, s := range stored["Etag"] {
			s = trimOWS(s)
			if s == tag || weak && opaque(s) == opaque(tag) {
				return true
			}
		}
		return false // it names another representation
	}
	if lm := upd["Last-Modified"]; len(lm) > 0 {
		old := stored["Last-Modified"]
		if len(old) == 0 {
			return false
		}
		if lm[0] == old[0] {
			return true
		}
		t1, ok1 := parseHTTPDate(lm[0])
		t2, ok2 := parseHTTPDate(old[0])
		return ok1 && ok2 && t1.Equal(t2)
	}
	return true
}

// freshenWithHead updates or invalidates the stored GET response from a
// HEAD response (RFC 9111 §4.3.5).
func (x *exchange) freshenWithHead() {
	c := x.c
	h := x.rw.Header()
	stored := x.v.hdr
	match := true
	for _, f := range [...]string{"Etag", "Last-Modified"} {
		if got := h[f]; len(got) > 0 && !equalLines(got, stored[f]) {
			match = false
		}
	}
	if cl := h["Content-Length"]; len(cl) > 0 && cl[0] != strconv.Itoa(len(x.sr.body)) {
		match = false
	}
	ctx := context.WithoutCancel(x.r.Context())
	if !match {
		_ = c.b.Delete(ctx, x.lookupKey) // "consider the stored response to be stale"
		return
	}
	upd := h.Clone()
	delete(upd, "Cache-Status")
	nsr := x.updated(upd)
	now := c.opts.Now()
	v := c.viewOf(nsr, now)
	cc, targeted := c.directivesOf(v.hdr)
	if c.storable(getOf(x.r), &x.req, nsr.status, v.hdr, &cc, targeted) != "" {
		_ = c.b.Delete(ctx, x.lookupKey)
		return
	}
	x.store(nsr, &v, now)
}

// getOf returns r as a GET, for storing rules checked on behalf of a HEAD.
func getOf(r *http.Request) *http.Request {
	r2 := *r
	r2.Method = http.MethodGet
	return &r2
}
