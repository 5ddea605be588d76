package httpcache

import "net/http"

// forward sends the request to the handler: a miss, a validation, or a
// request the stored response cannot answer. It joins or leads a
// collapsed flight when the request is plain enough to share a response.
func (x *exchange) forward() {
	r := x.r
	x.ownHeader()
	if x.req.onlyIfCached {
		// §5.2.1.7: nothing usable is stored; never contact the origin.
		// The 504 is the cache's own, based on no stored response, so it
		// carries no Cache-Status member (RFC 9211 §2).
		x.result = resMiss
		h := x.rw.Header()
		h.Set("Content-Length", "0")
		x.c.stripFields(h)
		x.rw.WriteHeader(http.StatusGatewayTimeout)
		return
	}
	if x.result == resNone {
		x.result = resMiss
	}
	if x.collapsible() {
		fl, leader := x.c.flights.join(x.lookupKey)
		if !leader {
			select {
			case <-fl.done:
			case <-r.Context().Done():
				fl.waiters.Add(-1)
				return // the client left; the leader goes on
			}
			if res := fl.res; res != nil && x.varyMatches(res) {
				x.cs.collapsed = true
				x.cs.fwdStatus = fl.status
				x.result = resCollapsed
				v := x.c.viewOf(res, x.c.opts.Now())
				x.serveStored(res, &v, true)
				return
			}
			// Not shareable: this request goes to the handler itself.
		} else {
			x.fl = fl
		}
	}
	if !x.pass { // a pass stores nothing (see hotEntry.pass)
		x.takeLease(r.Context())
	}
	r2 := r
	if x.sr != nil && !x.asIs {
		r2 = x.validationRequest(r.Context())
		win := x.c.sieWindow(&x.v.cc, &x.req)
		x.fallback = win > 0 && x.v.staleBy() <= win
	}
	if x.fl != nil {
		r2 = x.detach(r2)
		defer x.fill.end()
	}
	x.forwardTo(r2)
}

// ownHeader gives the stored response's view a header map of its own when
// it was built in the response header, and empties that again, for a
// response that will not be the stored one (or not yet).
func (x *exchange) ownHeader() {
	if !x.hdrInRW {
		return
	}
	x.hdrInRW = false
	h := x.v.hdr
	x.v.hdr = h.Clone()
	clear(h)
}

// forwardTo runs the handler on r2, writing through x.w, and cleans up
// after it: stores, answers a held response, releases a flight. A handler
// panic stores nothing and is re-raised once the cleanup is done, unless
// stale-if-error answers it.
func (x *exchange) forwardTo(r2 *http.Request) {
	if h := x.rw.Header(); len(h) > 0 {
		x.pre = h.Clone()
	}
	x.reqTime = x.c.opts.Now()
	x.hctx = r2.Context()
	panicked := true
	defer func() {
		if panicked {
			x.onPanic(recover())
		}
	}()
	x.h.next.ServeHTTP(&x.w, r2)
	panicked = false
	x.finish()
}

// onPanic cleans up after a handler panic: nothing is stored, waiters go
// to the handler themselves, and a stale response answers when
// stale-if-error allows and nothing reached the client yet. Otherwise the
// panic goes on up, so net/http sees it.
func (x *exchange) onPanic(p any) {
	w := &x.w
	putBuf(w.buf)
	w.buf, w.storing = nil, false
	x.release(nil, 0)
	if x.fallback && !w.sent && !w.hijacked && x.r.Context().Err() == nil {
		x.c.logError(x.r.Context(), "handler panicked; serving a stale response (stale-if-error)", "panic", p)
		x.serveOnError(http.StatusInternalServerError, "panic")
		return
	}
	panic(p)
}
