// Command chi is a go-chi server that caches some routes' responses with
// the hitbox httpcache middleware and not others: the middleware is added
// per route group with r.With, so GET /articles/{id} and /static/* are
// cached as their Cache-Control allows, PUT and DELETE on /articles pass
// through it and invalidate what it stored, and /now has no cache in front.
//
//	go run ./examples/chi                                # in-process store
//	go run ./examples/chi -redis 127.0.0.1:6379          # memory over Redis
//	curl -i localhost:8080/articles/1                    # Cache-Status: hitbox; fwd=uri-miss; fwd-status=200; stored; ttl=60
//	curl -i localhost:8080/articles/1                    # Cache-Status: hitbox; hit; ttl=59
//	curl -i -X PUT -d 'new text' localhost:8080/articles/1  # invalidates /articles/1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/store/memstore"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // -h: the usage was printed
		}
		fmt.Fprintln(os.Stderr, "chi:", err)
		os.Exit(2)
	}
}

// run serves until ctx is done, then shuts down: the server first, then
// the cache's background work, then the store. It prints "listening on
// ADDR" to stdout once it accepts connections.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address; port 0 picks a free port")
	redisAddr := fs.String("redis", "", "Redis address (host:port or redis:// URL) for a level under the in-process one")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	backend, closeStore, err := openStore(ctx, *redisAddr)
	if err != nil {
		return err
	}
	cache := httpcache.New(backend, httpcache.Options{Logger: logger})
	srv := &http.Server{
		Handler:           newRouter(cache, newArticles()),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return errors.Join(err, cache.Close(), closeStore())
	}
	fmt.Fprintf(stdout, "listening on %s\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(sctx)
		<-served // http.ErrServerClosed, now that Shutdown returned
	}
	return errors.Join(err, cache.Close(), closeStore())
}

// newRouter puts the cache on the read routes that benefit from it and
// leaves the others alone. The write routes go through the middleware too,
// so a PUT or DELETE invalidates what is stored for its URL (RFC 9111 §4.4).
func newRouter(cache *httpcache.Cache, a *articles) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)

	// Not cached: a clock must never be served from a cache.
	r.Get("/now", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintln(w, time.Now().UTC().Format(time.RFC3339Nano))
	})

	// Cached: the handlers say for how long with Cache-Control.
	r.With(cache.Middleware).Route("/articles", func(r chi.Router) {
		r.Get("/{id}", a.get)
		r.Put("/{id}", a.put)
		r.Delete("/{id}", a.delete)
	})
	r.With(cache.Middleware).Get("/static/*", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400, immutable")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = fmt.Fprintf(w, "static file %s\n", chi.URLParam(r, "*"))
	})
	return r
}

// articles stands in for a database; reads counts the reads that reached
// it, which the cache saves.
type articles struct {
	mu    sync.Mutex
	text  map[string]string
	reads int
}

func newArticles() *articles {
	return &articles{text: map[string]string{"1": "Caching is hard.", "2": "Invalidation is harder."}}
}

func (a *articles) get(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.reads++
	text, ok := a.text[chi.URLParam(r, "id")]
	a.mu.Unlock()
	if !ok {
		// Cached too (404 is cacheable by default), for a short while.
		w.Header().Set("Cache-Control", "max-age=10")
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "max-age=60")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintln(w, text)
}

func (a *articles) put(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	a.text[chi.URLParam(r, "id")] = strings.TrimSpace(string(b))
	a.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (a *articles) delete(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	delete(a.text, chi.URLParam(r, "id"))
	a.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// openStore returns the in-process store alone, or a tier of it over Redis
// when an address is given (the tier's Redis tracking bus keeps the memory
// level of every instance coherent).
func openStore(ctx context.Context, redisAddr string) (hitbox.Backend, func() error, error) {
	mem, err := memstore.New(memstore.Options{MaxBytes: 64 << 20})
	if err != nil {
		return nil, nil, err
	}
	if redisAddr == "" {
		return mem, mem.Close, nil
	}
	var opts *redis.Options
	if strings.Contains(redisAddr, "://") {
		if opts, err = redis.ParseURL(redisAddr); err != nil {
			_ = mem.Close()
			return nil, nil, fmt.Errorf("redis address %q: %w", redisAddr, err)
		}
	} else {
		opts = &redis.Options{Addr: redisAddr}
	}
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	const prefix = "hitbox-chi:"
	rs, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
	if err != nil {
		_ = client.Close()
		_ = mem.Close()
		return nil, nil, err
	}
	bus, err := redisstore.NewTrackingBus(client, prefix, redisstore.BusOptions{})
	if err != nil {
		_ = client.Close()
		_ = mem.Close()
		return nil, nil, err
	}
	t := tier.NewWith(tier.Options{Bus: bus, OwnWrites: time.Second, MaxTTL: []time.Duration{time.Minute}}, mem, rs)
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := bus.Ready(rctx); err != nil {
		err = fmt.Errorf("redis at %s: %w", opts.Addr, err)
		return nil, nil, errors.Join(err, t.Close(), bus.Close(), client.Close())
	}
	return t, func() error { return errors.Join(t.Close(), bus.Close(), client.Close()) }, nil
}
