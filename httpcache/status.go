package httpcache

import (
	"strconv"
	"strings"
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
	var b strings.Builder
	b.Grow(64 + len(s.key) + len(s.detail))
	var num [20]byte // numbers are formatted here, not in strings of their own
	name := s.name
	if name == "" {
		name = "hitbox"
	}
	if isSFToken(name) {
		b.WriteString(name)
	} else {
		writeSFString(&b, name)
	}
	switch {
	case s.hit:
		b.WriteString("; hit")
	case s.fwd != "":
		b.WriteString("; fwd=")
		if isSFToken(s.fwd) {
			b.WriteString(s.fwd)
		} else {
			b.WriteString("miss") // fwd is a Token; never emit a broken one
		}
		if s.fwdStatus > 0 {
			b.WriteString("; fwd-status=")
			b.Write(strconv.AppendInt(num[:0], int64(s.fwdStatus), 10))
		}
		if s.stored {
			b.WriteString("; stored")
		}
		if s.collapsed {
			b.WriteString("; collapsed")
		}
	}
	if s.hasTTL {
		b.WriteString("; ttl=")
		b.Write(strconv.AppendInt(num[:0], max(-maxSFInteger, min(s.ttl, maxSFInteger)), 10))
	}
	if s.key != "" {
		b.WriteString("; key=")
		writeSFString(&b, s.key)
	}
	if s.detail != "" {
		b.WriteString("; detail=")
		writeSFString(&b, s.detail)
	}
	return b.String()
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

// writeSFString writes s as an sf-string (RFC 8941 §3.3.3): quoted, with
// '"' and '\' escaped. Bytes outside printable ASCII cannot be carried and
// are written as '?'.
func writeSFString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
