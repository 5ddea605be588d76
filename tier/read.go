package tier

import (
	"context"
	"sync"
	"time"

	"github.com/hitbox-go/hitbox"
)

// answer is one level's reply in a race or parallel read.
type answer struct {
	i    int
	e    hitbox.Entry
	tags []string
	err  error
	out  outcome        // for err != nil
	src  *hitbox.Answer // the level's own trace, when tracing
}

// race is the state a race read shares with its level calls, which may
// outlive it (LosersFinish mode).
type race struct {
	answers chan answer
	cancel  context.CancelFunc
	stop    func() bool // unhooks cancel from the pool's root; nil in LosersCancel mode

	mu       sync.Mutex
	launched int
	finished int
	decided  bool
	adopted  bool // the losers still running count against the pool
}

func (r *race) cleanup() {
	if r.stop != nil {
		r.stop()
	}
	r.cancel()
}

// startRaces registers n race calls, unless Close has begun.
func (t *Tier) startRaces(n int) bool {
	t.raceMu.Lock()
	defer t.raceMu.Unlock()
	if t.raceNo {
		return false
	}
	t.races.Add(n)
	return true
}

func (t *Tier) getRace(ctx context.Context, key string, tagged bool) (hitbox.Entry, []string, error) {
	src := hitbox.AnswerFrom(ctx)
	st := t.guard.stamp(key)
	var errs []error
	idx := make([]int, 0, len(t.levels))
	for i := range t.levels {
		if lv := &t.levels[i]; t.readable(ctx, lv) {
			idx = append(idx, i)
		} else {
			errs = append(errs, openErr(hitbox.OpGet, lv))
		}
	}
	if len(idx) == 0 {
		return hitbox.Entry{}, nil, t.readFailure(hitbox.OpGet, false, errs)
	}
	r := &race{answers: make(chan answer, len(idx)), launched: len(idx)}
	var lctx context.Context
	if t.losers == LosersFinish {
		lctx, r.cancel = t.detached(ctx)
		r.stop = context.AfterFunc(t.pool.root, r.cancel)
	} else {
		lctx, r.cancel = context.WithCancel(ctx)
	}
	if !t.startRaces(len(idx)) {
		r.cleanup()
		return hitbox.Entry{}, nil, t.fail(hitbox.OpGet, hitbox.ErrClosed)
	}
	for _, i := range idx {
		c := lctx
		var child *hitbox.Answer
		if src != nil {
			child = new(hitbox.Answer)
			c = hitbox.ContextWithAnswer(lctx, child)
		}
		go t.raceLevel(c, r, i, key, tagged, child)
	}

	answered := false
	for range idx {
		var a answer
		select {
		case a = <-r.answers:
		case <-ctx.Done():
			t.decide(r)
			return hitbox.Entry{}, nil, t.fail(hitbox.OpGet, ctx.Err())
		}
		if a.err != nil {
			switch a.out {
			case outcomeMiss:
				answered = true
			case outcomeFailed:
				errs = append(errs, a.err)
			case outcomeCancelled:
				if ctx.Err() != nil {
					t.decide(r)
					return hitbox.Entry{}, nil, a.err
				}
			}
			continue
		}
		t.decide(r)
		lv := &t.levels[a.i]
		lv.hits.Add(1)
		if src != nil {
			mark := src.Mark()
			src.Adopt(a.src)
			src.Record(mark, t.label, lv.label, a.i)
		}
		if a.i > 0 {
			t.refillAbove(ctx, key, a.e, a.tags, a.i, st)
		}
		return a.e, a.tags, nil
	}
	t.decide(r)
	return hitbox.Entry{}, nil, t.readFailure(hitbox.OpGet, answered, errs)
}

