package httpcache

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/keyguard"
)

// Cache is an HTTP response cache over a hitbox pipeline (RFC 9111). Its
// Middleware caches the responses of the handler it wraps. A Cache is safe
// for concurrent use; one Cache may wrap many handlers, which then share
// its stored responses by URI.
type Cache struct {
	b    hitbox.Backend
	opts Options // resolved
	log  *slog.Logger
	obs  observer
	// strip: the fields responses to clients go without (stripFields).
	strip []string
	// bypass: Options.BypassFields resolved.
	bypass bypassSet

	flights flights
	date    dateCache // the Date given to responses that came without one
	bg      background
	front   *front // nil when Options.FrontBytes turned it off
	// stamper: the backend, when it stamps its keys (a memstore); the
	// front then answers an entry whose stamp has not moved without
	// reading the backend.
	stamper hitbox.Stamper
	// guard keeps a response asked for before an invalidation from being
	// stored after it (RFC 9111 §4.4): a miss, a validation or a refresh
	// asks the handler; meanwhile a POST to the URI deletes what is
	// stored; then the older response arrives. An invalidation brackets
	// its deletes with Begin and End; a request stamps its primary key
	// before the lookup, stores only while the stamp is valid, and deletes
	// what it wrote when the stamp went invalid during its writes.
	guard keyguard.Guard
	// purges does for purges by tag what guard does for one URI.
	purges tagPurges
	// untagged: the backend said it keeps no tags; later writes go
	// untagged without asking again.
	untagged   atomic.Bool
	tagsWarned atomic.Bool // a response's tags overflowed (logged once)
	// badStatusLogged: a handler sent a status outside 100-599 (logged
	// once).
	badStatusLogged atomic.Bool
	closeOnce       sync.Once
}

// New returns a Cache storing responses in b; its Middleware method is the
// middleware (chi's r.Use and r.With, or plain net/http), and Close stops
// the background refreshes of stale-while-revalidate at shutdown. It
// panics when b is nil,
// and with the message opts.Validate returns when an option is out of
// range (a negative duration or size, a CacheName that is not an
// sf-token), as every constructor of the module does.
func New(b hitbox.Backend, opts Options) *Cache {
	if b == nil {
		panic("hitbox/httpcache: nil Backend")
	}
	opts = opts.resolve()
	c := &Cache{b: b, opts: opts, log: opts.Logger, strip: strippedFields(opts)}
	c.bypass = newBypassSet(opts.BypassFields)
	c.obs = newObserver(opts)
	c.flights.m = make(map[string]*flight)
	c.guard.Init()
	c.bg.init(opts.MaxBackground)
	if opts.FrontBytes > 0 {
		c.front = newFront(opts.FrontBytes)
		c.stamper, _ = b.(hitbox.Stamper)
	}
	return c
}

// Middleware returns next wrapped by the cache.
func (c *Cache) Middleware(next http.Handler) http.Handler {
	if next == nil {
		panic("hitbox/httpcache: nil Handler")
	}
	return &handler{c: c, next: next}
}

// Close stops the refreshes of stale-while-revalidate: it starts no more,
// lets those running finish for up to Options.DrainTimeout, cancels what
// is left and waits for it to end. The middleware keeps serving after
// Close, without refreshing. Close is idempotent and always returns nil.
func (c *Cache) Close() error {
	c.closeOnce.Do(func() { c.bg.close(c.opts.DrainTimeout) })
	return nil
}

// logError logs a failure that the cache absorbed (the response still
// went out).
func (c *Cache) logError(ctx context.Context, msg string, args ...any) {
	c.log.Log(ctx, slog.LevelWarn, "hitbox/httpcache: "+msg, args...)
}

// logDebug logs a routine event at debug level.
func (c *Cache) logDebug(ctx context.Context, msg string, args ...any) {
	c.log.Log(ctx, slog.LevelDebug, "hitbox/httpcache: "+msg, args...)
}

// handler is the http.Handler the middleware returns.
type handler struct {
	c    *Cache
	next http.Handler
}
