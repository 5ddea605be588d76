package faulty

import (
	"context"
	"sync"

	"github.com/hitbox-go/hitbox"
)

// Backend is a hitbox.Backend that forwards every call, and every optional
// ability through the hitbox helpers, to the backend it wraps, unless a test
// told it to fail or to block.
type Backend struct {
	inner   hitbox.Backend
	waiting chan string

	mu    sync.Mutex
	fails map[string]error // by operation
	block chan struct{}    // closed on release; nil when not blocking
	calls map[string]int
	seen  context.Context
}

// Wrap returns a Backend over inner that behaves exactly like it until told
// otherwise.
func Wrap(inner hitbox.Backend) *Backend {
	return &Backend{
		inner:   inner,
		waiting: make(chan string, 256),
		fails:   make(map[string]error),
		calls:   make(map[string]int),
	}
}

// FailGet makes Get and GetMany return err (wrapped in a *hitbox.Error)
// without reaching the inner backend. A nil err stops that.
func (b *Backend) FailGet(err error) { b.fail(err, hitbox.OpGet, hitbox.OpGetMany) }

// FailSet makes Set and SetMany return err. A nil err stops that.
func (b *Backend) FailSet(err error) { b.fail(err, hitbox.OpSet, hitbox.OpSetMany) }

// FailDelete makes Delete and DeleteMany return err. A nil err stops that.
func (b *Backend) FailDelete(err error) { b.fail(err, hitbox.OpDelete, hitbox.OpDeleteMany) }

// FailAll makes every operation, Clear and Close included, return err. A
// nil err stops that.
func (b *Backend) FailAll(err error) {
	b.fail(err, hitbox.OpGet, hitbox.OpSet, hitbox.OpDelete, hitbox.OpGetMany, hitbox.OpSetMany, hitbox.OpDeleteMany, hitbox.OpClear, hitbox.OpClose)
}

// Heal stops every injected failure. It does not release a Block.
func (b *Backend) Heal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.fails)
}

// Block makes every call from now on wait, before it fails or forwards,
// until the returned release func is called or the call's context is done;
// a call whose context ends first returns an error wrapping ctx.Err().
// Close, which has no context, waits for release alone. Calling release
// more than once is harmless.
func (b *Backend) Block() (release func()) {
	ch := make(chan struct{})
	b.mu.Lock()
	b.block = ch
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			if b.block == ch {
				b.block = nil
			}
			b.mu.Unlock()
			close(ch)
		})
	}
}

// Waiting receives an operation's name each time a call starts waiting on
// a Block, so a test can act once a call is surely held inside. It holds
// the last 256 such names; older ones are dropped rather than stall a call.
func (b *Backend) Waiting() <-chan string { return b.waiting }

// Calls returns how many calls of op (hitbox.OpGet, hitbox.OpGetMany, ...) have reached
// b, failed or blocked ones included.
func (b *Backend) Calls(op string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[op]
}

// Seen returns the context of the last call that took one, or nil before
// any, so a test can check that values and deadlines came through.
func (b *Backend) Seen() context.Context {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen
}

// Unwrap returns the wrapped backend.
func (b *Backend) Unwrap() hitbox.Backend { return b.inner }

// Label returns the wrapped backend's label, so errors read as the store's.
func (b *Backend) Label() string { return b.inner.Label() }

// Get forwards to the inner Get.
func (b *Backend) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if err := b.enter(ctx, hitbox.OpGet); err != nil {
		return hitbox.Entry{}, err
	}
	return b.inner.Get(ctx, key)
}

// Set forwards to the inner Set.
func (b *Backend) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if err := b.enter(ctx, hitbox.OpSet); err != nil {
		return err
	}
	return b.inner.Set(ctx, key, e)
}

// Delete forwards to the inner Delete.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := b.enter(ctx, hitbox.OpDelete); err != nil {
		return err
	}
	return b.inner.Delete(ctx, key)
}

// GetMany forwards through hitbox.GetMany.
func (b *Backend) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	if err := b.enter(ctx, hitbox.OpGetMany); err != nil {
		return nil, err
	}
	return hitbox.GetMany(ctx, b.inner, keys)
}

// SetMany forwards through hitbox.SetMany.
func (b *Backend) SetMany(ctx context.Context, items []hitbox.Item) error {
	if err := b.enter(ctx, hitbox.OpSetMany); err != nil {
		return err
	}
	return hitbox.SetMany(ctx, b.inner, items)
}

// DeleteMany forwards through hitbox.DeleteMany.
func (b *Backend) DeleteMany(ctx context.Context, keys []string) error {
	if err := b.enter(ctx, hitbox.OpDeleteMany); err != nil {
		return err
	}
	return hitbox.DeleteMany(ctx, b.inner, keys)
}

// Clear forwards through hitbox.Clear.
func (b *Backend) Clear(ctx context.Context) error {
	if err := b.enter(ctx, hitbox.OpClear); err != nil {
		return err
	}
	return hitbox.Clear(ctx, b.inner)
}

// Close forwards through hitbox.Close.
func (b *Backend) Close() error {
	// Close takes no context; Background never ends, so a Block holds Close
	// until release.
	if err := b.enter(context.Background(), hitbox.OpClose); err != nil {
		return err
	}
	return hitbox.Close(b.inner)
}

// enter counts the call, records its context, waits on a Block and returns
// the injected failure, if any.
func (b *Backend) enter(ctx context.Context, op string) error {
	b.mu.Lock()
	b.calls[op]++
	if op != hitbox.OpClose {
		b.seen = ctx
	}
	block := b.block
	b.mu.Unlock()

	if block != nil {
		select {
		case b.waiting <- op:
		default:
		}
		select {
		case <-block:
		case <-ctx.Done():
			return &hitbox.Error{Op: op, Backend: b.Label(), Err: ctx.Err()}
		}
	}

	b.mu.Lock()
	err := b.fails[op]
	b.mu.Unlock()
	if err != nil {
		return &hitbox.Error{Op: op, Backend: b.Label(), Err: err}
	}
	return nil
}

func (b *Backend) fail(err error, ops ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, op := range ops {
		if err == nil {
			delete(b.fails, op)
		} else {
			b.fails[op] = err
		}
	}
}
