package hitbox

import (
	"context"
	"sync"
)

// LocalBus is an in-process Bus and Publisher: it connects tiers (and
// other subscribers) that live in one process (tests, or several tiers
// over one shared store) and delivers each message synchronously, inside
// Publish, to every subscriber. It never loses a message, so it only reports a gap when told
// to (Interrupt, Resume). The zero value is not usable; call NewLocalBus.
type LocalBus struct {
	mu     sync.RWMutex
	subs   map[*localSub]struct{}
	closed bool
}

type localSub struct {
	mu      sync.Mutex // serialises calls of fn and guards stopped
	fn      func(Invalidation)
	stopped bool
}

// NewLocalBus returns an empty in-process bus.
func NewLocalBus() *LocalBus {
	return &LocalBus{subs: make(map[*localSub]struct{})}
}

// Subscribe implements Bus. A subscription made after Close is never called.
func (b *LocalBus) Subscribe(fn func(Invalidation)) (stop func()) {
	s := &localSub{fn: fn}
	b.mu.Lock()
	if !b.closed {
		b.subs[s] = struct{}{}
	}
	b.mu.Unlock()
	return func() {
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
		// Taking s.mu waits for a delivery in progress to finish.
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
	}
}

// Publish implements Publisher: it calls every subscriber, the publisher's
// own included, before it returns. It fails with ErrClosed after
// Close.
func (b *LocalBus) Publish(ctx context.Context, inv Invalidation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.deliver(inv)
}

// Interrupt tells every subscriber that delivery may have stopped (an
// Invalidation with Down set), as a networked bus does when it loses its
// connection; Resume tells them that delivery resumed after a possible
// gap (All set), as one does when it reconnects. LocalBus itself never
// loses a message: the two exist so that a test of a subscriber (a tier,
// a decoded-object front, an HTTP cache, one of yours) can play a bus
// outage within one process, as net/http/httptest plays a server.
func (b *LocalBus) Interrupt() { _ = b.deliver(Invalidation{Down: true}) }

// Resume ends what Interrupt began: see Interrupt.
func (b *LocalBus) Resume() { _ = b.deliver(Invalidation{All: true}) }

// Close ends every subscription; later Publish calls fail with
// ErrClosed. It is idempotent.
func (b *LocalBus) Close() error {
	b.mu.Lock()
	subs := b.subs
	b.subs = nil
	b.closed = true
	b.mu.Unlock()
	for s := range subs {
		s.mu.Lock()
		s.stopped = true
		s.mu.Unlock()
	}
	return nil
}

func (b *LocalBus) deliver(inv Invalidation) error {
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return &Error{Op: OpPublish, Backend: "localbus", Err: ErrClosed}
	}
	subs := make([]*localSub, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.RUnlock()
	for _, s := range subs {
		s.mu.Lock()
		if !s.stopped {
			s.fn(inv)
		}
		s.mu.Unlock()
	}
	return nil
}
