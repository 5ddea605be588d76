package httpcache

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hitbox-go/hitbox"
)

// view is what the cache knows about one stored response at one instant.
type view struct {
	hdr      http.Header
	cc       directives // effective directives: the targeted field's, else Cache-Control's
	lifetime time.Duration
	hasLife  bool // the response has a freshness lifetime at all
	age      time.Duration
}

// fresh reports whether the response is fresh (RFC 9111 §4.2).
func (v *view) fresh() bool { return v.hasLife && v.age < v.lifetime }

// staleBy is how long the response has been stale; negative while fresh.
func (v *view) staleBy() time.Duration {
	if !v.hasLife {
		return v.age + 1 // stale from the start
	}
	return v.age - v.lifetime
}

// ttl is the remaining freshness in whole seconds, negative once stale, for
// Cache-Status (RFC 9211 §2.5).
func (v *view) ttl() int64 {
	if !v.hasLife {
		return -int64(v.age / time.Second)
	}
	return int64((v.lifetime - v.age) / time.Second)
}

// noStale reports whether the response forbids being served stale (RFC
// 9111 §4.2.4): must-revalidate, no-cache, and for a shared cache
// proxy-revalidate or s-maxage (§5.2.2.10).
func (c *Cache) noStale(cc *directives) bool {
	return cc.mustRevalidate || cc.noCache ||
		(!c.opts.Private && (cc.proxyRevalidate || cc.sMaxAge >= 0))
}

// swrWindow is how long past freshness the response may be served while it
// is refreshed (RFC 5861 §3), the option's default when it sends none. The
// default applies only to a response that had a freshness lifetime: one
// stored without any, for its validators, must be validated before each
// use (RFC 9111 §4.2.4), not served stale from the start.
func (c *Cache) swrWindow(v *view) time.Duration {
	if c.noStale(&v.cc) {
		return 0
	}
	if v.cc.staleWhileRevalidate >= 0 {
		return seconds(v.cc.staleWhileRevalidate)
	}
	if !v.hasLife {
		return 0
	}
	return c.opts.StaleWhileRevalidate
}

// sieWindow is how long past freshness the response may be served when the
// origin fails (RFC 5861 §4): the longest of the response's, the request's
// and the option's default.
func (c *Cache) sieWindow(cc, req *directives) time.Duration {
	if c.noStale(cc) {
		return 0
	}
	d := c.opts.StaleIfError
	if cc.staleIfError >= 0 {
		d = seconds(cc.staleIfError)
	}
	if req.staleIfError >= 0 {
		d = max(d, seconds(req.staleIfError))
	}
	return d
}

// directivesOf returns the directives that govern this cache for a
// response (RFC 9213 §2.1): the targeted field's when it is present and
// valid, else Cache-Control's. targeted reports which.
func (c *Cache) directivesOf(h http.Header) (cc directives, targeted bool) {
	if c.opts.TargetField != "" {
		if lines := h[c.opts.TargetField]; len(lines) > 0 && validTargeted(lines) {
			if cc = parseTargetedDirectives(lines); cc.present {
				return cc, true
			}
		}
	}
	if lines := h["Cache-Control"]; len(lines) > 0 {
		return parseDirectives(lines), false
	}
	return noDirectives, false
}

// noDirectives is what an absent Cache-Control parses to.
var noDirectives = parseDirectives(nil)

// viewOf computes the freshness of a stored response at now.
func (c *Cache) viewOf(sr *storedResponse, now time.Time) view {
	return c.viewOfHeader(sr.header(), sr.status, sr.requestTime, sr.responseTime, now)
}

// viewOfHeader computes the freshness at now of a response with header h,
// requested at reqTime and received at respTime.
func (c *Cache) viewOfHeader(h http.Header, status int, reqTime, respTime, now time.Time) view {
	cc, targeted := c.directivesOf(h)
	return c.viewOfParsed(h, &cc, targeted, status, reqTime, respTime, now)
}

// viewOfParsed is viewOfHeader with h's directives parsed already (see
// directivesOf).
func (c *Cache) viewOfParsed(h http.Header, cc *directives, targeted bool, status int, reqTime, respTime, now time.Time) view {
	v := view{hdr: h, cc: *cc}
	v.lifetime, v.hasLife = c.lifetime(status, h, v.cc, targeted, reqTime, respTime)
	// Ages are whole seconds (RFC 9111 §1.2.2): a Date has no finer
	// grain, so the fraction of a second it loses must not age a response
	// just received.
	v.age = currentAge(correctedInitialAge(h, reqTime, respTime), respTime, now).Truncate(time.Second)
	return v
}

