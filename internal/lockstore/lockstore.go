// Package lockstore is an in-memory store with the lock ability
// (hitbox.Locker) that records the keys it was asked to lock, for tests
// that check a layer or a tier passes the ability down to the right store
// (the package's Example):
//
//	s := lockstore.New(mapstore.New(mapstore.Options{}))
//	l, err := hitbox.TryLock(ctx, s, "k", time.Second)
//	fmt.Println(err, l.Unlock(ctx), s.Locked()) // <nil> <nil> [k]
//
// Every TryLock succeeds at once with a lock whose Extend and Unlock do
// nothing: the store stands for a shared level, it does not exclude.
package lockstore

import (
	"context"
	"sync"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// Store is a mapstore, with all its abilities, plus TryLock.
type Store struct {
	*mapstore.Store

	mu     sync.Mutex
	locked []string
}

// New returns s with the lock ability.
func New(s *mapstore.Store) *Store { return &Store{Store: s} }

// TryLock records key and returns a lock that does nothing.
func (s *Store) TryLock(_ context.Context, key string, _ time.Duration) (hitbox.Lock, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.locked = append(s.locked, key)
	return nopLock{}, nil
}

// Locked returns the keys TryLock was called with, in order.
func (s *Store) Locked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.locked...)
}

type nopLock struct{}

func (nopLock) Extend(context.Context, time.Duration) error { return nil }
func (nopLock) Unlock(context.Context) error                { return nil }
