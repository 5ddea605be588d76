package httpcache

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// keyPrefix starts every key this package writes. It renders as
// hitbox.NewKey("http").With("u", uri) does, so HTTP responses never share
// a key with the typed values of a Cache[T] over the same pipeline.
const keyPrefix = "http:v0:u="

// maxVariantPart is the longest variant selector kept verbatim in a key;
// longer ones (Vary: Cookie, User-Agent) are hashed so keys stay bounded.
// The stored response keeps the values themselves and they are compared on
// every read, so a hash collision is a miss, never a wrong answer.
const maxVariantPart = 200

// maxKeyLen is the longest primary key used as it is; a longer one (a
// long URL) is cut and given the hash of the whole (boundKey), so that with
// a variant's selector it stays within what every store keeps (memstore
// accepts keys of 256 bytes or more in any configuration it allows).
// hashedKeyCut is how much of the key the bounded form keeps, readable in
// Cache-Status and logs.
const (
	maxKeyLen    = 256
	hashedKeyCut = 160
)

// primaryKey returns the cache key of r's target URI (RFC 9111 §4.1's
// "primary cache key"), the same for GET and HEAD, bounded by boundKey.
func (c *Cache) primaryKey(r *http.Request) string {
	return boundKey(c.fullPrimaryKey(r))
}