// lifetime is the freshness lifetime (RFC 9111 §4.2.1). A targeted field
// hides Expires as well as Cache-Control (RFC 9213 §2.1).
func (c *Cache) lifetime(status int, h http.Header, cc directives, targeted bool, reqTime, respTime time.Time) (time.Duration, bool) {
	if targeted && len(h["Expires"]) > 0 {
		h2 := make(http.Header, len(h))
		for k, v := range h {
			if k != "Expires" {
				h2[k] = v
			}
		}
		h = h2
	}
	d, _, ok := freshnessLifetime(freshInput{
		status:            status,
		header:            h,
		cc:                cc,
		shared:            !c.opts.Private,
		requestTime:       reqTime,
		responseTime:      respTime,
		heuristicFraction: c.opts.HeuristicFraction,
		maxHeuristic:      c.opts.MaxHeuristic,
		defaultTTL:        c.opts.DefaultTTL,
	})
	return d, ok
}

// Reasons a response is not stored, for logs and tests.
const (
	whyMethod       = "method"
	whyRequest      = "request no-store"
	whyStatus       = "status"
	whyNoStore      = "no-store"
	whyPrivate      = "private"
	whyAuth         = "authorization"
	whySetCookie    = "set-cookie"
	whyVaryStar     = "vary-star"
	whyNotCacheable = "not cacheable"
	whyUnderstand   = "must-understand"
)

// storable decides whether a response to r may be stored (RFC 9111 §3 and
// §3.5). It returns "" when it may, else the reason it may not.
func (c *Cache) storable(r *http.Request, req *directives, status int, h http.Header, cc *directives, targeted bool) string {
	switch r.Method {
	case http.MethodGet:
	case http.MethodPost:
		// Stored as the target's GET response when it says it is one
		// (RFC 9110 §9.3.3; see postStorable).
		if why := c.postStorable(r, h, cc, targeted); why != "" {
			return why
		}
	default:
		// HEAD responses carry no content to store; they freshen a stored
		// GET response instead (§4.3.5).
		return whyMethod
	}
	if req.noStore {
		return whyRequest // §5.2.1.5
	}
	// A final status; a 304 only updates what is stored (§3, §4.3.4),
	// and a 206 is stored as the part it is, when it answers a range
	// request (§3.3; see partialStorable), never as if complete.
	if status < 200 || status == http.StatusNotModified ||
		status == http.StatusPartialContent && len(r.Header["Range"]) == 0 {
		return whyStatus
	}
	if cc.mustUnderstand {
		// §5.2.2.3: no-store is ignored when the status is understood,
		// and nothing is stored when it is not.
		if !understoodStatus(status) {
			return whyUnderstand
		}
	} else if cc.noStore {
		return whyNoStore
	}
	shared := !c.opts.Private
	if shared && cc.private {
		return whyPrivate // §5.2.2.7; the qualified form only drops fields
	}
	if shared && len(r.Header["Authorization"]) > 0 && !(cc.public || cc.sMaxAge >= 0 || cc.mustRevalidate) {
		return whyAuth // §3.5
	}
	if shared {
		if why := c.credentialed(r, h, cc, targeted); why != "" {
			return why
		}
	}
	if !c.opts.StoreSetCookie && len(h["Set-Cookie"]) > 0 && !(shared && hasFold(cc.privateFields, "set-cookie")) {
		return whySetCookie
	}
	if _, star := parseVary(h); star {
		return whyVaryStar // §4.1: it can never be selected
	}
	_, hasExpires := h["Expires"]
	if cc.public || (!shared && cc.private) || (hasExpires && !targeted) || cc.maxAge >= 0 ||
		(shared && cc.sMaxAge >= 0) || heuristicallyCacheable(status) {
		return ""
	}
	return whyNotCacheable
}

// hopByHop reports the fields never stored (RFC 9111 §3.1, RFC 9110
// §7.6.1): connection-specific ones and those proper to a proxy. A switch,
// not a map: it is asked of every field of every response stored.
func hopByHop(name string) bool {
	switch name {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Te", "Transfer-Encoding", "Upgrade",
		"Trailer", "Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization":
		return true
	}
	return false
}

// connectionNamed returns the fields a Connection field names, canonical.
func connectionNamed(h http.Header) map[string]bool {
	lines := h["Connection"]
	if len(lines) == 0 {
		return nil
	}
	m := make(map[string]bool)
	for _, l := range lines {
		for _, f := range strings.Split(l, ",") {
			if f = trimOWS(f); f != "" {
				m[http.CanonicalHeaderKey(f)] = true
			}
		}
	}
	return m
}

// storedFields returns the fields of h to store, names sorted and each
// name's lines in received order (§3.1): without hop-by-hop fields, those
// named in Connection, those a qualified private names (shared cache),
// trailers, and those an enclosing handler set before this one ran (pre),
// which belong to that request and not to the response.
func (c *Cache) storedFields(h, pre http.Header, cc *directives) []field {
	return c.storedFieldsIn(nil, h, pre, cc)
}

