package httpcache

import (
	"context"
	"net/http"

	"github.com/hitbox-go/hitbox/internal/keyguard"
)

// invalidate removes what is stored for the target URI of an unsafe
// request that succeeded, and for the URIs in its Location and
// Content-Location when they share the target's origin (RFC 9111 §4.4).
// Deleting the primary key drops the response or, for a varying resource,
// the index through which every variant is found. The deletes go down the
// whole pipeline (every level of a tier; a tier's bus tells the other
// instances). They run before the response header is sent, so a client
// that saw the response cannot read the old one after it.
//
// For a POST it also reports what preparePOST needs: whether any change
// to the target's stripe other than these deletes began since the request
// was stamped (stampPOST), and a stamp taken after them.
func (x *exchange) invalidate(h http.Header) (inv invalidation) {
	c := x.c
	ctx := context.WithoutCancel(x.r.Context())
	keys := make([]string, 1, 3)
	keys[0] = c.primaryKey(x.r)
	var base = targetURI(x.r)
	for _, f := range [...]string{"Location", "Content-Location"} {
		v := h[f]
		if len(v) == 0 || v[0] == "" {
			continue
		}
		u, err := base.Parse(v[0])
		if err != nil || !sameOrigin(u, base) {
			continue // §4.4: never another origin's responses
		}
		if k := c.keyOfURL(u); k != keys[0] {
			keys = append(keys, k)
		}
	}
	// Each key's guard stripe is marked before its delete, so a response
	// asked for earlier and arriving later is not stored (see Cache.guard).
	// A POST's stamp is checked before the marks, which make it invalid.
	quiet := x.r.Method == http.MethodPost && x.stamp.Valid()
	var marks [3]keyguard.Change
	for i, k := range keys {
		marks[i] = c.guard.Begin(k)
		c.flights.forget(k)
	}
	ended := false
	end := func() {
		if !ended {
			ended = true
			for _, m := range marks[:len(keys)] {
				m.End()
			}
		}
	}
	defer end()
	for _, k := range keys {
		if err := c.b.Delete(ctx, k); err != nil {
			x.fault(err)
			c.logError(ctx, "invalidating a stored response failed", "err", err)
		}
	}
	end()
	if quiet && !x.faulted {
		// Stamped after the ends, checked after the stamp: a change that
		// began at any point since the first mark moved the generation
		// past the mark's own.
		inv.after = c.guard.Stamp(keys[0])
		inv.alone = !marks[0].Overlapped()
	}
	return inv
}
