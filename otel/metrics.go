package otel

import (
	"context"
	"sync"
	"time"

	global "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/hitbox-go/hitbox"
)

// Instrument names of the Metrics layer.
const (
	// OperationsName counts operations, one per key: a batch of n keys
	// adds n, each with its own result. Unit {operation}.
	OperationsName = "hitbox.operations"
	// DurationName is a histogram of how long each call took, batches
	// counting once. Unit s.
	DurationName = "hitbox.operation.duration"
	// IOName counts the bytes of values read (hits and stale answers) and
	// written (successful sets). Unit By.
	IOName = "hitbox.io"
)

// durationBounds resolve latencies from 1 µs (an in-process hit) to 10 s
// (a network store at its worst), about three buckets per decade.
var durationBounds = []float64{
	1e-6, 2.5e-6, 5e-6,
	1e-5, 2.5e-5, 5e-5,
	1e-4, 2.5e-4, 5e-4,
	1e-3, 2.5e-3, 5e-3,
	1e-2, 2.5e-2, 5e-2,
	0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
}

// Metrics returns a layer that measures every operation of the backend it
// wraps with the OpenTelemetry metric API: the hitbox.operations counter,
// the hitbox.operation.duration histogram and the hitbox.io byte counter
// (see the package doc for their attributes). When a backend under it
// implements Reporter, its figures are published as observable instruments
// too, until Close.
//
// The meter provider is the one given with WithMeterProvider, or the
// global one as it stands when the pipeline is built. An instrument the
// provider refuses is reported to otel.Handle and replaced by a no-op one:
// the layer is built whatever happens.
//
// The layer adds no allocation per call: every attribute set is built
// with the layer. When the provider's instruments are disabled (the no-op
// provider) it does not read the clock either.
func Metrics(opts ...Option) hitbox.Layer {
	c := newConfig(opts)
	return func(next hitbox.Backend) hitbox.Backend { return newMetered(next, c) }
}

// opAttrs holds one pre-built attribute set as the option slices the
// instruments take, so a measurement passes a slice that already exists.
type opAttrs struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

type metered struct {
	next hitbox.Backend
	now  func() time.Time
	off  bool // the meter is the no-op one: measure nothing

	ops metric.Int64Counter
	dur metric.Float64Histogram
	io  metric.Int64Counter

	sets   [numOps][numOutcomes]opAttrs
	ioSets [numOps][]metric.AddOption

	stats     *statsObserver // nil when nothing below reports figures
	closeOnce sync.Once
}

func newMetered(next hitbox.Backend, c config) *metered {
	mp := c.mp
	if mp == nil {
		mp = global.GetMeterProvider()
	}
	meter := mp.Meter(scope)
	m := &metered{next: next, now: c.now}
	_, m.off = meter.(noop.Meter)

	var err error
	if m.ops, err = meter.Int64Counter(OperationsName,
		metric.WithUnit("{operation}"),
		metric.WithDescription("Cache operations, one per key, by operation, backend and result."),
	); err != nil {
		global.Handle(err)
	}
	if m.ops == nil {
		m.ops = noop.Int64Counter{}
	}
	if m.dur, err = meter.Float64Histogram(DurationName,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of cache calls, batches counting once."),
		metric.WithExplicitBucketBoundaries(durationBounds...),
	); err != nil {
		global.Handle(err)
	}
	if m.dur == nil {
		m.dur = noop.Float64Histogram{}
	}
	if m.io, err = meter.Int64Counter(IOName,
		metric.WithUnit("By"),
		metric.WithDescription("Bytes of values read from and written to the backend."),
	); err != nil {
		global.Handle(err)
	}
	if m.io == nil {
		m.io = noop.Int64Counter{}
	}

	base := baseAttrs(next, c)
	for o := range numOps {
		for r := range numOutcomes {
			kv := append(append(base[:len(base):len(base)], OperationKey.String(opNames[o])), r.attrs()...)
			set := metric.WithAttributeSet(attribute.NewSet(kv...))
			m.sets[o][r] = opAttrs{add: []metric.AddOption{set}, rec: []metric.RecordOption{set}}
		}
		dir := DirectionRead
		if o == opSet || o == opSetMany {
			dir = DirectionWrite
		}
		kv := append(base[:len(base):len(base)], OperationKey.String(opNames[o]), IODirectionKey.String(dir))
		m.ioSets[o] = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kv...))}
	}

	if r := findReporter(next); r != nil {
		m.stats = observeStats(meter, r, base)
	}
	return m
}

