package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/bufpool"
)

// Store keeps entries in Redis or a Redis Cluster, through any go-redis
// UniversalClient. It keeps the value, Expire and Stale of each entry. It is
// safe for concurrent use.
type Store struct {
	rdb  redis.UniversalClient
	kind kind
	opt  Options // resolved

	closed atomic.Bool

	// script: reads go through readScript, so a tagged entry costs one
	// round trip (Options.ReadScript, on a single server).
	script bool

	// wait: changes wait for replicas' acknowledgements
	// (Options.WaitReplicas); nil when they do not.
	wait *waiting

	errMiss     error // returned by Get on every miss, to spare an allocation
	errMissMany error // the same, per Result of GetMany
}

// kind says how the client spreads keys, which decides how a batch is cut.
type kind uint8

const (
	single  kind = iota // *redis.Client: one server (directly or via Sentinel)
	cluster             // *redis.ClusterClient: keys by hash slot
	other               // *redis.Ring and wrappers: keys one by one
)

// Compile-time checks that Store has every ability.
var (
	_ hitbox.Backend       = (*Store)(nil)
	_ hitbox.BatchGetter   = (*Store)(nil)
	_ hitbox.BatchSetter   = (*Store)(nil)
	_ hitbox.BatchDeleter  = (*Store)(nil)
	_ hitbox.Clearer       = (*Store)(nil)
	_ hitbox.PrefixClearer = (*Store)(nil)
	_ hitbox.Remover       = (*Store)(nil)
	_ hitbox.Closer        = (*Store)(nil)
	_ hitbox.Locker        = (*Store)(nil)
)

// New returns a Store over client. The client may be a *redis.Client
// (standalone or Sentinel failover), a *redis.ClusterClient or a
// *redis.Ring. New sends nothing to the server.
//
// Since it sends nothing, New cannot fail at run time: a nil client and
// invalid options are programmer errors, which panic
// ("hitbox/redisstore: New: nil client", or the message opts.Validate
// returns). Its error is for options the client cannot serve.
//
// With Options.WaitReplicas, New returns an error wrapping
// hitbox.ErrNotSupported unless client is a *redis.Client whose
// ReadTimeout is above Options.WaitTimeout (the package doc's "Waiting
// for replicas" says why).
//
// For context deadlines to bound network I/O, create the client with
// ContextTimeoutEnabled set; without it go-redis applies only its own
// read and write timeouts. ClientOptions returns the settings a cache
// should start from.
func New(client redis.UniversalClient, opts Options) (*Store, error) {
	if client == nil {
		panic("hitbox/redisstore: New: nil client")
	}
	opt := opts.resolve()
	k := other
	switch client.(type) {
	case *redis.Client:
		k = single
	case *redis.ClusterClient:
		k = cluster
	}
	wait, err := newWaiting(client, opt)
	if err != nil {
		return nil, err
	}
	return &Store{
		rdb:         client,
		kind:        k,
		script:      k == single && opt.ReadScript,
		wait:        wait,
		opt:         opt,
		errMiss:     &hitbox.Error{Op: hitbox.OpGet, Backend: opt.Label, Err: hitbox.ErrMiss},
		errMissMany: &hitbox.Error{Op: hitbox.OpGetMany, Backend: opt.Label, Err: hitbox.ErrMiss},
	}, nil
}

// HeedsSource is false: a store's reads are the same with or without
// hitbox.WithSource (see hitbox.SourceHeeder).
func (s *Store) HeedsSource() bool { return false }

// Label returns the store's label, "redis" unless Options.Label says
// otherwise.
func (s *Store) Label() string { return s.opt.Label }

// Get returns the live entry under key, or an error wrapping hitbox.ErrMiss.
// The deadlines come from the stored header, to the nanosecond as they
// were set. An entry whose Expire has passed is a miss even while Redis
// still holds it (for at most the millisecond Set rounded up). A value the
// store did not write, or one that is damaged, is removed and reported
// with an error wrapping hitbox.ErrCorrupt.
func (s *Store) Get(ctx context.Context, key string) (hitbox.Entry, error) {
	if err := s.check(ctx, key); err != nil {
		return hitbox.Entry{}, s.fail(hitbox.OpGet, err)
	}
	e, _, err := s.get(ctx, key)
	return e, err
}

