// Command proxy is a caching reverse proxy: an httputil.ReverseProxy to one
// origin behind the hitbox httpcache middleware, which stores responses as
// RFC 9111 lets a shared cache, over an in-process store or a tier of it
// over Redis.
//
//	go run ./examples/proxy -origin http://127.0.0.1:8000 -listen 127.0.0.1:8080
//	HITBOX_ADMIN_TOKEN=... go run ./examples/proxy -origin http://127.0.0.1:8000 -memory 1GiB -redis 127.0.0.1:6379 -admin 127.0.0.1:9090
//
// Every method and header field is forwarded but the rewriting fields
// -strip-fields names (X-Original-URL and kin, which the cache does not
// key); a request framed by both Content-Length and Transfer-Encoding is
// refused and its connection closed. Responses to unsafe methods
// (POST, PUT, DELETE, ...) pass through and invalidate what the cache holds
// for their target. Each request is logged through slog on stderr with its
// Cache-Status. With -admin, a separate listener serves Prometheus metrics
// on /metrics and the cache's purge handler on /purge (by URL, or by the
// tags origins send in Surrogate-Key or Cache-Tag), the latter behind a
// bearer token: -admin-token or $HITBOX_ADMIN_TOKEN. The same token guards
// GET /cache and /cache/stats (admin.go), what the cache holds for a URL
// and its Cache-Status counts, which cmd/hitbox reads. SIGINT or SIGTERM
// shut it down gracefully.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/httpcache"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // -h: the usage was printed
		}
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(2)
	}
}

// config is what the command line sets.
type config struct {
	origin        *url.URL
	listen        string
	admin         string
	adminToken    string
	memory        int64
	redis         string
	name          string
	quiet         bool
	staleIfError  time.Duration
	staleRevalid  time.Duration
	storeCookies  bool
	stripFields   []string
	forwardCDNCC  bool
	originTimeout time.Duration
	headerTimeout time.Duration
	shutdown      time.Duration
	tuning        *tuning
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: proxy -origin URL [-listen ADDR] [-memory SIZE] [-redis ADDR] [-admin ADDR -admin-token TOKEN]")
		fs.PrintDefaults()
	}
	var (
		cfg    config
		origin string
		memory string
		strip  string
	)
	fs.StringVar(&origin, "origin", "", "origin server URL, such as http://127.0.0.1:8000 (required)")
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address to serve on; port 0 picks a free port")
	fs.StringVar(&cfg.admin, "admin", "", "address of a separate listener for Prometheus /metrics and POST /purge; none when empty")
	fs.StringVar(&cfg.adminToken, "admin-token", "", "bearer token that POST /purge on the admin listener requires ("+minTokenLen+" characters or more); $"+tokenEnv+" when not given, which keeps it out of the process list")
	fs.StringVar(&memory, "memory", "256MiB", "in-process cache size (KiB, MiB, GiB)")
	fs.StringVar(&cfg.redis, "redis", "", "Redis address (host:port or redis:// URL) for a shared level under the in-process one")
	fs.StringVar(&cfg.name, "name", "hitbox", "this cache's name in Cache-Status and Via")
	fs.BoolVar(&cfg.quiet, "quiet", false, "do not log each request")
	fs.DurationVar(&cfg.staleIfError, "stale-if-error", 0, "serve a stored response this long past its freshness when the origin fails or cannot be reached, for responses that say nothing (RFC 5861)")
	fs.DurationVar(&cfg.staleRevalid, "stale-while-revalidate", 0, "serve a stored response this long past its freshness while it is refreshed in the background, for responses that say nothing (RFC 5861)")
	fs.BoolVar(&cfg.storeCookies, "store-set-cookie", false, "store responses that carry Set-Cookie (by default they pass through unstored, so no user's cookie reaches another)")
	fs.StringVar(&strip, "strip-fields", strings.Join(httpcache.DefaultBypassFields(), ","), "comma-separated request fields removed before the cache and the origin see a request: those frameworks honour to answer for another URL, method, host or scheme, which the cache does not key; empty keeps them (the cache then passes such requests by)")
	fs.BoolVar(&cfg.forwardCDNCC, "forward-cdn-cache-control", true, "pass CDN-Cache-Control on to clients, for CDN caches further downstream, as RFC 9213 §3.1 says CDN caches typically do; =false removes it")
	fs.DurationVar(&cfg.originTimeout, "origin-timeout", time.Minute, "how long to wait for the origin's response header")
	fs.DurationVar(&cfg.headerTimeout, "header-timeout", 10*time.Second, "how long a client gets to send its request header; a client that trickles it (slowloris) is cut off then, before the cache and the origin see anything")
	fs.DurationVar(&cfg.shutdown, "shutdown-timeout", 10*time.Second, "how long shutdown waits for requests in flight")
	cfg.tuning = tuningFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if origin == "" {
		return cfg, errors.New("-origin is required, such as -origin http://127.0.0.1:8000")
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return cfg, fmt.Errorf("-origin %q: want an http:// or https:// URL with a host", origin)
	}
	cfg.origin = u
	var ok bool
	if cfg.stripFields, ok = parseFieldList(strip); !ok {
		return cfg, fmt.Errorf("-strip-fields %q: want field names separated by commas", strip)
	}
	if cfg.memory, err = parseSize(memory); err != nil {
		return cfg, fmt.Errorf("-memory: %w", err)
	}
	if cfg.memory < 1<<20 {
		return cfg, fmt.Errorf("-memory %s: at least 1MiB", memory)
	}
	if cfg.staleIfError < 0 || cfg.staleRevalid < 0 || cfg.originTimeout <= 0 || cfg.headerTimeout <= 0 || cfg.shutdown < 0 {
		return cfg, errors.New("durations must not be negative, and -origin-timeout and -header-timeout must be positive")
	}
	if cfg.adminToken == "" {
		cfg.adminToken = os.Getenv(tokenEnv)
	}
	if cfg.admin != "" {
		switch {
		case cfg.adminToken == "":
			return cfg, errors.New("-admin serves POST /purge, which needs a token: set $" + tokenEnv + " (or -admin-token) to a secret of " + minTokenLen + " characters or more")
		case len(cfg.adminToken) < minTokenBytes:
			return cfg, errors.New("the admin token is too short: " + minTokenLen + " characters or more")
		}
	}
	if !validToken(cfg.name) {
		return cfg, fmt.Errorf("-name %q: want a token (letters, digits, . _ -)", cfg.name)
	}
	return cfg, nil
}