// raceLevel asks level i for key and reports to r. It does its own
// accounting, since in LosersFinish mode nobody may be listening any more.
func (t *Tier) raceLevel(ctx context.Context, r *race, i int, key string, tagged bool, src *hitbox.Answer) {
	defer t.races.Done()
	lv := &t.levels[i]
	a := answer{i: i, src: src}
	a.e, a.tags, a.err = t.readLevel(ctx, lv, i, key, tagged)
	if a.err == nil {
		t.answered(lv)
	} else {
		a.out = t.classify(ctx, lv, a.err)
	}
	r.answers <- a // buffered for every level: never blocks

	r.mu.Lock()
	r.finished++
	last := r.finished == r.launched
	decided, adopted := r.decided, r.adopted
	r.mu.Unlock()
	if adopted {
		t.pool.release()
	}
	if last && decided {
		r.cleanup()
	}
}

// decide ends the wait for a race: the level calls still running are
// cancelled, or in LosersFinish mode left to finish as background work when the
// pool has room for them.
func (t *Tier) decide(r *race) {
	r.mu.Lock()
	r.decided = true
	running := r.launched - r.finished
	keep := running > 0 && t.losers == LosersFinish && t.pool.adopt(running)
	r.adopted = keep
	r.mu.Unlock()
	switch {
	case running == 0:
		r.cleanup()
	case !keep:
		// The last loser to finish calls cleanup.
		r.cancel()
	}
}

func (t *Tier) getParallel(ctx context.Context, key string, tagged bool) (hitbox.Entry, []string, error) {
	src := hitbox.AnswerFrom(ctx)
	st := t.guard.stamp(key)
	answers := make([]answer, len(t.levels))
	var wg sync.WaitGroup
	for i := len(t.levels) - 1; i >= 0; i-- {
		lv := &t.levels[i]
		a := &answers[i]
		a.i = i
		if !t.readable(ctx, lv) {
			a.err, a.out = openErr(hitbox.OpGet, lv), outcomeFailed
			continue
		}
		c := ctx
		if src != nil {
			a.src = new(hitbox.Answer)
			c = hitbox.ContextWithAnswer(ctx, a.src)
		}
		if i == 0 {
			t.parallelLevel(c, lv, key, tagged, a)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.parallelLevel(c, lv, key, tagged, a)
		}()
	}
	wg.Wait()

	best := -1
	answered := false
	var errs []error
	now := t.now()
	for i := range answers {
		a := &answers[i]
		switch {
		case a.err == nil:
			if best < 0 || fresher(a.e, answers[best].e, now) {
				best = i
			}
		case a.out == outcomeMiss:
			answered = true
		case a.out == outcomeCancelled:
			return hitbox.Entry{}, nil, a.err
		default:
			errs = append(errs, a.err)
		}
	}
	if best < 0 {
		return hitbox.Entry{}, nil, t.readFailure(hitbox.OpGet, answered, errs)
	}
	a := &answers[best]
	lv := &t.levels[best]
	lv.hits.Add(1)
	if src != nil {
		mark := src.Mark()
		src.Adopt(a.src)
		src.Record(mark, t.label, lv.label, best)
	}
	if best > 0 {
		t.refillAbove(ctx, key, a.e, a.tags, best, st)
	}
	return a.e, a.tags, nil
}

func (t *Tier) parallelLevel(ctx context.Context, lv *level, key string, tagged bool, a *answer) {
	a.e, a.tags, a.err = t.readLevel(ctx, lv, a.i, key, tagged)
	if a.err == nil {
		t.answered(lv)
		return
	}
	a.out = t.classify(ctx, lv, a.err)
}

// fresher reports whether a is fresher than b at now: fresh beats stale
// (expired entries never reach here), then the later soft deadline wins
// (Stale, or Expire when there is no Stale), then the later Expire. A zero
// deadline is later than any other. On a tie b, the upper level, stays.
func fresher(a, b hitbox.Entry, now time.Time) bool {
	sa, sb := a.StateAt(now), b.StateAt(now)
	if sa != sb {
		return sa < sb
	}
	if c := cmpDeadline(softDeadline(a), softDeadline(b)); c != 0 {
		return c > 0
	}
	return cmpDeadline(a.Expire, b.Expire) > 0
}

func softDeadline(e hitbox.Entry) time.Time {
	if !e.Stale.IsZero() {
		return e.Stale
	}
	return e.Expire
}

// cmpDeadline compares deadlines where zero means never.
func cmpDeadline(a, b time.Time) int {
	switch {
	case a.Equal(b):
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}
