package hitbox

import "time"

// CallOption changes one GetOrLoad or GetOrLoadMany call. When callers
// share a load, the options of the caller that started it apply to it.
type CallOption struct {
	kind callKind
	ttl  time.Duration
}

type callKind uint8

const (
	callTTL callKind = iota + 1
	callSkipRead
	callRefreshNow
)

// WithTTL stores what this call loads fresh for ttl rather than
// Options.TTL (still shortened by TTLJitter, still followed by StaleFor).
func WithTTL(ttl time.Duration) CallOption { return CallOption{kind: callTTL, ttl: ttl} }

// SkipRead loads without reading the cache first, and stores what the
// load returns: for a caller that knows the cached value is out of date.
// The load is still shared with callers already loading the key.
func SkipRead() CallOption { return CallOption{kind: callSkipRead} }

// RefreshNow serves what the cache holds, as usual, and starts a
// background refresh of it at once, however fresh it is. With nothing to
// serve it loads, as a miss does.
func RefreshNow() CallOption { return CallOption{kind: callRefreshNow} }

// callOptions is a call's options, resolved.
type callOptions struct {
	ttl      time.Duration
	skipRead bool
	refresh  bool // RefreshNow was given

	// Set by the cache, not by options: the load refreshes a value the
	// cache holds (stale, early, RefreshNow) rather than fills a miss,
	// and nobody waits for it.
	refreshing, background bool
	// finished is how many loads of this cache had finished before the
	// caller's read missed: the leader of the load that follows reads
	// again only when one finished since, as it may have stored the key.
	finished uint64
}

func (c *Cache[T]) callOptions(opts []CallOption) callOptions {
	co := callOptions{ttl: c.opts.TTL}
	for _, o := range opts {
		switch o.kind {
		case callTTL:
			co.ttl = o.ttl
		case callSkipRead:
			co.skipRead = true
		case callRefreshNow:
			co.refresh = true
		}
	}
	return co
}
