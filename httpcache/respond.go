package httpcache

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// onHeader decides, when the final status arrives, what the response
// becomes.
func (x *exchange) onHeader(w *writer, code int) {
	c := x.c
	h := x.rw.Header()
	x.respTime = c.opts.Now()
	if x.unsafe && code >= 200 && code < 400 {
		inv := x.invalidate(h)
		x.storePOST = x.r.Method == http.MethodPost && x.preparePOST(inv, h)
	}
	if x.validating && code == http.StatusNotModified {
		w.held = true // §4.3.4: the stored response answers
		return
	}
	if x.fallback && isErrorStatus(code) {
		w.held = true // RFC 5861 §4: stale-if-error answers
		return
	}
	x.cs.fwdStatus = code
	if len(h["Cache-Status"]) > 0 {
		x.cleanUpstreamStatus(h)
	}
	if x.result != resBypass || x.storePOST {
		dropConnectionNamed(h)
		if len(h["Date"]) == 0 {
			// RFC 9110 §6.6.1: the cache gives a Date to a response that
			// has none, the one it stores it with.
			h["Date"] = c.date.line(x.respTime)
		}
		cc, targeted := c.directivesOf(h)
		// After a failed read nothing is stored: a backend that is down
		// would make the request wait out its timeout a second time.
		why := c.storable(x.r, &x.req, code, h, &cc, targeted)
		if why == "" && code == http.StatusPartialContent {
			why = x.partialStorable(h)
		}
		if x.hot {
			c.notePass(x.key, why, x.respTime)
		}
		if why == "" && !x.faulted && x.stamp.Valid() && !x.pass {
			sr := c.newStored(x.r, code, h, x.pre, &cc, x.reqTime, x.respTime)
			sr.variantOf = x.fullKey
			x.newSR = sr
			x.newView = c.viewOfParsed(h, &cc, targeted, code, x.reqTime, x.respTime, x.respTime)
			if why = readBack(sr); why != "" {
				x.notStored(why)
			} else if _, _, ok := c.deadlines(sr, &x.newView, x.respTime); ok && !x.tooLarge(h) {
				w.storing = true
				x.cs.stored = true
				x.cs.ttl, x.cs.hasTTL = x.newView.ttl(), true
				if _, over := c.tagsOfHeader(h); over {
					x.tagOverflow()
				}
			}
		} else if why == whyCookie || why == whyCredentials {
			x.notStored(why)
		}
		if x.fl != nil && (!w.storing || endless(h)) {
			// Decided at the header: the waiters cannot share this
			// response, or not before it ends, which it may never do.
			// They go to the handler themselves at once.
			x.release(nil, 0)
		}
	}
	x.finishStatus(h)
	w.sendHeader()
}

// tooLarge reports whether a response declares a Content-Length over
// MaxBodySize: it will not be stored, so it is not announced as stored.
func (x *exchange) tooLarge(h http.Header) bool {
	cl := h["Content-Length"]
	if len(cl) == 0 {
		return false
	}
	n, err := strconv.ParseInt(cl[0], 10, 64)
	return err == nil && n > x.c.opts.MaxBodySize
}

// finishStatus strips the fields meant for this cache (the targeted
// field, the tag fields) and adds this cache's Cache-Status member.
//
// The member goes out with the header, before the body: "stored" (RFC
// 9211 §2.3) then says the cache means to store the response, which it
// decides from the status and header fields (and a Content-Length over
// Options.MaxBodySize rules it out). It is wrong when what comes after
// the header prevents the store: a body without Content-Length that grows
// past MaxBodySize, a body shorter than its Content-Length, a client that
// leaves, a handler that panics or hijacks the connection, a backend
// write that fails, an invalidation of the URI that lands meanwhile
// (see guard), or a store the backend refuses because a change on any
// instance crossed the request's lease (the member on the request's span
// then says detail="lease-lost"). None of these leaves anything stored;
// only the announcement was early.
func (x *exchange) finishStatus(h http.Header) {
	x.c.stripFields(h)
	if !x.csUsed {
		x.csUsed = true
		x.csValue = fieldValue(x.cs.appendTo(x.csBuf[:0]))
	} else {
		x.csValue = x.cs.String()
	}
	if old := h["Cache-Status"]; len(old) > 0 {
		// RFC 9211 §2: each cache appends its member; the last is the
		// one closest to the client.
		h["Cache-Status"] = append(old[:len(old):len(old)], x.csValue)
	} else {
		h["Cache-Status"] = x.slot(0, x.csValue)
	}
}