// baseAttrs returns the attributes every measurement and span of a layer
// over b carries: the backend label and, when set, the level.
func baseAttrs(b hitbox.Backend, c config) []attribute.KeyValue {
	label := c.label
	if label == "" {
		label = b.Label()
	}
	kv := []attribute.KeyValue{BackendKey.String(label)}
	if c.level != "" {
		kv = append(kv, LevelKey.String(c.level))
	}
	return kv
}

// on reports whether any instrument records; when none does (the no-op
// provider, or the global one before it is set), calls pass straight
// through without reading the clock.
func (m *metered) on(ctx context.Context) bool {
	return !m.off && (m.ops.Enabled(ctx) || m.dur.Enabled(ctx) || m.io.Enabled(ctx))
}

// record counts n keys of one call to o with outcome r and, when the call
// is done, its duration.
func (m *metered) record(ctx context.Context, o op, r outcome, n int64, d time.Duration) {
	a := &m.sets[o][r]
	m.ops.Add(ctx, n, a.add...)
	m.dur.Record(ctx, d.Seconds(), a.rec...)
}

func (m *metered) bytes(ctx context.Context, o op, n int) {
	if n > 0 {
		m.io.Add(ctx, int64(n), m.ioSets[o]...)
	}
}

// Label returns the wrapped backend's label.
func (m *metered) Label() string { return m.next.Label() }

// Unwrap returns the wrapped backend.
func (m *metered) Unwrap() hitbox.Backend { return m.next }

// Get reads key below and counts a hit, a stale answer, a miss or an
// error.
func (m *metered) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if !m.on(ctx) {
		return m.next.Get(ctx, key)
	}
	return m.get(ctx, key)
}

// get is Get measured, apart so the pass-through above keeps a small
// frame.
func (m *metered) get(ctx context.Context, key string) (hitbox.Entry, error) {
	start := m.now()
	e, err := m.next.Get(ctx, key)
	m.read(ctx, e, err, start)
	return e, err
}

// read records a get that started at start and returned e and err.
func (m *metered) read(ctx context.Context, e hitbox.Entry, err error, start time.Time) {
	end := m.now()
	m.record(ctx, opGet, readOutcomeAt(e, err, end), 1, end.Sub(start))
	if err == nil {
		m.bytes(ctx, opGet, len(e.Value))
	}
}

// GetTagged reads key and its tags below, through hitbox.GetTagged, and
// counts it as a get.
func (m *metered) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	if !m.on(ctx) {
		return hitbox.GetTagged(ctx, m.next, key)
	}
	start := m.now()
	e, tags, err := hitbox.GetTagged(ctx, m.next, key)
	m.read(ctx, e, err, start)
	return e, tags, err
}

// SetTagged writes e with tags below, through hitbox.SetTagged, and counts
// it as a set.
func (m *metered) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if !m.on(ctx) {
		return hitbox.SetTagged(ctx, m.next, key, e, tags...)
	}
	start := m.now()
	err := hitbox.SetTagged(ctx, m.next, key, e, tags...)
	m.record(ctx, opSet, classify(err), 1, m.now().Sub(start))
	if err == nil {
		m.bytes(ctx, opSet, len(e.Value))
	}
	return err
}

// Lease takes a lease below, through hitbox.TakeLease, and counts it as a
// lease.
func (m *metered) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	if !m.on(ctx) {
		return hitbox.TakeLease(ctx, m.next, key, tags)
	}
	start := m.now()
	l, err := hitbox.TakeLease(ctx, m.next, key, tags)
	m.record(ctx, opLease, classify(err), 1, m.now().Sub(start))
	return l, err
}

// SetLeased writes e with tags below if the lease l holds, through
// hitbox.SetLeased, and counts it as a set: result lost when a change
// crossed the lease and nothing was stored.
func (m *metered) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	if !m.on(ctx) {
		return hitbox.SetLeased(ctx, m.next, key, e, tags, l)
	}
	start := m.now()
	err := hitbox.SetLeased(ctx, m.next, key, e, tags, l)
	m.record(ctx, opSet, classify(err), 1, m.now().Sub(start))
	if err == nil {
		m.bytes(ctx, opSet, len(e.Value))
	}
	return err
}

// InvalidateTags purges tags below, through hitbox.InvalidateTags, and
// counts one invalidatetags per tag, like the keys of a batch. A call
// without tags does nothing and is not counted.
func (m *metered) InvalidateTags(ctx context.Context, tags ...string) error {
	if len(tags) == 0 || !m.on(ctx) {
		return hitbox.InvalidateTags(ctx, m.next, tags...)
	}
	start := m.now()
	err := hitbox.InvalidateTags(ctx, m.next, tags...)
	m.record(ctx, opInvalidateTags, classify(err), int64(len(tags)), m.now().Sub(start))
	return err
}

