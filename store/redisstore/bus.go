package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hitbox-go/hitbox"
)

// BusOptions tune a TrackingBus or a PubSubBus. The zero value is a working
// configuration: every field left zero takes the default named in its
// comment.
type BusOptions struct {
	// Label names the bus in errors and logs. Default "redis-tracking" for
	// a TrackingBus, "redis-pubsub" for a PubSubBus.
	Label string

	// HealthCheck bounds how long a dead subscriber connection goes
	// unnoticed. After HealthCheck without a message the bus pings the
	// connection; when the answer does not come within another
	// HealthCheck, the bus drops the connection and reconnects (then
	// delivers an Invalidation with All set). A connection the server or
	// the network closes is noticed at once; this is for the silent kind
	// (a frozen server, a cable pulled, a NAT forgetting the flow), which
	// is thus found within twice HealthCheck. Default one second.
	HealthCheck time.Duration

	// MaxBackoff is the longest wait between two attempts to connect. The
	// first attempt after a connection drops is immediate; later ones wait
	// 10ms, then twice as long each time (less a random part, so
	// processes do not come back in step), up to MaxBackoff. Default one
	// second.
	MaxBackoff time.Duration

	// Queue is how many invalidations may wait for the subscribers while
	// they are busy. When more arrive, the waiting ones are replaced by one
	// Invalidation with All set: subscribers then clear their local levels
	// instead of falling ever further behind. Default 1024.
	Queue int

	// Topology is how often a TrackingBus over a Redis Cluster or a Ring
	// looks for masters (or shards) added or replaced, to track them too.
	// Default five seconds.
	Topology time.Duration

	// Logger receives lost and restored connections, refusals (a server
	// with CLIENT TRACKING disabled, say), messages the bus could not read
	// and queue overflows. Default: discard.
	Logger *slog.Logger
}

// Bus defaults.
const (
	defaultHealthCheck = time.Second
	defaultMaxBackoff  = time.Second
	defaultBusQueue    = 1024
	defaultTopology    = 5 * time.Second

	// minBackoff is the wait before the second attempt to connect.
	minBackoff = 10 * time.Millisecond
)

// Validate reports the first option that cannot work, with the message
// NewTrackingBus and NewPubSubBus panic with:
// "hitbox/redisstore: BusOptions.<field>: <why>". Zero values are never
// invalid: they mean the defaults.
func (o BusOptions) Validate() error {
	switch {
	case o.HealthCheck < 0:
		return invalid("BusOptions.HealthCheck", "negative (%v)", o.HealthCheck)
	case o.MaxBackoff < 0:
		return invalid("BusOptions.MaxBackoff", "negative (%v)", o.MaxBackoff)
	case o.Queue < 0:
		return invalid("BusOptions.Queue", "negative (%d)", o.Queue)
	case o.Topology < 0:
		return invalid("BusOptions.Topology", "negative (%v)", o.Topology)
	}
	return nil
}

// resolve applies defaults to o, with label as the default Label, and
// panics on invalid options.
func (o BusOptions) resolve(label string) BusOptions {
	if err := o.Validate(); err != nil {
		panic(err.Error())
	}
	if o.Label == "" {
		o.Label = label
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HealthCheck == 0 {
		o.HealthCheck = defaultHealthCheck
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = defaultMaxBackoff
	}
	if o.Queue == 0 {
		o.Queue = defaultBusQueue
	}
	if o.Topology == 0 {
		o.Topology = defaultTopology
	}
	return o
}

// hub is what both buses share: the subscriptions, the queue between the
// connections that receive invalidations and the one goroutine that hands
// them to the subscribers, and the state of those connections.
//
// The connections (listeners) push what they receive; the dispatcher
// delivers it, in order, to every subscription in the order they were
// made. A slow subscriber thus never holds up reading from Redis (so
// health checks keep working), and a subscriber that falls far behind gets
// one All instead of an ever longer backlog.
type hub struct {
	opt BusOptions

	// ctx ends with Close; every connection attempt and read runs under
	// it. It is the bus's own: no caller's context spans the bus's life.
	ctx    context.Context
	cancel context.CancelFunc

	// start begins the bus's own work (listeners, topology watch) on first
	// use; it runs at most once, after the dispatcher has started.
	start     func()
	startOnce sync.Once

	wake chan struct{} // tells the dispatcher the queue has work
	wg   sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	subs      []*busSub // in subscription order; replaced, never changed in place
	queue     []event
	spare     []event // the dispatcher's last batch, reused as the next queue
	collapsed bool    // the queue holds one All that stands for dropped messages
	listeners map[string]*listener
	down      int           // listeners not subscribed right now
	ready     chan struct{} // closed while every listener is subscribed
	isReady   bool
	lastErr   error // why a listener last failed, for Ready
}

// busSub is one subscription.
type busSub struct {
	mu      sync.Mutex // serialises calls of fn and guards stopped
	fn      func(hitbox.Invalidation)
	stopped bool
}

// event is an invalidation to deliver to every subscription, or to one;
// or, when done is set, a mark closed once everything before it has been
// delivered.
type event struct {
	inv  hitbox.Invalidation
	to   *busSub // nil for every subscription
	done chan struct{}
}

var (
	allEvent  = event{inv: hitbox.Invalidation{All: true}}
	downEvent = event{inv: hitbox.Invalidation{Down: true}}
)

func (h *hub) init(opt BusOptions, start func()) {
	h.opt = opt
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.start = start
	h.wake = make(chan struct{}, 1)
	h.listeners = make(map[string]*listener)
	h.ready = make(chan struct{})
}

// begin starts the dispatcher and the bus's own work, once, unless the bus
// is closed.
func (h *hub) begin() {
	h.startOnce.Do(func() {
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			return
		}
		h.wg.Add(1)
		h.mu.Unlock()
		go h.dispatch()
		h.start()
	})
}

