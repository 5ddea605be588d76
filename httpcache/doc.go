// Package httpcache is an HTTP response cache (RFC 9111) as net/http
// middleware, over any hitbox pipeline: responses can be compressed, tiered
// across memory and Redis, measured and traced by the layers the pipeline
// has.
//
// With chi, on every route or on some:
//
//	r := chi.NewRouter()
//	cache := httpcache.New(store, httpcache.Options{})
//	defer cache.Close()
//	r.Use(cache.Middleware)
//
// A stale-while-revalidate refresh runs on the request's goroutine once
// the stale response is complete and flushed, while chi still holds the
// URL parameters it recycles when the request ends; Options.DetachedRefresh
// says when a goroutine of its own is safe instead.
//
// With the standard library, keeping the Cache to close it at shutdown:
//
//	cache := httpcache.New(store, httpcache.Options{CacheName: "edge"})
//	defer cache.Close()
//
// and cache.Middleware(mux) as the server's handler.
//
// Responses can be purged on request, by URL or by tag (surrogate keys).
// The tags of a response are read from its Surrogate-Key and Cache-Tag
// fields (Options.TagFields), stored with it and stripped from what
// clients see, as CDNs do. Cache.PurgeHandler purges; mount it where only
// operators reach it, behind your own authentication:
//
//	admin := http.NewServeMux()
//	admin.Handle("/purge", bearer("s3cret", cache.PurgeHandler()))
//
// Then POST /purge?url=https://example.com/page drops every stored variant
// of the page (200, or 404 when nothing was stored), and POST
// /purge?tag=product-7 (the parameter repeated for more tags) every
// response that carried the tag. Tags are kept only by a backend that is
// a hitbox.Tagger: over any other, responses are stored untagged and a
// purge by tag answers 501 Not Implemented. A response asked for before a
// purge is not stored after it.
//
// Responses go out with the header fields their handler set, on a miss
// and on every hit alike: net/http's Content-Type sniffing is turned off
// for them, so a handler whose responses have a body sets Content-Type.
//
// It is a shared cache by default (Options.Private gives private-cache
// semantics) and follows the RFCs rule by rule:
//
//   - what may be stored (RFC 9111 §3, §3.5, §5.2.2): GET responses with a
//     final status that is cacheable by default or made cacheable by
//     explicit freshness; never no-store, private (a qualified private only
//     drops the fields it names), responses to requests with Authorization
//     unless public, s-maxage or must-revalidate allow it, responses with
//     Set-Cookie unless Options.StoreSetCookie, or a 206 as if complete;
//     must-understand is honoured. A response to POST with explicit
//     freshness and a Content-Location naming the target URI is stored as
//     that URI's GET response (RFC 9110 §9.3.3; Options.NoStorePOST), once
//     its own invalidation is done and only if no other change to the URI
//     crossed the request. Header fields are kept as received,
//     repeated lines and their order included, minus hop-by-hop fields and
//     those Connection names (§3.1).
//   - freshness and age (§4.2): s-maxage, max-age, Expires minus Date, a
//     heuristic from Last-Modified, then Options.DefaultTTL; every response
//     from the cache carries a correct Age, and a Date when the origin sent
//     none.
//   - keys and variants (§4.1): the target URI (see Options.Key,
//     IgnoreHost, IgnoreQuery and KeyQuery); a varying response is stored
//     per normalised value of the request fields its Vary names, and many
//     variants of one URI coexist.
//   - request directives (§5.2.1): max-age, max-stale, min-fresh,
//     no-cache, no-store, only-if-cached (504 when nothing usable is
//     stored), and Pragma: no-cache without Cache-Control.
//   - validation (§4.3): a stale response with validators is revalidated
//     with If-None-Match and If-Modified-Since; a 304 updates the stored
//     fields and the stored body answers. Clients' own conditional requests
//     are answered 304 from the cache, and a HEAD response freshens (or
//     invalidates) a stored GET response.
//   - invalidation (§4.4): a success to an unsafe method removes what is
//     stored for its target URI and its same-origin Location and
//     Content-Location, through every level of the pipeline. A response
//     asked for before the invalidation and arriving after it is not
//     stored (see Consistency below).
//   - stale content (RFC 5861): stale-while-revalidate serves at once and
//     then refreshes, once per key, after the client has the whole
//     response; Close lets running refreshes finish for
//     Options.DrainTimeout before it cancels them. stale-if-error answers a
//     5xx, a handler panic or an unreachable origin (a reverse proxy's 502)
//     with the stale response; Options give windows for origins that send
//     neither, and must-revalidate and proxy-revalidate forbid both.
//   - ranges (RFC 9110 §14) and partial content (RFC 9111 §3.3, §3.4):
//     Range and If-Range are answered from a stored complete response. A
//     206 to a range request, holding one range of a representation of
//     known length, is stored as that part (never over a complete
//     response) and answers, while fresh, the ranges inside it; anything
//     else is a miss with fwd=partial. Parts with one strong validator
//     that touch are combined, into the complete response once they cover
//     it.
//   - targeted fields (RFC 9213): CDN-Cache-Control (Options.TargetField)
//     takes precedence over Cache-Control and Expires, and is not sent on.
//   - Cache-Status (RFC 9211) on every response: hit, fwd, fwd-status,
//     stored, collapsed, ttl, key on request, and a detail naming the level
//     of the pipeline that answered or the backend failure. It goes out
//     with the header, so "stored" is the intent decided from the status
//     and header fields: a body that then outgrows Options.MaxBodySize
//     without a Content-Length saying so, or is cut short, is not stored
//     all the same; so is one whose store the backend refused
//     (detail="lease-lost", on the request's span; in the response itself
//     when the store comes before the header, as for a 304). A 504 for
//     only-if-cached, made by the cache from no stored response, carries
//     none (RFC 9211 §2).
//
// # Consistency
//
// A response whose request began before a change to its URI (an
// invalidation by an unsafe method, a purge of the URL or of one of its
// tags, a Remove) is never served after the change returned. On the
// instance that made the change, every backend: the change marks the URI
// (or, for a purge by tag, every URI) and a request in flight stores
// nothing, or takes back what it wrote. On every other instance sharing
// the backend, when it is a hitbox.Leaser: a request that goes to the
// handler first takes a lease on its URI's key, one Lease call, and its
// store goes through it, so the backend refuses it once any change to the
// key crossed it. A purge by tag is in the lease only for the tags of the
// stored response being validated or refreshed (a new response's tags are
// known only when it arrives). Over a backend without leases, a response
// that another instance asked for before the change and stores after it
// lives until it expires. The package keeps no local copies of its own
// and subscribes to no bus: the pipeline's tiers keep theirs coherent.
//
// Concurrent misses for one URI make one handler call; the other requests
// wait, each bounded by its own context. Whether they can share the
// response is decided at its header: when it may not be stored (no-store,
// private, a Content-Length over Options.MaxBodySize, a status the cache
// keeps nothing of), they are released to the handler at once, and so are
// they when a body without a length outgrows the cap as it streams; a
// response that never ends (server-sent events, a long poll) thus holds no
// one. Those that can share it get it when it is stored, if their request
// matches its Vary. The first request's handler call outlives its client
// while others wait (for Options.RevalidateTimeout at most), so a client
// that leaves does not send every waiter to the origin. Responses stream
// to the client while they are stored; a body over Options.MaxBodySize
// streams on unstored, and a response cut short (a handler panic, a
// cancelled request, a body shorter than its Content-Length) is never
// stored; one whose client left after its last byte is. A response with a
// Content-Length is stored as its last byte is written, before the client
// has it (a backend write on a miss's last bytes), so a client that asks
// again at once, on any connection, finds it. The writer the handler sees keeps http.Flusher, http.Hijacker,
// io.ReaderFrom and http.ResponseController working, and passes 1xx
// interim responses through.
//
// # Security
//
// A shared cache must never let one client's request shape what another
// is served, nor one user's data reach another. By default:
//
//   - What is keyed: the target URI as the client sent it (scheme, Host
//     in lower case without its default port, path and query as sent:
//     dot segments, %2F and %2e are not merged, nor /x? with /x, since the
//     origin gets them as different bytes) and the request fields a
//     response's Vary names. Nothing else. A path not in URI syntax (raw
//     UTF-8 "/é") has no one spelling at the origin (a proxy's client
//     encodes it, a handler may read it raw): it is neither answered from
//     nor stored, and an unsafe request to it invalidates its encoded
//     form.
//   - Unkeyed fields that rewrite a request: a GET or HEAD carrying one of
//     Options.BypassFields (DefaultBypassFields: X-Original-URL,
//     X-Rewrite-URL, X-HTTP-Method-Override, X-Forwarded-Host and kin) is
//     passed to the handler as it came and neither answered from nor
//     stored: an origin that honoured one would have its answer for
//     another URL stored under this one. A proxy that strips them before
//     the cache (examples/proxy does) caches such requests as plain ones.
//   - Request content: a GET or HEAD with a body passes by unstored
//     (Options.StoreRequestBody), since the body is not in the key.
//   - Credentials: a response to a request with Cookie is stored only when
//     marked public or s-maxage (Options.StoreCookieRequests lifts that);
//     one to a request with Cookie or Authorization never on a lifetime the
//     cache would guess (heuristic, Options.DefaultTTL), only on one the
//     origin sent, which is what web cache deception (a session's
//     /account/x.css) relies on. Set-Cookie responses are not stored
//     (Options.StoreSetCookie), nor private ones.
//   - Limits: what would not read back is not written (more than 4095
//     header fields, more than 256 Vary names), with Cache-Status saying
//     why; bodies over Options.MaxBodySize stream unstored; a key over 256
//     bytes (a long URL) is cut and given the SHA-256 of the whole, and the
//     full key is kept in the stored form and compared on every read, so a
//     collision is a miss.
//   - Upstream faults: a status outside 100-599 from the handler becomes a
//     502 of the cache's own (logged once), and upstream Cache-Status
//     members that do not parse are dropped (counted), so clients keep the
//     well-formed ones and this cache's.
//
// Request framing (Content-Length with Transfer-Encoding, smuggling) is
// the server's to refuse before the middleware runs: net/http hides the
// conflict from handlers. examples/proxy shows one way.
//
// A failing pipeline (Redis down) never becomes the user's error: the
// request goes to the handler as on a miss, and Cache-Status names the
// failure. The package counts requests by result through the OpenTelemetry
// metric API and puts its Cache-Status member on the request's span; it
// imports no SDK.
package httpcache
