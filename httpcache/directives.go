package httpcache

import (
	"slices"
	"strings"
)

// maxDelta is the value RFC 9111 §1.2.2 gives a delta-seconds too large to
// represent: 2^31, "infinity" (over 68 years).
const maxDelta = 1 << 31

// directives holds the parsed Cache-Control directives of a request or a
// response (RFC 9111 §5.2), or of a targeted field that replaces it for this
// cache (RFC 9213). Numbers are seconds, -1 when the directive is absent.
//
// noCache and private are the unqualified forms only; the qualified forms
// (with a field-name list) are noCacheFields and privateFields, so a
// response with no-cache="Set-Cookie" is still reusable without those fields
// (§5.2.2.4, §5.2.2.7). When both forms appear, the unqualified one is set
// too and governs: it is the more restrictive (§4.2.1).
type directives struct {
	present bool // the field had at least one line with content (§5.4: then Pragma is ignored)

	maxAge, sMaxAge int64 // -1 when absent; 0 when invalid or conflicting (see invalidFreshness)
	maxStale        int64 // request: -1 absent
	maxStaleAny     bool  // request: a bare max-stale (any staleness accepted)
	minFresh        int64 // request: -1 absent

	staleWhileRevalidate, staleIfError int64 // RFC 5861; -1 absent

	noStore, noCache, private, public bool
	mustRevalidate, proxyRevalidate   bool
	mustUnderstand, noTransform       bool
	onlyIfCached, immutable           bool

	noCacheFields, privateFields []string // qualified forms, lower-case field names

	// invalidFreshness is set when a max-age or s-maxage could not be
	// parsed or appeared twice with different values. §4.2.1 encourages a
	// cache to treat such a response as stale, so maxAge / sMaxAge are 0.
	invalidFreshness bool
}

// parseDirectives parses the lines of a Cache-Control field (or of a targeted
// field): h.Values("Cache-Control"). Directive names are case-insensitive,
// arguments may be tokens or quoted strings (§5.2), unknown directives are
// ignored (§5.2.3), commas inside quoted strings do not split the list.
func parseDirectives(lines []string) directives {
	d := directives{maxAge: -1, sMaxAge: -1, maxStale: -1, minFresh: -1, staleWhileRevalidate: -1, staleIfError: -1}
	for _, line := range lines {
		s := line
		if trimOWS(s) != "" {
			d.present = true // a field with content, even if none of it parses
		}
		for {
			var name, arg string
			var hasArg, bad, more bool
			name, arg, hasArg, bad, s, more = nextDirective(s)
			if name != "" {
				d.apply(name, arg, hasArg, bad)
			}
			if !more {
				break
			}
		}
	}
	return d
}

// apply records one directive. bad means the element did not follow the
// grammar (e.g. "max-age =5", an unterminated quote).
func (d *directives) apply(name, arg string, hasArg, bad bool) {
	switch {
	case eqFold(name, "max-age"):
		d.maxAge = d.freshness(d.maxAge, arg, hasArg, bad)
	case eqFold(name, "s-maxage"):
		d.sMaxAge = d.freshness(d.sMaxAge, arg, hasArg, bad)
	case eqFold(name, "max-stale"):
		if !hasArg {
			// A bare max-stale: any staleness, unless a bounded one also
			// appears, which is the more restrictive (§4.2.1).
			d.maxStaleAny = d.maxStale < 0
			return
		}
		if v, ok := parseDelta(arg); ok && !bad {
			d.maxStaleAny = false
			d.maxStale = minKnown(d.maxStale, v)
		}
	case eqFold(name, "min-fresh"):
		// An invalid min-fresh is ignored; duplicates keep the larger,
		// which asks for more freshness (the more restrictive, §4.2.1).
		if v, ok := parseDelta(arg); ok && hasArg && !bad && v > d.minFresh {
			d.minFresh = v
		}
	case eqFold(name, "stale-while-revalidate"):
		// RFC 5861: an invalid value grants nothing; duplicates keep the
		// smaller window.
		if v, ok := parseDelta(arg); ok && hasArg && !bad {
			d.staleWhileRevalidate = minKnown(d.staleWhileRevalidate, v)
		}
	case eqFold(name, "stale-if-error"):
		if v, ok := parseDelta(arg); ok && hasArg && !bad {
			d.staleIfError = minKnown(d.staleIfError, v)
		}
	case eqFold(name, "no-store"):
		d.noStore = true
	case eqFold(name, "no-cache"):
		// §5.2.2.4: the qualified form lists fields; an empty or
		// malformed list is read as the unqualified form, the restrictive
		// reading.
		if hasArg && !bad {
			if f := parseFieldNames(arg); len(f) > 0 {
				d.noCacheFields = append(d.noCacheFields, f...)
				return
			}
		}
		d.noCache = true
	case eqFold(name, "private"):
		// §5.2.2.7, same reading as no-cache.
		if hasArg && !bad {
			if f := parseFieldNames(arg); len(f) > 0 {
				d.privateFields = append(d.privateFields, f...)
				return
			}
		}
		d.private = true
	case eqFold(name, "public"):
		d.public = true
	case eqFold(name, "must-revalidate"):
		d.mustRevalidate = true
	case eqFold(name, "proxy-revalidate"):
		d.proxyRevalidate = true
	case eqFold(name, "must-understand"):
		d.mustUnderstand = true
	case eqFold(name, "no-transform"):
		d.noTransform = true
	case eqFold(name, "only-if-cached"):
		d.onlyIfCached = true
	case eqFold(name, "immutable"):
		d.immutable = true
	}
}