// backoff is the wait before the attempt after failures failed ones: none
// at first, then from minBackoff doubling up to MaxBackoff, each less a
// random part of up to a half.
func (h *hub) backoff(failures int) time.Duration {
	if failures == 0 {
		return 0
	}
	d := h.opt.MaxBackoff
	if failures < 30 {
		d = min(minBackoff<<(failures-1), d)
	}
	return d - rand.N(d/2+1)
}

// goLocked runs fn on a goroutine Close waits for, unless the bus is
// closed. h.mu must be held, so Close cannot begin waiting in between.
func (h *hub) goLocked(fn func()) bool {
	if h.closed {
		return false
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
	return true
}

// subscribe implements hitbox.Bus.Subscribe. A subscription made while every
// connection of the bus is up starts with an All of its own, so that its
// first message always says the bus is live, whenever it subscribed; one
// made while some connection is not (the bus not yet started, or
// reconnecting) starts with a Down, so the subscriber does not trust its
// local copies until the All that comes with the connection.
func (h *hub) subscribe(fn func(hitbox.Invalidation)) (stop func()) {
	s := &busSub{fn: fn}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return func() {}
	}
	subs := make([]*busSub, len(h.subs), len(h.subs)+1)
	copy(subs, h.subs)
	h.subs = append(subs, s)
	if h.isReady {
		h.pushLocked(event{inv: allEvent.inv, to: s})
	} else {
		h.pushLocked(event{inv: downEvent.inv, to: s})
	}
	h.mu.Unlock()
	h.notify()
	h.begin()
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			if i := slices.Index(h.subs, s); i >= 0 {
				h.subs = slices.Delete(slices.Clone(h.subs), i, i+1)
			}
			h.mu.Unlock()
			// Taking s.mu waits for a delivery in progress to finish.
			s.mu.Lock()
			s.stopped = true
			s.mu.Unlock()
		})
	}
}

// readyWait waits until every connection of the bus is subscribed, starting
// the bus if nothing has yet, and the subscriptions have been handed what
// the bus received until then.
func (h *hub) readyWait(ctx context.Context) error {
	h.begin()
	h.mu.Lock()
	closed, ready := h.closed, h.ready
	h.mu.Unlock()
	if closed {
		return &hitbox.Error{Op: hitbox.OpSubscribe, Backend: h.opt.Label, Err: hitbox.ErrClosed}
	}
	select {
	case <-ready:
		// Let the subscribers act on the Alls that came with connecting,
		// so that nothing the caller does next is cleared by them.
		if err := h.flush(ctx); err != nil {
			return &hitbox.Error{Op: hitbox.OpSubscribe, Backend: h.opt.Label, Err: err}
		}
		return nil
	case <-h.ctx.Done():
		return &hitbox.Error{Op: hitbox.OpSubscribe, Backend: h.opt.Label, Err: hitbox.ErrClosed}
	case <-ctx.Done():
		h.mu.Lock()
		last := h.lastErr
		h.mu.Unlock()
		err := ctx.Err()
		if last != nil {
			err = fmt.Errorf("%w (last connection error: %w)", err, last)
		}
		return &hitbox.Error{Op: hitbox.OpSubscribe, Backend: h.opt.Label, Err: err}
	}
}

