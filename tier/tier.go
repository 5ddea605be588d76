package tier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/keyguard"
)

// Tier is a hitbox.Backend over levels: L1 first, then L2, L3 and so on,
// each any Backend (a store, a pipeline, another Tier). It has every
// optional ability (TryLock locks on its lowest shared level, and it keeps
// tags over levels that do: see SetTagged and InvalidateTags), and is safe
// for concurrent use.
type Tier struct {
	label      string
	levels     []level
	levelNames []string // "l1", "l2", ...: bounded names for metrics
	local      int      // levels [0, local) are private to this instance

	read        ReadPolicy
	losers      Losers
	write       WritePolicy
	refill      RefillMode
	refillStale bool
	capped      bool // some level has a MaxTTL
	timeout     time.Duration
	drain       time.Duration
	now         func() time.Time
	log         *slog.Logger

	id      string
	pub     hitbox.Publisher
	stopBus func()
	own     ownWrites

	guard   guard
	pool    offload
	wbLocks *[keyguard.Stripes]sync.Mutex // write-behind only: see setBehind
	raceMu  sync.Mutex
	raceNo  bool           // set by Close: no more race calls may start
	races   sync.WaitGroup // race calls still running, losers included
	closed  atomic.Bool
	down    atomic.Bool // in a bus gap: see busDown

	refills, refillsSkipped, refillErrors atomic.Uint64
	invalidations, gaps, tagInvalidations atomic.Uint64

	untagged int // the first level that is not a hitbox.Tagger, -1 when all are
	taggers  int // how many levels are hitbox.Taggers
}

// level is one level of a tier and its counters.
type level struct {
	b        hitbox.Backend
	tg       hitbox.Tagger // b as a Tagger, nil when it is not one
	label    string
	maxTTL   time.Duration
	required bool
	br       breaker
	jn       journal // removals it missed, replayed before it is used

	hits, misses, errors, skipped atomic.Uint64
}

// New returns a tier over levels, L1 first, with the default Options:
//
//	t := tier.New(l1, l2)
//
// It panics when levels is empty or holds a nil Backend: a programmer
// error, as with NewWith.
func New(levels ...hitbox.Backend) *Tier { return NewWith(Options{}, levels...) }

// NewWith returns a tier over levels, L1 first, tuned by opts. The pair
// stays because levels are variadic, so options cannot follow them, and
// the common case reads tier.New(l1, l2). When
// opts.Bus is set it subscribes to it at once. Invalid options are a
// programmer error: NewWith panics with the message opts.Validate returns
// (as it does for no levels), and with "hitbox/tier: levels[i]: nil
// Backend" for a nil level.
func NewWith(opts Options, levels ...hitbox.Backend) *Tier {
	if err := opts.Validate(len(levels)); err != nil {
		panic(err.Error())
	}
	for i, b := range levels {
		if b == nil {
			panic("hitbox/tier: levels[" + strconv.Itoa(i) + "]: nil Backend")
		}
	}
	t := &Tier{
		label:       opts.Label,
		levels:      make([]level, len(levels)),
		local:       opts.Local,
		read:        opts.Read,
		losers:      opts.Losers,
		write:       opts.Write,
		refill:      opts.Refill,
		refillStale: opts.RefillStale,
		timeout:     opts.TaskTimeout,
		drain:       opts.DrainTimeout,
		now:         opts.Now,
		log:         opts.Logger,
		id:          opts.ID,
	}
	if t.label == "" {
		t.label = defaultLabel
	}
	if t.local == 0 {
		t.local = 1
	}
	if t.timeout <= 0 {
		t.timeout = defaultTimeout
	}
	if t.drain == 0 {
		t.drain = defaultTimeout
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.id == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		t.id = hex.EncodeToString(b[:])
	}
	t.untagged = -1
	for i, b := range levels {
		lv := &t.levels[i]
		t.levelNames = append(t.levelNames, "l"+strconv.Itoa(i+1))
		lv.b = b
		lv.label = b.Label()
		// Abilities are known once: no type assertion on the hot paths.
		if keepsTags(b) {
			lv.tg = b.(hitbox.Tagger)
			t.taggers++
		} else if t.untagged < 0 {
			t.untagged = i
		}
		lv.required = opts.Required == nil
		lv.br.init(opts.Breaker)
		lv.jn.init(opts.Journal, i < t.local, opts.JournalOverflow)
		if i < len(opts.MaxTTL) && opts.MaxTTL[i] > 0 {
			lv.maxTTL = opts.MaxTTL[i]
			t.capped = true
		}
	}
	for _, i := range opts.Required {
		t.levels[i].required = true
	}
	workers, queue := opts.Workers, opts.Queue
	if workers <= 0 {
		workers = defaultWorkers
	}
	if queue <= 0 {
		queue = defaultQueue
	}
	t.pool.init(workers, queue, t.timeout)
	if t.write == WriteBehind {
		t.wbLocks = new([keyguard.Stripes]sync.Mutex)
	}
	t.guard.init()
	t.own.init(opts.OwnWrites)
	if opts.Bus != nil {
		t.pub, _ = opts.Bus.(hitbox.Publisher)
		t.stopBus = opts.Bus.Subscribe(t.invalidate)
	}
	return t
}

