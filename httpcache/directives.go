package httpcache

// directives holds the parsed Cache-Control directives of a request or a
// response (RFC 9111 §5.2).
type directives struct {
	present                            bool
	maxAge, sMaxAge                    int64
	maxStale                           int64
	maxStaleAny                        bool
	minFresh                           int64
	staleWhileRevalidate, staleIfError int64
	noStore, noCache, private, public  bool
	mustRevalidate, proxyRevalidate    bool
	mustUnderstand, noTransform        bool
	onlyIfCached, immutable            bool
	noCacheFields, privateFields       []string
	invalidFreshness                   bool
}

// parseDirectives parses the lines of a Cache-Control field.
func parseDirectives(lines []string) directives {
	d := directives{maxAge: -1, sMaxAge: -1, maxStale: -1, minFresh: -1, staleWhileRevalidate: -1, staleIfError: -1}
	return d
}
