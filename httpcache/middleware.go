package httpcache

import (
	"context"
	"net/http"
	"time"
	"unsafe"

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
	// hdrInRW: v.hdr is the response header map itself (it was empty), so
	// a hit copies nothing; forward gives v.hdr a map of its own first.
	// (It sits here, by the other flag, to spare the padding that keeps
	// an exchange and its decodeBuf within one allocation size class.)
	hdrInRW bool

	key       string // primary key
	fullKey   string // the primary key before boundKey, when that cut it; else ""
	lookupKey string // where the selected response lives (primary or variant key)
	idx       *indexRecord
	idxEntry  hitbox.Entry

	ans hitbox.Answer // which level of the pipeline answered the lookup

	sr *storedResponse // the selected stored response, if any
	v  view
	// dec is what sr is decoded into, mostly: allocated with the exchange
	// when its lookup is expected to find a response (see exchangeBuf),
	// else on the first decode.
	dec *decodeBuf

	cs      cacheStatus
	csValue string    // cs rendered, once the response header went out
	slots   [3]string // backing for single-line fields the cache sets (no allocation each)

	// Bytes the first Cache-Status member and the first Age value are
	// rendered into, so a hit formats them without allocating. Each is
	// written once: the string aliasing it goes into the response header
	// and must never change (see fieldValue); later renderings allocate.
	csBuf   [96]byte
	ageBuf  [12]byte
	csUsed  bool
	ageUsed bool
	result  result

	// Forwarding.
	validating bool        // the forwarded request carries sr's validators
	fallback   bool        // stale-if-error may answer a failure
	pre        http.Header // fields set before the handler ran
	reqTime    time.Time
	respTime   time.Time
	newSR      *storedResponse // the response being stored
	newView    view
	fl         *flight         // set while this request leads a collapsed miss
	fill       *fill           // a leader's handler call, detached from its client
	hctx       context.Context // the context of the request the handler got
	stamp      keyguard.Stamp  // the primary key's guard stamp, taken before the lookup (a POST's: see stampPOST)
	tagStamp   tagStamp        // the purges by tag so far, taken before the lookup
	raced      bool            // an invalidation came between the stamp and a store
	lease      hitbox.Lease    // the backend's lease on the primary key, taken as forwarding starts
	unsafe     bool            // an unsafe method: invalidate on success
	faulted    bool            // the backend failed a read: do not wait on it again to store
	asIs       bool            // forward the request unchanged, without the stored validators
	part       *storedResponse // a stored 206 that could not answer (see answerFromPart)

	// What serveHot read at the primary key, and the context it read
	// with, for lookup (see firstGet and answerContext). The entry waits
	// in idxEntry, which lookup sets only after reading it, so the
	// exchange stays within its allocation size class (preread sits with
	// the other flags below, for the same reason).
	gotErr error
	actx   context.Context
	// preread: serveHot read the primary key (see above). hot: a plain
	// request with an unbounded key (see hotRequest), whose response
	// keeps the front's pass marker up to date; pass: it was sent on by
	// one (see hotEntry.pass).
	preread bool
	hot     bool
	pass    bool

	storePOST   bool // a POST's response is to be stored as its target's GET response
	storedWhole bool // storeWhole ran
}

// fieldValue returns b as a string that aliases it, for a field value
// rendered into one of the exchange's buffers (or into what append grew
// from one): the bytes must never change afterwards. The exchange is never
// reused, so they do not.
func fieldValue(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

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
	if h.c.front != nil && h.c.hotRequest(w, r) {
		h.serveHot(w, r)
		return
	}
	h.serveExchange(w, r)
}

// exchangeBuf is an exchange allocated with the buffer its lookup
// decodes into, as one object of the same size class as the exchange
// was with the buffer inside it.
type exchangeBuf struct {
	x   exchange
	dec decodeBuf
}

// newExchange starts the exchange of one request. withBuf allocates the
// decoding buffer with it, for a lookup likely to find a response; a
// miss known in advance (nothing read, or nothing to read) goes without.
func (h *handler) newExchange(w http.ResponseWriter, r *http.Request, withBuf bool) *exchange {
	var x *exchange
	if withBuf {
		xb := &exchangeBuf{}
		x = &xb.x
		x.dec = &xb.dec
	} else {
		x = &exchange{}
	}
	x.c, x.h, x.r, x.rw = h.c, h, r, w
	x.w = writer{x: x, rw: w}
	x.cs = cacheStatus{name: h.c.opts.CacheName}
	return x
}

// serveExchange answers a request the usual way, through an exchange.
func (h *handler) serveExchange(w http.ResponseWriter, r *http.Request) {
	x := h.newExchange(w, r, r.Method == http.MethodGet || r.Method == http.MethodHead)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if len(r.Header["Upgrade"]) > 0 {
			// A protocol switch (WebSocket) is no response to cache.
			x.bypass(fwdBypass)
			return
		}
		if why := h.c.unsafeRequest(r); why != "" {
			x.cs.detail = why
			x.bypass(fwdBypass)
			break
		}
		x.serve()
	case http.MethodOptions, http.MethodTrace:
		x.bypass(fwdMethod)
	default:
		// Unsafe, or of unknown safety (RFC 9110 §9.2.1): forwarded, and
		// a success invalidates (RFC 9111 §4.4).
		x.unsafe = true
		if r.Method == http.MethodPost {
			x.stampPOST()
		}
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
	if x.key = c.fullPrimaryKey(r); len(x.key) > maxKeyLen {
		x.fullKey, x.key = x.key, boundKey(x.key)
	}
	x.stamp = c.guard.Stamp(x.key)
	x.tagStamp = c.purges.stamp()
	if c.opts.ShowKey {
		x.cs.key = x.key
	}
	x.lookup()
	x.decide()
}

// decide answers from what lookup found, or forwards.
func (x *exchange) decide() {
	c, r := x.c, x.r
	if x.fullKey != "" && x.sr != nil && x.sr.variantOf != x.fullKey {
		x.otherURL()
	}
	if x.sr != nil && x.sr.status == http.StatusPartialContent && x.answerFromPart() {
		return
	}

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
