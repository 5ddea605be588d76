package httpcache

import (
	"context"
	"net/http"
	"strconv"
	"sync"
)

// background bounds and tracks the refreshes of stale-while-revalidate:
// one per key at a time, at most max at once, none after Close, and Close
// waits for those running.
type background struct {
	mu      sync.Mutex
	closed  bool
	running map[string]struct{}
	max     int
	wg      sync.WaitGroup
	ctx     context.Context // cancelled by Close
	cancel  context.CancelFunc
}

func (b *background) init(max int) {
	b.max = max
	b.running = make(map[string]struct{})
	// The Cache's own lifetime: Close cancels it. Each refresh runs under
	// the request's context detached from its cancellation, plus its own
	// timeout, and stops when this one is cancelled.
	b.ctx, b.cancel = context.WithCancel(context.Background())
}

// admit reserves the refresh of key; the caller must call done(key).
// It refuses when key is already being refreshed, when max refreshes are
// running, or after Close.
func (b *background) admit(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || len(b.running) >= b.max {
		return false
	}
	if _, ok := b.running[key]; ok {
		return false
	}
	b.running[key] = struct{}{}
	b.wg.Add(1)
	return true
}

func (b *background) done(key string) {
	b.mu.Lock()
	delete(b.running, key)
	b.mu.Unlock()
	b.wg.Done()
}

func (b *background) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
}

// startRefresh refreshes the stale response just served (RFC 5861 §3),
// once the slot for its key was admitted.
//
// The refresh runs on a goroutine of its own, with a clone of the request
// whose context keeps the request's values but not its cancellation: the
// client leaving does not stop it. It is bounded by RevalidateTimeout and
// MaxBackground, Close cancels it and waits for it.
//
// With Options.RefreshInline it runs instead on the request's goroutine,
// after the stale response has been flushed to the client: for handlers
// that read request-scoped values their router recycles once the request
// ends (chi's URL parameters live in a pooled route context), which a
// goroutine outliving the request could read after reuse.
func (x *exchange) startRefresh() {
	c := x.c
	ctx, cancel := context.WithTimeout(context.WithoutCancel(x.r.Context()), c.opts.RevalidateTimeout)
	r2 := x.r.Clone(ctx)
	y := &exchange{c: c, h: x.h, r: x.r, key: x.key, lookupKey: x.lookupKey, idx: x.idx,
		idxEntry: x.idxEntry, sr: x.sr, v: x.v, req: x.req}
	if c.opts.RefreshInline {
		_ = http.NewResponseController(x.rw).Flush()
		y.refresh(r2, cancel)
		return
	}
	go y.refresh(r2, cancel)
}

// refresh asks the handler again for the stale stored response, with its
// validators, and stores what comes back.
func (x *exchange) refresh(r2 *http.Request, cancel context.CancelFunc) {
	c := x.c
	defer c.bg.done(x.lookupKey)
	defer cancel()
	ctx := r2.Context()
	stop := context.AfterFunc(c.bg.ctx, cancel)
	defer stop()
	ctx, span := c.obs.tracer.Start(ctx, "httpcache.revalidate")
	defer span.End()
	r2 = r2.WithContext(ctx)

	r2.Method = http.MethodGet
	r2.Body, r2.ContentLength = http.NoBody, 0
	for _, f := range [...]string{"If-None-Match", "If-Modified-Since", "If-Range", "Range",
		"If-Match", "If-Unmodified-Since"} {
		delete(r2.Header, f)
	}
	validating := addValidators(r2.Header, x.v.hdr)
	rec := &recorder{header: make(http.Header), max: c.opts.MaxBodySize}
	x.reqTime = c.opts.Now()
	if !x.runQuietly(rec, r2) {
		return // a failed refresh leaves the stale response for the next one
	}
	// A handler that returned normally gave a whole response even if Close
	// or the timeout fired meanwhile: one cut short by the cancellation
	// shows as a panic (http.ErrAbortHandler), an error status or a short
	// Content-Length, all refused below.
	x.respTime = c.opts.Now()
	x.pre = nil
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	get := r2
	switch {
	case status == http.StatusNotModified && validating:
		if !validatorsMatch(rec.header, x.v.hdr) {
			return
		}
		nsr := x.updated(rec.header)
		v := c.viewOf(nsr, x.respTime)
		cc, targeted := c.directivesOf(v.hdr)
		if why := c.storable(get, &x.req, nsr.status, v.hdr, &cc, targeted); why == "" {
			x.store(nsr, &v, x.respTime)
		} else if why != whyRequest {
			_ = c.b.Delete(ctx, x.lookupKey)
		}
	case rec.overflow || isErrorStatus(status):
		// Too large to store, or the origin failed: keep what is stored.
	default:
		cc, targeted := c.directivesOf(rec.header)
		why := c.storable(get, &x.req, status, rec.header, &cc, targeted)
		if why == "" {
			sr := c.newStored(get, status, rec.header, nil, &cc, x.reqTime, x.respTime)
			sr.body = rec.body
			if cl := rec.header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(rec.body)) {
				return // cut short
			}
			v := c.viewOf(sr, x.respTime)
			x.store(sr, &v, x.respTime)
		} else if why != whyRequest {
			// The resource is no longer cacheable as stored.
			_ = c.b.Delete(ctx, x.lookupKey)
		}
	}
}

// runQuietly runs the handler for a refresh nobody waits for; a panic is
// logged and reported as a failure.
func (x *exchange) runQuietly(w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		if !ok {
			if p := recover(); p != nil {
				x.c.logError(r.Context(), "handler panicked during a background refresh", "panic", p)
			}
		}
	}()
	x.h.next.ServeHTTP(w, r)
	return true
}
