package httpcache

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Options tune a Cache. The zero value is a shared cache (RFC 9111 §1)
// named "hitbox" with the defaults each field states.
type Options struct {
	// Private gives the cache private-cache semantics: a service caching
	// calls on behalf of one user. It stores responses marked private and
	// ignores s-maxage and proxy-revalidate, as RFC 9111 §5.2.2 asks of a
	// private cache.
	Private bool

	// CacheName names this cache in the Cache-Status field (RFC 9211);
	// "hitbox" when empty. It must be an sf-token (a letter or '*', then
	// token characters).
	CacheName string

	// TargetField is the targeted cache-control field (RFC 9213) that takes
	// precedence over Cache-Control and Expires for this cache;
	// "CDN-Cache-Control" when empty, and "-" turns targeting off.
	TargetField string
	// ForwardTargetField keeps the targeted field in responses sent
	// downstream. By default it is removed: it was meant for this cache.
	ForwardTargetField bool

	// TagFields are the response fields a stored response's tags (surrogate
	// keys) are read from, so PurgeHandler can drop every response that
	// carries one; "Surrogate-Key" and "Cache-Tag" when empty, and a lone
	// "-" turns tagging off. Tags are separated by spaces or commas, the
	// lines of every named field taken together; duplicates count once,
	// and a response carrying more than hitbox.MaxTags tags, or a tag over
	// hitbox.MaxTagLen bytes, is stored with those that fit (Cache-Status
	// says "tags truncated"). A 304 that updates a stored response
	// replaces its tags when it carries a tag field, as it replaces any
	// field it carries (RFC 9111 §3.2), and leaves them otherwise. Tags
	// are kept only by a backend that is a hitbox.Tagger; over any other,
	// responses are stored untagged.
	TagFields []string
	// ForwardTagFields keeps the tag fields in responses sent downstream.
	// By default they are removed, as CDNs remove Surrogate-Key: they
	// were meant for this cache.
	ForwardTagFields bool

	// MaxBodySize is the largest body stored; larger bodies stream through
	// unstored. 8 MiB when zero.
	MaxBodySize int64

	// FrontBytes bounds the front of hot responses: stored responses read
	// at least twice are kept decoded in memory, so that a plain fresh hit
	// (no request directives, preconditions or ranges, a response that
	// does not vary) is written without decoding or parsing the stored
	// form. The front never answers on its own: each hit reads the backend
	// and uses the decoded copy only when the backend returned the very
	// bytes it was decoded from, or, over a backend that stamps its keys
	// (hitbox.Stamper: memstore), reads nothing while the key's stamp
	// says no change reached it since; either way every change to the
	// backend is seen as without it. It costs a copy of each response it
	// keeps.
	// 16 MiB when zero; a negative value turns it off. BenchmarkHitRecorder
	// measures it.
	FrontBytes int64

	// DefaultTTL is the freshness given to a storable response that carries
	// none, explicit or heuristic. Zero gives none: such a response is only
	// stored when it has validators, to be revalidated.
	DefaultTTL time.Duration
	// HeuristicFraction is the share of (Date - Last-Modified) used as
	// heuristic freshness (RFC 9111 §4.2.2); 0.1 when zero.
	HeuristicFraction float64
	// MaxHeuristic caps heuristic freshness; 24h when zero.
	MaxHeuristic time.Duration
	// MaxKeep is how long past its freshness a response is kept so it can
	// be revalidated or served to a request that accepts it stale
	// (max-stale); 24h when zero.
	MaxKeep time.Duration

	// StaleWhileRevalidate is the stale-while-revalidate window (RFC 5861)
	// for responses that send none; zero gives none.
	StaleWhileRevalidate time.Duration
	// StaleIfError is the stale-if-error window (RFC 5861) for responses
	// that send none; zero gives none.
	StaleIfError time.Duration

	// StoreSetCookie lets responses carrying Set-Cookie be stored. By
	// default they never are: a shared cache would hand one user's cookie
	// to the next.
	StoreSetCookie bool

	// StoreCookieRequests lets a response to a request carrying Cookie be
	// stored on the terms of any other. By default, in a shared cache,
	// only one marked public or with s-maxage is, as Varnish's built-in
	// policy has it: a cookie usually means the response is that user's,
	// and an origin that forgets to say private would otherwise hand it to
	// everyone. Either way a response to a request with Cookie or
	// Authorization is never stored on a lifetime the cache assigns
	// (heuristic, DefaultTTL), only on one the origin sent: that is what
	// web cache deception (a session's /account/x.css) exploits.
	StoreCookieRequests bool

	// BypassFields are request fields that frameworks honour to rewrite
	// what a request is for (its URL, method, host, scheme, port or path
	// prefix) and that the key does not cover: an origin that reflects
	// one would have its response stored under the plain URL and served
	// to everyone (cache poisoning). A GET or HEAD carrying one goes to
	// the handler as it came, and its response is neither answered from
	// nor written to the cache. DefaultBypassFields when empty; a lone
	// "-" turns the check off. Trade: behind a load balancer that adds
	// X-Forwarded-Proto or -Port to every request nothing is cached until
	// they are left out here; leave out only fields the handler ignores,
	// or that a proxy in front sets itself (examples/proxy strips them
	// before the cache sees the request, so the check finds none).
	BypassFields []string
	// StoreRequestBody lets a GET or HEAD with content (a Content-Length
	// or Transfer-Encoding) be answered from and stored to the cache. By
	// default it goes to the handler unstored: its content is not in the
	// key, and a handler that reads it would store a response shaped by
	// one client under the URL.
	StoreRequestBody bool
	// NoStorePOST keeps every response to POST out of the cache. By
	// default one that has explicit freshness and a Content-Location
	// naming the target URI is stored as that URI's GET response (RFC
	// 9110 §9.3.3): the origin says it is the resource's representation
	// after the POST, whatever the request's content was.
	NoStorePOST bool

	// Key computes the primary cache key of a request. It replaces the
	// default, which is the target URI (scheme, host, path and query) as
	// shaped by IgnoreHost, IgnoreQuery and KeyQuery. It must give GET and
	// HEAD of one resource the same key.
	Key func(r *http.Request) string
	// IgnoreHost leaves the scheme and host out of the default key, for a
	// service reached under several names.
	IgnoreHost bool
	// IgnoreQuery leaves the query out of the default key.
	IgnoreQuery bool
	// KeyQuery, when not empty, keeps only these query parameters in the
	// default key, sorted, so their order in the URI does not matter.
	KeyQuery []string
	// ShowKey adds key= to Cache-Status. Keys can reveal URIs: leave it off
	// outside debugging.
	ShowKey bool

	// Now is the clock; time.Now when nil. Tests pass a fake one.
	Now func() time.Time
	// Logger receives backend failures and recovered panics; nothing is
	// logged when nil.
	Logger *slog.Logger
	// MeterProvider creates the request counter; the global one when nil.
	MeterProvider metric.MeterProvider
	// TracerProvider traces background revalidations; the global one when
	// nil. Requests are not given spans of their own: the Cache-Status value
	// goes on the span already in the request's context.
	TracerProvider trace.TracerProvider

	// RevalidateTimeout bounds one background refresh
	// (stale-while-revalidate); 30s when zero.
	RevalidateTimeout time.Duration
	// DrainTimeout is how long Close lets running refreshes finish, and
	// store what they got, before it cancels them. 5s when zero; a
	// negative value cancels them at once.
	DrainTimeout time.Duration
	// DetachedRefresh runs each stale-while-revalidate refresh on a
	// goroutine of its own, after the request ended, instead of on the
	// request's goroutine once the stale response is complete and flushed
	// (the default). The default costs nothing to the client that got the
	// stale response, but on HTTP/1.1 the next request on its connection
	// waits for the refresh.
	//
	// It is safe only when the wrapped handler reads nothing that is
	// recycled when the request ends: the refresh calls the handler with
	// a clone of the request whose context is the request's, values
	// included. A router that pools per-request state and reuses it once
	// its ServeHTTP returns breaks that: chi's URL parameters
	// (chi.URLParam) and route pattern live in a pooled route context, so
	// under r.Use or r.With a detached refresh can read another request's
	// parameters and store a wrong response under the key. Safe: a handler
	// that reads only the request's method, URL, header and context values
	// that outlive it (a reverse proxy; net/http's ServeMux and
	// Request.PathValue, which live on the request itself).
	DetachedRefresh bool
	// MaxBackground bounds the background refreshes running at once; when
	// all are busy a stale response is still served, just not refreshed.
	// 64 when zero.
	MaxBackground int
}

