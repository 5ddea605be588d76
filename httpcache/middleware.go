package httpcache

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/keyguard"
)

// exchange is one request through the cache: what was found, what was
// decided, and the writer the handler writes to (one allocation for all).
type exchange struct {
	c   *Cache
	h   *handler
	r   *http.Request
	rw  http.ResponseWriter
	w   writer
	now time.Time

	req        directives // request Cache-Control (§5.2.1)
	noCacheReq bool       // no-cache, or Pragma: no-cache without Cache-Control (§5.4)

	key       string // primary key
	lookupKey string // where the selected response lives (primary or variant key)
	idx       *indexRecord
	idxEntry  hitbox.Entry

	ans hitbox.Answer // which level of the pipeline answered the lookup

	sr  *storedResponse // the selected stored response, if any
	v   view
	dec decodeBuf // what sr is decoded into, mostly

	// hdrInRW: v.hdr is the response header map itself (it was empty), so
	// a hit copies nothing; forward gives v.hdr a map of its own first.
	hdrInRW bool

	cs      cacheStatus
	csValue string    // cs rendered, once the response header went out
	slots   [3]string // backing for single-line fields the cache sets (no allocation each)
	result  result

	// Forwarding.
	validating bool        // the forwarded request carries sr's validators
	fallback   bool        // stale-if-error may answer a failure
	pre        http.Header // fields set before the handler ran
	reqTime    time.Time
	respTime   time.Time
	newSR      *storedResponse // the response being stored
	newView    view
	fl         *flight        // set while this request leads a collapsed miss
	stamp      keyguard.Stamp // the primary key's guard stamp, taken before the lookup
	tagStamp   tagStamp       // the purges by tag so far, taken before the lookup
	raced      bool           // an invalidation came between the stamp and a store
	unsafe     bool           // an unsafe method: invalidate on success
	faulted    bool           // the backend failed a read: do not wait on it again to store
	asIs       bool           // forward the request unchanged, without the stored validators
}

// Cache-Status fwd reasons (RFC 9211 §2.2).
const (
	fwdURIMiss  = "uri-miss"
	fwdVaryMiss = "vary-miss"
	fwdStale    = "stale"
	fwdRequest  = "request"
	fwdBypass   = "bypass"
	fwdMethod   = "method"
)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{c: h.c, h: h, r: r, rw: w}
	x.w = writer{x: x, rw: w}
	x.cs = cacheStatus{name: h.c.opts.CacheName}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if len(r.Header["Upgrade"]) > 0 {
			// A protocol switch (WebSocket) is no response to cache.
			x.bypass(fwdBypass)
			return
		}
		x.serve()
	case http.MethodOptions, http.MethodTrace:
		x.bypass(fwdMethod)
	default:
		// Unsafe, or of unknown safety (RFC 9110 §9.2.1): forwarded, and
		// a success invalidates (RFC 9111 §4.4).
		x.unsafe = true
		x.bypass(fwdMethod)
	}
	h.c.obs.record(r.Context(), x.result, x.csValue)
}

// bypass forwards a request the cache does not answer.
func (x *exchange) bypass(reason string) {
	x.cs.fwd = reason
	x.result = resBypass
	x.forwardTo(x.r)
}

