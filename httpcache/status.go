package httpcache

import (
	"strconv"
	"sync/atomic"
)

// cacheStatus is this cache's member of a Cache-Status field (RFC 9211):
// how it handled one request.
type cacheStatus struct {
	name      string // the cache's name: an sf-token when it is one, else an sf-string
	hit       bool   // answered from the cache without going forward
	fwd       string // why it went forward: "uri-miss", "vary-miss", "miss", "stale", "request", "bypass", "method", "partial"
	fwdStatus int    // the status the next hop returned; 0 when not forwarded
	stored    bool   // the forwarded response was stored
	collapsed bool   // the request was collapsed with another and reused its response
	ttl       int64  // remaining freshness in seconds, negative when stale
	hasTTL    bool
	key       string // the cache key, only when the user asked for it
	detail    string // which level answered, or the backend error
}

// maxSFInteger is the largest magnitude of a structured-field Integer
// (RFC 8941 §3.3.1).
const maxSFInteger = 999_999_999_999_999

// String renders s as one member of an sf-list, for example
// `hitbox; hit; ttl=10; detail="tier.memory"` or
// `hitbox; fwd=uri-miss; fwd-status=200; stored`. hit and fwd are exclusive
// (hit wins); fwd-status, stored and collapsed are written only with fwd,
// the only case where RFC 9211 gives them meaning.
func (s cacheStatus) String() string {
	return string(s.appendTo(make([]byte, 0, 64+len(s.key)+len(s.detail))))
}

// appendTo appends the member String renders to b.
func (s cacheStatus) appendTo(b []byte) []byte {
	name := s.name
	if name == "" {
		name = "hitbox"
	}
	if isSFToken(name) {
		b = append(b, name...)
	} else {
		b = appendSFString(b, name)
	}
	switch {
	case s.hit:
		b = append(b, "; hit"...)
	case s.fwd != "":
		b = append(b, "; fwd="...)
		if isSFToken(s.fwd) {
			b = append(b, s.fwd...)
		} else {
			b = append(b, "miss"...) // fwd is a Token; never emit a broken one
		}
		if s.fwdStatus > 0 {
			b = append(b, "; fwd-status="...)
			b = strconv.AppendInt(b, int64(s.fwdStatus), 10)
		}
		if s.stored {
			b = append(b, "; stored"...)
		}
		if s.collapsed {
			b = append(b, "; collapsed"...)
		}
	}
	if s.hasTTL {
		b = append(b, "; ttl="...)
		b = strconv.AppendInt(b, max(-maxSFInteger, min(s.ttl, maxSFInteger)), 10)
	}
	if s.key != "" {
		b = append(b, "; key="...)
		b = appendSFString(b, s.key)
	}
	if s.detail != "" {
		b = append(b, "; detail="...)
		b = appendSFString(b, s.detail)
	}
	return b
}

// isSFToken reports whether s is an sf-token (RFC 8941 §3.3.4):
// ( ALPHA / "*" ) *( tchar / ":" / "/" ).
func isSFToken(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; !(c == '*' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isTokenChar(c) && c != ':' && c != '/' {
			return false
		}
	}
	return true
}

// appendSFString appends s as an sf-string (RFC 8941 §3.3.3): quoted,
// with '"' and '\' escaped. Bytes outside printable ASCII cannot be
// carried and are written as '?'.
func appendSFString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c > 0x7e:
			b = append(b, '?')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// The Age and Cache-Status values of a plain front hit (no detail, no
// upstream member) depend only on the age in seconds and on the freshness
// left in seconds, so they are rendered for a block of markBlockLen
// consecutive values at a time and shared by every entry and every hit
// that needs one of them, where rendering them per entry would allocate
// for most hits over many URLs (each entry's values change every second).
// The blocks sit in a direct-mapped table: markSlots blocks, about nine
// hours of consecutive values, each a few KiB; a block evicted by a
// value a multiple of that span away is rendered again when next needed.
const (
	markBlockLen = 64
	markSlots    = 512
)

// markBlock holds the rendered values n*markBlockLen to
// (n+1)*markBlockLen-1. It is immutable once published, and its values go
// into response headers as they are (one-element capped slices).
type markBlock struct {
	n    uint64
	vals [markBlockLen]string
}

// markTable is a direct-mapped table of markBlocks.
type markTable struct {
	slots [markSlots]atomic.Pointer[markBlock]
}

// lookup returns the header value for v held in t, or nil.
func (t *markTable) lookup(v uint64) []string {
	n := v / markBlockLen
	if blk := t.slots[n%markSlots].Load(); blk != nil && blk.n == n {
		i := v % markBlockLen
		return blk.vals[i : i+1 : i+1]
	}
	return nil
}

// fill renders the block of v into t with render (which appends the value
// for one number) and returns the header value for v.
func (t *markTable) fill(v uint64, render func(b []byte, v uint64) []byte) []string {
	n := v / markBlockLen
	blk := &markBlock{n: n}
	var ends [markBlockLen]int
	var b []byte
	for i := range blk.vals {
		b = render(b, n*markBlockLen+uint64(i))
		ends[i] = len(b)
	}
	s, start := string(b), 0 // the block's values share one string
	for i, end := range ends {
		blk.vals[i] = s[start:end]
		start = end
	}
	t.slots[n%markSlots].Store(blk)
	i := v % markBlockLen
	return blk.vals[i : i+1 : i+1]
}

// ageMarks holds Age values by whole seconds, shared by every cache.
var ageMarks markTable

// ageMarkValues is the Age field's value for secs (0 <= secs <= maxDelta).
func ageMarkValues(secs int64) []string {
	if vals := ageMarks.lookup(uint64(secs)); vals != nil {
		return vals
	}
	return ageMarks.fill(uint64(secs), func(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) })
}

// hitMarkValues is the Cache-Status field's value of a plain hit by a
// cache named name with ttl seconds of freshness left (ttl >= 0), from t,
// the cache's own table: exactly the member cacheStatus renders.
func hitMarkValues(t *markTable, name string, ttl int64) []string {
	if vals := t.lookup(uint64(ttl)); vals != nil {
		return vals
	}
	return t.fill(uint64(ttl), func(b []byte, v uint64) []byte {
		return cacheStatus{name: name, hit: true, hasTTL: true, ttl: int64(v)}.appendTo(b)
	})
}