// run serves the proxy until ctx is done, then shuts down: the servers
// stop taking requests and wait for those in flight, then the cache stops
// its background refreshes, then the store closes. It prints "listening on
// ADDR" (and "admin listening on ADDR") to stdout once it accepts
// connections, so a caller that asked for port 0 learns the address.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	stopTuning, err := cfg.tuning.apply(stdout, cfg.memory)
	if err != nil {
		return err
	}
	defer stopTuning()

	// Metrics: the OpenTelemetry Prometheus exporter is a reader of the
	// SDK's meter provider and registers with our own registry, which the
	// admin listener serves. Without -admin nothing is measured.
	var (
		mp       metric.MeterProvider = noop.NewMeterProvider()
		sdkMP    *sdkmetric.MeterProvider
		registry *prometheus.Registry
	)
	if cfg.admin != "" {
		registry = prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(registry))
		if err != nil {
			return err
		}
		sdkMP = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
		mp = sdkMP
	}

	st, err := openStorage(ctx, cfg.memory, cfg.redis)
	if err != nil {
		return shutdownMetrics(sdkMP, err)
	}
	pipeline := st.backend
	if sdkMP != nil {
		// Store operations (hits, misses, bytes, durations) by level.
		pipeline = hitbox.Chain(hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp))).Then(st.backend)
	}
	cache := httpcache.New(pipeline, httpcache.Options{
		CacheName:            cfg.name,
		StaleIfError:         cfg.staleIfError,
		StaleWhileRevalidate: cfg.staleRevalid,
		StoreSetCookie:       cfg.storeCookies,
		ForwardTargetField:   cfg.forwardCDNCC,
		// The reverse proxy reads nothing a router recycles when the
		// request ends, so stale-while-revalidate refreshes can run on a
		// goroutine of their own and leave the connection free at once.
		DetachedRefresh: true,
		// Refreshes still running at shutdown get a share of its budget.
		DrainTimeout: cfg.shutdown / 2,
		MaxBodySize:  st.maxValue - 64<<10, // room for the stored header fields
		// The hot responses decoded in front of the store: an eighth of
		// the store (the library's 16 MiB at least), so some ten thousand
		// 1 KiB responses are answered without decoding.
		FrontBytes:    max(16<<20, cfg.memory/8),
		Logger:        logger,
		MeterProvider: mp,
	})

	transport := newDirectTransport(originTransport(cfg.originTimeout)) // direct.go
	counts := newCacheStats(cfg.name)                                   // for the admin listener's GET /cache/stats
	handler := counts.count(cache.Middleware(newReverseProxy(cfg.origin, transport, cfg.name, logger)))
	handler = refuseAmbiguous(stripFields(cfg.stripFields, handler))
	if !cfg.quiet {
		handler = logRequests(logger, handler)
	}
	srv := &http.Server{
		Handler: handler,
		// A client gets this long to send its header fields; the body may
		// take longer (uploads), bounded by ReadTimeout.
		ReadHeaderTimeout: cfg.headerTimeout,
		ReadTimeout:       5 * time.Minute,
		// No WriteTimeout: a response streams from the origin for as long
		// as the origin keeps sending; the transport bounds the wait for
		// its header.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// Each connection's requests are followed as they arrive, so
		// refuseAmbiguous learns which had both Content-Length and
		// Transfer-Encoding, which net/http does not tell a handler.
		ConnContext: framingContext,
	}
	closeAll := func(err error) error {
		// The cache first: background refreshes still use the transport
		// and the store; then the connections they left idle.
		err = errors.Join(err, cache.Close())
		transport.CloseIdleConnections()
		return shutdownMetrics(sdkMP, errors.Join(err, st.close()))
	}

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return closeAll(err)
	}
	var (
		adminSrv *http.Server
		adminLn  net.Listener
	)
	if cfg.admin != "" {
		if adminLn, err = net.Listen("tcp", cfg.admin); err != nil {
			_ = ln.Close()
			return closeAll(err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
		mux.Handle("/purge", requireToken(cfg.adminToken, cache.PurgeHandler()))
		mux.Handle("GET /cache", requireToken(cfg.adminToken, cacheView(cache, st.keys))) // admin.go
		mux.Handle("GET /cache/stats", requireToken(cfg.adminToken, counts))
		adminSrv = &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
	}

	served := make(chan error, 2)
	go func() { served <- srv.Serve(framingListener{ln}) }()
	servers := 1
	if adminSrv != nil {
		go func() { served <- adminSrv.Serve(adminLn) }()
		servers++
	}
	logger.Info("proxy started", "origin", cfg.origin.String(), "listen", ln.Addr().String(), "store", st.describe)
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())
	if adminLn != nil {
		fmt.Fprintf(stdout, "admin listening on %s\n", adminLn.Addr())
	}

	var serveErr error
	select {
	case serveErr = <-served: // a listener failed: shut the rest down too
		servers--
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdown)
	defer cancel()
	errs := []error{serveErr, srv.Shutdown(sctx)}
	if adminSrv != nil {
		errs = append(errs, adminSrv.Shutdown(sctx))
	}
	for ; servers > 0; servers-- {
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		errs[0] = nil
	}
	return closeAll(errors.Join(errs...))
}

