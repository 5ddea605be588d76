package otel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/hitbox-go/hitbox"
)

// Attribute keys that both layers put on measurements and spans.
// OpenTelemetry has no semantic conventions for caches yet, so the names
// are ours, under "hitbox."; error.type is the general convention and is
// used as it defines it: a low-cardinality class of the error an operation
// ended with, absent on success.
const (
	// OperationKey names the operation: get, set, delete, getmany,
	// setmany, deletemany, remove, clear, clearprefix, invalidatetags or
	// lease (the Op of a *hitbox.Error). A tagged or leased write counts
	// as set and a tagged read as get.
	OperationKey = attribute.Key("hitbox.operation")
	// BackendKey is the label of the wrapped backend (its Label(), or the
	// one given with WithLabel).
	BackendKey = attribute.Key("hitbox.backend")
	// LevelKey is the tier level a layer was told it wraps with WithLevel,
	// such as "l1". Absent when not set.
	LevelKey = attribute.Key("hitbox.level")
	// ResultKey is how the operation ended: hit, stale, miss, ok, lost or
	// error.
	ResultKey = attribute.Key("hitbox.result")
	// ErrorTypeKey is the class of the error when ResultKey is error:
	// corrupt, too_large, unavailable, timeout, canceled, closed,
	// invalid_key, invalid_tag, not_supported or other.
	ErrorTypeKey = attribute.Key("error.type")
	// IODirectionKey says whether hitbox.io counted bytes read or written.
	IODirectionKey = attribute.Key("hitbox.io.direction")
	// ValueSizeKey is the size in bytes of the value read or written,
	// summed over a batch (spans).
	ValueSizeKey = attribute.Key("hitbox.value.size")
	// KeyHashKey is a hash of the key, recorded on spans only with
	// WithKeyHash. The key itself is never recorded.
	KeyHashKey = attribute.Key("hitbox.key.hash")
	// AnswerPathKey is the path of the part of a composite (a tier, at any
	// depth) that answered a hit (hitbox.Answer.Path): the labels from the
	// outermost tier below the span down to the backend that answered, such
	// as "tier.memory" or "outer.inner.redis". On get spans over a tier
	// only; as bounded as the levels are few.
	AnswerPathKey = attribute.Key("hitbox.tier.path")
	// AnswerLevelKey is the index of the level of that tier that answered a
	// hit (hitbox.Answer.Level), 0 for L1. On get spans over a tier only.
	AnswerLevelKey = attribute.Key("hitbox.tier.level")
	// AnswerUnprovenKey is true on a get span whose hit was a copy its
	// tier could not prove current (hitbox.Answer.Unproven: a local copy
	// served in a bus gap because the shared levels failed); absent
	// otherwise.
	AnswerUnprovenKey = attribute.Key("hitbox.tier.unproven")
	// TagCountKey is the number of tags of a tagged set or an
	// invalidatetags (spans). The tags themselves are never recorded: they
	// may name users ("user:42").
	TagCountKey = attribute.Key("hitbox.tags.count")
	// BatchSizeKey is the number of keys or items in a batch (spans).
	BatchSizeKey = attribute.Key("hitbox.batch.size")
	// BatchHitsKey, BatchStaleKey, BatchMissesKey and BatchErrorsKey
	// count the answers of a getmany span by result.
	BatchHitsKey   = attribute.Key("hitbox.batch.hits")
	BatchStaleKey  = attribute.Key("hitbox.batch.stale")
	BatchMissesKey = attribute.Key("hitbox.batch.misses")
	BatchErrorsKey = attribute.Key("hitbox.batch.errors")
)

// Values of ResultKey.
const (
	ResultHit   = "hit"   // a fresh entry was returned
	ResultStale = "stale" // an entry past its Stale deadline was returned
	ResultMiss  = "miss"  // nothing under the key: an answer, not an error (a remove of an absent key, too)
	ResultOK    = "ok"    // a write, delete, clear or batch succeeded
	ResultLost  = "lost"  // a leased write was refused: a change crossed its lease (hitbox.ErrLeaseLost)
	ResultError = "error" // the operation failed; ErrorTypeKey says how
)

// Values of IODirectionKey.
const (
	DirectionRead  = "read"
	DirectionWrite = "write"
)

// op is an operation, as a small index into pre-built attribute sets.
type op uint8

const (
	opGet op = iota
	opSet
	opDelete
	opGetMany
	opSetMany
	opDeleteMany
	opClear
	opRemove
	opClearPrefix
	opInvalidateTags
	opLease
	numOps
)

