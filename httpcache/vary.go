package httpcache

import "net/http"

// parseVary returns the field names of a response's Vary (RFC 9110 §12.5.5).
func parseVary(h http.Header) (names []string, star bool) { return nil, false }

// varyValues returns the normalised request values of the fields named.
func varyValues(names []string, req http.Header) []string { return make([]string, len(names)) }
