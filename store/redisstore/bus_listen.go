package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// listener keeps one subscriber connection alive: it subscribes, reads
// what arrives, pings the connection when it falls silent, and reconnects
// when it fails. Each successful subscription tells the hub, which queues an
// All: whatever was published while the connection was down is lost.
type listener struct {
	h    *hub
	name string // the server address, or the channel: for logs and the hub's map

	// subscribe returns a PubSub subscribed to the one channel the
	// listener reads.
	subscribe func(ctx context.Context) (*redis.PubSub, error)
	// handle turns a message into invalidations for the hub.
	handle func(*redis.Message)
	// release frees what the listener owns once it has stopped; may be nil.
	release func()

	ctx    context.Context // the hub's, ended by halt too, so a dial in progress stops
	cancel context.CancelFunc
	stop   chan struct{} // closed by halt
	done   chan struct{} // closed when run returns

	mu      sync.Mutex
	ps      *redis.PubSub // the current connection, closed by halt
	stopped bool

	up bool // subscribed now; guarded by h.mu
}

func newListener(h *hub, name string, subscribe func(context.Context) (*redis.PubSub, error), handle func(*redis.Message), release func()) *listener {
	if release == nil {
		release = func() {}
	}
	ctx, cancel := context.WithCancel(h.ctx)
	return &listener{
		h: h, name: name, ctx: ctx, cancel: cancel,
		subscribe: subscribe, handle: handle, release: release,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// errSilent says a connection did not answer a ping.
var errSilent = errors.New("no reply to a ping")

// run connects, reads and reconnects until halt.
func (l *listener) run() {
	defer close(l.done)
	defer l.cancel()
	defer l.release()
	defer l.h.gone(l)
	log := l.h.opt.Logger
	failures := 0
	for {
		ps, err := l.subscribe(l.ctx)
		if ps != nil && !l.setConn(ps) {
			_ = ps.Close()
			return
		}
		var upAt time.Time
		if err == nil {
			upAt, err = l.pump(ps)
		}
		if ps != nil {
			l.setConn(nil)
			_ = ps.Close()
		}
		if l.halted() {
			return
		}
		l.h.lost(l, err)
		if !upAt.IsZero() {
			// A connection that held for a while earns an immediate retry;
			// one dropped as soon as it subscribed keeps backing off, so
			// a server that keeps refusing it is not hammered.
			if time.Since(upAt) >= l.h.opt.HealthCheck {
				failures = 0
			}
			log.Warn("hitbox/redisstore: bus connection lost; reconnecting, then clearing local levels",
				"bus", l.h.opt.Label, "server", l.name, "err", err)
		} else {
			const msg = "hitbox/redisstore: bus cannot subscribe; retrying"
			if failures == 0 {
				log.Warn(msg, "bus", l.h.opt.Label, "server", l.name, "err", err)
			} else {
				log.Debug(msg, "bus", l.h.opt.Label, "server", l.name, "err", err, "attempt", failures+1)
			}
		}
		if !l.wait(l.h.backoff(failures)) {
			return
		}
		failures++
	}
}

// pump reads from ps until it fails, and returns when it subscribed (zero
// if it did not).
//
// Among the failures is the null key list Redis tracking sends when the
// database is flushed: go-redis refuses it as an unsupported payload. The
// listener then reconnects, and the All that comes with that is the one a
// flush calls for.
func (l *listener) pump(ps *redis.PubSub) (upAt time.Time, err error) {
	ctx, every := l.ctx, l.h.opt.HealthCheck
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, every)
		if err != nil {
			if !isTimeout(err) {
				return upAt, err
			}
			// Silence: ask for a reply, and give up on the connection
			// when even that does not come.
			if pinged {
				return upAt, fmt.Errorf("%w within %v", errSilent, every)
			}
			if err := ps.Ping(ctx); err != nil {
				return upAt, err
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if upAt.IsZero() {
					l.h.opt.Logger.Debug("hitbox/redisstore: bus subscribed",
						"bus", l.h.opt.Label, "server", l.name)
				}
				upAt = time.Now()
				l.h.up(l)
			}
		case *redis.Message:
			l.handle(m)
		}
	}
}

// isTimeout reports a read that found nothing within its deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// wait waits for d, and reports false when the listener is halted first.
func (l *listener) wait(d time.Duration) bool {
	if d <= 0 {
		return !l.halted()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.stop:
		return false
	}
}

// setConn records the current connection, and reports false when the
// listener is halted (then ps is not kept).
func (l *listener) setConn(ps *redis.PubSub) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped && ps != nil {
		return false
	}
	l.ps = ps
	return true
}

func (l *listener) halted() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopped
}

// halt stops the listener and waits until it has. Closing the connection
// ends a read that would otherwise wait for the next message.
func (l *listener) halt() {
	l.mu.Lock()
	if !l.stopped {
		l.stopped = true
		l.cancel()
		close(l.stop)
		if l.ps != nil {
			_ = l.ps.Close()
		}
	}
	l.mu.Unlock()
	<-l.done
}
