package tier

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Kinds of background task. Tasks are de-duplicated by kind and key.
const (
	kindRefill uint8 = iota
	kindWriteBehind
)

type taskKey struct {
	kind uint8
	key  string
}

// task is one piece of background work: run is called with a context
// detached from ctx (its values kept, its cancellation not) and bounded by
// the task timeout.
type task struct {
	ctx context.Context
	run func(ctx context.Context)
}

// slot holds the work for one key: at most one task running and one
// waiting, so tasks for a key run one at a time and in order, and a newer
// task replaces one still waiting.
type slot struct {
	key        taskKey
	next       *task
	running    bool
	superseded bool // a Delete or Clear overtook the running task
}

// offload is a tier's bounded pool for background work. Its workers start
// with the first task and stop in close.
type offload struct {
	workers int
	limit   int
	timeout time.Duration

	root    context.Context // cancelled when close gives up draining
	stopAll context.CancelFunc

	mu      sync.Mutex
	wake    sync.Cond
	queue   []*slot // slots with a waiting task, oldest first
	slots   map[taskKey]*slot
	pending int // waiting tasks plus adopted race losers; bounded by limit
	running int
	adopted int
	started bool
	closing bool
	stopped bool
	idle    chan struct{} // closed when closing and nothing is left
	quiet   sync.Cond     // broadcast whenever nothing is left
	wg      sync.WaitGroup

	queued, merged, dropped, done atomic.Uint64
}

func (p *offload) init(workers, limit int, timeout time.Duration) {
	p.workers, p.limit, p.timeout = workers, limit, timeout
	p.root, p.stopAll = context.WithCancel(context.Background())
	p.wake.L = &p.mu
	p.quiet.L = &p.mu
	p.slots = make(map[taskKey]*slot)
}

// submit queues run for key. It reports false, and counts a drop, when the
// queue is full or the pool is closing. A task waiting for the same kind and
// key is replaced (and counted as merged) instead.
func (p *offload) submit(ctx context.Context, kind uint8, key string, run func(context.Context)) bool {
	k := taskKey{kind, key}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		p.dropped.Add(1)
		return false
	}
	s := p.slots[k]
	if s != nil && s.next != nil {
		s.next = &task{ctx: ctx, run: run}
		p.merged.Add(1)
		return true
	}
	if p.pending >= p.limit {
		p.dropped.Add(1)
		return false
	}
	if s == nil {
		s = &slot{key: k}
		p.slots[k] = s
	}
	s.next = &task{ctx: ctx, run: run}
	if !s.running {
		// A slot whose task is running is queued again when it ends.
		p.queue = append(p.queue, s)
	}
	p.pending++
	p.queued.Add(1)
	if !p.started {
		p.started = true
		p.wg.Add(p.workers)
		for range p.workers {
			go p.work()
		}
	}
	p.wake.Signal()
	return true
}

func (p *offload) work() {
	defer p.wg.Done()
	p.mu.Lock()
	for {
		for len(p.queue) == 0 && !p.stopped {
			p.wake.Wait()
		}
		if p.stopped {
			p.mu.Unlock()
			return
		}
		s := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		t := s.next
		if t == nil {
			continue // cancelled while it waited
		}
		s.next = nil
		s.running = true
		s.superseded = false
		p.pending--
		p.running++
		p.mu.Unlock()

		p.run(t)

		p.mu.Lock()
		p.running--
		p.done.Add(1)
		s.running = false
		if s.next != nil {
			p.queue = append(p.queue, s)
		} else {
			delete(p.slots, s.key)
		}
		p.checkIdle()
	}
}

func (p *offload) run(t *task) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), p.timeout)
	stop := context.AfterFunc(p.root, cancel)
	defer func() {
		stop()
		cancel()
	}()
	t.run(ctx)
}

// cancel drops the task waiting for kind and key, and marks the running
// one as superseded, so it takes back what it wrote.
func (p *offload) cancel(kind uint8, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.slots[taskKey{kind, key}]; s != nil {
		p.cancelSlot(s)
	}
}