// get reads key, checked, and returns the entry with its tag section (nil
// when untagged) or the error Get returns. An untagged entry costs one
// GET; a tagged one a second round trip for its tags' versions, and is a
// miss (removed) when any is gone or different.
func (s *Store) get(ctx context.Context, key string) (hitbox.Entry, []byte, error) {
	k := s.opt.Prefix + key
	var (
		raw  []byte
		vers []any // the tags' versions, read with the entry on a single server
		err  error
	)
	if s.script {
		raw, vers, err = s.getScripted(ctx, k)
	} else {
		raw, err = s.rdb.Get(ctx, k).Bytes()
	}
	if err != nil {
		switch {
		case errors.Is(err, redis.Nil):
			return hitbox.Entry{}, nil, s.errMiss
		case wrongType(err):
			s.drop(ctx, k)
			return hitbox.Entry{}, nil, s.fail(hitbox.OpGet, fmt.Errorf("%w: %w", hitbox.ErrCorrupt, err))
		}
		return hitbox.Entry{}, nil, s.fail(hitbox.OpGet, cause(ctx, err))
	}
	e, sect, err := decode(raw)
	if err != nil {
		if err == errPlaceholder {
			return hitbox.Entry{}, nil, s.errMiss
		}
		s.drop(ctx, k)
		return hitbox.Entry{}, nil, s.fail(hitbox.OpGet, err)
	}
	if e.StateAt(s.opt.Now()) == hitbox.Expired {
		return hitbox.Entry{}, nil, s.errMiss
	}
	if sect == nil {
		return e, nil, nil
	}
	live := vers != nil && sameVersions(sect, vers)
	if vers == nil {
		l, err := s.liveMany(ctx, [][]byte{sect})
		if err != nil {
			return hitbox.Entry{}, nil, s.fail(hitbox.OpGet, err)
		}
		live = l[0]
	}
	if !live {
		if _, leased := unlease(raw); !leased { // dropping would end the leases
			s.drop(ctx, k)
		}
		return hitbox.Entry{}, nil, s.errMiss
	}
	return e, sect, nil
}

// Set stores e under key, replacing what was there, with a Redis lifetime
// (PX) of the time left until e.Expire, rounded up to a whole millisecond
// so Redis never drops an entry before its deadline; Get hides it in the
// sliver after. An entry with no Expire gets no lifetime, or MaxTTL when
// set. A value over MaxValueSize is refused with an error wrapping
// hitbox.ErrTooLarge; an entry already past its Expire is not stored and
// removes what key held.
func (s *Store) Set(ctx context.Context, key string, e hitbox.Entry) error {
	if err := s.check(ctx, key); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	cmd, buf, err := s.setCmd(ctx, s.opt.Prefix+key, e)
	if err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	if s.wait == nil {
		err = s.rdb.Process(ctx, cmd)
	} else {
		err = s.change(ctx, cmd)
	}
	s.release(buf)
	if err != nil {
		return s.fail(hitbox.OpSet, cause(ctx, err))
	}
	return nil
}

// setCmd returns the command that stores e under the stored key k: a SET,
// or an UNLINK when e has already expired. The SET's value is in buf, to be
// released once the command has run.
func (s *Store) setCmd(ctx context.Context, k string, e hitbox.Entry) (cmd redis.Cmder, buf *[]byte, err error) {
	if len(e.Value) > s.opt.MaxValueSize {
		return nil, nil, &hitbox.SizeError{Size: len(e.Value), Limit: s.opt.MaxValueSize}
	}
	e, ms, expired := s.lifetime(e)
	if expired {
		return redis.NewIntCmd(ctx, "unlink", k), nil, nil
	}
	buf = s.buffer()
	*buf = appendValue(*buf, e.Expire, e.Stale, e.Value)
	if ms == 0 {
		return redis.NewStatusCmd(ctx, "set", k, *buf), buf, nil
	}
	return redis.NewStatusCmd(ctx, "set", k, *buf, "px", ms), buf, nil
}

// lifetime returns e with its Expire capped by MaxTTL and its PX lifetime
// in Redis (0 for none), or expired when its Expire has passed.
func (s *Store) lifetime(e hitbox.Entry) (_ hitbox.Entry, ms int64, expired bool) {
	if e.Expire.IsZero() && s.opt.MaxTTL <= 0 {
		return e, 0, false
	}
	now := s.opt.Now()
	e = e.CapTTL(now, s.opt.MaxTTL)
	left := e.Expire.Sub(now)
	if left <= 0 {
		return e, 0, true
	}
	// Round up: a deadline 1.2 ms away lives 2 ms in Redis, never 1.
	// (Not by adding 999999 ns first: left may be the largest
	// Duration, for a deadline centuries away, and would overflow.)
	ms = int64(left / time.Millisecond)
	if left%time.Millisecond != 0 {
		ms++
	}
	return e, ms, false
}

