package memstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hitbox-go/hitbox"
)

// GetMany reads every key in one call and returns one Result per key, in
// order, a tagged hit with its tags in Result.Tags. Misses, damaged entries
// and refused keys are reported per Result; the error is for a done context
// or a closed store.
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
		e, sect, err := s.getRecord(ctx, key)
		if err != nil && err != s.errMiss {
			err = s.fail(hitbox.OpGet, err)
		}
		out[i] = hitbox.Result{Entry: e, Err: err}
		if err == nil && sect != nil {
			out[i].Tags = tagNames(sect)
		}
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
	s.leases.changeAll()
	_ = s.cache.Reset() // always nil
	if s.adm != nil {
		s.adm.clear()
	}
	s.leases.doneAll()
	return nil
}

// ClearPrefix removes every key that starts with prefix. bigcache keeps no
// order of keys, so it walks every entry the store holds (a copy of each,
// shard by shard, under the shard's lock for the copy only) and deletes
// those that match: its cost grows with the whole store, not with the keys
// it removes. Entries set while it runs may or may not be removed. An
// empty prefix is refused with hitbox.ErrInvalidKey: Clear is much cheaper.
func (s *Store) ClearPrefix(ctx context.Context, prefix string) error {
	if err := s.ready(ctx); err != nil {
		return s.fail(hitbox.OpClearPrefix, err)
	}
	if prefix == "" {
		return s.fail(hitbox.OpClearPrefix, hitbox.ErrInvalidKey)
	}
	s.leases.changeAll() // the leases of absent keys under prefix end too
	defer s.leases.doneAll()
	it := s.cache.Iterator()
	for n := 0; it.SetNext(); n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return s.fail(hitbox.OpClearPrefix, err)
			}
		}
		e, err := it.Value()
		if err != nil {
			continue // gone since the shard's keys were listed
		}
		if strings.HasPrefix(e.Key(), prefix) {
			_ = s.remove(e.Key()) // the change is marked above
		}
	}
	return nil
}