// keepsTags reports whether b keeps tags: it is a hitbox.Tagger, and so is
// every backend below it as far as hitbox.Unwrapper shows (every layer is
// a Tagger, which says hitbox.ErrNotSupported over a store that is not
// one), down to a store or a tier whose levels all keep tags.
func keepsTags(b hitbox.Backend) bool {
	for {
		if tr, ok := b.(*Tier); ok {
			return tr.untagged < 0
		}
		if _, ok := b.(hitbox.Tagger); !ok {
			return false
		}
		u, ok := b.(hitbox.Unwrapper)
		if !ok {
			return true
		}
		if b = u.Unwrap(); b == nil {
			return true
		}
	}
}

// HeedsSource reports whether the tier's reads may depend on
// hitbox.WithSource: when it has a bus and a shared level (in a bus gap
// its local copies are unproven, see gap.go), or when one of its levels'
// reads may (hitbox.ReadsHeedSource).
func (t *Tier) HeedsSource() bool {
	if t.stopBus != nil && t.local < len(t.levels) {
		return true
	}
	for i := range t.levels {
		if hitbox.ReadsHeedSource(t.levels[i].b) {
			return true
		}
	}
	return false
}

// Label returns the tier's label, "tier" unless Options.Label says
// otherwise.
func (t *Tier) Label() string { return t.label }

// ID returns the tier's identity on its bus.
func (t *Tier) ID() string { return t.id }

// Levels returns the number of levels (a store's Len counts entries;
// a tier has none of its own).
func (t *Tier) Levels() int { return len(t.levels) }

// Level returns level i (0 is L1), as given to New.
func (t *Tier) Level(i int) hitbox.Backend { return t.levels[i].b }

// Get returns the entry under key from the first level that has it, as the
// read policy decides, and refills the levels above that one. A level that
// fails counts as a miss; Get fails only when no level could answer, with
// an error that wraps each level's error. It returns hitbox.ErrMiss when
// the levels that answered all missed. A refill keeps the entry's tags
// (see GetTagged), so a purge by tag reaches the copies it makes.
func (t *Tier) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if t.read != ReadSequential || key == "" || t.closed.Load() || t.down.Load() {
		e, _, err := t.getOther(ctx, key, false)
		return e, err
	}
	// The L1 hit of a sequential read is the path that matters most: it
	// stays small here, and everything else is out of line.
	lv := &t.levels[0]
	src := hitbox.AnswerFrom(ctx)
	if lv.br.state.Load() != closed || lv.jn.pending.Load() {
		return t.getSequential(ctx, key, src, 0, false, nil, nil)
	}
	var mark int
	if src != nil {
		mark = src.Mark()
	}
	e, err := lv.b.Get(ctx, key)
	if err != nil {
		return t.missL1(ctx, key, src, mark, err)
	}
	if lv.br.failures.Load() != 0 {
		t.answered(lv)
	}
	lv.hits.Add(1)
	if src != nil {
		src.Record(mark, t.label, lv.label, 0)
	}
	return e, nil
}