// serve answers a GET or HEAD.
func (x *exchange) serve() {
	c, r := x.c, x.r
	x.now = c.opts.Now()
	if lines := r.Header["Cache-Control"]; len(lines) > 0 {
		x.req = parseDirectives(lines)
	} else {
		x.req = noDirectives
	}
	x.noCacheReq = x.req.noCache || len(x.req.noCacheFields) > 0 ||
		(!x.req.present && pragmaNoCache(r.Header["Pragma"]))
	x.key = c.primaryKey(r)
	x.stamp = c.guard.Stamp(x.key)
	x.tagStamp = c.purges.stamp()
	if c.opts.ShowKey {
		x.cs.key = x.key
	}
	x.lookup()

	if x.sr == nil {
		x.forward()
		return
	}
	if len(r.Header["If-Match"]) > 0 || len(r.Header["If-Unmodified-Since"]) > 0 {
		// Preconditions only the origin can evaluate (RFC 9111 §4.3.2):
		// the request goes on as it came.
		x.cs.fwd = fwdRequest
		x.asIs = true
		x.forward()
		return
	}
	v := &x.v
	fresh := v.fresh()
	reason := fwdStale
	if fresh {
		reason = fwdRequest
	}
	staleOK := !c.noStale(&v.cc)
	switch {
	case x.noCacheReq: // §5.2.1.4
		x.cs.fwd = fwdRequest
	case v.cc.noCache: // §5.2.2.4: every reuse is validated
		x.cs.fwd = fwdStale
	case x.req.maxAge >= 0 && v.age > seconds(x.req.maxAge): // §5.2.1.1
		x.cs.fwd = reason
	case x.req.minFresh >= 0 && v.lifetime-v.age < seconds(x.req.minFresh): // §5.2.1.3
		x.cs.fwd = reason
	case fresh:
		x.result = resHit
		x.cs.hit = true
		x.serveStored(x.sr, v, false)
		return
	case staleOK && (x.req.maxStaleAny || x.req.maxStale >= 0 && v.staleBy() <= seconds(x.req.maxStale)):
		// §5.2.1.2: the client accepts this much staleness.
		x.result = resStale
		x.cs.hit = true
		x.serveStored(x.sr, v, false)
		return
	case c.swrWindow(v) > 0 && v.staleBy() <= c.swrWindow(v):
		// RFC 5861 §3: serve at once, then refresh, unless a refresh of
		// this response is already running or too many are.
		x.result = resStale
		x.cs.hit = true
		x.serveStored(x.sr, v, false)
		if c.bg.admit(x.lookupKey) {
			x.startRefresh()
		}
		return
	default:
		x.cs.fwd = fwdStale
	}
	x.forward()
}

// lookup reads the stored response the request selects (RFC 9111 §4.1):
// the primary key holds a response, or the index of the variants, one of
// which the request's header fields select.
func (x *exchange) lookup() {
	c := x.c
	ctx := hitbox.ContextWithAnswer(x.r.Context(), &x.ans)
	x.lookupKey = x.key
	x.cs.fwd = fwdURIMiss
	e, err := c.b.Get(ctx, x.key)
	if err != nil {
		x.getFailed(err)
		return
	}
	sr, idx, err := decodeValueInto(e.Value, &x.dec)
	if err != nil {
		x.corrupt(x.key, err)
		return
	}
	if idx != nil {
		x.idx, x.idxEntry = idx, e
		vals := varyValues(idx.names, x.r.Header)
		x.lookupKey = variantKey(x.key, idx.epoch, vals)
		x.cs.fwd = fwdVaryMiss
		x.ans.Reset()
		e, err = c.b.Get(ctx, x.lookupKey)
		if err != nil {
			x.getFailed(err)
			return
		}
		if sr, _, err = decodeValueInto(e.Value, &x.dec); err != nil {
			x.corrupt(x.lookupKey, err)
			return
		}
		if !equalLines(sr.varyNames, idx.names) || !equalLines(sr.varyValues, vals) {
			return // a hashed selector that collided: a miss
		}
	} else if len(sr.varyNames) > 0 {
		x.corrupt(x.key, errors.New("httpcache: a varying response at a primary key"))
		return
	}
	x.sr = sr
	var hdr http.Header
	switch rh := x.rw.Header(); {
	case sr != &x.dec.sr:
		hdr = sr.header()
	case len(rh) == 0:
		// The stored fields go straight into the response header, where
		// a hit needs them; forward takes them out again.
		hdr = sr.fillHeader(rh, x.dec.vals[:0])
		x.hdrInRW = true
	default:
		hdr = sr.headerIn(x.dec.vals[:0])
	}
	x.v = c.viewOfHeader(hdr, sr.status, sr.requestTime, sr.responseTime, x.now)
	if x.ans.Found() && x.cs.detail == "" {
		x.cs.detail = x.ans.Path() // RFC 9211 §2.8: which level answered
	}
}

// getFailed records a failed read: a miss is a miss; anything else is a
// backend fault, which Cache-Status names while the request goes on as a
// miss (the cache's outage is never the user's error).
func (x *exchange) getFailed(err error) {
	if errors.Is(err, hitbox.ErrMiss) {
		return
	}
	x.fault(err)
}

func (x *exchange) fault(err error) {
	x.faulted = true
	x.c.obs.fault(x.r.Context())
	if x.cs.detail == "" {
		x.cs.detail = errDetail(err)
	}
	x.c.logDebug(x.r.Context(), "backend failed", "err", err)
}

// corrupt drops a value that cannot be read; the request is a miss.
func (x *exchange) corrupt(key string, err error) {
	x.c.logError(x.r.Context(), "dropping an unreadable stored response", "err", err)
	x.cs.detail = "corrupt"
	_ = x.c.b.Delete(context.WithoutCancel(x.r.Context()), key)
}

