package memstore

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allegro/bigcache/v3"
	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/bufpool"
)

// Store is a hitbox.Backend that keeps entries in this process, in a
// bigcache. It is safe for concurrent use. Create it with New and release it
// with Close.
type Store struct {
	cache    *bigcache.BigCache
	label    string
	maxValue int
	maxKey   int
	maxTTL   time.Duration
	limit    int64
	now      func() time.Time
	log      *slog.Logger

	// errMiss is built once so a miss costs no allocation.
	errMiss error

	// vers holds the current version of every tag in use.
	vers *versions

	// adm decides which writes a full shard keeps; nil without admission.
	adm *admission

	// leases marks every change, so SetLeased can tell whether one
	// crossed its lease, and a re-insertion whether one crossed it.
	leases *stripes

	// re holds the hot entries evicted and waiting to be written back;
	// nil without admission.
	re *reinsertion

	closed    atomic.Bool
	closeOnce sync.Once
}

var (
	_ hitbox.Backend       = (*Store)(nil)
	_ hitbox.BatchGetter   = (*Store)(nil)
	_ hitbox.BatchSetter   = (*Store)(nil)
	_ hitbox.BatchDeleter  = (*Store)(nil)
	_ hitbox.Clearer       = (*Store)(nil)
	_ hitbox.PrefixClearer = (*Store)(nil)
	_ hitbox.Remover       = (*Store)(nil)
	_ hitbox.Closer        = (*Store)(nil)
)

// New returns a store configured by opts. Invalid options are a programmer
// error: New panics with the message opts.Validate returns. It returns an
// error only when bigcache cannot allocate the store. When opts.MaxTTL is
// set it starts bigcache's cleaning goroutine, which runs until Close.
func New(opts Options) (*Store, error) {
	set, err := opts.resolve()
	if err != nil {
		panic(err.Error())
	}
	// The Store owns the cleaner's lifetime through Close. Its context is
	// never cancelled on purpose: bigcache prints to stdout when it is.
	cfg := set.bigcacheConfig()
	s := &Store{
		label:    set.label,
		maxValue: set.maxValue,
		maxKey:   set.maxKey,
		maxTTL:   set.maxTTL,
		limit:    set.limit,
		now:      set.now,
		log:      set.log,
		errMiss:  &hitbox.Error{Op: hitbox.OpGet, Backend: set.label, Err: hitbox.ErrMiss},
		vers:     newVersions(set.shards, set.maxTags),
		leases:   newStripes(),
	}
	if set.admit {
		s.adm = newAdmission(set.shards, set.shardBytes, set.limit)
		s.re = newReinsertion(set.shards)
		cfg.Hasher = s.adm
		cfg.OnRemoveWithReason = s.evicted
		cfg = cfg.OnRemoveFilterSet(bigcache.NoSpace)
	}
	cache, err := bigcache.New(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("hitbox/memstore: %w", err)
	}
	s.cache = cache
	return s, nil
}

// HeedsSource is false: a store's reads are the same with or without
// hitbox.WithSource (see hitbox.SourceHeeder).
func (s *Store) HeedsSource() bool { return false }

// Label returns the store's label, "memory" unless Options.Label says
// otherwise.
func (s *Store) Label() string { return s.label }

// Get returns the live entry under key, or an error wrapping hitbox.ErrMiss.
// An entry found past its Expire is deleted and reported as a miss; a
// damaged one is deleted and reported with an error wrapping
// hitbox.ErrCorrupt.
func (s *Store) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if err := s.check(ctx, key); err != nil {
		return hitbox.Entry{}, s.fail(hitbox.OpGet, err)
	}
	e, err := s.get(ctx, key)
	if err != nil {
		if err == s.errMiss {
			return hitbox.Entry{}, err
		}
		return hitbox.Entry{}, s.fail(hitbox.OpGet, err)
	}
	return e, nil
}

// get reads key; it returns s.errMiss itself on a miss, or an unwrapped
// cause. ctx only carries the caller's values to the log.
func (s *Store) get(ctx context.Context, key string) (hitbox.Entry, error) {
	e, _, err := s.getRecord(ctx, key)
	return e, err
}

// getRecord is get that also returns the record's tag section, nil for an
// untagged record. A tagged record whose versions are no longer all
// current is a miss, deleted as an expired one is.
func (s *Store) getRecord(ctx context.Context, key string) (hitbox.Entry, []byte, error) {
	rec, err := s.cache.Get(key)
	if err != nil {
		// bigcache returns its sentinel unwrapped; == spares errors.Is's
		// reflection on the miss path.
		if err == bigcache.ErrEntryNotFound {
			return hitbox.Entry{}, nil, s.errMiss
		}
		return hitbox.Entry{}, nil, err
	}
	// Only a hit is counted: a miss is counted by the write that follows
	// it, so a miss and its fill count as one use.
	s.seen(key)
	e, sect, err := readRecord(rec)
	if err != nil {
		s.drop(key)
		s.log.LogAttrs(ctx, slog.LevelWarn, "memstore: dropped a damaged entry",
			slog.String("backend", s.label), slog.Any("error", err))
		return hitbox.Entry{}, nil, err
	}
	if (!e.Expire.IsZero() && !s.now().Before(e.Expire)) || (sect != nil && !s.vers.live(sect)) {
		// Expired and purged entries are removed when found. A Set of the
		// same key racing this may lose its new entry to the delete: one
		// extra miss.
		s.drop(key)
		return hitbox.Entry{}, nil, s.errMiss
	}
	return e, sect, nil
}

