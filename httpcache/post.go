package httpcache

import (
	"net/http"

	"github.com/hitbox-go/hitbox/internal/keyguard"
)

// A response to POST may answer later GET and HEAD requests for the
// target URI when it says it is that resource's representation: it has
// explicit freshness and a Content-Location equal to the target URI (RFC
// 9110 §9.3.3, RFC 9111 §3). The origin then speaks for the resource as
// it is after the POST, which is what a GET would have got: the request
// content, which no key covers, shapes nothing the response does not
// vouch for. The rules for GET responses (credentials, Set-Cookie,
// private, no-store, Options.BypassFields) apply as well, and the
// response is stored after its own invalidation of the URI (§4.4), so
// it replaces what was there. Options.NoStorePOST turns it off.

// whyPOST is the reason a POST response is not stored as the target's.
const whyPOST = "post"

// postStorable reports why the response to a POST may not be stored as
// the target URI's GET response, or "" when it may; storable applies
// the rules common to GET responses after it.
func (c *Cache) postStorable(r *http.Request, h http.Header, cc *directives, targeted bool) string {
	if c.opts.NoStorePOST || c.unkeyedField(r) || r.URL.RawPath != "" && !validTarget(r.URL) {
		return whyPOST
	}
	explicit := cc.maxAge >= 0 || (!c.opts.Private && cc.sMaxAge >= 0) ||
		(len(h["Expires"]) > 0 && !targeted)
	if !explicit || cc.invalidFreshness || !namesTarget(r, h) {
		return whyPOST
	}
	return ""
}

// namesTarget reports whether h's Content-Location, resolved against the
// request's target URI, is that URI: scheme, host (case, default port)
// and path and query as the client sent them. Like the key, it merges
// nothing an origin could tell apart.
func namesTarget(r *http.Request, h http.Header) bool {
	cl := h["Content-Location"]
	if len(cl) != 1 {
		return false
	}
	target := targetURI(r)
	u, err := target.Parse(cl[0])
	if err != nil || !sameOrigin(u, target) {
		return false
	}
	return u.EscapedPath() == target.EscapedPath() && u.RawQuery == target.RawQuery &&
		u.ForceQuery == target.ForceQuery
}

// stampPOST stamps the target URI's key as a POST starts, when its
// response might be stored (see preparePOST).
func (x *exchange) stampPOST() {
	c := x.c
	if c.opts.NoStorePOST {
		return
	}
	x.stamp = c.guard.Stamp(c.primaryKey(x.r))
	x.tagStamp = c.purges.stamp()
}

// preparePOST readies a POST whose response names the target URI as its
// Content-Location for storing as that URI's GET response: the target's
// key, the request's directives, a guard stamp taken after the response's
// own invalidation of the URI, and a lease. It reports false, and the
// response is not stored, when any other change to the URI (or one that
// shares its guard stripe) began since the request did: the response may
// be older than that change. inv is what invalidate saw.
func (x *exchange) preparePOST(inv invalidation, h http.Header) bool {
	c, r := x.c, x.r
	if c.opts.NoStorePOST || !inv.alone || !namesTarget(r, h) {
		return false
	}
	if lines := r.Header["Cache-Control"]; len(lines) > 0 {
		x.req = parseDirectives(lines)
	} else {
		x.req = noDirectives
	}
	get := r.WithContext(r.Context())
	get.Method = http.MethodGet
	if x.key = c.fullPrimaryKey(get); len(x.key) > maxKeyLen {
		x.fullKey, x.key = x.key, boundKey(x.key)
	}
	x.stamp = inv.after
	x.takeLease(r.Context())
	return true
}

// invalidation is what invalidate saw of the guard, for preparePOST.
type invalidation struct {
	after keyguard.Stamp // the target's key, stamped after the deletes
	alone bool           // no other change since the POST began, nor during the deletes
}
