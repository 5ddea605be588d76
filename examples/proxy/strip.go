package main

import (
	"net/http"
	"net/textproto"
	"strings"
)

// stripFields removes the named request fields before the cache and the
// origin see the request. They are the fields frameworks honour to answer
// for another URL, method, host or scheme (httpcache.DefaultBypassFields
// by default, -strip-fields to change): the cache does not key them, so
// an origin that honoured one would have its answer stored for the plain
// URL and served to everyone. Stripped, the request is cached as the
// plain request it then is; the fields the proxy itself sends to the
// origin (X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-For) are set
// afresh from the connection.
func stripFields(names []string, next http.Handler) http.Handler {
	if len(names) == 0 {
		return next
	}
	canon := make([]string, len(names))
	set := make(map[string]bool, len(names))
	for i, n := range names {
		canon[i] = textproto.CanonicalMIMEHeaderKey(n)
		set[canon[i]] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Whichever is shorter is walked: most requests carry a few
		// fields, fewer than the names (about 2.4 k instructions a
		// request for a delete of each of the default thirteen).
		if len(r.Header) < len(canon) {
			for name := range r.Header {
				if set[name] {
					delete(r.Header, name)
				}
			}
		} else {
			for _, n := range canon {
				delete(r.Header, n)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// parseFieldList splits a comma-separated list of field names; an empty
// string is an empty list.
func parseFieldList(s string) ([]string, bool) {
	var names []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !validFieldName(n) {
			return nil, false
		}
		names = append(names, n)
	}
	return names, true
}

// validFieldName accepts an RFC 9110 token.
func validFieldName(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}
