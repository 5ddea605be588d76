package otel

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// scope is the instrumentation scope of every meter and tracer the layers
// ask their providers for.
const scope = "github.com/hitbox-go/hitbox/otel"

// Option tunes Metrics and Trace. Both take the same Option type, so one
// list can configure the pair; an option that concerns only one layer is
// ignored by the other.
type Option func(*config)

// Validate reports the first option in opts that cannot work, with the
// message Metrics and Trace panic with: "hitbox/otel: <option>: <why>".
// An option that cannot work is one given a value outside what it
// accepts, such as WithSpanKind with a kind OpenTelemetry does not define.
func Validate(opts ...Option) error {
	c := config{kind: trace.SpanKindInternal}
	for _, o := range opts {
		o(&c)
	}
	return c.validate()
}

type config struct {
	mp      metric.MeterProvider
	tp      trace.TracerProvider
	label   string
	level   string
	now     func() time.Time
	kind    trace.SpanKind
	hashKey bool
	secret  []byte
}

// newConfig applies opts, and panics on an option that cannot work.
func newConfig(opts []Option) config {
	c := config{now: time.Now, kind: trace.SpanKindInternal}
	for _, o := range opts {
		o(&c)
	}
	if err := c.validate(); err != nil {
		panic(err.Error())
	}
	return c
}

func (c *config) validate() error {
	if c.kind < trace.SpanKindUnspecified || c.kind > trace.SpanKindConsumer {
		return fmt.Errorf("hitbox/otel: WithSpanKind: unknown span kind %d", int(c.kind))
	}
	return nil
}

// WithMeterProvider makes Metrics create its instruments with mp instead of
// the global meter provider. A nil mp means the global one.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithTracerProvider makes Trace start its spans with tp instead of the
// global tracer provider. A nil tp means the global one.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithLabel sets the value of the hitbox.backend attribute, which is the
// wrapped backend's Label() by default. Use it to tell apart two backends
// of the same kind in one process. The wrapped backend's Label() itself is
// not changed.
func WithLabel(label string) Option {
	return func(c *config) { c.label = label }
}

// WithLevel adds the hitbox.level attribute with the given value (such as
// "l1") to every measurement and span, for a layer that wraps one level of
// a tier. Levels must be few: the value is an attribute.
func WithLevel(level string) Option {
	return func(c *config) { c.level = level }
}

// WithClock sets the clock the layers use to time operations and to tell a
// stale entry from a fresh one; time.Now by default. Tests pass a fake
// clock's Now. A nil now means time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			now = time.Now
		}
		c.now = now
	}
}

// WithSpanKind sets the kind of the spans Trace starts: internal by default
// (as it is for trace.SpanKindUnspecified). Pass trace.SpanKindClient when
// Trace wraps a store that does network I/O, so the span shows the client
// side of the call.
func WithSpanKind(kind trace.SpanKind) Option {
	return func(c *config) { c.kind = kind }
}

// WithKeyHash makes Trace record hitbox.key.hash on each single-key span:
// the first 8 bytes, in hex, of HMAC-SHA256(secret, key), so spans for one
// key can be found without the key (which may hold personal data) being
// recorded. With an empty secret the hash is a plain SHA-256, which anyone
// can compute for a guessed key; pass a secret kept out of the telemetry
// to prevent that. Metrics never records keys or their hashes: they would
// make its attributes unbounded.
func WithKeyHash(secret []byte) Option {
	return func(c *config) {
		c.hashKey = true
		c.secret = append([]byte(nil), secret...)
	}
}
