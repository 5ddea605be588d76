// Command otel serves users from a cache that OpenTelemetry traces and
// measures: each request reads through a pipeline of the hitbox Trace and
// Metrics layers over an in-memory store. Spans are printed to stdout;
// metrics are served in the Prometheus format on /metrics, through the
// OpenTelemetry Prometheus exporter.
//
//	go run ./examples/otel -addr 127.0.0.1:8080
//	curl localhost:8080/users/1   # a miss: loaded, then stored
//	curl localhost:8080/users/1   # a hit
//	curl localhost:8080/metrics   # hitbox_operations_total{hitbox_result="hit",...} 1
//
// The listen address comes from -addr, else from $ADDR, else
// 127.0.0.1:8080; port 0 picks a free port. The bound address is printed
// first. Ctrl-C shuts the server down gracefully.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
	"github.com/hitbox-go/hitbox/store/memstore"
)

func main() {
	def := os.Getenv("ADDR")
	if def == "" {
		def = "127.0.0.1:8080"
	}
	addr := flag.String("addr", def, "listen address (default from $ADDR)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "listening on http://%s\n", ln.Addr())
	if err := run(ctx, ln, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// User is what the server caches.
type User struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// users stands in for a database.
var users = map[int64]string{1: "Ada", 2: "Grace", 3: "Barbara"}

var errNotFound = errors.New("no such user")

// run serves on ln until ctx is done, then shuts down gracefully: it stops
// taking requests, waits for those in flight, and flushes the telemetry.
// Spans are written to traces as JSON, one object per span.
func run(ctx context.Context, ln net.Listener, traces io.Writer) error {
	// Traces: printed as each span ends. A real service would use
	// sdktrace.WithBatcher and an OTLP exporter.
	exp, err := stdouttrace.New(stdouttrace.WithWriter(traces))
	if err != nil {
		return err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))

	// Metrics: the Prometheus exporter is a reader of the SDK; it
	// registers with a registry of our own, which /metrics serves.
	reg := prometheus.NewRegistry()
	pexp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(pexp))

	store, err := memstore.New(memstore.Options{MaxBytes: 16 << 20})
	if err != nil {
		return err
	}
	// The providers are passed in here; after otel.SetTracerProvider and
	// otel.SetMeterProvider, hitboxotel.Trace() and hitboxotel.Metrics()
	// with no options would use them.
	pipeline := hitbox.Chain(
		hitboxotel.Trace(hitboxotel.WithTracerProvider(tp)),
		hitboxotel.Metrics(hitboxotel.WithMeterProvider(mp)),
	).Then(reporting{store})
	cache := cache.New[User](pipeline, cache.Options{TTL: time.Minute})

	r := chi.NewRouter()
	r.Get("/users/{id}", userHandler(cache, tp.Tracer("hitbox/examples/otel")))
	r.Method(http.MethodGet, "/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(shutdownCtx)
		<-served // http.ErrServerClosed, now that Shutdown returned
	}
	return errors.Join(err,
		cache.Close(),
		hitbox.Close(pipeline),
		tp.Shutdown(context.WithoutCancel(ctx)),
		mp.Shutdown(context.WithoutCancel(ctx)),
	)
}

// userHandler answers GET /users/{id} from the cache, loading from the
// database on a miss. It starts the request's span (otelhttp would do it
// in a real service), so the cache's spans are its children.
func userHandler(cache *cache.Cache[User], tracer trace.Tracer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tracer.Start(r.Context(), "GET /users/{id}", trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()

		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			http.Error(w, "bad user id", http.StatusBadRequest)
			return
		}
		span.SetAttributes(attribute.Int64("user.id", id))
		key := hitbox.NewKey("users").WithInt("id", id).String()
		u, err := cache.GetOrLoad(ctx, key, func(context.Context) (User, error) {
			name, ok := users[id]
			if !ok {
				return User{}, errNotFound
			}
			return User{ID: id, Name: name}, nil
		})
		switch {
		case errors.Is(err, errNotFound):
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		case err != nil:
			span.SetStatus(codes.Error, err.Error())
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(u)
	}
}

// reporting publishes the memory store's figures as hitbox.entries and
// hitbox.memory.allocated through the Metrics layer above it, which looks
// for a hitboxotel.Reporter under it. Embedding keeps every ability of the
// store.
type reporting struct{ *memstore.Store }

func (s reporting) ReportStats(report func(hitbox.Stat)) {
	st := s.Stats()
	report(hitbox.Stat{Name: "entries", Unit: "{entry}", Value: int64(st.Entries)})
	report(hitbox.Stat{Name: "memory.allocated", Unit: "By", Value: int64(st.Allocated)})
}
