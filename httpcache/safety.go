package httpcache

import (
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
)

// defaultBypassFields are the request fields that common frameworks and
// servers honour to rewrite what a request is for: its URL or path
// (X-Original-URL, X-Rewrite-URL), its method (X-HTTP-Method-Override and
// kin), or the host, scheme, port or path prefix it was addressed to
// (Forwarded, X-Forwarded-Host and kin). X-Forwarded-For is not among
// them: it names the client, which no response should depend on, and
// every proxy sends it.
var defaultBypassFields = []string{
	"Forwarded",
	"Front-End-Https",
	"X-Forwarded-Host",
	"X-Forwarded-Port",
	"X-Forwarded-Prefix",
	"X-Forwarded-Proto",
	"X-Forwarded-Scheme",
	"X-Forwarded-Server",
	"X-Forwarded-Ssl",
	"X-Host",
	"X-Http-Method",
	"X-Http-Method-Override",
	"X-Method-Override",
	"X-Original-Host",
	"X-Original-Url",
	"X-Rewrite-Url",
	"X-Url-Scheme",
}

// DefaultBypassFields returns the request fields Options.BypassFields
// stands for when it is empty, canonical (net/http's spelling), in a new
// slice: a program that adds one, or a proxy that strips them all before
// forwarding, starts from it.
func DefaultBypassFields() []string { return slices.Clone(defaultBypassFields) }

// bypassSet is the resolved Options.BypassFields: the names, and their
// first bytes, so a request whose fields start otherwise costs one array
// read per field.
type bypassSet struct {
	names map[string]bool
	first [256]bool
}

func newBypassSet(names []string) bypassSet {
	var s bypassSet
	switch {
	case len(names) == 0:
		names = defaultBypassFields
	case len(names) == 1 && names[0] == "-":
		return s
	}
	s.names = make(map[string]bool, len(names))
	for _, n := range names {
		n = textproto.CanonicalMIMEHeaderKey(n)
		s.names[n] = true
		s.first[n[0]] = true
	}
	return s
}

// validateBypassFields says what is wrong with Options.BypassFields, or "".
func validateBypassFields(names []string) string {
	for _, n := range names {
		switch {
		case n == "-":
			if len(names) > 1 {
				return `"-" turns the check off and goes alone`
			}
		case !isToken(n):
			return `"` + n + `" is not a field name`
		}
	}
	return ""
}

// Cache-Status details of a request the cache neither answers nor stores
// for the request's sake (Options.BypassFields, Options.StoreRequestBody).
const (
	detailUnkeyed = "unkeyed request field"
	detailBody    = "request with content"
	detailTarget  = "target not in URI syntax"
)

// unsafeRequest reports why a GET or HEAD must bypass the cache, or "":
// it carries a field Options.BypassFields names, or content the key does
// not cover.
func (c *Cache) unsafeRequest(r *http.Request) string {
	if c.unsafeContent(r) {
		return detailBody
	}
	if c.unkeyedField(r) {
		return detailUnkeyed
	}
	if unsafeTarget(r) {
		return detailTarget
	}
	return ""
}

// unsafeContent reports whether r has content the cache does not key.
func (c *Cache) unsafeContent(r *http.Request) bool {
	return (r.ContentLength != 0 || len(r.TransferEncoding) > 0) && !c.opts.StoreRequestBody
}

// unsafeTarget reports whether r's path is not in URI syntax (see
// validTarget).
func unsafeTarget(r *http.Request) bool {
	return r.URL.RawPath != "" && !validTarget(r.URL)
}

// validTarget reports whether a path the client sent is in URI syntax
// (RFC 9112 §3.2, RFC 3986 §3.3), which net/http tells by keeping it as
// RawPath only when it is a valid encoding. A path with raw bytes a URI
// cannot hold ("/é" as UTF-8, "/a|b") has no one spelling at the origin:
// a handler reading RequestURI sees it as sent, a client such as
// httputil.ReverseProxy sends it percent-encoded ("/%C3%A9"). Keyed as
// sent, it would split from its encoded form and escape the invalidation
// and the purges of that form; keyed as encoded, it would merge with a
// target the handler can tell apart. It is neither answered from nor
// stored.
func validTarget(u *url.URL) bool {
	return u.EscapedPath() == u.RawPath
}

// unkeyedField reports whether r carries a field Options.BypassFields
// names.
func (c *Cache) unkeyedField(r *http.Request) bool {
	if c.bypass.names != nil {
		for name := range r.Header {
			if c.bypassField(name) {
				return true
			}
		}
	}
	return false
}