// freshness folds one max-age or s-maxage occurrence into the value so far.
// §4.2.1: invalid freshness information is treated as stale, and a
// directive that appears with two different values too (the RFC allows the
// first occurrence or stale; stale is the conservative choice).
func (d *directives) freshness(cur int64, arg string, hasArg, bad bool) int64 {
	v, ok := parseDelta(arg)
	if !ok || !hasArg || bad || (cur >= 0 && cur != v) {
		d.invalidFreshness = true
		return 0
	}
	return v
}

// minKnown returns the smaller of cur and v, where cur -1 means unset.
func minKnown(cur, v int64) int64 {
	if cur < 0 || v < cur {
		return v
	}
	return cur
}

// nextDirective splits the first list element off s. It returns the
// directive name (empty for an empty element), its argument (unquoted),
// whether an argument was given, whether the element was malformed, the
// rest of the line after the element's comma and whether there is a rest.
func nextDirective(s string) (name, arg string, hasArg, bad bool, rest string, more bool) {
	i := skipOWS(s, 0)
	start := i
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	name = s[start:i]
	if i < len(s) && s[i] == '=' {
		hasArg = true
		i++
		if i < len(s) && s[i] == '"' {
			var ok bool
			arg, i, ok = readQuoted(s, i)
			bad = !ok
		} else {
			start := i
			for i < len(s) && isTokenChar(s[i]) {
				i++
			}
			arg = s[start:i]
		}
	}
	// Whatever is left before the next comma must be whitespace; anything
	// else (a space before "=", a decimal point, a single quote) makes the
	// element malformed. Skip to the next top-level comma.
	i = skipOWS(s, i)
	if i < len(s) && s[i] != ',' {
		bad = true
		for i < len(s) && s[i] != ',' {
			if s[i] == '"' {
				_, i, _ = readQuoted(s, i)
				continue
			}
			i++
		}
	}
	if i < len(s) {
		return name, arg, hasArg, bad, s[i+1:], true
	}
	return name, arg, hasArg, bad, "", false
}

// readQuoted reads the quoted-string starting at s[i] == '"' (RFC 9110
// §5.6.4) and returns its unescaped content and the index after the closing
// quote; ok is false when the string is not terminated.
func readQuoted(s string, i int) (string, int, bool) {
	i++ // opening quote
	start := i
	escaped := false
	for i < len(s) {
		switch s[i] {
		case '\\':
			escaped = true
			i += 2
			continue
		case '"':
			v := s[start:i]
			if escaped {
				v = unescapeQuoted(v)
			}
			return v, i + 1, true
		}
		i++
	}
	if i > len(s) {
		i = len(s)
	}
	return unescapeQuoted(s[start:i]), i, false
}

