package httpcache

import (
	"net/http"
	"slices"
	"strings"
)

// parseVary returns the field names of a response's Vary (RFC 9110
// §12.5.5), read as a list across every Vary line: lower-case,
// de-duplicated and sorted, so two responses that vary alike select alike.
// star reports a "*" member, which never matches (RFC 9111 §4.1). Members
// that are not field names are dropped.
func parseVary(h http.Header) (names []string, star bool) {
	for _, line := range h["Vary"] {
		for line != "" {
			var m string
			m, line, _ = strings.Cut(line, ",")
			m = trimOWS(m)
			switch {
			case m == "*":
				star = true
			case isToken(m):
				names = append(names, lowerASCII(m))
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), star
}

// varyValues returns, for each lower-case field name, the normalised value of
// that field in the request, so that two requests whose fields match in the
// sense of RFC 9111 §4.1 give equal strings and others do not:
//
//   - a field absent from the request gives "" (it only matches absence);
//   - a present field gives "=" followed by its value: lines combined as
//     one list, whitespace around list members removed, empty members
//     dropped (RFC 9110 §5.6.1);
//   - for the content-negotiation fields (Accept, Accept-Encoding,
//     Accept-Language, Accept-Charset), whose values are case-insensitive
//     and whose member order carries no meaning beside the weights, the
//     members are also lower-cased (Accept's parameter values aside),
//     stripped of whitespace around ";" and "=", stripped of a redundant
//     q=1, de-duplicated and sorted.
//
// NUL bytes, which no valid field carries, are written as `\x00` so the
// strings can be joined with NUL.
func varyValues(names []string, req http.Header) []string {
	out := make([]string, len(names))
	for i, name := range names {
		lines, ok := req[canonicalName(name)]
		if !ok {
			continue
		}
		var v string
		if negotiationField(name) {
			v = normaliseNegotiation(lines, name != "accept")
		} else {
			v = "=" + normaliseList(lines)
		}
		if strings.IndexByte(v, 0) >= 0 {
			v = strings.ReplaceAll(v, "\x00", `\x00`)
		}
		out[i] = v
	}
	return out
}

// canonicalName returns the key net/http stores a request field under.
func canonicalName(lower string) string {
	switch lower {
	case "accept-encoding":
		return "Accept-Encoding"
	case "accept-language":
		return "Accept-Language"
	case "accept":
		return "Accept"
	case "origin":
		return "Origin"
	case "cookie":
		return "Cookie"
	case "user-agent":
		return "User-Agent"
	case "authorization":
		return "Authorization"
	}
	return http.CanonicalHeaderKey(lower)
}

func negotiationField(lower string) bool {
	switch lower {
	case "accept", "accept-encoding", "accept-language", "accept-charset":
		return true
	}
	return false
}

// splitList calls fn for each non-empty, trimmed member of the list formed
// by lines, honouring quoted strings (a comma inside quotes does not split).
func splitList(lines []string, fn func(string)) {
	for _, line := range lines {
		start, i := 0, 0
		for i < len(line) {
			switch line[i] {
			case '"':
				_, i, _ = readQuoted(line, i)
				continue
			case ',':
				if m := trimOWS(line[start:i]); m != "" {
					fn(m)
				}
				start = i + 1
			}
			i++
		}
		if m := trimOWS(line[start:]); m != "" {
			fn(m)
		}
	}
}

// normaliseList combines lines into one list with no whitespace around the
// commas. A single clean line is returned as it is, without allocating.
func normaliseList(lines []string) string {
	if len(lines) == 1 && cleanList(lines[0]) {
		return lines[0]
	}
	var b strings.Builder
	splitList(lines, func(m string) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m)
	})
	return b.String()
}

// cleanList reports whether s is already in the form normaliseList gives:
// no leading or trailing whitespace, none around a comma, no empty member
// and no quoted string (which would need a careful split).
func cleanList(s string) bool {
	if s == "" || isOWS(s[0]) || isOWS(s[len(s)-1]) || s[0] == ',' || s[len(s)-1] == ',' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			return false
		case ',':
			if isOWS(s[i-1]) || isOWS(s[i+1]) || s[i+1] == ',' {
				return false
			}
		}
	}
	return true
}

// normaliseNegotiation normalises an Accept-style field (see varyValues)
// and returns it with the "=" prefix of a present field. Members already in
// normal form are used as they are, so the usual value costs two
// allocations whatever its length.
func normaliseNegotiation(lines []string, foldValues bool) string {
	var buf [16]string
	members := buf[:0]
	size := 1
	splitList(lines, func(m string) {
		if !memberClean(m) {
			m = normaliseMember(m, foldValues)
		}
		members = append(members, m)
		size += len(m) + 1
	})
	slices.Sort(members)
	members = slices.Compact(members)
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('=')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m)
	}
	return b.String()
}

// memberClean reports whether an Accept-style member is already in the form
// normaliseMember gives: no upper case, no whitespace, no empty parameter
// and no q=1.
func memberClean(m string) bool {
	for i := 0; i < len(m); i++ {
		switch c := m[i]; {
		case 'A' <= c && c <= 'Z', c == ' ', c == '\t', c == '"':
			return false
		case c == ';':
			p := m[i+1:]
			if j := strings.IndexByte(p, ';'); j >= 0 {
				p = p[:j]
			}
			if p == "" || len(p) > 2 && p[0] == 'q' && p[1] == '=' && qIsOne(p[2:]) {
				return false
			}
		}
	}
	return true
}

// normaliseMember lower-cases one Accept-style member, removes whitespace
// around ";" and "=", and drops a q parameter equal to 1 (the default).
// Parameter values are lower-cased only when foldValues is set: media-type
// parameters of Accept may be case-sensitive (RFC 9110 §8.3.1).
func normaliseMember(m string, foldValues bool) string {
	var b strings.Builder
	b.Grow(len(m))
	p, rest, more := strings.Cut(m, ";")
	writeLower(&b, trimOWS(p))
	for more {
		p, rest, more = strings.Cut(rest, ";")
		k, v, hasV := strings.Cut(trimOWS(p), "=")
		k, v = trimOWS(k), trimOWS(v)
		if k == "" || (hasV && eqFold(k, "q") && qIsOne(v)) {
			continue
		}
		b.WriteByte(';')
		writeLower(&b, k)
		if hasV {
			b.WriteByte('=')
			if foldValues || eqFold(k, "q") {
				writeLower(&b, v)
			} else {
				b.WriteString(v)
			}
		}
	}
	return b.String()
}

// writeLower writes s lower-cased (ASCII) without an intermediate string.
func writeLower(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
}

// qIsOne reports whether a qvalue is 1 ("1", "1.", "1.0", ... "1.000").
func qIsOne(v string) bool {
	if v == "" || v[0] != '1' {
		return false
	}
	v = v[1:]
	if v == "" {
		return true
	}
	if v[0] != '.' || len(v) > 4 {
		return false
	}
	return strings.Trim(v[1:], "0") == ""
}
