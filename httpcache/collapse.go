package httpcache

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// flights collapses concurrent misses for one key into one handler call
// (a "collapsed" request in RFC 9211's words). The first request leads: it
// runs the handler as usual. The others wait, each bounded by its own
// context, and share the leader's response when it is storable and their
// request matches its Vary; otherwise they go to the handler themselves.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight

	waiting func() // test hook: called when a request starts waiting
}

// flight is one leader's handler call that others wait for.
type flight struct {
	// done is closed when the flight ends. It is made by the first
	// request to wait, under flights.mu: most flights have no waiter.
	done   chan struct{}
	res    *storedResponse // set before done is closed; nil: not shareable
	status int             // the status the leader received (200, 304)
	// waiters counts the requests waiting, so a leader whose client
	// leaves knows whether anyone still wants its response (see fill).
	waiters atomic.Int32
	// fill is the leader's, allocated with the flight (see detach).
	fill fill
}

// join returns the flight for key, and whether the caller leads it.
func (f *flights) join(key string) (*flight, bool) {
	f.mu.Lock()
	if fl, ok := f.m[key]; ok {
		fl.waiters.Add(1)
		if fl.done == nil {
			fl.done = make(chan struct{})
		}
		if f.waiting != nil {
			f.waiting()
		}
		f.mu.Unlock()
		fl.fill.watch() // the leader's client leaving now concerns this request
		return fl, false
	}
	fl := &flight{}
	f.m[key] = fl
	f.mu.Unlock()
	return fl, true
}

// finish ends a flight with its result, and reports whether res went to
// requests waiting for it: then they share it, and the caller must not
// reuse its body. Once the flight is out of the map no request can join
// it, so a flight that no one waits for then never will be, and its
// result is dropped. Waiters read res after done is closed, so they never
// see it half written.
func (f *flights) finish(key string, fl *flight, res *storedResponse, status int) bool {
	f.mu.Lock()
	if f.m[key] == fl {
		delete(f.m, key)
	}
	done := fl.done // no request joins from now on (see join)
	f.mu.Unlock()
	if done == nil || fl.waiters.Load() == 0 {
		res = nil
	}
	fl.res, fl.status = res, status
	if done != nil {
		close(done)
	}
	return res != nil
}

// forget detaches the flights for primary and its variants from the map,
// so requests arriving after an invalidation of primary lead their own
// flight instead of waiting for a response asked for before it. Waiters
// already in a flight are told by its leader, which shares nothing once
// its store was refused (see guard).
func (f *flights) forget(primary string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.m {
		if k == primary || len(k) > len(primary) && k[len(primary)] == 0 && k[:len(primary)] == primary {
			delete(f.m, k)
		}
	}
}

// collapsible reports whether the request may share a concurrent
// request's response (or lead one): a plain GET whose answer does not
// depend on conditionals, ranges, credentials or request directives.
func (x *exchange) collapsible() bool {
	r := x.r
	if r.Method != http.MethodGet || x.req.present || x.noCacheReq || x.pass {
		return false
	}
	for _, f := range [...]string{"Range", "If-None-Match", "If-Modified-Since", "If-Match",
		"If-Unmodified-Since", "If-Range", "Authorization"} {
		if len(r.Header[f]) > 0 {
			return false
		}
	}
	return true
}

// varyMatches reports whether sr's Vary selects this request (§4.1).
func (x *exchange) varyMatches(sr *storedResponse) bool {
	if len(sr.varyNames) == 0 {
		return true
	}
	return equalLines(varyValues(sr.varyNames, x.r.Header), sr.varyValues)
}

// release ends a flight this request leads, sharing res (nil: not
// shareable), and reports whether requests waiting for it got res (see
// flights.finish). The leader's handler call, from then on, is its
// client's alone again (see fill).
func (x *exchange) release(res *storedResponse, status int) bool {
	if x.fl == nil {
		return false
	}
	shared := x.c.flights.finish(x.lookupKey, x.fl, res, status)
	x.fl = nil
	if x.fill != nil {
		x.fill.unshare(x.r.Context())
	}
	return shared
}

// filling reports whether this request leads a flight others wait on,
// with a response it is storing: its handler call goes on without its
// client.
func (x *exchange) filling() bool {
	return x.fill != nil && x.fill.shared.Load() && x.fl != nil && x.fl.waiters.Load() > 0
}

// detachedFill reports whether this request's handler call went on
// without its client, for the requests waiting on it.
func (x *exchange) detachedFill() bool { return x.fill != nil && x.fill.detached.Load() }

// fill is a leader's handler call, detached from its client: others wait
// for the response it stores, so the client leaving must not abandon it
// (every waiter would then go to the origin on its own). The handler's
// request gets the fill itself as its context: it keeps the client's
// values but not its cancellation. When the client leaves while others
// wait, the call goes on for Options.RevalidateTimeout at most, as a
// background refresh would, and writes meant for the client are dropped
// while the body is still stored; when no one waits, or once the flight
// is released (the response cannot be shared, or it is done), the client
// leaving cancels the call at once, as for any request.
//
// Being the context itself, a fill spares a miss the context and the
// cancel function context.WithCancel would allocate; it is allocated with
// its flight. It watches the client's context only once something can
// tell the difference (see watch).
type fill struct {
	client   context.Context // the leader's client's, set by detach under mu
	values   atomic.Value    // of context.Context: the client's without its cancellation, made by the first Value
	timeout  time.Duration
	fl       *flight
	shared   atomic.Bool
	detached atomic.Bool // the client left and the call went on for the waiters
	watching atomic.Bool // stop is set (see watch)
	stop     func() bool // stops the watch on the client's context, under mu

	done atomic.Value // of chan struct{}: made by the first Done, closed by cancel

	mu     sync.Mutex
	timer  *time.Timer
	ended  bool
	err    error    // context.Canceled once cancelled
	afters []func() // what AfterFunc registered, run once cancelled
}

