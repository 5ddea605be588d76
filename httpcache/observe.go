package httpcache

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
)

// result is how the cache answered one request, the attribute of the
// request counter.
type result uint8

const (
	resNone        result = iota
	resHit                // fresh stored response
	resStale              // stale stored response (stale-while-revalidate, max-stale, stale-if-error)
	resRevalidated        // stored response validated with the origin (304)
	resCollapsed          // another request's response, shared
	resMiss               // the handler's response
	resBypass             // not a request the cache answers (method, upgrade)
	nResults
)

var resultNames = [nResults]string{"", "hit", "stale", "revalidated", "collapsed", "miss", "bypass"}

// Names of the instruments and attributes, for dashboards.
const (
	// RequestsName is the counter of requests through the middleware, by
	// result: hit, stale, revalidated, collapsed, miss or bypass.
	RequestsName = "hitbox.http.requests"
	// FaultsName is the counter of backend failures the cache absorbed.
	FaultsName = "hitbox.http.backend_faults"
	// DroppedStatusName is the counter of upstream Cache-Status members
	// that did not parse and were dropped (RFC 9211 §2, RFC 8941 §4.2).
	DroppedStatusName = "hitbox.http.upstream_cache_status_dropped"
	// CacheStatusAttr is the request span attribute that receives this
	// cache's Cache-Status member (OpenTelemetry's form for a response
	// header field).
	CacheStatusAttr = "http.response.header.cache-status"

	scope = "github.com/hitbox-go/hitbox/httpcache"
)

// observer counts requests by result and puts Cache-Status on the span.
type observer struct {
	off      bool
	requests metric.Int64Counter
	faults   metric.Int64Counter
	dropped  metric.Int64Counter
	byResult [nResults][]metric.AddOption // one option each, built once: Add allocates nothing
	tracer   trace.Tracer
}

func newObserver(opts Options) observer {
	mp := opts.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	tp := opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	meter := mp.Meter(scope)
	o := observer{tracer: tp.Tracer(scope)}
	_, o.off = meter.(noop.Meter)
	var err error
	if o.requests, err = meter.Int64Counter(RequestsName,
		metric.WithUnit("{request}"),
		metric.WithDescription("HTTP requests through the cache middleware, by result."),
	); err != nil {
		otel.Handle(err)
	}
	if o.faults, err = meter.Int64Counter(FaultsName,
		metric.WithUnit("{fault}"),
		metric.WithDescription("Backend failures the HTTP cache absorbed (the request went on as a miss)."),
	); err != nil {
		otel.Handle(err)
	}
	if o.dropped, err = meter.Int64Counter(DroppedStatusName,
		metric.WithUnit("{member}"),
		metric.WithDescription("Upstream Cache-Status members that did not parse, dropped from responses."),
	); err != nil {
		otel.Handle(err)
	}
	if o.requests == nil || o.faults == nil || o.dropped == nil {
		o.off = true
	}
	for i := resHit; i < nResults; i++ {
		o.byResult[i] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("result", resultNames[i])))}
	}
	return o
}

// record counts one request and sets the Cache-Status attribute on the
// request's span, when it records.
func (o *observer) record(ctx context.Context, res result, cacheStatus string) {
	if res == resNone {
		return
	}
	if !o.off {
		o.requests.Add(ctx, 1, o.byResult[res]...)
	}
	if cacheStatus != "" {
		if span := trace.SpanFromContext(ctx); span.IsRecording() {
			span.SetAttributes(attribute.StringSlice(CacheStatusAttr, []string{cacheStatus}))
		}
	}
}

// fault counts one absorbed backend failure.
func (o *observer) fault(ctx context.Context) {
	if !o.off {
		o.faults.Add(ctx, 1)
	}
}

// droppedStatus counts upstream Cache-Status members that were dropped.
func (o *observer) droppedStatus(ctx context.Context, n int) {
	if !o.off {
		o.dropped.Add(ctx, int64(n))
	}
}
