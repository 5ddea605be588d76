package httpcache

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// background bounds and tracks the refreshes of stale-while-revalidate:
// one per key at a time, at most max at once, none after Close, and Close
// lets those running finish for a while, cancels the rest and waits.
type background struct {
	mu        sync.Mutex
	closed    bool
	cancelled bool                          // Close cancelled what runs
	running   map[string]context.CancelFunc // by key; nil until the refresh starts
	max       int
	wg        sync.WaitGroup

	draining func() // test hook: called when Close starts waiting
}

func (b *background) init(max int) {
	b.max = max
	b.running = make(map[string]context.CancelFunc)
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
	b.running[key] = nil
	b.wg.Add(1)
	return true
}

// start gives the admitted refresh of key its cancel function, which Close
// calls when it cancels; at once when it already has.
func (b *background) start(key string, cancel context.CancelFunc) {
	b.mu.Lock()
	b.running[key] = cancel
	cancelled := b.cancelled
	b.mu.Unlock()
	if cancelled {
		cancel()
	}
}

func (b *background) done(key string) {
	b.mu.Lock()
	delete(b.running, key)
	b.mu.Unlock()
	b.wg.Done()
}

// cancelAll cancels every running refresh, before returning, and those
// that start later.
func (b *background) cancelAll() {
	b.mu.Lock()
	b.cancelled = true
	for _, cancel := range b.running {
		if cancel != nil {
			cancel()
		}
	}
	b.mu.Unlock()
}

// close refuses new refreshes, gives those running until drain to finish
// (none when drain is negative), cancels what is left and waits for it.
// A refresh that is let finish stores what it got, so a shutdown right
// after the origin answered does not throw the refreshed response away.
func (b *background) close(drain time.Duration) {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	idle := make(chan struct{})
	go func() {
		b.wg.Wait()
		close(idle)
	}()
	if drain < 0 {
		b.cancelAll()
	}
	if b.draining != nil {
		b.draining()
	}
	if drain > 0 {
		t := time.NewTimer(drain)
		select {
		case <-idle:
		case <-t.C:
		}
		t.Stop()
	}
	b.cancelAll()
	<-idle
}

// startRefresh refreshes the stale response just served (RFC 5861 §3),
// once the slot for its key was admitted. Its request is a clone of the
// client's whose context keeps the request's values but not its
// cancellation: the client leaving does not stop it. It is bounded by
// RevalidateTimeout and MaxBackground; Close lets it finish for
// DrainTimeout, then cancels it and waits for it.
//
// By default it runs on the request's goroutine once the stale response
// is complete and flushed to the client, so the handler sees the request
// while its router still holds it: chi, for one, recycles the route
// context that holds URL parameters as soon as the request ends. With
// Options.DetachedRefresh it runs on a goroutine of its own instead (see
// there for when that is safe).
func (x *exchange) startRefresh() {
	c := x.c
	ctx, cancel := context.WithTimeout(context.WithoutCancel(x.r.Context()), c.opts.RevalidateTimeout)
	c.bg.start(x.lookupKey, cancel)
	r2 := x.r.Clone(ctx)
	y := &exchange{c: c, h: x.h, r: x.r, key: x.key, lookupKey: x.lookupKey, idx: x.idx,
		idxEntry: x.idxEntry, sr: x.sr, v: x.v, req: x.req, stamp: x.stamp, tagStamp: x.tagStamp}
	if x.hdrInRW {
		// The view's map is the response header, which net/http owns once
		// the request ends; the stored fields are all the refresh needs.
		y.v.hdr = x.sr.header()
	}
	if c.opts.DetachedRefresh {
		go y.refresh(r2, cancel)
		return
	}
	_ = http.NewResponseController(x.rw).Flush()
	y.refresh(r2, cancel)
}

// refresh asks the handler again for the stale stored response, with its
// validators, and stores what comes back.
func (x *exchange) refresh(r2 *http.Request, cancel context.CancelFunc) {
	c := x.c
	defer c.bg.done(x.lookupKey)
	defer cancel()
	ctx, span := c.obs.tracer.Start(r2.Context(), "httpcache.revalidate")
	defer span.End()
	r2 = r2.WithContext(ctx)

	r2.Method = http.MethodGet
	r2.Body, r2.ContentLength = http.NoBody, 0
	for _, f := range [...]string{"If-None-Match", "If-Modified-Since", "If-Range", "Range",
		"If-Match", "If-Unmodified-Since"} {
		delete(r2.Header, f)
	}
	validating := addValidators(r2.Header, x.v.hdr)
	if !x.takeLease(ctx) {
		return // the backend failed: the stale response stays for the next refresh
	}
	rec := &recorder{header: make(http.Header), max: c.opts.MaxBodySize}
	x.reqTime = c.opts.Now()
	if !x.runQuietly(rec, r2) || ctx.Err() != nil {
		// A failed refresh leaves the stale response for the next one. So
		// does one that Close or the timeout cancelled, even if the handler
		// returned normally: it may have given up half way without a sign
		// (an empty 200).
		return
	}
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
		if !c.opts.StoreSetCookie {
			delete(rec.header, "Set-Cookie") // nobody to give it to (§3.2)
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
			withLength(sr)
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
