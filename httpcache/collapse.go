package httpcache

import (
	"net/http"
	"sync"
)

// flights collapses concurrent misses for one key into one handler call
// (a "collapsed" request in RFC 9211's words). The first request leads: it
// runs the handler as usual. The others wait, each bounded by its own
// context, and share the leader's response when it is storable and their
// request matches its Vary; otherwise they go to the handler themselves.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight

	waiting func() // test hook: called when a request starts waiting
}

// flight is one leader's handler call that others wait for.
type flight struct {
	done   chan struct{}
	res    *storedResponse // set before done is closed; nil: not shareable
	status int             // the status the leader received (200, 304)
}

// join returns the flight for key, and whether the caller leads it.
func (f *flights) join(key string) (*flight, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl, ok := f.m[key]; ok {
		if f.waiting != nil {
			f.waiting()
		}
		return fl, false
	}
	fl := &flight{done: make(chan struct{})}
	f.m[key] = fl
	return fl, true
}

// finish ends a flight with its result. Waiters read res after done is
// closed, so they never see it half written.
func (f *flights) finish(key string, fl *flight, res *storedResponse, status int) {
	f.mu.Lock()
	if f.m[key] == fl {
		delete(f.m, key)
	}
	f.mu.Unlock()
	fl.res, fl.status = res, status
	close(fl.done)
}

// forget detaches the flights for primary and its variants from the map,
// so requests arriving after an invalidation of primary lead their own
// flight instead of waiting for a response asked for before it. Waiters
// already in a flight are told by its leader, which shares nothing once
// its store was refused (see guard).
func (f *flights) forget(primary string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.m {
		if k == primary || len(k) > len(primary) && k[len(primary)] == 0 && k[:len(primary)] == primary {
			delete(f.m, k)
		}
	}
}

// collapsible reports whether the request may share a concurrent
// request's response (or lead one): a plain GET whose answer does not
// depend on conditionals, ranges, credentials or request directives.
func (x *exchange) collapsible() bool {
	r := x.r
	if r.Method != http.MethodGet || x.req.present || x.noCacheReq {
		return false
	}
	for _, f := range [...]string{"Range", "If-None-Match", "If-Modified-Since", "If-Match",
		"If-Unmodified-Since", "If-Range", "Authorization"} {
		if len(r.Header[f]) > 0 {
			return false
		}
	}
	return true
}

// varyMatches reports whether sr's Vary selects this request (§4.1).
func (x *exchange) varyMatches(sr *storedResponse) bool {
	if len(sr.varyNames) == 0 {
		return true
	}
	return equalLines(varyValues(sr.varyNames, x.r.Header), sr.varyValues)
}

// release ends a flight this request leads, sharing res (nil: not
// shareable).
func (x *exchange) release(res *storedResponse, status int) {
	if x.fl != nil {
		x.c.flights.finish(x.lookupKey, x.fl, res, status)
		x.fl = nil
	}
}