// slot returns a one-line field value backed by the exchange itself.
func (x *exchange) slot(i int, v string) []string {
	x.slots[i] = v
	return x.slots[i : i+1 : i+1]
}

// dropConnectionNamed removes the fields a Connection field names (RFC
// 9110 §7.6.1): they were meant for one hop. The connection options close
// and keep-alive stay for net/http to act on.
func dropConnectionNamed(h http.Header) {
	for name := range connectionNamed(h) {
		if name != "Close" && name != "Keep-Alive" {
			delete(h, name)
		}
	}
}

// finish runs after the handler returned normally.
func (x *exchange) finish() {
	w := &x.w
	if w.hijacked {
		x.release(nil, 0)
		return
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK) // a handler that wrote nothing sent an empty 200
	}
	if w.held {
		if w.status == http.StatusNotModified {
			x.notModified()
			return
		}
		x.release(nil, 0)
		x.serveOnError(w.status, "")
		return
	}
	switch {
	case x.storedWhole: // at its last byte (see storeWhole)
	case w.storing && !w.overflow && x.whole():
		x.storeWhole()
	default:
		x.release(nil, 0)
	}
	putBuf(w.buf)
	w.buf = nil
	if x.r.Method == http.MethodHead && x.sr != nil && w.status == http.StatusOK {
		x.freshenWithHead()
	}
}

// whole reports whether the body received is all of it. A handler that
// declared a Content-Length and wrote that much wrote it all, whatever
// became of the client meanwhile (one that closes right after reading
// the last byte cancels the request's context). Without a length, the
// body is whole when the handler returned normally while its client was
// still there, or when it went on without the client for others waiting
// for its response (see fill).
func (x *exchange) whole() bool {
	for _, f := range x.newSR.fields {
		if f.name == "Content-Length" {
			n, err := strconv.ParseInt(f.value, 10, 64)
			return err == nil && n == x.w.written
		}
	}
	if x.handlerCancelled() {
		return false
	}
	if x.r.Context().Err() != nil || x.w.failed {
		// The client left: the body is whole only if the call went on
		// without it, for the waiters.
		return x.detachedFill() || x.filling() && !x.w.failed
	}
	return true
}

// handlerCancelled reports whether the context of the handler's request
// is done; a flight's fill is asked without starting its watch (see
// fill.watch).
func (x *exchange) handlerCancelled() bool {
	if x.fill != nil && x.hctx == context.Context(x.fill) {
		return x.fill.cancelled()
	}
	return x.hctx.Err() != nil
}

// endless reports whether a response may never end, so no one waits for
// its body: an event stream or a multipart replacement stream (a camera's
// pictures), without a Content-Length.
func endless(h http.Header) bool {
	if len(h["Content-Length"]) > 0 {
		return false
	}
	ct := h["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	mt := trimOWS(ct[0])
	if len(mt) == 0 || mt[0]|0x20 != 't' && mt[0]|0x20 != 'm' {
		return false // neither of the two, without folding the whole value
	}
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = trimOWS(mt)
	return strings.EqualFold(mt, "text/event-stream") || strings.EqualFold(mt, "multipart/x-mixed-replace")
}

// notStored puts why a response the rules allowed is not stored into
// Cache-Status's detail, unless a level of the pipeline is named there.
func (x *exchange) notStored(why string) {
	if x.cs.detail == "" {
		x.cs.detail = "not stored: " + why
	}
}

// withLength gives a stored response that has content and no
// Content-Length one, as every response served from the cache carries it:
// formatted once when stored rather than on every hit.
func withLength(sr *storedResponse) {
	if !bodyAllowed(sr.status) {
		return
	}
	for _, f := range sr.fields {
		if f.name == "Content-Length" {
			return
		}
	}
	sr.fields = insertField(sr.fields, field{name: "Content-Length", value: strconv.Itoa(len(sr.body))})
}
