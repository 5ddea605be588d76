package otel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	global "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hitbox-go/hitbox"
)

// Trace returns a layer that starts one span per operation of the backend
// it wraps, named after it: hitbox.get, hitbox.set, hitbox.delete,
// hitbox.getmany, hitbox.setmany, hitbox.deletemany, hitbox.remove,
// hitbox.clear, hitbox.clearprefix and hitbox.invalidatetags (a tagged
// write is a hitbox.set and a tagged read a hitbox.get). Each span carries the backend label,
// the result (hit, stale, miss, ok or error; a remove of an absent key is a
// miss) and the value size (see the package doc); a failure is recorded
// on its span with an error status and error.type, while a miss is an
// answer and leaves the status unset. Keys are never recorded; WithKeyHash
// records a hash instead.
//
// The span is the parent of whatever the wrapped backend starts, so Trace
// layers at several depths of a pipeline (over the pipeline, over each
// level of a tier, over a network store) give nested spans that show which
// level answered. A get span over a tier (from package tier, at any depth
// below) also says which of its levels answered a hit: hitbox.tier.path,
// such as "tier.memory", and hitbox.tier.level, 0 for L1. It asks the
// tier through the hitbox.Answer of the caller's context when there is one,
// so a caller of hitbox.TrackAnswer still gets its answer, and through one of
// its own otherwise. Spans are of kind internal unless WithSpanKind says
// otherwise.
//
// The tracer provider is the one given with WithTracerProvider, or the
// global one as it stands when the pipeline is built. Over the API's no-op
// provider (go.opentelemetry.io/otel/trace/noop) the layer starts no span
// at all and adds no allocation. Over the global provider before one is
// set, the API itself makes a non-recording span and a context for each
// call (three allocations): build pipelines after otel.SetTracerProvider,
// or pass the no-op provider where tracing is off.
func Trace(opts ...Option) hitbox.Layer {
	c := newConfig(opts)
	return func(next hitbox.Backend) hitbox.Backend { return newTraced(next, c) }
}

// spanNames are the span names, by operation.
var spanNames = func() (n [numOps]string) {
	for o := range numOps {
		n[o] = "hitbox." + opNames[o]
	}
	return n
}()

type traced struct {
	next   hitbox.Backend
	tracer trace.Tracer
	off    bool // the tracer is the no-op one: start no span
	now    func() time.Time

	start   [numOps][]trace.SpanStartOption
	results [numOutcomes][]attribute.KeyValue

	hashKey bool
	secret  []byte
}

func newTraced(next hitbox.Backend, c config) *traced {
	tp := c.tp
	if tp == nil {
		tp = global.GetTracerProvider()
	}
	t := &traced{
		next:    next,
		tracer:  tp.Tracer(scope),
		now:     c.now,
		hashKey: c.hashKey,
		secret:  c.secret,
	}
	_, t.off = t.tracer.(noop.Tracer)
	base := baseAttrs(next, c)
	for o := range numOps {
		kv := append(base[:len(base):len(base)], OperationKey.String(opNames[o]))
		t.start[o] = []trace.SpanStartOption{trace.WithSpanKind(c.kind), trace.WithAttributes(kv...)}
	}
	for r := range numOutcomes {
		t.results[r] = r.attrs()
	}
	return t
}

// end finishes span for an operation that ended with outcome r and err,
// having moved size bytes of values (negative: no size to record).
func (t *traced) end(span trace.Span, r outcome, err error, size int, more ...attribute.KeyValue) {
	if span.IsRecording() {
		span.SetAttributes(t.results[r]...)
		if size >= 0 {
			span.SetAttributes(ValueSizeKey.Int(size))
		}
		if len(more) > 0 {
			span.SetAttributes(more...)
		}
		if r.isError() {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}

// keyHash records the hash of key on span when WithKeyHash asked for it.
func (t *traced) keyHash(span trace.Span, key string) {
	if !t.hashKey || !span.IsRecording() {
		return
	}
	mac := hmac.New(sha256.New, t.secret)
	mac.Write([]byte(key))
	sum := mac.Sum(nil)
	span.SetAttributes(KeyHashKey.String(hex.EncodeToString(sum[:8])))
}

// Label returns the wrapped backend's label.
func (t *traced) Label() string { return t.next.Label() }

// Unwrap returns the wrapped backend.
func (t *traced) Unwrap() hitbox.Backend { return t.next }

// Get reads key below inside a hitbox.get span.
func (t *traced) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if t.off {
		return t.next.Get(ctx, key)
	}
	return t.get(ctx, key)
}

// get is Get with a span, apart so the pass-through above keeps a small
// frame.
func (t *traced) get(ctx context.Context, key string) (hitbox.Entry, error) {
	e, _, err := t.read(ctx, key, false)
	return e, err
}

// GetTagged reads key and its tags below, through hitbox.GetTagged,
// inside a hitbox.get span.
func (t *traced) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	if t.off {
		return hitbox.GetTagged(ctx, t.next, key)
	}
	return t.read(ctx, key, true)
}