// GetTagged is Get that also returns the tags the entry was written with:
// those its level keeps (every level that is a hitbox.Tagger is read with
// GetTagged; nil from one that is not).
func (t *Tier) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	return t.getOther(ctx, key, true)
}

// getOther is Get off its fast path, and GetTagged; tagged says the caller
// wants the entry's tags.
func (t *Tier) getOther(ctx context.Context, key string, tagged bool) (hitbox.Entry, []string, error) {
	if t.closed.Load() {
		return hitbox.Entry{}, nil, t.fail(hitbox.OpGet, hitbox.ErrClosed)
	}
	if key == "" {
		return hitbox.Entry{}, nil, t.fail(hitbox.OpGet, hitbox.ErrInvalidKey)
	}
	if t.down.Load() {
		return t.getDown(ctx, key, tagged)
	}
	switch t.read {
	case ReadRace:
		return t.getRace(ctx, key, tagged)
	case ReadParallel:
		return t.getParallel(ctx, key, tagged)
	}
	var tags []string
	var out *[]string // nil: the caller wants no tags
	if tagged {
		out = &tags
	}
	e, err := t.getSequential(ctx, key, hitbox.AnswerFrom(ctx), 0, false, nil, out)
	return e, tags, err
}

// missL1 goes on with a sequential read after L1 failed to hit with err.
func (t *Tier) missL1(ctx context.Context, key string, src *hitbox.Answer, mark int, err error) (hitbox.Entry, error) {
	if src != nil {
		src.Undo(mark)
	}
	var errs []error
	answered := false
	switch t.classify(ctx, &t.levels[0], err) {
	case outcomeMiss:
		answered = true
	case outcomeCancelled:
		return hitbox.Entry{}, err
	default:
		errs = append(errs, err)
	}
	return t.getSequential(ctx, key, src, 1, answered, errs, nil)
}

// getSequential reads levels from, from+1, ... in turn; answered and errs
// carry what the levels before from said. When tagsOut is set it receives
// the entry's tags. (Tags go out through a pointer rather than a third
// result so that Get's path returns no more than an entry and an error.)
func (t *Tier) getSequential(ctx context.Context, key string, src *hitbox.Answer, from int, answered bool, errs []error, tagsOut *[]string) (hitbox.Entry, error) {
	var st stamp
	for i := from; i < len(t.levels); i++ {
		lv := &t.levels[i]
		if i == 1 {
			st = t.guard.stamp(key)
		}
		if !t.readable(ctx, lv) {
			errs = append(errs, openErr(hitbox.OpGet, lv))
			continue
		}
		var mark int
		if src != nil {
			mark = src.Mark()
		}
		// readLevel, by hand: this is the path of every L2 hit.
		var e hitbox.Entry
		var tags []string
		var err error
		if lv.tg != nil && (tagsOut != nil || i > 0 && t.refill != RefillOff) {
			e, tags, err = lv.tg.GetTagged(ctx, key)
		} else {
			e, err = lv.b.Get(ctx, key)
		}
		if err == nil {
			t.answered(lv)
			lv.hits.Add(1)
			if src != nil {
				src.Record(mark, t.label, lv.label, i)
			}
			if i > 0 {
				t.refillAbove(ctx, key, e, tags, i, st)
			}
			if tagsOut != nil {
				*tagsOut = tags
			}
			return e, nil
		}
		if src != nil {
			src.Undo(mark)
		}
		switch t.classify(ctx, lv, err) {
		case outcomeMiss:
			answered = true
		case outcomeCancelled:
			return hitbox.Entry{}, err
		default:
			errs = append(errs, err)
		}
	}
	return hitbox.Entry{}, t.readFailure(hitbox.OpGet, answered, errs)
}

