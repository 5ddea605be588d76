package layer_test

import (
	"context"
	"sync"

	"github.com/hitbox-go/hitbox"
)

// rawStore keeps entries exactly as written, deadlines included, and never
// expires them, so tests can read and plant the bytes a layer stores.
type rawStore struct {
	mu      sync.Mutex
	m       map[string]hitbox.Entry
	deletes int
}

func newRawStore() *rawStore { return &rawStore{m: make(map[string]hitbox.Entry)} }

func (s *rawStore) Label() string { return "raw" }

func (s *rawStore) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	if !ok {
		return hitbox.Entry{}, &hitbox.Error{Op: "get", Backend: "raw", Err: hitbox.ErrMiss}
	}
	return e, nil
}

func (s *rawStore) Set(ctx context.Context, key string, e hitbox.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Value = append([]byte{}, e.Value...)
	s.m[key] = e
	return nil
}

func (s *rawStore) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes++
	delete(s.m, key)
	return nil
}

// entry returns what is stored under key, and whether there is anything.
func (s *rawStore) entry(key string) (hitbox.Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[key]
	return e, ok
}

// plant stores v under key as it is, as if another program had written it.
func (s *rawStore) plant(key string, v []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = hitbox.Entry{Value: v}
}

// static answers every Get with the same entry and drops every write: a
// backend that costs nothing, so a benchmark sees only the layers above.
type static struct{ e hitbox.Entry }

func (s static) Label() string                                     { return "static" }
func (s static) Get(context.Context, string) (hitbox.Entry, error) { return s.e, nil }
func (s static) Set(context.Context, string, hitbox.Entry) error   { return nil }
func (s static) Delete(context.Context, string) error              { return nil }