// read is a get inside a span; tagged says to read the tags too.
func (t *traced) read(ctx context.Context, key string, tagged bool) (hitbox.Entry, []string, error) {
	ctx, span := t.tracer.Start(ctx, spanNames[opGet], t.start[opGet]...)
	t.keyHash(span, key)
	// A recording span asks the tiers below which level answers: through
	// the caller's Answer when the caller asked too, so the answer is not
	// hidden from it, or else through one of ours.
	var src *hitbox.Answer
	own := false
	if span.IsRecording() {
		if src = hitbox.AnswerFrom(ctx); src == nil {
			src = sources.Get().(*hitbox.Answer)
			ctx = hitbox.ContextWithAnswer(ctx, src)
			own = true
		}
	}
	var e hitbox.Entry
	var tags []string
	var err error
	if tagged {
		e, tags, err = hitbox.GetTagged(ctx, t.next, key)
	} else {
		e, err = t.next.Get(ctx, key)
	}
	size := -1
	if err == nil {
		size = len(e.Value)
		if src != nil && src.Found() {
			if p := src.Path(); p != "" {
				span.SetAttributes(AnswerPathKey.String(p), AnswerLevelKey.Int(src.Level()))
			}
			if src.Unproven() {
				span.SetAttributes(AnswerUnprovenKey.Bool(true))
			}
		}
	}
	if own {
		src.Reset()
		sources.Put(src)
	}
	t.end(span, readOutcome(e, err, t.now), err, size)
	return e, tags, err
}

// sources holds the Answers that recorded gets attach when their caller
// did not, so that tracing a tier costs no Answer per read. A get is
// synchronous: nothing below reads its Answer once it has returned.
var sources = sync.Pool{New: func() any {
	return new(hitbox.Answer)
}}

// Set writes e below inside a hitbox.set span.
func (t *traced) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if t.off {
		return t.next.Set(ctx, key, e)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opSet], t.start[opSet]...)
	t.keyHash(span, key)
	err := t.next.Set(ctx, key, e)
	t.end(span, classify(err), err, len(e.Value))
	return err
}

// SetTagged writes e with tags below, through hitbox.SetTagged, inside a
// hitbox.set span that counts the tags (hitbox.tags.count) but never
// records them.
func (t *traced) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	if t.off {
		return hitbox.SetTagged(ctx, t.next, key, e, tags...)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opSet], t.start[opSet]...)
	t.keyHash(span, key)
	err := hitbox.SetTagged(ctx, t.next, key, e, tags...)
	t.end(span, classify(err), err, len(e.Value), TagCountKey.Int(len(tags)))
	return err
}

// Lease takes a lease below, through hitbox.TakeLease, inside a
// hitbox.lease span that counts the tags (hitbox.tags.count).
func (t *traced) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	if t.off {
		return hitbox.TakeLease(ctx, t.next, key, tags)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opLease], t.start[opLease]...)
	t.keyHash(span, key)
	l, err := hitbox.TakeLease(ctx, t.next, key, tags)
	t.end(span, classify(err), err, -1, TagCountKey.Int(len(tags)))
	return l, err
}

// SetLeased writes e with tags below if the lease l holds, through
// hitbox.SetLeased, inside a hitbox.set span that counts the tags; its
// result is lost when a change crossed the lease and nothing was stored.
func (t *traced) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	if t.off {
		return hitbox.SetLeased(ctx, t.next, key, e, tags, l)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opSet], t.start[opSet]...)
	t.keyHash(span, key)
	err := hitbox.SetLeased(ctx, t.next, key, e, tags, l)
	t.end(span, classify(err), err, len(e.Value), TagCountKey.Int(len(tags)))
	return err
}

// InvalidateTags purges tags below, through hitbox.InvalidateTags, inside
// a hitbox.invalidatetags span that counts the tags (hitbox.tags.count).
// The tags are not recorded: like keys, they may name users. A call
// without tags does nothing and starts no span.
func (t *traced) InvalidateTags(ctx context.Context, tags ...string) error {
	if t.off || len(tags) == 0 {
		return hitbox.InvalidateTags(ctx, t.next, tags...)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opInvalidateTags], t.start[opInvalidateTags]...)
	err := hitbox.InvalidateTags(ctx, t.next, tags...)
	t.end(span, classify(err), err, -1, TagCountKey.Int(len(tags)))
	return err
}