// readLevel reads key from level i, with its tags when the caller wants
// them or a refill may follow (a copy made without the tags would escape a
// purge by them).
func (t *Tier) readLevel(ctx context.Context, lv *level, i int, key string, tagged bool) (hitbox.Entry, []string, error) {
	if lv.tg != nil && (tagged || i > 0 && t.refill != RefillOff) {
		return lv.tg.GetTagged(ctx, key)
	}
	e, err := lv.b.Get(ctx, key)
	return e, nil, err
}

// outcome is how a level's failed call counts.
type outcome uint8

const (
	outcomeMiss      outcome = iota // the level answered: nothing there
	outcomeFailed                   // the level failed: counted, breaker told
	outcomeCancelled                // the caller gave up: no verdict on the level
)

// classify counts a level's non-nil error.
func (t *Tier) classify(ctx context.Context, lv *level, err error) outcome {
	switch {
	case errors.Is(err, hitbox.ErrMiss), errors.Is(err, hitbox.ErrCorrupt):
		lv.misses.Add(1)
		t.answered(lv)
		return outcomeMiss
	case ctx.Err() != nil:
		lv.br.abort()
		return outcomeCancelled
	}
	t.failed(lv, err)
	return outcomeFailed
}

// answered tells lv's breaker that it answered.
func (t *Tier) answered(lv *level) {
	if lv.br.success() {
		t.log.Info("hitbox/tier: level recovered", "tier", t.label, "level", lv.label)
	}
}

// failed counts a failure of lv.
func (t *Tier) failed(lv *level, err error) {
	lv.errors.Add(1)
	t.breakerFailure(lv, err)
}

// breakerFailure tells lv's breaker of a failure without counting an error.
func (t *Tier) breakerFailure(lv *level, err error) {
	if lv.br.failure(t.now) {
		t.log.Warn("hitbox/tier: level failing, skipping it", "tier", t.label, "level", lv.label,
			"cooldown", lv.br.coolDown, "err", err)
	}
}

// allow asks lv's breaker, counting a skip.
func (t *Tier) allow(lv *level) bool {
	if lv.br.allow(t.now) {
		return true
	}
	lv.skipped.Add(1)
	return false
}

// readFailure is the error of a read no level answered with a hit: a plain
// miss when some level answered, else every level's error.
func (t *Tier) readFailure(op string, answered bool, errs []error) error {
	if answered || len(errs) == 0 {
		return hitbox.ErrMiss
	}
	return &hitbox.Error{Op: op, Backend: t.label, Err: errors.Join(errs...)}
}

func (t *Tier) fail(op string, err error) error {
	return &hitbox.Error{Op: op, Backend: t.label, Err: err}
}

func openErr(op string, lv *level) error {
	return &hitbox.Error{Op: op, Backend: lv.label, Err: ErrOpen}
}

// detached returns a context for cleanup that must happen even when the
// caller's context is done.
func (t *Tier) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), t.timeout)
}

// Close unsubscribes from the bus, lets background work finish for up to
// Options.DrainTimeout and cancels what is left, waits for every goroutine
// the tier started, and closes every level, returning their errors joined.
// It is idempotent; every operation after it fails with hitbox.ErrClosed.
func (t *Tier) Close() error {
	if !t.closed.CompareAndSwap(false, true) {
		return nil
	}
	if t.stopBus != nil {
		t.stopBus()
	}
	t.raceMu.Lock()
	t.raceNo = true
	t.raceMu.Unlock()
	t.pool.close(t.drain)
	t.races.Wait()
	var errs []error
	for i := range t.levels {
		if err := hitbox.Close(t.levels[i].b); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return t.fail(hitbox.OpClose, errors.Join(errs...))
	}
	return nil
}