// detach starts x's fill and returns r2 with it as its context.
func (x *exchange) detach(r2 *http.Request) *http.Request {
	f := &x.fl.fill
	f.timeout, f.fl = x.c.opts.RevalidateTimeout, x.fl
	f.shared.Store(true)
	f.mu.Lock()
	f.client = x.r.Context() // r2 carries it too (see forward)
	f.mu.Unlock()
	// A request that joined before the client was set found nothing to
	// watch (see join): this one starts the watch for it. One that joins
	// from now on finds the client set.
	if x.fl.waiters.Load() > 0 {
		f.watch()
	}
	x.fill = f
	return r2.WithContext(f)
}

// watch starts watching the client's context (clientGone runs when it is
// done), once. Until something can tell the difference it need not: the
// handler looks at its context (Done, Err, AfterFunc, a context derived
// from it), or a request waits for the flight, which must get the
// response unless the call outlives RevalidateTimeout without the client.
// A handler that never looks, while no one waits, can neither see the
// client leave nor be stopped by it, so most misses never pay for the
// watch. The cache's own look at the end (cancelled) does not start it:
// without waiters the client leaving is read from its context there.
func (f *fill) watch() {
	if f.watching.Load() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.watching.Load() || f.client == nil || f.ended {
		return
	}
	f.stop = context.AfterFunc(f.client, f.clientGone) // clientGone runs in a goroutine of its own
	f.watching.Store(true)
}

// cancelled reports whether the fill was cancelled, without starting the
// watch (see watch).
func (f *fill) cancelled() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err != nil
}

var _ context.Context = (*fill)(nil)

// Deadline reports none: the client's deadline is not the fill's.
func (f *fill) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done returns a channel closed when the fill is cancelled.
func (f *fill) Done() <-chan struct{} {
	f.watch()
	if d, ok := f.done.Load().(chan struct{}); ok {
		return d
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.done.Load().(chan struct{})
	if !ok {
		d = make(chan struct{})
		if f.err != nil {
			close(d)
		}
		f.done.Store(d)
	}
	return d
}

// Err returns context.Canceled once the fill is cancelled, else nil.
func (f *fill) Err() error {
	f.watch()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// Value returns the client's context's value for key. It asks
// context.WithoutCancel of it, not the client's context itself, whose Value
// would hand context.Cause and the contexts the handler derives the
// client's cancellation.
func (f *fill) Value(key any) any {
	v, ok := f.values.Load().(context.Context)
	if !ok {
		f.mu.Lock()
		if v, ok = f.values.Load().(context.Context); !ok {
			v = context.WithoutCancel(f.client)
			f.values.Store(v)
		}
		f.mu.Unlock()
	}
	return v.Value(key)
}

// AfterFunc schedules fn to run once the fill is cancelled, and returns a
// func that unschedules it (true if it did). The context package finds it
// and hands it the cancellation of the contexts the handler derives from
// the fill (an outgoing request's, in a proxy), rather than starting a
// goroutine for each to watch the fill's Done. What it hands over cancels
// a derived context and returns, so cancel runs it at once, as a
// cancelled context.WithCancel cancels its children (context.AfterFunc's
// own f runs in a goroutine of its own all the same); only a fill already
// cancelled starts one, since the caller may hold the derived context's
// lock.
func (f *fill) AfterFunc(fn func()) (stop func() bool) {
	f.watch()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		go fn()
		return func() bool { return false }
	}
	i := len(f.afters)
	f.afters = append(f.afters, fn)
	return func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.err != nil || f.afters[i] == nil {
			return false // it ran (or is about to), or was stopped already
		}
		f.afters[i] = nil
		return true
	}
}

// String names the context, for the strings of contexts derived from it.
func (f *fill) String() string { return "httpcache.fill" }

// cancel cancels the handler's call: its context is done, and what
// AfterFunc registered runs.
func (f *fill) cancel() {
	f.mu.Lock()
	if f.err != nil {
		f.mu.Unlock()
		return
	}
	f.err = context.Canceled
	if d, ok := f.done.Load().(chan struct{}); ok {
		close(d)
	}
	afters := f.afters
	f.afters = nil
	f.mu.Unlock()
	for _, fn := range afters {
		if fn != nil {
			fn() // see AfterFunc
		}
	}
}

// clientGone runs when the leader's client leaves: its context is done,
// or a write to it failed.
func (f *fill) clientGone() {
	if !f.shared.Load() || f.fl.waiters.Load() == 0 {
		f.cancel()
		return
	}
	if !f.detached.CompareAndSwap(false, true) {
		return // a failed write told first
	}
	f.mu.Lock()
	if !f.ended {
		f.timer = time.AfterFunc(f.timeout, f.cancel)
	}
	f.mu.Unlock()
}

// unshare makes the call the client's alone: cancelled when it is gone.
func (f *fill) unshare(client context.Context) {
	f.shared.Store(false)
	if client.Err() != nil {
		f.cancel()
	}
}

// end releases what the fill holds once the handler returned.
func (f *fill) end() {
	f.mu.Lock()
	f.ended = true
	stop := f.stop
	if f.timer != nil {
		f.timer.Stop()
	}
	f.mu.Unlock()
	if stop != nil {
		stop()
	}
	f.cancel()
}