// Delete removes key below inside a hitbox.delete span.
func (t *traced) Delete(ctx context.Context, key string) error {
	if t.off {
		return t.next.Delete(ctx, key)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opDelete], t.start[opDelete]...)
	t.keyHash(span, key)
	err := t.next.Delete(ctx, key)
	t.end(span, classify(err), err, -1)
	return err
}

// GetMany reads keys below, in one call when it can, inside a
// hitbox.getmany span that counts the hits, stale answers and misses.
func (t *traced) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	if t.off {
		return hitbox.GetMany(ctx, t.next, keys)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opGetMany], t.start[opGetMany]...)
	rs, err := hitbox.GetMany(ctx, t.next, keys)
	if err != nil || !span.IsRecording() {
		t.end(span, classify(err), err, -1, BatchSizeKey.Int(len(keys)))
		return rs, err
	}
	var hits, stale, misses, failed, size int
	for i := range rs {
		switch r := readOutcome(rs[i].Entry, rs[i].Err, t.now); {
		case r == outHit:
			hits++
		case r == outStale:
			stale++
		case r == outMiss:
			misses++
		default:
			failed++
		}
		if rs[i].Err == nil {
			size += len(rs[i].Entry.Value)
		}
	}
	t.end(span, outOK, nil, size,
		BatchSizeKey.Int(len(keys)), BatchHitsKey.Int(hits), BatchStaleKey.Int(stale),
		BatchMissesKey.Int(misses), BatchErrorsKey.Int(failed))
	return rs, nil
}

// SetMany writes items below, in one call when it can, inside a
// hitbox.setmany span.
func (t *traced) SetMany(ctx context.Context, items []hitbox.Item) error {
	if t.off {
		return hitbox.SetMany(ctx, t.next, items)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opSetMany], t.start[opSetMany]...)
	err := hitbox.SetMany(ctx, t.next, items)
	size := 0
	for i := range items {
		size += len(items[i].Entry.Value)
	}
	t.end(span, classify(err), err, size, BatchSizeKey.Int(len(items)))
	return err
}

// DeleteMany removes keys below, in one call when it can, inside a
// hitbox.deletemany span.
func (t *traced) DeleteMany(ctx context.Context, keys []string) error {
	if t.off {
		return hitbox.DeleteMany(ctx, t.next, keys)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opDeleteMany], t.start[opDeleteMany]...)
	err := hitbox.DeleteMany(ctx, t.next, keys)
	t.end(span, classify(err), err, -1, BatchSizeKey.Int(len(keys)))
	return err
}

// Clear empties the backend below, when it is a Clearer, inside a
// hitbox.clear span.
func (t *traced) Clear(ctx context.Context) error {
	if t.off {
		return hitbox.Clear(ctx, t.next)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opClear], t.start[opClear]...)
	err := hitbox.Clear(ctx, t.next)
	t.end(span, classify(err), err, -1)
	return err
}

// Remove removes key below, in one call when it can, inside a
// hitbox.remove span whose result is ok when an entry was removed and miss
// when there was none.
func (t *traced) Remove(ctx context.Context, key string) (bool, error) {
	if t.off {
		return hitbox.Remove(ctx, t.next, key)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opRemove], t.start[opRemove]...)
	t.keyHash(span, key)
	removed, err := hitbox.Remove(ctx, t.next, key)
	t.end(span, removeOutcome(removed, err), err, -1)
	return removed, err
}

// ClearPrefix removes the keys under prefix below, when it can, inside a
// hitbox.clearprefix span. The prefix is not recorded: like a key, it may
// name a tenant.
func (t *traced) ClearPrefix(ctx context.Context, prefix string) error {
	if t.off {
		return hitbox.ClearPrefix(ctx, t.next, prefix)
	}
	ctx, span := t.tracer.Start(ctx, spanNames[opClearPrefix], t.start[opClearPrefix]...)
	err := hitbox.ClearPrefix(ctx, t.next, prefix)
	t.end(span, classify(err), err, -1)
	return err
}

// TryLock takes a lock below when the backend is a hitbox.Locker. It is
// forwarded without a span of its own.
func (t *traced) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	return hitbox.TryLock(ctx, t.next, key, ttl)
}

// Close closes the backend below. It starts no span: it takes no context.
func (t *traced) Close() error { return hitbox.Close(t.next) }
