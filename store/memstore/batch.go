package memstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox"
)

// GetMany reads every key in one call and returns one Result per key, in
// order. Misses, damaged entries and refused keys are reported per Result;
// the error is for a done context or a closed store.
func (s *Store) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	if err := s.ready(ctx); err != nil {
		return nil, s.fail(hitbox.OpGetMany, err)
	}
	out := make([]hitbox.Result, len(keys))
	for i, key := range keys {
		if err := ctx.Err(); err != nil {
			return nil, s.fail(hitbox.OpGetMany, err)
		}
		if err := s.checkKey(key); err != nil {
			out[i].Err = s.fail(hitbox.OpGet, err)
			continue
		}
		e, err := s.get(ctx, key)
		if err != nil && err != s.errMiss {
			err = s.fail(hitbox.OpGet, err)
		}
		out[i] = hitbox.Result{Entry: e, Err: err}
	}
	return out, nil
}

// SetMany stores every item in one call. It tries them all, so one refused
// item does not keep the others out, and returns an error joining the
// failures, each naming its item's index. A done context stops it.
func (s *Store) SetMany(ctx context.Context, items []hitbox.Item) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpSetMany, err)
	}
	var errs []error
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return s.fail(hitbox.OpSetMany, err)
		}
		err := s.checkKey(it.Key)
		if err == nil {
			err = s.set(it.Key, it.Entry)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("item %d: %w", i, err))
		}
	}
	if errs != nil {
		return s.fail(hitbox.OpSetMany, errors.Join(errs...))
	}
	return nil
}

// DeleteMany removes every key in one call. Absent keys are not an error;
// refused keys are, joined as for SetMany. A done context stops it.
func (s *Store) DeleteMany(ctx context.Context, keys []string) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpDeleteMany, err)
	}
	var errs []error
	for i, key := range keys {
		if err := ctx.Err(); err != nil {
			return s.fail(hitbox.OpDeleteMany, err)
		}
		err := s.checkKey(key)
		if err == nil {
			err = s.del(key)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("key %d: %w", i, err))
		}
	}
	if errs != nil {
		return s.fail(hitbox.OpDeleteMany, errors.Join(errs...))
	}
	return nil
}

// Clear removes every entry. The memory bigcache allocated stays with the
// store, ready for new entries.
func (s *Store) Clear(ctx context.Context) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpClear, err)
	}
	_ = s.cache.Reset() // always nil
	return nil
}