// buffer returns a buffer for one SET's value, header and value assembled
// in it so a write allocates no more than go-redis's own Set would. Buffers
// are reused only for the go-redis clients known to be done with a
// command's arguments when it returns; other clients (an AutoPipeliner, a
// Ring's wrappers) get a fresh one each time.
func (s *Store) buffer() *[]byte {
	if s.kind == other {
		return new([]byte)
	}
	return bufpool.Get()
}

// release hands back a buffer from buffer once its command has run.
func (s *Store) release(buf *[]byte) {
	if buf != nil && s.kind != other {
		bufpool.Put(buf, *buf)
	}
}

// Delete removes key. Removing an absent key is not an error. Redis frees
// the value's memory in the background (UNLINK).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.check(ctx, key); err != nil {
		return s.fail(hitbox.OpDelete, err)
	}
	if err := s.unlink(ctx, s.opt.Prefix+key); err != nil {
		return s.fail(hitbox.OpDelete, cause(ctx, err))
	}
	return nil
}

// Remove deletes key, as Delete does, and reports whether Redis held it:
// UNLINK's count, in the same round trip. An entry past its Expire but
// still in Redis (for at most the millisecond Set rounded up) counts as
// removed, as does a value the store did not write. A tagged entry whose
// tags were invalidated does not count: the same round trip reads the
// head of the value (its header and tags, never more than 66 KiB), and a
// second one checks the tags' versions.
func (s *Store) Remove(ctx context.Context, key string) (bool, error) {
	if err := s.check(ctx, key); err != nil {
		return false, s.fail(hitbox.OpRemove, err)
	}
	k := s.opt.Prefix + key
	head := redis.NewStringCmd(ctx, "getrange", k, 0, leaseHead+headerSize+maxTagSection-1)
	unlink := redis.NewIntCmd(ctx, "unlink", k)
	_, acked := s.write(ctx, []redis.Cmder{head, unlink})
	n, err := unlink.Result()
	if err == nil {
		err = acked
	}
	if err != nil {
		return false, s.fail(hitbox.OpRemove, cause(ctx, err))
	}
	if n == 0 {
		return false, nil
	}
	raw, err := head.Bytes()
	if inner, leased := unlease(raw); err == nil && leased {
		if len(inner) == 0 {
			return false, nil // a lease's placeholder: no entry
		}
		// A lease keeps an entry in Redis past its Expire.
		if e, _, err := decode(inner); err == nil && e.StateAt(s.opt.Now()) == hitbox.Expired {
			return false, nil
		}
		raw = inner
	}
	if err == nil && len(raw) > 1 && raw[1] == versionTag {
		_, sect, err := decode(raw)
		if err != nil {
			return true, nil // not ours to judge: counted as Remove always did
		}
		live, err := s.liveMany(ctx, [][]byte{sect})
		if err != nil {
			return false, s.fail(hitbox.OpRemove, err)
		}
		return live[0], nil
	}
	return true, nil
}

// unlink removes the stored key k: one UNLINK, waited for as a change.
func (s *Store) unlink(ctx context.Context, k string) error {
	if s.wait == nil {
		return s.rdb.Unlink(ctx, k).Err()
	}
	return s.change(ctx, redis.NewIntCmd(ctx, "unlink", k))
}

// Close marks the store closed: every operation after it fails with an
// error wrapping hitbox.ErrClosed. It closes the client only when
// Options.CloseClient is set, since the store does not own it otherwise.
// Close is idempotent; only the first call closes the client.
func (s *Store) Close() error {
	if s.closed.Swap(true) || !s.opt.CloseClient {
		return nil
	}
	if err := s.rdb.Close(); err != nil {
		return s.fail(hitbox.OpClose, err)
	}
	return nil
}

// drop removes the stored key k after a read found it unusable. A failure
// only means a later read finds it again, so it is not reported.
func (s *Store) drop(ctx context.Context, k string) {
	if ctx.Err() == nil {
		_ = s.rdb.Unlink(ctx, k).Err()
	}
}

// check runs the checks every keyed operation starts with.
func (s *Store) check(ctx context.Context, key string) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	return checkKey(key)
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

// fail wraps cause as the store's error for op.
func (s *Store) fail(op string, cause error) error {
	return &hitbox.Error{Op: op, Backend: s.opt.Label, Err: cause}
}
