package cache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hitbox-go/hitbox"
)

// counted is a backend that counts the calls reaching the one it wraps,
// forwards the batch abilities through the hitbox helpers, and, when
// locks is set, has the lock ability over a lock table shared with other
// counted backends (processes sharing a store, as it were).
type counted struct {
	hitbox.Backend
	locks *lockTable

	gets, getManys, sets, setManys atomic.Int32
}

func (c *counted) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	c.gets.Add(1)
	return c.Backend.Get(ctx, key)
}

func (c *counted) Set(ctx context.Context, key string, e hitbox.Entry) error {
	c.sets.Add(1)
	return c.Backend.Set(ctx, key, e)
}

func (c *counted) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	c.getManys.Add(1)
	return hitbox.GetMany(ctx, c.Backend, keys)
}

func (c *counted) SetMany(ctx context.Context, items []hitbox.Item) error {
	c.setManys.Add(1)
	return hitbox.SetMany(ctx, c.Backend, items)
}

// countedLocker is a counted with the lock ability.
type countedLocker struct{ *counted }

func (c countedLocker) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	return c.locks.tryLock(key, ttl)
}

// lockTable is an in-memory Locker on a fake clock: a lock expires when
// the test moves the clock past its lifetime. tries receives the key of
// every attempt, so a test knows when a caller is waiting.
type lockTable struct {
	now     func() time.Time
	tries   chan string
	extends chan string // the key of every successful Extend

	mu    sync.Mutex
	held  map[string]heldLock
	next  int
	taken atomic.Int32
}

type heldLock struct {
	id     int
	expire time.Time
}

func newLockTable(now func() time.Time) *lockTable {
	return &lockTable{now: now, tries: make(chan string, 1<<16), extends: make(chan string, 1<<10), held: make(map[string]heldLock)}
}

func (t *lockTable) tryLock(key string, ttl time.Duration) (hitbox.Lock, error) {
	select {
	case t.tries <- key:
	default:
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if h, ok := t.held[key]; ok && t.now().Before(h.expire) {
		return nil, &hitbox.Error{Op: hitbox.OpLock, Backend: "locks", Err: hitbox.ErrLocked}
	}
	t.next++
	t.held[key] = heldLock{id: t.next, expire: t.now().Add(ttl)}
	t.taken.Add(1)
	return &tableLock{t: t, key: key, id: t.next}, nil
}

type tableLock struct {
	t   *lockTable
	key string
	id  int
}

func (l *tableLock) Extend(_ context.Context, ttl time.Duration) error {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	if h, ok := l.t.held[l.key]; !ok || h.id != l.id || !l.t.now().Before(h.expire) {
		return hitbox.ErrLocked
	}
	l.t.held[l.key] = heldLock{id: l.id, expire: l.t.now().Add(ttl)}
	select {
	case l.t.extends <- l.key:
	default:
	}
	return nil
}

func (l *tableLock) Unlock(context.Context) error {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	if h, ok := l.t.held[l.key]; ok && h.id == l.id {
		delete(l.t.held, l.key)
	}
	return nil
}