// flush waits until everything the bus received before the call has been
// delivered, or ctx or the bus ends.
func (h *hub) flush(ctx context.Context) error {
	done := make(chan struct{})
	h.mu.Lock()
	closed := h.closed
	h.pushLocked(event{done: done})
	h.mu.Unlock()
	if closed {
		return hitbox.ErrClosed
	}
	h.notify()
	select {
	case <-done:
		return nil
	case <-h.ctx.Done():
		return hitbox.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// push queues inv for every subscription.
func (h *hub) push(inv hitbox.Invalidation) {
	h.mu.Lock()
	h.pushLocked(event{inv: inv})
	h.mu.Unlock()
	h.notify()
}

// pushLocked queues ev, or replaces the whole queue with one All when it is
// full. h.mu must be held; notify must follow once it is released.
func (h *hub) pushLocked(ev event) {
	if h.closed {
		return
	}
	if len(h.queue) < h.opt.Queue {
		h.queue = append(h.queue, ev)
		return
	}
	// Keep the marks; let go of the dropped keys.
	q := append(h.queue[:0:0], allEvent)
	for _, old := range h.queue {
		if old.done != nil {
			q = append(q, old)
		}
	}
	clear(h.queue)
	h.queue = q
	if h.down > 0 {
		// The All stands for what was dropped, not for a connection
		// back: delivery is still in a gap.
		h.queue = append(h.queue, downEvent)
	}
	if ev.done != nil {
		h.queue = append(h.queue, ev)
	}
	if !h.collapsed {
		h.collapsed = true
		h.opt.Logger.Warn("hitbox/redisstore: bus subscribers fell behind; invalidations replaced by one clear",
			"bus", h.opt.Label, "queue", h.opt.Queue)
	}
}

func (h *hub) notify() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// dispatch delivers the queue to the subscriptions until Close.
func (h *hub) dispatch() {
	defer h.wg.Done()
	for {
		select {
		case <-h.wake:
		case <-h.ctx.Done():
			return
		}
		for {
			h.mu.Lock()
			batch, subs := h.queue, h.subs
			h.queue, h.spare = h.spare[:0], nil
			h.collapsed = false
			h.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, ev := range batch {
				if h.ctx.Err() != nil {
					return
				}
				switch {
				case ev.done != nil:
					close(ev.done)
					continue
				case ev.to != nil:
					ev.to.deliver(ev.inv)
					continue
				}
				for _, s := range subs {
					s.deliver(ev.inv)
				}
			}
			clear(batch)
			h.mu.Lock()
			h.spare = batch[:0]
			h.mu.Unlock()
		}
	}
}

func (s *busSub) deliver(inv hitbox.Invalidation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.fn(inv)
	}
}

// addListener starts l under its name, unless the bus is closed or has one
// by that name.
func (h *hub) addListener(l *listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.listeners[l.name]; ok || h.closed {
		l.cancel()
		l.release()
		return
	}
	h.listeners[l.name] = l
	h.down++
	if h.isReady {
		// Changes on the new server are not heard until it subscribes.
		h.pushLocked(downEvent)
	}
	h.setReadyLocked()
	h.goLocked(l.run)
}

// removeListener stops the listener named name and waits for it.
func (h *hub) removeListener(name string) {
	h.mu.Lock()
	l := h.listeners[name]
	delete(h.listeners, name)
	h.mu.Unlock()
	if l != nil {
		h.opt.Logger.Debug("hitbox/redisstore: bus stops tracking a server that left",
			"bus", h.opt.Label, "server", name)
		l.halt()
	}
}

// listenerNames returns the names of the running listeners.
func (h *hub) listenerNames() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, 0, len(h.listeners))
	for name := range h.listeners {
		names = append(names, name)
	}
	return names
}

// up records that l has subscribed, and queues the All that says messages
// may have been missed before. While another connection is still down, a
// Down follows at once: the All clears what l's gap may have left, but
// delivery is not whole yet.
func (h *hub) up(l *listener) {
	h.mu.Lock()
	if !l.up {
		l.up = true
		h.down--
	}
	h.lastErr = nil
	h.pushLocked(allEvent)
	if h.down > 0 {
		h.pushLocked(downEvent)
	}
	h.setReadyLocked()
	h.mu.Unlock()
	h.notify()
}

// lost records that l is not subscribed, because of err, and queues the
// Down that says delivery may have stopped: from now on, until the All
// that comes with the next subscription, what changes on l's server may go
// unheard.
func (h *hub) lost(l *listener, err error) {
	h.mu.Lock()
	if l.up {
		l.up = false
		h.down++
		h.pushLocked(downEvent)
	}
	h.lastErr = err
	h.setReadyLocked()
	h.mu.Unlock()
	h.notify()
}

// gone records that l has stopped for good.
func (h *hub) gone(l *listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !l.up {
		h.down--
	}
	l.up = false
	h.setReadyLocked()
}

// setReadyLocked opens or shuts h.ready to match the listeners' state.
func (h *hub) setReadyLocked() {
	want := len(h.listeners) > 0 && h.down == 0
	switch {
	case want && !h.isReady:
		close(h.ready)
		h.isReady = true
	case !want && h.isReady:
		h.ready = make(chan struct{})
		h.isReady = false
	}
}

// close stops every goroutine of the bus and ends every subscription. It
// is idempotent.
func (h *hub) close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	subs := h.subs
	h.subs = nil
	clear(h.queue)
	h.queue = nil
	ls := make([]*listener, 0, len(h.listeners))
	for name, l := range h.listeners {
		ls = append(ls, l)
		delete(h.listeners, name)
	}
	h.mu.Unlock()

	h.cancel()
	for _, l := range ls {
		l.halt()
	}
	h.wg.Wait()
	for _, s := range subs {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
	}
}