// boundKey returns full when it is at most maxKeyLen bytes long, else its
// first hashedKeyCut bytes and ":h=" and the SHA-256 of full in hex. The
// key part before is escaped (appendEscaped), so no full key holds the ':'
// that a bounded one does and the two never meet. The full key goes into
// the stored response (storedResponse.variantOf) and is compared on every
// read, so a hash collision is a miss, never another URL's response.
func boundKey(full string) string {
	if len(full) <= maxKeyLen {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	return full[:hashedKeyCut] + ":h=" + hex.EncodeToString(sum[:])
}

// fullPrimaryKey is primaryKey before boundKey.
func (c *Cache) fullPrimaryKey(r *http.Request) string {
	if c.opts.Key != nil {
		return escapeKey(c.opts.Key(r))
	}
	return c.uriKey(requestURIParts(r))
}

// appendPrimaryKey appends fullPrimaryKey's key of r to dst, without the
// allocation of a string, unless Options.Key computes keys (ok is then
// false and dst is returned as it was).
func (c *Cache) appendPrimaryKey(dst []byte, r *http.Request) (b []byte, ok bool) {
	if c.opts.Key != nil {
		return dst, false
	}
	scheme, host, path, rawQuery, emptyQuery := requestURIParts(r)
	return c.appendURIKey(dst, scheme, host, path, rawQuery, emptyQuery), true
}

// requestURIParts returns the parts of r's target URI its key is made of.
func requestURIParts(r *http.Request) (scheme, host, path, rawQuery string, emptyQuery bool) {
	scheme = "http"
	if r.TLS != nil {
		scheme = "https"
	} else if r.URL.Scheme != "" {
		scheme = strings.ToLower(r.URL.Scheme)
	}
	host = r.Host
	if host == "" {
		host = r.URL.Host
	}
	// EscapedPath is the path as the client sent it ("%c3%a9", "%2F" and
	// "%41" stay as they came) whenever it was in URI syntax; one that was
	// not ("/é" as raw UTF-8) is neither answered nor stored (see
	// validTarget), and is keyed as a client sends it, percent-encoded,
	// so that an unsafe request to it invalidates that form. A URL given
	// to purge or found in Location is keyed the same way.
	return scheme, host, r.URL.EscapedPath(), r.URL.RawQuery, r.URL.ForceQuery
}

// uriKey renders the default key of a URI's parts. emptyQuery says the
// URI ends in a '?' with nothing after it: "/x?" and "/x" are different
// URIs (RFC 3986 §6.2.3 lets a normaliser drop an empty query only when
// the scheme says they are equivalent, and http's does not), so they get
// different keys.
func (c *Cache) uriKey(scheme, host, path, rawQuery string, emptyQuery bool) string {
	b := c.appendURIKey(make([]byte, 0, len(keyPrefix)+len(scheme)+len(host)+len(path)+len(rawQuery)+16),
		scheme, host, path, rawQuery, emptyQuery)
	return fieldValue(b) // b is the key's own and never changes
}

// appendURIKey appends uriKey's key to dst.
func (c *Cache) appendURIKey(dst []byte, scheme, host, path, rawQuery string, emptyQuery bool) []byte {
	dst = append(dst, keyPrefix...)
	if !c.opts.IgnoreHost {
		dst = appendEscaped(dst, scheme)
		dst = append(dst, "%3A//"...)
		dst = appendEscaped(dst, normalHost(scheme, host))
	}
	if path == "" {
		path = "/"
	}
	dst = appendEscaped(dst, path)
	switch {
	case c.opts.IgnoreQuery:
	case len(c.opts.KeyQuery) > 0:
		if q := selectQuery(rawQuery, c.opts.KeyQuery); q != "" {
			dst = append(dst, '?')
			dst = appendEscaped(dst, q)
		}
	case rawQuery != "":
		dst = append(dst, '?')
		dst = appendEscaped(dst, rawQuery)
	case emptyQuery:
		dst = append(dst, '?')
	}
	return dst
}

// normalHost lower-cases a host (RFC 3986 §3.2.2: case-insensitive) and
// drops the scheme's default port, so equivalent URIs share a key.
func normalHost(scheme, host string) string {
	host = lowerASCII(host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return host[:len(host)-3]
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return host[:len(host)-4]
	}
	return host
}

// selectQuery keeps the named parameters of a query, sorted by name (and
// by value within a name), so their order in the URI does not matter.
func selectQuery(rawQuery string, keep []string) string {
	if rawQuery == "" {
		return ""
	}
	q, _ := url.ParseQuery(rawQuery) // keep what parsed: a bad pair is not part of the key
	out := make(url.Values, len(keep))
	for _, k := range keep {
		if v, ok := q[k]; ok {
			v = append([]string(nil), v...)
			sort.Strings(v)
			out[k] = v
		}
	}
	return out.Encode()
}

// escapeKey escapes a user key as a part of hitbox.Key, so it too lives
// under the "http" prefix.
func escapeKey(k string) string {
	b := append(make([]byte, 0, len(keyPrefix)+len(k)+8), keyPrefix...)
	b = appendEscaped(b, k)
	return fieldValue(b) // b is the key's own and never changes
}

// appendEscaped appends s with ':', '=' and '%' percent-escaped, as
// hitbox.Key escapes its parts.
func appendEscaped(dst []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ':', '=', '%':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}

// variantKey returns the key of the variant that values select under the
// index written at primary with the given epoch (RFC 9111 §4.1). The epoch
// changes whenever the index is written anew, so variants stored before an
// invalidation are never found again through the next index.
func variantKey(primary string, epoch uint64, values []string) string {
	n := len(primary) + 18
	for _, v := range values {
		n += len(v) + 1
	}
	var b strings.Builder
	b.Grow(min(n, len(primary)+18+2*sha256.Size+2))
	b.WriteString(primary)
	b.WriteByte(0)
	var ebuf [16]byte
	b.Write(strconv.AppendUint(ebuf[:0], epoch, 16))
	b.WriteByte(0)
	if n-len(primary)-18 <= maxVariantPart {
		for i, v := range values {
			if i > 0 {
				b.WriteByte(0)
			}
			b.WriteString(v)
		}
		return b.String()
	}
	h := sha256.New()
	for _, v := range values {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	var sum [sha256.Size]byte
	b.WriteString("#")
	b.WriteString(hex.EncodeToString(h.Sum(sum[:0])))
	return b.String()
}

// targetURI is the request's target URI as an absolute URL, the base
// against which Location and Content-Location are resolved (RFC 9110 §7.1).
func targetURI(r *http.Request) *url.URL {
	u := *r.URL
	if u.Scheme == "" {
		u.Scheme = "http"
		if r.TLS != nil {
			u.Scheme = "https"
		}
	}
	if r.Host != "" {
		u.Host = r.Host
	}
	return &u
}

// sameOrigin reports whether u and base share an origin (RFC 9110 §4.3.1):
// scheme, host and port.
func sameOrigin(u, base *url.URL) bool {
	s := strings.ToLower(u.Scheme)
	return s == strings.ToLower(base.Scheme) && normalHost(s, u.Host) == normalHost(s, base.Host)
}

// keyOfURL returns the primary key of a GET for u, through Options.Key when
// it is set.
func (c *Cache) keyOfURL(u *url.URL) string {
	if c.opts.Key != nil {
		r := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: http.Header{}}
		return boundKey(escapeKey(c.opts.Key(r)))
	}
	return boundKey(c.uriKey(strings.ToLower(u.Scheme), u.Host, u.EscapedPath(), u.RawQuery, u.ForceQuery))
}