// opNames match the Op of a *hitbox.Error.
var opNames = [numOps]string{hitbox.OpGet, hitbox.OpSet, hitbox.OpDelete, hitbox.OpGetMany, hitbox.OpSetMany, hitbox.OpDeleteMany, hitbox.OpClear,
	hitbox.OpRemove, hitbox.OpClearPrefix, hitbox.OpInvalidateTags, hitbox.OpLease}

// outcome is how one operation (or one key of a batch) ended: a result and,
// for errors, an error class. It indexes pre-built attribute sets.
type outcome uint8

const (
	outOK outcome = iota
	outHit
	outStale
	outMiss
	outLost
	outCorrupt
	outTooLarge
	outUnavailable
	outTimeout
	outCanceled
	outClosed
	outInvalidKey
	outInvalidTag
	outNotSupported
	outOther
	numOutcomes
)

// outcomeNames holds the ResultKey value and, for errors, the ErrorTypeKey
// value of each outcome.
var outcomeNames = [numOutcomes]struct{ result, errType string }{
	outOK:           {ResultOK, ""},
	outHit:          {ResultHit, ""},
	outStale:        {ResultStale, ""},
	outMiss:         {ResultMiss, ""},
	outLost:         {ResultLost, ""},
	outCorrupt:      {ResultError, "corrupt"},
	outTooLarge:     {ResultError, "too_large"},
	outUnavailable:  {ResultError, "unavailable"},
	outTimeout:      {ResultError, "timeout"},
	outCanceled:     {ResultError, "canceled"},
	outClosed:       {ResultError, "closed"},
	outInvalidKey:   {ResultError, "invalid_key"},
	outInvalidTag:   {ResultError, "invalid_tag"},
	outNotSupported: {ResultError, "not_supported"},
	outOther:        {ResultError, "other"},
}

// isError reports whether o is a failure (as opposed to hit, stale, miss,
// ok or a lost lease, which is an answer: the value was not stored).
func (o outcome) isError() bool { return o >= outCorrupt }

// attrs returns the result (and error class) attributes of o.
func (o outcome) attrs() []attribute.KeyValue {
	n := outcomeNames[o]
	if n.errType == "" {
		return []attribute.KeyValue{ResultKey.String(n.result)}
	}
	return []attribute.KeyValue{ResultKey.String(n.result), ErrorTypeKey.String(n.errType)}
}

// classify returns the outcome of an operation that returned err. The
// caller's deadline and cancellation come first: they say why the call
// ended even when a store wrapped them in ErrUnavailable.
func classify(err error) outcome {
	switch {
	case err == nil:
		return outOK
	case errors.Is(err, hitbox.ErrMiss):
		return outMiss
	case errors.Is(err, hitbox.ErrLeaseLost):
		return outLost
	case errors.Is(err, context.DeadlineExceeded):
		return outTimeout
	case errors.Is(err, context.Canceled):
		return outCanceled
	case errors.Is(err, hitbox.ErrCorrupt):
		return outCorrupt
	case errors.Is(err, hitbox.ErrTooLarge):
		return outTooLarge
	case errors.Is(err, hitbox.ErrUnavailable):
		return outUnavailable
	case errors.Is(err, hitbox.ErrClosed):
		return outClosed
	case errors.Is(err, hitbox.ErrInvalidKey):
		return outInvalidKey
	case errors.Is(err, hitbox.ErrInvalidTag):
		return outInvalidTag
	case errors.Is(err, hitbox.ErrNotSupported):
		return outNotSupported
	}
	return outOther
}

// removeOutcome returns the outcome of a Remove: ok when it removed an
// entry, a miss when there was none.
func removeOutcome(removed bool, err error) outcome {
	if err == nil && !removed {
		return outMiss
	}
	return classify(err)
}

// readOutcome returns the outcome of a Get that returned e and err,
// reading the clock only for an entry that has a Stale deadline.
func readOutcome(e hitbox.Entry, err error, now func() time.Time) outcome {
	if err == nil && !e.Stale.IsZero() {
		return readOutcomeAt(e, nil, now())
	}
	return readOutcomeAt(e, err, time.Time{})
}

// readOutcomeAt returns the outcome of a Get that returned e and err, as
// of now. An entry past its deadlines, which no store should return,
// counts as stale.
func readOutcomeAt(e hitbox.Entry, err error, now time.Time) outcome {
	if err != nil {
		return classify(err)
	}
	if e.Stale.IsZero() || e.StateAt(now) == hitbox.Fresh {
		return outHit
	}
	return outStale
}
