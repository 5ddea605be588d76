package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
	hitboxotel "github.com/hitbox-go/hitbox/otel"
)

// User is the typed value the tour caches.
type User struct {
	ID    int64    `json:"id" cbor:"1,keyasint"`
	Name  string   `json:"name" cbor:"2,keyasint"`
	Email string   `json:"email" cbor:"3,keyasint"`
	Roles []string `json:"roles" cbor:"4,keyasint"`
}

// typedValues stores and reads Users through the card's pipeline and
// prints each operation's outcome, which level answered, and its cost.
func typedValues(ctx context.Context, w io.Writer, st *store) error {
	// The tour reads its own metrics back; a service would export them.
	reader := sdkmetric.NewManualReader()
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = meters.Shutdown(context.Background()) }()

	pipeline := hitbox.Chain(
		hitboxotel.Metrics(hitboxotel.WithMeterProvider(meters)),
		layer.Compress(codec.Zstd()),
		layer.Encode(),
	).Then(st.backend)
	users := cache.New[User](pipeline, cache.Options{
		Format:   codec.CBOR(),
		TTL:      time.Minute,
		StaleFor: 10 * time.Second,
	})
	defer users.Close()
	fmt.Fprintf(w, "pipeline: Metrics → Compress(zstd) → Encode → %s\n\n", st.label)

	key := func(id int64) string { return hitbox.NewKey("users").Version(1).WithInt("id", id).String() }
	ada := User{ID: 1, Name: "Ada Lovelace", Email: "ada@example.com", Roles: []string{"admin"}}

	// get reads key and reports the value, its state and the level that
	// answered it.
	get := func(id int64) error {
		tctx, src := hitbox.TrackAnswer(ctx)
		start := time.Now()
		u, state, err := users.Lookup(tctx, key(id))
		d := time.Since(start)
		switch {
		case errors.Is(err, hitbox.ErrMiss):
			line(w, "get", key(id), "miss", d)
		case err != nil:
			return err
		default:
			from := st.label
			if src.Found() {
				from = src.Path()
			}
			line(w, "get", key(id), fmt.Sprintf("%s from %s: %s", state, from, u.Name), d)
		}
		return nil
	}

	fmt.Fprintln(w, "typed values (Cache[User], CBOR, TTL 1m, stale window 10s)")
	start := time.Now()
	if err := users.Set(ctx, key(1), ada); err != nil {
		return err
	}
	line(w, "set", key(1), ada.Name, time.Since(start))
	if err := get(1); err != nil {
		return err
	}
	if st.remote {
		// As if this instance had just started, or L1 had evicted the
		// value: L2 answers and the tier copies the value back up.
		if err := st.l1.Delete(ctx, key(1)); err != nil {
			return err
		}
		line(w, "evict", key(1), "dropped from L1 only", 0)
		if err := get(1); err != nil {
			return err
		}
		if err := get(1); err != nil {
			return err
		}
	}
	if err := get(404); err != nil {
		return err
	}

	// Eight callers ask for the same absent user at once: one load runs,
	// all eight get its answer.
	var loads atomic.Int32
	load := func(ctx context.Context) (User, error) {
		loads.Add(1)
		time.Sleep(20 * time.Millisecond) // a slow database
		return User{ID: 2, Name: "Grace Hopper", Email: "grace@example.com"}, nil
	}
	const callers = 8
	var wg sync.WaitGroup
	answers := make(chan string, callers)
	start = time.Now()
	for range callers {
		wg.Go(func() {
			u, err := users.GetOrLoad(ctx, key(2), load)
			if err != nil {
				answers <- "error: " + err.Error()
				return
			}
			answers <- u.Name
		})
	}
	wg.Wait()
	close(answers)
	same := 0
	for a := range answers {
		if a == "Grace Hopper" {
			same++
		}
	}
	line(w, "load", key(2), fmt.Sprintf("%d callers, %d load, %d same answers", callers, loads.Load(), same), time.Since(start))
	if err := get(2); err != nil {
		return err
	}

	start = time.Now()
	if err := users.Delete(ctx, key(1)); err != nil {
		return err
	}
	line(w, "delete", key(1), "gone from every level", time.Since(start))
	if err := get(1); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nwhat the Metrics layer counted (hitbox.operations):")
	counts, err := operationCounts(ctx, reader)
	if err != nil {
		return err
	}
	for _, c := range counts {
		fmt.Fprintf(w, "  %s\n", c)
	}
	fmt.Fprintln(w)
	return nil
}

// operationCounts reads the hitbox.operations counter from reader, one
// line per operation and result.
func operationCounts(ctx context.Context, reader *sdkmetric.ManualReader) ([]string, error) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		return nil, err
	}
	var out []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok || m.Name != "hitbox.operations" {
				continue
			}
			for _, p := range sum.DataPoints {
				op, _ := p.Attributes.Value(hitboxotel.OperationKey)
				res, _ := p.Attributes.Value(hitboxotel.ResultKey)
				out = append(out, fmt.Sprintf("%-8s %-6s %d", op.AsString(), res.AsString(), p.Value))
			}
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, errors.New("the Metrics layer counted nothing")
	}
	return out, nil
}

func line(w io.Writer, op, key, what string, d time.Duration) {
	took := ""
	if d > 0 {
		took = d.Round(100 * time.Nanosecond).String()
	}
	fmt.Fprintf(w, "  %-6s %-18s %-50s %9s\n", op, key, strings.TrimSpace(what), took)
}