// bypassField reports whether Options.BypassFields names the request
// field name (canonical).
func (c *Cache) bypassField(name string) bool {
	return name != "" && c.bypass.first[name[0]] && c.bypass.names[name]
}

// otherURL drops the stored response a bounded key found when it was
// stored for another URL (a hash collision in boundKey): the request is a
// miss.
func (x *exchange) otherURL() {
	x.sr = nil
	x.cs.detail = ""
	x.cs.fwd = fwdURIMiss
	if x.hdrInRW {
		x.hdrInRW = false
		clear(x.rw.Header())
	}
}

// Reasons a response the status and fields allow is still not stored,
// each in Cache-Status's detail.
const (
	whyCookie      = "cookie"      // a request with Cookie, a response without public or s-maxage
	whyCredentials = "credentials" // a request with credentials, a lifetime the cache would guess
	whyFields      = "too many fields"
	whyVaryNames   = "too many vary names"
)

// credentialed applies the rules for responses to requests carrying
// credentials in a shared cache (the Authorization rule of RFC 9111 §3.5
// is in storable): with Cookie, only a response marked public or
// s-maxage is stored, unless Options.StoreCookieRequests; with Cookie or
// Authorization, never on a lifetime the cache would assign itself
// (heuristic or Options.DefaultTTL) rather than one the origin sent. A
// request for /account/x.css with its session cookie, answered with only
// Last-Modified, would otherwise be stored for hours and served to every
// client (web cache deception).
func (c *Cache) credentialed(r *http.Request, h http.Header, cc *directives, targeted bool) string {
	cookie := len(r.Header["Cookie"]) > 0
	if !cookie && len(r.Header["Authorization"]) == 0 {
		return ""
	}
	if cookie && !c.opts.StoreCookieRequests && !cc.public && cc.sMaxAge < 0 {
		return whyCookie
	}
	explicit := cc.sMaxAge >= 0 || cc.maxAge >= 0 || cc.invalidFreshness ||
		(len(h["Expires"]) > 0 && !targeted)
	if !explicit && (c.opts.DefaultTTL > 0 || len(h["Last-Modified"]) > 0) {
		return whyCredentials
	}
	return ""
}

// readBack reports why the stored form of sr would not read back, or "":
// the writer keeps to the limits the reader enforces (decodeResponseInto),
// so what is stored is what later requests are answered from.
func readBack(sr *storedResponse) string {
	switch {
	case len(sr.fields) >= maxStoredFields: // withLength may add one
		return whyFields
	case len(sr.varyNames) > maxStoredVary || len(sr.varyValues) > maxStoredVary:
		return whyVaryNames
	}
	return ""
}

// badStatus answers for a handler that sent a status outside 100-599:
// with the stale response when stale-if-error allows, else with a 502 of
// the cache's own. The handler's fields and body go nowhere, and the
// first such status is logged (an origin that sends one keeps doing so).
func (x *exchange) badStatus(code int) {
	if x.c.badStatusLogged.CompareAndSwap(false, true) {
		x.c.logError(x.r.Context(), "the handler sent a status outside 100-599; answering 502 Bad Gateway",
			"status", code)
	}
	x.release(nil, 0)
	if x.fallback {
		x.w.held = true // finish serves the stale response (RFC 5861 §4)
		return
	}
	x.restoreHeader()
	h := x.rw.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["Cache-Control"] = []string{"no-store"}
	h["Content-Length"] = []string{strconv.Itoa(len(badGatewayBody))}
	x.cs.fwdStatus = http.StatusBadGateway
	if x.cs.detail == "" {
		x.cs.detail = "bad status"
	}
	x.finishStatus(h)
	x.w.sent = true
	x.rw.WriteHeader(http.StatusBadGateway)
	if x.r.Method != http.MethodHead {
		_, _ = io.WriteString(x.rw, badGatewayBody)
	}
}

const badGatewayBody = "Bad Gateway\n"

// cleanUpstreamStatus keeps the well-formed members of the Cache-Status
// lines a response came with and drops the others, counting them: a
// client parses the field as one sf-list and drops all of it when any
// member fails (RFC 8941 §4.2), this cache's own included.
func (x *exchange) cleanUpstreamStatus(h http.Header) {
	lines := h["Cache-Status"]
	var kept []string
	dropped := 0
	for i, line := range lines {
		members, bad := splitStatusMembers(line)
		if bad == 0 && kept == nil {
			continue
		}
		if kept == nil {
			kept = append(make([]string, 0, len(lines)+1), lines[:i]...)
		}
		kept = append(kept, members...)
		dropped += bad
	}
	if kept == nil {
		return
	}
	if len(kept) == 0 {
		delete(h, "Cache-Status")
	} else {
		h["Cache-Status"] = kept
	}
	x.c.obs.droppedStatus(x.r.Context(), dropped)
}

