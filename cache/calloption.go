package cache

import (
	"slices"
	"time"
)

// CallOption changes one Set, GetOrLoad or GetOrLoadMany call. When
// callers share a load, the options of the caller that started it apply
// to it. Set heeds WithTTL and WithTags, and ignores the others.
type CallOption struct {
	kind callKind
	ttl  time.Duration
	tags []string
}

type callKind uint8

const (
	callTTL callKind = iota + 1
	callSkipRead
	callRefreshNow
	callTags
)

// WithTTL stores what this call loads (or, for Set, writes) fresh for ttl
// rather than Options.TTL (still shortened by TTLJitter, still followed by
// StaleFor).
func WithTTL(ttl time.Duration) CallOption { return CallOption{kind: callTTL, ttl: ttl} }

// SkipRead loads without reading the cache first, and stores what the
// load returns: for a caller that knows the cached value is out of date.
// The load is still shared with callers already loading the key.
func SkipRead() CallOption { return CallOption{kind: callSkipRead} }

// RefreshNow serves what the cache holds, as usual, and starts a
// background refresh of it at once, however fresh it is. With nothing to
// serve it loads, as a miss does.
func RefreshNow() CallOption { return CallOption{kind: callRefreshNow} }

// WithTags stores what this call writes with tags, so that
// Cache.InvalidateTags (or hitbox.InvalidateTags on the pipeline, on any
// instance) with one of them drops it: "user:42", "product:7". It applies
// to the value Set stores, to what GetOrLoad and GetOrLoadMany store after
// a load (every key of the batch gets the same tags), and to the "not
// found" MissTTL remembers, so a purge also ends a cached absence (the
// user was just created). Several WithTags add up.
//
// The pipeline must keep tags (a hitbox.Tagger, as every layer of package
// layer is over a store that keeps them): otherwise the write fails with
// an error wrapping ErrNotSupported and stores nothing. Invalid tags (see
// CheckTags) fail it with ErrInvalidTag.
func WithTags(tags ...string) CallOption {
	return CallOption{kind: callTags, tags: slices.Clip(append([]string(nil), tags...))}
}

// callOptions is a call's options, resolved.
type callOptions struct {
	ttl      time.Duration
	skipRead bool
	refresh  bool     // RefreshNow was given
	tags     []string // WithTags, all of them

	// Set by the cache, not by options: the load refreshes a value the
	// cache holds (stale, early, RefreshNow) rather than fills a miss,
	// and nobody waits for it.
	refreshing, background bool
	// finished is how many loads of this cache had finished before the
	// caller's read missed: the leader of the load that follows reads
	// again only when one finished since, as it may have stored the key.
	finished uint64
	// crossed is the flight's flag that its load's answer was not stored:
	// a change crossed it, or the store failed (nil outside a flight).
	crossed *bool
}

// noteCrossed sets the flight's crossed flag when the load's answer was
// not stored (see flight.crossed).
func (co callOptions) noteCrossed(crossed bool) {
	if crossed && co.crossed != nil {
		*co.crossed = true
	}
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
		case callTags:
			if co.tags == nil {
				// The option's own copy (WithTags made it), shared,
				// never written: it is clipped below before any append.
				co.tags = o.tags
				continue
			}
			co.tags = append(slices.Clip(co.tags), o.tags...)
		}
	}
	return co
}