// errDetail is the Cache-Status detail for a backend failure: bounded,
// printable, never a key.
func errDetail(err error) string {
	switch {
	case errors.Is(err, hitbox.ErrUnavailable):
		return "backend unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return "backend timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, hitbox.ErrClosed):
		return "backend closed"
	case errors.Is(err, hitbox.ErrCorrupt):
		return "corrupt"
	}
	var he *hitbox.Error
	if errors.As(err, &he) {
		return "backend error: " + he.Backend + " " + he.Op
	}
	return "backend error"
}

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
	r2 := r
	if x.sr != nil && !x.asIs {
		r2 = x.validationRequest(r.Context())
		win := x.c.sieWindow(&x.v.cc, &x.req)
		x.fallback = win > 0 && x.v.staleBy() <= win
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

// collapsible reports whether the request may share a concurrent
// request's response (or lead one): a plain GET whose answer does not
// depend on conditionals, ranges, credentials or request directives.
func (x *exchange) collapsible() bool {
	r := x.r
	if r.Method != http.MethodGet || x.req.present || x.noCacheReq {
		return false
	}
	for _, f := range [...]string{"Range", "If-None-Match", "If-Modified-Since", "If-Match",
		"If-Unmodified-Since", "If-Range", "Authorization"} {
		if len(r.Header[f]) > 0 {
			return false
		}
	}
	return true
}

// varyMatches reports whether sr's Vary selects this request (§4.1).
func (x *exchange) varyMatches(sr *storedResponse) bool {
	if len(sr.varyNames) == 0 {
		return true
	}
	return equalLines(varyValues(sr.varyNames, x.r.Header), sr.varyValues)
}

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

// forwardTo runs the handler on r2, writing through x.w, and cleans up
// after it: stores, answers a held response, releases a flight. A handler
// panic stores nothing and is re-raised once the cleanup is done, unless
// stale-if-error answers it.
func (x *exchange) forwardTo(r2 *http.Request) {
	if h := x.rw.Header(); len(h) > 0 {
		x.pre = h.Clone()
	}
	x.reqTime = x.c.opts.Now()
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

// onHeader decides, when the final status arrives, what the response
// becomes.
func (x *exchange) onHeader(w *writer, code int) {
	c := x.c
	h := x.rw.Header()
	x.respTime = c.opts.Now()
	if x.unsafe && code >= 200 && code < 400 {
		x.invalidate(h)
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
	if x.result != resBypass {
		dropConnectionNamed(h)
		if len(h["Date"]) == 0 {
			// RFC 9110 §6.6.1: the cache gives a Date to a response that
			// has none, the one it stores it with.
			h["Date"] = []string{x.respTime.UTC().Format(http.TimeFormat)}
		}
		cc, targeted := c.directivesOf(h)
		// After a failed read nothing is stored: a backend that is down
		// would make the request wait out its timeout a second time.
		if why := c.storable(x.r, &x.req, code, h, &cc, targeted); why == "" && !x.faulted && x.stamp.Valid() {
			sr := c.newStored(x.r, code, h, x.pre, &cc, x.reqTime, x.respTime)
			x.newSR = sr
			x.newView = c.viewOfHeader(h, code, x.reqTime, x.respTime, x.respTime)
			if _, _, ok := c.deadlines(sr, &x.newView, x.respTime); ok && !x.tooLarge(h) {
				w.storing = true
				x.cs.stored = true
				x.cs.ttl, x.cs.hasTTL = x.newView.ttl(), true
				if _, over := c.tagsOfHeader(h); over {
					x.tagOverflow()
				}
			}
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
// write that fails, or an invalidation of the URI that lands meanwhile
// (see guard). None of these leaves anything stored; only the
// announcement was early.
func (x *exchange) finishStatus(h http.Header) {
	x.c.stripFields(h)
	x.csValue = x.cs.String()
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
	if w.storing && !w.overflow && !w.failed && x.r.Context().Err() == nil && x.complete() {
		sr := x.newSR
		sr.body = w.buf
		withLength(sr)
		x.store(sr, &x.newView, x.respTime)
		switch {
		case x.fl == nil:
		case x.raced:
			// Invalidated or purged since it was asked for: the waiters
			// ask the handler themselves.
			x.release(nil, 0)
		default:
			sr.body = append([]byte(nil), w.buf...) // waiters keep their own copy; buf goes back to the pool
			x.release(sr, w.status)
		}
	} else {
		x.release(nil, 0)
	}
	putBuf(w.buf)
	w.buf = nil
	if x.r.Method == http.MethodHead && x.sr != nil && w.status == http.StatusOK {
		x.freshenWithHead()
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

// complete reports whether the body received is all of it: a handler that
// declared a Content-Length and wrote less was cut short.
func (x *exchange) complete() bool {
	for _, f := range x.newSR.fields {
		if f.name == "Content-Length" {
			n, err := strconv.ParseInt(f.value, 10, 64)
			return err == nil && n == x.w.written
		}
	}
	return true
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

// getOf returns r as a GET, for storing rules checked on behalf of a HEAD.
func getOf(r *http.Request) *http.Request {
	r2 := *r
	r2.Method = http.MethodGet
	return &r2
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

// store writes sr under its key: at the primary key when it does not vary,
// else at its variant key with the primary key holding the index (RFC 9111
// §4.1), with the tags its fields carry. It reports whether it was
// written.
func (x *exchange) store(sr *storedResponse, v *view, now time.Time) bool {
	c := x.c
	stale, expire, ok := c.deadlines(sr, v, now)
	if !ok {
		return false
	}
	// The response is whole: store it even if the client leaves meanwhile.
	ctx := x.r.Context()
	if ctx.Err() != nil {
		ctx = context.WithoutCancel(ctx)
	}
	tags, _ := c.tagsOfFields(sr.fields)
	if !x.stamp.Valid() || len(tags) > 0 && !c.purges.valid(x.tagStamp) {
		// Invalidated, or purged by tag, since it was asked for.
		x.raced = true
		return false
	}
	buf := appendResponse(getBuf(), sr)
	key, ok := x.put(ctx, sr, buf, tags, stale, expire)
	putBuf(buf)
	if ok && !x.stamp.Valid() {
		// An invalidation began while it was written: its deletes may
		// have come first.
		x.raced = true
		_ = c.b.Delete(ctx, key)
		if key != x.key {
			_ = c.b.Delete(ctx, x.key)
		}
		return false
	}
	if ok && len(tags) > 0 && !c.purges.valid(x.tagStamp) {
		// A purge by tag began while it was written: the write may have
		// read the tags' versions after the purge renewed them. The index
		// of a varying resource carries no tags and stays.
		x.raced = true
		_ = c.b.Delete(ctx, key)
		return false
	}
	return ok
}

// put writes the stored form buf of sr (see store) with its tags, and
// returns the key it went to. The index of a varying resource is written
// untagged: each variant carries its own tags, so a purge by tag drops the
// variants that carry it and leaves the others reachable.
func (x *exchange) put(ctx context.Context, sr *storedResponse, buf []byte, tags []string, stale, expire time.Time) (string, bool) {
	c := x.c
	key := x.key
	if len(sr.varyNames) > 0 {
		idx := indexRecord{names: sr.varyNames, epoch: newEpoch()}
		write := true
		if x.idx != nil && equalLines(x.idx.names, sr.varyNames) {
			idx.epoch = x.idx.epoch
			write = x.idxEntry.Expire.Before(expire) && !x.idxEntry.Expire.IsZero()
		}
		key = variantKey(x.key, idx.epoch, sr.varyValues)
		if err := c.setTagged(ctx, key, entryFor(buf, stale, expire), tags); err != nil {
			x.setFailed(err)
			return key, false
		}
		if write {
			ib := appendIndex(buf[:0], idx)
			buf = ib
			if err := c.b.Set(ctx, x.key, entryFor(ib, expire, expire)); err != nil {
				x.setFailed(err)
				return key, false
			}
			x.idx, x.idxEntry = &idx, hitbox.Entry{Expire: expire}
		}
		return key, true
	}
	if err := c.setTagged(ctx, key, entryFor(buf, stale, expire), tags); err != nil {
		x.setFailed(err)
		return key, false
	}
	return key, true
}

func (x *exchange) setFailed(err error) {
	x.c.obs.fault(x.r.Context())
	x.c.logDebug(x.r.Context(), "storing a response failed", "err", err)
}

// release ends a flight this request leads, sharing res (nil: not
// shareable).
func (x *exchange) release(res *storedResponse, status int) {
	if x.fl != nil {
		x.c.flights.finish(x.lookupKey, x.fl, res, status)
		x.fl = nil
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

// pragmaNoCache reports whether Pragma carries no-cache (RFC 9111 §5.4).
func pragmaNoCache(lines []string) bool {
	for _, l := range lines {
		s := l
		for {
			var name string
			var more bool
			name, _, _, _, s, more = nextDirective(s)
			if eqFold(name, "no-cache") {
				return true
			}
			if !more {
				break
			}
		}
	}
	return false
}
