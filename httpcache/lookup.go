package httpcache

import (
	"context"
	"errors"
	"net/http"

	"github.com/hitbox-go/hitbox"
)

// lookup reads the stored response the request selects (RFC 9111 §4.1):
// the primary key holds a response, or the index of the variants, one of
// which the request's header fields select.
func (x *exchange) lookup() {
	c := x.c
	ctx := x.answerContext()
	x.lookupKey = x.key
	x.cs.fwd = fwdURIMiss
	e, err := x.firstGet(ctx)
	if err != nil {
		x.getFailed(err)
		return
	}
	sr, idx, err := decodeValueInto(e.Value, x.decodeBuf())
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
		if sr, _, err = decodeValueInto(e.Value, x.decodeBuf()); err != nil {
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

// decodeBuf returns the exchange's decoding buffer, allocating it the
// first time when the exchange came without one (see newExchange).
func (x *exchange) decodeBuf() *decodeBuf {
	if x.dec == nil {
		x.dec = new(decodeBuf)
	}
	return x.dec
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