// unescapeQuoted removes quoted-pair backslashes.
func unescapeQuoted(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// parseFieldNames parses the #field-name argument of a qualified no-cache or
// private directive into lower-case names; invalid members are dropped.
func parseFieldNames(arg string) []string {
	var names []string
	for len(arg) > 0 {
		var m string
		m, arg, _ = strings.Cut(arg, ",")
		m = trimOWS(m)
		if m == "" || !isToken(m) {
			continue
		}
		names = append(names, lowerASCII(m))
	}
	return names
}

// parseDelta parses delta-seconds (RFC 9111 §1.2.2): one or more digits,
// leading zeros allowed; a value too large to represent is 2^31.
func parseDelta(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDelta {
			n = n*10 + int64(c-'0')
		}
	}
	if n > maxDelta {
		n = maxDelta
	}
	return n, true
}

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	return c < 0x80 && tokenTable[c]
}

// isToken reports whether s is a non-empty token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isOWS reports whether c is optional whitespace (SP or HTAB).
func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func skipOWS(s string, i int) int {
	for i < len(s) && isOWS(s[i]) {
		i++
	}
	return i
}

func trimOWS(s string) string {
	i, j := 0, len(s)
	for i < j && isOWS(s[i]) {
		i++
	}
	for j > i && isOWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

// eqFold reports whether s equals the lower-case ASCII word lower,
// ignoring ASCII case.
func eqFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases ASCII letters, returning s itself when it has none
// to change (no allocation in the common case).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// parseTargetedDirectives parses a targeted cache-control field such as
// CDN-Cache-Control (RFC 9213), whose value is a Structured Fields
// Dictionary (RFC 8941 §3.2) the caller has already found valid. It differs
// from Cache-Control in three ways that matter: parameters on a directive
// are ignored (RFC 9213 §2.2), a Boolean false (no-store=?0) means the
// directive is absent and true (=?1) that it is present, and a key given
// twice keeps its last value (RFC 8941 §4.2.2). Values that break a
// directive's inferred type (a Decimal max-age) are not consumed: they make
// the freshness invalid, as in Cache-Control.
func parseTargetedDirectives(lines []string) directives {
	type member struct{ key, value string }
	var members []member
	for _, line := range lines {
		splitList([]string{line}, func(m string) {
			m = cutSFParams(m)
			key, value, hasValue := strings.Cut(m, "=")
			key = trimOWS(key)
			if key == "" {
				return
			}
			// RFC 8941 §4.2.2: a later instance of a key replaces the earlier.
			members = slices.DeleteFunc(members, func(x member) bool { return x.key == key })
			switch {
			case !hasValue || value == "?1":
				members = append(members, member{key: key})
			case value == "?0":
				// Boolean false: as if the directive were not sent.
			case integerDirective(key) && !isSFInteger(value):
				// RFC 9213 §2.1: a value of the wrong type (max-age="100",
				// a Decimal, a Token) SHOULD NOT be consumed. It is not
				// coerced: it reaches the Cache-Control rules as an
				// invalid value, which makes a freshness directive stale
				// (§4.2.1 of RFC 9111), the conservative reading.
				members = append(members, member{key: key, value: "invalid"})
			default:
				members = append(members, member{key: key, value: value})
			}
		})
	}
	if len(members) == 0 {
		d := parseDirectives(nil)
		d.present = len(lines) > 0
		return d
	}
	var b strings.Builder
	for i, m := range members {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.key)
		if m.value != "" {
			b.WriteByte('=')
			b.WriteString(m.value)
		}
	}
	return parseDirectives([]string{b.String()})
}

// cutSFParams drops the parameters (";name=value" outside quotes) of one
// Structured Fields dictionary member.
func cutSFParams(m string) string {
	for i := 0; i < len(m); i++ {
		switch m[i] {
		case '"':
			_, j, _ := readQuoted(m, i)
			i = j - 1
		case ';':
			return trimOWS(m[:i])
		}
	}
	return trimOWS(m)
}

// integerDirective reports whether the response directive key takes an
// Integer in a targeted field (delta-seconds in Cache-Control).
func integerDirective(key string) bool {
	switch key {
	case "max-age", "s-maxage", "stale-while-revalidate", "stale-if-error":
		return true
	}
	return false
}

// isSFInteger reports whether v is a Structured Fields Integer (RFC 8941
// §3.3.1): an optional minus and 1 to 15 digits.
func isSFInteger(v string) bool {
	v = strings.TrimPrefix(v, "-")
	if len(v) == 0 || len(v) > 15 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}