// Set writes e below and counts it.
func (m *metered) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if !m.on(ctx) {
		return m.next.Set(ctx, key, e)
	}
	start := m.now()
	err := m.next.Set(ctx, key, e)
	d := m.now().Sub(start)
	m.record(ctx, opSet, classify(err), 1, d)
	if err == nil {
		m.bytes(ctx, opSet, len(e.Value))
	}
	return err
}

// Delete removes key below and counts it.
func (m *metered) Delete(ctx context.Context, key string) error {
	if !m.on(ctx) {
		return m.next.Delete(ctx, key)
	}
	start := m.now()
	err := m.next.Delete(ctx, key)
	m.record(ctx, opDelete, classify(err), 1, m.now().Sub(start))
	return err
}

// GetMany reads keys below, in one call when it can, and counts each
// key's answer; a failure of the whole batch counts every key as failed.
func (m *metered) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	if !m.on(ctx) {
		return hitbox.GetMany(ctx, m.next, keys)
	}
	start := m.now()
	rs, err := hitbox.GetMany(ctx, m.next, keys)
	end := m.now()
	d := end.Sub(start)
	if err != nil {
		m.record(ctx, opGetMany, classify(err), int64(len(keys)), d)
		return rs, err
	}
	var counts [numOutcomes]int64
	read := 0
	for i := range rs {
		counts[readOutcomeAt(rs[i].Entry, rs[i].Err, end)]++
		if rs[i].Err == nil {
			read += len(rs[i].Entry.Value)
		}
	}
	for r, n := range counts {
		if n > 0 {
			m.ops.Add(ctx, n, m.sets[opGetMany][r].add...)
		}
	}
	m.dur.Record(ctx, d.Seconds(), m.sets[opGetMany][outOK].rec...)
	m.bytes(ctx, opGetMany, read)
	return rs, nil
}

// SetMany writes items below, in one call when it can, and counts each
// item with the batch's result.
func (m *metered) SetMany(ctx context.Context, items []hitbox.Item) error {
	if !m.on(ctx) {
		return hitbox.SetMany(ctx, m.next, items)
	}
	start := m.now()
	err := hitbox.SetMany(ctx, m.next, items)
	m.record(ctx, opSetMany, classify(err), int64(len(items)), m.now().Sub(start))
	if err == nil {
		written := 0
		for i := range items {
			written += len(items[i].Entry.Value)
		}
		m.bytes(ctx, opSetMany, written)
	}
	return err
}

// DeleteMany removes keys below, in one call when it can, and counts each
// key with the batch's result.
func (m *metered) DeleteMany(ctx context.Context, keys []string) error {
	if !m.on(ctx) {
		return hitbox.DeleteMany(ctx, m.next, keys)
	}
	start := m.now()
	err := hitbox.DeleteMany(ctx, m.next, keys)
	m.record(ctx, opDeleteMany, classify(err), int64(len(keys)), m.now().Sub(start))
	return err
}

// Clear empties the backend below when it is a Clearer, and counts it.
func (m *metered) Clear(ctx context.Context) error {
	if !m.on(ctx) {
		return hitbox.Clear(ctx, m.next)
	}
	start := m.now()
	err := hitbox.Clear(ctx, m.next)
	m.record(ctx, opClear, classify(err), 1, m.now().Sub(start))
	return err
}

// Remove removes key below, in one call when it can, and counts a
// removed entry as ok and an absent one as a miss.
func (m *metered) Remove(ctx context.Context, key string) (bool, error) {
	if !m.on(ctx) {
		return hitbox.Remove(ctx, m.next, key)
	}
	start := m.now()
	removed, err := hitbox.Remove(ctx, m.next, key)
	m.record(ctx, opRemove, removeOutcome(removed, err), 1, m.now().Sub(start))
	return removed, err
}

// ClearPrefix removes the keys under prefix below, when it can, and counts
// it.
func (m *metered) ClearPrefix(ctx context.Context, prefix string) error {
	if !m.on(ctx) {
		return hitbox.ClearPrefix(ctx, m.next, prefix)
	}
	start := m.now()
	err := hitbox.ClearPrefix(ctx, m.next, prefix)
	m.record(ctx, opClearPrefix, classify(err), 1, m.now().Sub(start))
	return err
}

// TryLock takes a lock below when the backend is a hitbox.Locker. It is
// forwarded, not counted.
func (m *metered) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	return hitbox.TryLock(ctx, m.next, key, ttl)
}

// Close stops publishing the figures of a Reporter below, then closes the
// backend below. Close is not counted: it takes no context.
func (m *metered) Close() error {
	m.closeOnce.Do(func() {
		if m.stats != nil {
			m.stats.unregister()
		}
	})
	return hitbox.Close(m.next)
}