// splitStatusMembers splits one line of an sf-list into its members and
// returns the well-formed ones (an sf-token or sf-string with parameters,
// RFC 8941 §3.1.2) and how many were not. A member ends at a comma outside
// a string.
func splitStatusMembers(line string) (ok []string, bad int) {
	s := line
	for {
		s = s[skipOWS(s, 0):]
		if s == "" {
			return ok, bad
		}
		if s[0] == ',' { // an empty member: nothing to keep or drop
			s = s[1:]
			continue
		}
		n, good := statusMember(s)
		if good {
			ok = append(ok, s[:n])
		} else {
			bad++
			n = memberEnd(s)
		}
		s = s[n:]
		s = s[skipOWS(s, 0):]
		switch {
		case s == "":
			return ok, bad
		case s[0] == ',':
			s = s[1:]
		default:
			// Trailing garbage after a member: the member is not well
			// formed after all.
			if good {
				ok = ok[:len(ok)-1]
				bad++
			}
			s = s[memberEnd(s):]
			if s != "" {
				s = s[1:]
			}
		}
	}
}

// memberEnd is the index of the comma ending the member s starts with
// (strings skipped), or len(s).
func memberEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',':
			return i
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		}
	}
	return len(s)
}

// statusMember parses one member at the start of s: a bare item (token
// or string) and its parameters. It returns the member's length.
func statusMember(s string) (int, bool) {
	i, ok := sfItem(s, 0, false)
	if !ok {
		return 0, false
	}
	for {
		j := i
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j >= len(s) || s[j] != ';' {
			return i, true
		}
		j++
		for j < len(s) && s[j] == ' ' {
			j++
		}
		// key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
		if j >= len(s) || !(s[j] >= 'a' && s[j] <= 'z' || s[j] == '*') {
			return 0, false
		}
		for j++; j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9' ||
			s[j] == '_' || s[j] == '-' || s[j] == '.' || s[j] == '*'); j++ {
		}
		if j < len(s) && s[j] == '=' {
			if j, ok = sfItem(s, j+1, true); !ok {
				return 0, false
			}
		}
		i = j
	}
}

// sfItem parses a bare item at s[i:] (RFC 8941 §3.3): a token or string,
// and as a parameter value also an integer, decimal, boolean or byte
// sequence. It returns the index after it.
func sfItem(s string, i int, param bool) (int, bool) {
	if i >= len(s) {
		return 0, false
	}
	c := s[i]
	switch {
	case c == '"':
		for i++; i < len(s); i++ {
			switch {
			case s[i] == '\\':
				if i+1 >= len(s) || s[i+1] != '"' && s[i+1] != '\\' {
					return 0, false
				}
				i++
			case s[i] == '"':
				return i + 1, true
			case s[i] < 0x20 || s[i] > 0x7e:
				return 0, false
			}
		}
		return 0, false
	case c == '*' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		for i++; i < len(s) && (isTokenChar(s[i]) || s[i] == ':' || s[i] == '/'); i++ {
		}
		return i, true
	case !param:
		return 0, false
	case c == '?':
		if i+1 < len(s) && (s[i+1] == '0' || s[i+1] == '1') {
			return i + 2, true
		}
		return 0, false
	case c == ':':
		for i++; i < len(s); i++ {
			switch b := s[i]; {
			case b == ':':
				return i + 1, true
			case !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
				b == '+' || b == '/' || b == '='):
				return 0, false
			}
		}
		return 0, false
	case c == '-' || c >= '0' && c <= '9':
		if c == '-' {
			i++
		}
		start, dot := i, -1
		for ; i < len(s); i++ {
			if s[i] == '.' && dot < 0 {
				dot = i
				continue
			}
			if s[i] < '0' || s[i] > '9' {
				break
			}
		}
		digits := i - start
		switch {
		case digits == 0 || s[start] == '.':
			return 0, false
		case dot < 0:
			return i, digits <= 15
		default:
			frac := i - dot - 1
			return i, dot-start <= 12 && frac >= 1 && frac <= 3
		}
	}
	return 0, false
}