// Set stores e under key, replacing what was there. A value over
// MaxValueSize is refused with an error wrapping hitbox.ErrTooLarge; an
// entry already past its Expire is never returned and replaces what key
// held.
// Storing may evict the oldest entries of the shard when it is full; with
// admission on (see Options.DisableAdmission), a full shard may instead
// decline the write, and then key reads as a miss.
func (s *Store) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if err := s.check(ctx, key); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	if err := s.set(key, e); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	return nil
}

func (s *Store) set(key string, e hitbox.Entry) error {
	if len(e.Value) > s.maxValue {
		return &hitbox.SizeError{Size: len(e.Value), Limit: s.maxValue}
	}
	st := s.leases.change(key)
	h, err := s.write(key, e)
	st.done()
	s.reinsert(h)
	return err
}

// write is set's write, between the marks of its change. It returns the
// key's admission hash, 0 without admission.
func (s *Store) write(key string, e hitbox.Entry) (uint64, error) {
	// An entry already past its Expire is not kept: with MaxTTL the clock
	// is read anyway and it is not written; otherwise it is written, and
	// the first Get finds it expired and drops it. Both read as a miss and
	// both replace what key held; the second spares Set a clock read,
	// which costs as much as the rest of Set's own work on some machines.
	if s.maxTTL > 0 {
		now := s.now()
		if !e.Expire.IsZero() && !now.Before(e.Expire) {
			return 0, s.remove(key)
		}
		e = e.CapTTL(now, s.maxTTL)
	}
	// The record buffer is reused: bigcache copies it into its shard.
	b := bufpool.Get()
	rec := appendRecord(*b, e.Expire, e.Stale, e.Value)
	h, keep := s.admit(key, len(rec))
	if !keep {
		bufpool.Put(b, rec)
		return h, s.remove(key)
	}
	err := s.cache.Set(key, rec)
	bufpool.Put(b, rec)
	return h, err
}

// Delete removes key. Removing an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, key); err != nil {
		return s.fail(hitbox.OpDelete, err)
	}
	if err := s.del(key); err != nil {
		return s.fail(hitbox.OpDelete, err)
	}
	return nil
}

// Remove deletes key and reports whether it held a live entry: one a Get
// would have returned. It reads the entry first (a copy of it, as Get
// makes) to tell a live entry from an expired or damaged one that bigcache
// still holds; a Set of key racing Remove may be deleted without being
// reported.
func (s *Store) Remove(ctx context.Context, key string) (bool, error) {
	if err := s.check(ctx, key); err != nil {
		return false, s.fail(hitbox.OpRemove, err)
	}
	live := false
	if rec, err := s.cache.Get(key); err == nil {
		e, sect, err := readRecord(rec)
		live = err == nil && (e.Expire.IsZero() || s.now().Before(e.Expire)) && (sect == nil || s.vers.live(sect))
	}
	st := s.leases.change(key)
	err := s.cache.Delete(key)
	st.done()
	switch err {
	case nil:
		return live, nil
	case bigcache.ErrEntryNotFound:
		return false, nil
	}
	return false, s.fail(hitbox.OpRemove, err)
}

// del removes key, a change that ends the leases on key's stripe.
func (s *Store) del(key string) error {
	st := s.leases.change(key)
	err := s.remove(key)
	st.done()
	return err
}

func (s *Store) remove(key string) error {
	if err := s.cache.Delete(key); err != nil && err != bigcache.ErrEntryNotFound {
		return err
	}
	return nil
}

// drop removes key after a read found it unusable; a failure to remove only
// means a later read finds it again. It is no change: the key read as a
// miss before and after, so its leases hold.
func (s *Store) drop(key string) { _ = s.remove(key) }

// Close stops bigcache's cleaning goroutine. It is idempotent; every
// operation after it fails with an error wrapping hitbox.ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		_ = s.cache.Close() // always nil: it only closes a channel
	})
	return nil
}

// check runs the checks every keyed operation starts with. The common case
// is one test of each condition in a single call; why names the failure.
func (s *Store) check(ctx context.Context, key string) error {
	if ctx.Err() == nil && !s.closed.Load() && key != "" && len(key) <= s.maxKey {
		return nil
	}
	if err := s.ready(ctx); err != nil {
		return err
	}
	return s.checkKey(key)
}

// ready reports a done context or a closed store.
func (s *Store) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return hitbox.ErrClosed
	}
	return nil
}

// checkKey refuses the empty key and keys longer than bigcache can keep
// beside a value of MaxValueSize in one shard.
func (s *Store) checkKey(key string) error {
	if err := hitbox.CheckKey(key); err != nil {
		return err
	}
	if len(key) > s.maxKey {
		return fmt.Errorf("%w: key of %d bytes is over the %d-byte limit", hitbox.ErrInvalidKey, len(key), s.maxKey)
	}
	return nil
}

// fail wraps cause as the store's error for op.
func (s *Store) fail(op string, cause error) error {
	return &hitbox.Error{Op: op, Backend: s.label, Err: cause}
}