// storedFieldsIn is storedFields appending to buf when the fields fit in
// its capacity, with room for the two the cache may add.
func (c *Cache) storedFieldsIn(buf []field, h, pre http.Header, cc *directives) []field {
	conn := connectionNamed(h)
	var nb [16]namedLines // the fields of most responses, on the stack
	names := nb[:0]
	n := 0
	for k, v := range h {
		if hopByHop(k) || conn[k] || strings.HasPrefix(k, http.TrailerPrefix) || len(v) == 0 {
			continue
		}
		if pv, ok := pre[k]; ok && equalLines(pv, v) {
			continue
		}
		if !c.opts.Private && len(cc.privateFields) > 0 && hasFold(cc.privateFields, k) {
			continue
		}
		names = append(names, namedLines{k, v})
		n += len(v)
	}
	slices.SortFunc(names, func(a, b namedLines) int { return strings.Compare(a.name, b.name) })
	fields := buf[:0]
	if cap(buf) < n+2 {
		fields = make([]field, 0, n+2) // room for a Date and a Content-Length the cache may add
	}
	for _, nl := range names {
		for _, v := range nl.lines {
			fields = append(fields, field{name: nl.name, value: v})
		}
	}
	return fields
}

// namedLines is one field name's lines in a header map.
type namedLines struct {
	name  string
	lines []string
}

// newStored builds the stored form of a response received at respTime for
// a request sent at reqTime. The body is added by the caller. A response
// without Date is given one (RFC 9110 §6.6.1), so its age can be computed
// the same way wherever it is read.
func (c *Cache) newStored(r *http.Request, status int, h, pre http.Header, cc *directives, reqTime, respTime time.Time) *storedResponse {
	sf := &storedWithFields{sr: storedResponse{status: status, requestTime: reqTime, responseTime: respTime}}
	sr := &sf.sr
	sr.fields = c.storedFieldsIn(sf.buf[:], h, pre, cc)
	if len(h["Date"]) == 0 {
		sr.fields = insertField(sr.fields, field{name: "Date", value: c.date.value(respTime)})
	}
	if names, _ := parseVary(h); len(names) > 0 {
		sr.varyNames = names
		sr.varyValues = varyValues(names, r.Header)
	}
	return sr
}

// storedWithFields is a new stored response allocated with room for the
// fields of most responses, so storing one makes one allocation for both.
type storedWithFields struct {
	sr  storedResponse
	buf [6]field
}

// insertField inserts f keeping fields sorted by name.
func insertField(fields []field, f field) []field {
	i := sort.Search(len(fields), func(i int) bool { return fields[i].name > f.name })
	fields = append(fields, field{})
	copy(fields[i+1:], fields[i:])
	fields[i] = f
	return fields
}

// updatedFields applies a 304's or a HEAD response's header fields to a
// stored response's (RFC 9111 §3.2): each field received replaces the
// stored lines of that name, except the fields never stored (§3.1),
// Content-Length and the fields the HTTP layer consumes (Content-Range).
// The stored Age is dropped unless the update carries one: it described
// the old exchange. A Date is added when the update has none.
func (c *Cache) updatedFields(stored []field, upd, pre http.Header, respTime time.Time) []field {
	cc, _ := c.directivesOf(upd)
	newer := c.storedFields(upd, pre, &cc)
	replace := make(map[string]bool, len(newer)+2)
	for _, f := range newer {
		replace[f.name] = true
	}
	replace["Age"] = true
	delete(replace, "Content-Length")
	delete(replace, "Content-Range")
	out := make([]field, 0, len(stored)+len(newer)+1)
	for _, f := range stored {
		if !replace[f.name] {
			out = append(out, f)
		}
	}
	for _, f := range newer {
		if f.name != "Content-Length" && f.name != "Content-Range" {
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(upd["Date"]) == 0 {
		kept := out[:0]
		for _, f := range out {
			if f.name != "Date" {
				kept = append(kept, f)
			}
		}
		out = insertField(kept, field{name: "Date", value: c.date.value(respTime)})
	}
	return out
}

// deadlines returns the Entry deadlines of a stored response: Stale at the
// end of its freshness, Expire at the end of the longest window in which it
// may still be used: stale-while-revalidate, stale-if-error, or kept for
// revalidation or for requests that accept it stale (max-stale), at most
// MaxKeep past freshness. ok is false when it would be of no use at all.
func (c *Cache) deadlines(sr *storedResponse, v *view, now time.Time) (stale, expire time.Time, ok bool) {
	left := v.lifetime - v.age
	if !v.hasLife {
		left = 0
	}
	stale = now.Add(left)
	var keep time.Duration
	if v.hasLife && !c.noStale(&v.cc) || hasValidator(v.hdr) {
		keep = c.opts.MaxKeep
	}
	keep = max(keep, c.swrWindow(v), c.sieWindow(&v.cc, &noDirectives))
	expire = stale.Add(keep)
	if !expire.After(now) {
		return stale, expire, false
	}
	return stale, expire, true
}

// hasValidator reports whether a response can be revalidated (§4.3.1).
func hasValidator(h http.Header) bool {
	return len(h["Etag"]) > 0 || len(h["Last-Modified"]) > 0
}

func hasFold(list []string, name string) bool {
	for _, s := range list {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// entryFor wraps a stored response's deadlines as an Entry.
func entryFor(value []byte, stale, expire time.Time) hitbox.Entry {
	return hitbox.Entry{Value: value, Stale: stale, Expire: expire}
}