const (
	defaultCacheName         = "hitbox"
	defaultTargetField       = "CDN-Cache-Control"
	defaultMaxBodySize       = 8 << 20
	defaultMaxKeep           = 24 * time.Hour
	defaultRevalidateTimeout = 30 * time.Second
	defaultMaxBackground     = 64
	defaultDrainTimeout      = 5 * time.Second
	defaultFrontBytes        = 16 << 20
)

// Validate reports the first option no cache could honour, with the
// message New panics with: hitbox/httpcache: Options.<field>: <why>.
// Programs that read options from configuration call it to get an error
// instead of a panic.
func (o Options) Validate() error {
	if o.CacheName != "" && !isSFToken(o.CacheName) {
		return fmt.Errorf("hitbox/httpcache: Options.CacheName: %q is not an sf-token (RFC 8941)", o.CacheName)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"MaxBodySize", o.MaxBodySize},
		{"DefaultTTL", int64(o.DefaultTTL)},
		{"MaxHeuristic", int64(o.MaxHeuristic)},
		{"MaxKeep", int64(o.MaxKeep)},
		{"StaleWhileRevalidate", int64(o.StaleWhileRevalidate)},
		{"StaleIfError", int64(o.StaleIfError)},
		{"RevalidateTimeout", int64(o.RevalidateTimeout)},
		{"MaxBackground", int64(o.MaxBackground)},
	} {
		if f.v < 0 {
			return fmt.Errorf("hitbox/httpcache: Options.%s: %d is negative", f.name, f.v)
		}
	}
	if why := validateTagFields(o.TagFields); why != "" {
		return fmt.Errorf("hitbox/httpcache: Options.TagFields: %s", why)
	}
	if why := validateBypassFields(o.BypassFields); why != "" {
		return fmt.Errorf("hitbox/httpcache: Options.BypassFields: %s", why)
	}
	if o.HeuristicFraction < 0 {
		return fmt.Errorf("hitbox/httpcache: Options.HeuristicFraction: %g is negative", o.HeuristicFraction)
	}
	return nil
}