func shutdownMetrics(mp *sdkmetric.MeterProvider, err error) error {
	if mp == nil {
		return err
	}
	return errors.Join(err, mp.Shutdown(context.Background()))
}

// The admin token: its environment variable and its least length.
const (
	tokenEnv      = "HITBOX_ADMIN_TOKEN"
	minTokenBytes = 16
	minTokenLen   = "16"
)

// requireToken lets through only the requests that carry token as a
// bearer token (RFC 6750), and answers the others 401. The comparison is
// of SHA-256 sums in constant time, so neither the token's bytes nor its
// length leak through timing.
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, got, _ := strings.Cut(auth, " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hitbox-proxy admin"`)
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originTransport keeps HTTP/1.1 connections to the origin alive and
// reuses them. It forwards Accept-Encoding untouched: the default
// transport's transparent gzip would hand clients (and the cache) a body
// other than the origin's.
//
// Its connections are codingConns, so that responses with transfer
// codings other than a lone chunked reach the client decoded rather than
// as a 502; over TLS the codingConn is above the TLS layer, where the
// HTTP bytes are.
func originTransport(headerTimeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:       nil, // the origin is reached directly, whatever $HTTP_PROXY says
		DialContext: dialCoding(dialer.DialContext),
		DialTLSContext: dialCoding(func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			host, _, _ := net.SplitHostPort(addr)
			tc := tls.Client(raw, &tls.Config{ServerName: host, NextProtos: []string{"http/1.1"}})
			hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := tc.HandshakeContext(hctx); err != nil {
				_ = raw.Close()
				return nil, err
			}
			return tc, nil
		}),
		MaxIdleConns:           512,
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		ResponseHeaderTimeout:  headerTimeout,
		MaxResponseHeaderBytes: originMaxHeader,
		DisableCompression:     true,
		// A non-nil empty map keeps TLS origins on HTTP/1.1 as well.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}

// originMaxHeader bounds the bytes of an origin's response header, as
// net/http's transport does by default.
const originMaxHeader = 10 << 20

// newDirectTransport sends the requests it can itself (direct.go) and the
// others through next, with next's dialer, timeouts and limits.
func newDirectTransport(next *http.Transport) *directTransport {
	t := &directTransport{
		next:          next,
		headerTimeout: next.ResponseHeaderTimeout,
		idleTimeout:   next.IdleConnTimeout,
		maxIdle:       next.MaxIdleConnsPerHost,
		maxHeader:     next.MaxResponseHeaderBytes,
	}
	// Zeros mean net/http's defaults.
	if t.maxIdle <= 0 {
		t.maxIdle = http.DefaultMaxIdleConnsPerHost
	}
	if t.maxHeader <= 0 {
		t.maxHeader = 10 << 20
	}
	if canPeek {
		t.dial = next.DialContext
	}
	return t
}

// newReverseProxy forwards every request to origin. It adds this proxy to
// Via on the request it forwards and on the response it returns (RFC 9110
// §7.6.3), after what earlier hops wrote.
func newReverseProxy(origin *url.URL, transport http.RoundTripper, name string, logger *slog.Logger) *httputil.ReverseProxy {
	via11 := viaEntry(1, 1, name) // the common case, rendered once
	via := func(major, minor int) string {
		if major == 1 && minor == 1 {
			return via11
		}
		return viaEntry(major, minor, name)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(origin)
			pr.SetXForwarded()
			// Rewrite runs after ReverseProxy removed hop-by-hop fields;
			// Via is end-to-end and the inbound lines are still there.
			pr.Out.Header.Add("Via", via(pr.In.ProtoMajor, pr.In.ProtoMinor))
		},
		Transport: transport,
		ModifyResponse: func(resp *http.Response) error {
			decodeTransfer(resp)
			resp.Header.Add("Via", via(resp.ProtoMajor, resp.ProtoMinor))
			rewriteLocations(resp, origin)
			return nil
		},
		// Copy buffers are reused rather than allocated per response.
		BufferPool: copyBuffers{},
		// 0: a response of unknown length (chunked, or to the close) or an
		// event stream is flushed after each write, so it reaches the
		// client (and the cache) as it comes; one with a Content-Length
		// goes out as the connection's buffers fill and when it ends, as
		// nginx's proxy_buffering sends it, without a latency writer and
		// its three allocations per response.
		FlushInterval: 0,
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status := http.StatusBadGateway
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				status = http.StatusGatewayTimeout
			}
			if r.Context().Err() == nil {
				logger.Warn("origin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, http.StatusText(status)+"\n")
		},
	}
}

// copyBuffers is the reverse proxy's httputil.BufferPool: the 32 KiB
// buffers a response body is copied through, kept in a sync.Pool.
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (copyBuffers) Get() []byte  { return *copyBufferPool.Get().(*[]byte) }
func (copyBuffers) Put(b []byte) { copyBufferPool.Put(&b) }

// rewriteLocations points absolute Location and Content-Location URLs on
// the origin back at this proxy, as the client addressed it (as nginx's
// proxy_redirect does by default): redirects then stay on the proxy, and
// the cache can invalidate the URIs they name after an unsafe request,
// which RFC 9111 §4.4 allows only within the request's own origin.
func rewriteLocations(resp *http.Response, origin *url.URL) {
	if resp.Request == nil {
		return
	}
	host := resp.Request.Header.Get("X-Forwarded-Host")
	proto := resp.Request.Header.Get("X-Forwarded-Proto")
	if host == "" || proto == "" {
		return
	}
	for _, name := range []string{"Location", "Content-Location"} {
		v := resp.Header.Get(name)
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || !u.IsAbs() || canonicalHost(u) != canonicalHost(origin) {
			continue
		}
		u.Scheme, u.Host = proto, host
		resp.Header.Set(name, u.String())
	}
}

// canonicalHost is scheme://host:port in lower case, with the scheme's
// default port written out, so equal origins compare equal.
func canonicalHost(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// viaEntry is one Via member: the protocol the message was received with
// ("1.1", or "2" for HTTP/2: the name is omitted for HTTP) and this
// proxy's pseudonym.
func viaEntry(major, minor int, name string) string {
	if major >= 2 {
		return strconv.Itoa(major) + " " + name
	}
	return strconv.Itoa(major) + "." + strconv.Itoa(minor) + " " + name
}

// validToken accepts names that are both a Via pseudonym (an RFC 9110
// token) and a Cache-Status member (an sf-token, which starts with a
// letter).
func validToken(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