// cancelKind is cancel for every key of kind.
func (p *offload) cancelKind(kind uint8) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, s := range p.slots {
		if k.kind == kind {
			p.cancelSlot(s)
		}
	}
}

// cancelSlot does cancel's work; p.mu is held.
func (p *offload) cancelSlot(s *slot) {
	if s.next != nil {
		s.next = nil
		p.pending--
		p.merged.Add(1)
	}
	if s.running {
		s.superseded = true
	} else {
		// The worker skips it in the queue.
		delete(p.slots, s.key)
	}
	p.checkIdle()
}

// superseded reports whether the running task for kind and key has been
// cancelled.
func (p *offload) superseded(kind uint8, key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slots[taskKey{kind, key}]
	return s != nil && s.superseded
}

// busy reports whether a task of kind for key is waiting or running.
func (p *offload) busy(kind uint8, key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slots[taskKey{kind, key}]
	return s != nil && (s.running || s.next != nil)
}

// queuedAfter reports whether a task for kind and key is waiting, which
// will run after the one running now.
func (p *offload) queuedAfter(kind uint8, key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slots[taskKey{kind, key}]
	return s != nil && s.next != nil
}

// adopt counts n race losers left running in the background against the
// queue limit. It reports false, and counts n drops, when they do not fit;
// the caller then cancels them.
func (p *offload) adopt(n int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing || p.pending+n > p.limit {
		p.dropped.Add(uint64(n))
		return false
	}
	p.pending += n
	p.adopted += n
	p.queued.Add(uint64(n))
	return true
}

// release ends one adopted loser.
func (p *offload) release() {
	p.mu.Lock()
	p.pending--
	p.adopted--
	p.done.Add(1)
	p.checkIdle()
	p.mu.Unlock()
}

// checkIdle wakes close, and flush, once nothing is left; p.mu is held.
func (p *offload) checkIdle() {
	if p.pending != 0 || p.running != 0 {
		return
	}
	p.quiet.Broadcast()
	if p.idle != nil {
		close(p.idle)
		p.idle = nil
	}
}

// flush waits until no task is waiting or running.
func (p *offload) flush() {
	p.mu.Lock()
	for (p.pending != 0 || p.running != 0) && !p.stopped {
		p.quiet.Wait()
	}
	p.mu.Unlock()
}

// close refuses new work, lets what is queued and running finish for up to
// drain, then cancels what is left (queued tasks are dropped, running ones
// and adopted losers see their contexts cancelled) and waits for the
// workers to stop.
func (p *offload) close(drain time.Duration) {
	p.mu.Lock()
	p.closing = true
	var idle chan struct{}
	if p.pending > 0 || p.running > 0 {
		idle = make(chan struct{})
		p.idle = idle
	}
	p.mu.Unlock()

	if idle != nil && drain > 0 {
		timer := time.NewTimer(drain)
		select {
		case <-idle:
		case <-timer.C:
		}
		timer.Stop()
	}
	p.stopAll()

	p.mu.Lock()
	for _, s := range p.slots {
		if s.next != nil {
			s.next = nil
			p.pending--
			p.dropped.Add(1)
		}
	}
	p.queue = nil
	p.stopped = true
	p.quiet.Broadcast()
	p.wake.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}

// OffloadStats counts a tier's background work.
type OffloadStats struct {
	Queued  uint64 // tasks accepted, race losers adopted included
	Merged  uint64 // waiting tasks made needless: replaced by a newer one for the same key, or cancelled by a Delete or Clear
	Dropped uint64 // tasks refused: queue full or tier closing, or dropped by Close
	Done    uint64 // tasks finished, successfully or not
	Pending int    // tasks waiting or running now
}

func (p *offload) stats() OffloadStats {
	p.mu.Lock()
	n := p.pending + p.running
	p.mu.Unlock()
	return OffloadStats{
		Queued:  p.queued.Load(),
		Merged:  p.merged.Load(),
		Dropped: p.dropped.Load(),
		Done:    p.done.Load(),
		Pending: n,
	}
}