// resolve fills in the defaults, and the logger and clock once, and panics
// with Validate's message on options no cache could honour: a programmer
// error, as every constructor of the module reports it.
func (o Options) resolve() Options {
	if err := o.Validate(); err != nil {
		panic(err.Error())
	}
	if o.CacheName == "" {
		o.CacheName = defaultCacheName
	}
	switch o.TargetField {
	case "":
		o.TargetField = textproto.CanonicalMIMEHeaderKey(defaultTargetField)
	case "-":
		o.TargetField = ""
	default:
		o.TargetField = textproto.CanonicalMIMEHeaderKey(o.TargetField)
	}
	o.TagFields = resolveTagFields(o.TagFields)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodySize == 0 {
		o.MaxBodySize = defaultMaxBodySize
	}
	if o.HeuristicFraction == 0 {
		o.HeuristicFraction = defaultHeuristicFraction
	}
	if o.MaxHeuristic == 0 {
		o.MaxHeuristic = defaultMaxHeuristic
	}
	if o.MaxKeep == 0 {
		o.MaxKeep = defaultMaxKeep
	}
	if o.RevalidateTimeout == 0 {
		o.RevalidateTimeout = defaultRevalidateTimeout
	}
	if o.MaxBackground == 0 {
		o.MaxBackground = defaultMaxBackground
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = defaultDrainTimeout
	}
	if o.FrontBytes == 0 {
		o.FrontBytes = defaultFrontBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
