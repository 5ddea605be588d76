package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
)

// lockSuffix keeps a key's lock apart from the key's entry: the lock on
// key lives at Prefix+key+lockSuffix. The NUL byte keeps it from meeting
// any key a program builds from text.
const lockSuffix = "\x00lock"

// The scripts release and extend a lock only while it holds the token it
// was taken with, so a holder whose lock expired and was taken by another
// can never release or extend the other's. Each touches one key, so they
// run on a Redis Cluster too (on the key's node).
var (
	unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
	extendScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)
)

// TryLock takes the lock named key for ttl (rounded up to a whole
// millisecond) with SET NX PX and a random token, and returns an error
// wrapping hitbox.ErrLocked when another client holds it. The lock is a
// key of its own, Prefix+key and a suffix, so it never changes the entry
// under key (Clear removes it with the rest).
func (s *Store) TryLock(ctx context.Context, key string, ttl time.Duration) (hitbox.Lock, error) {
	if err := s.check(ctx, key); err != nil {
		return nil, s.fail(hitbox.OpLock, err)
	}
	if ttl <= 0 {
		return nil, s.fail(hitbox.OpLock, fmt.Errorf("lock lifetime %v is not positive", ttl))
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // never fails (crypto/rand)
	l := &lock{s: s, k: s.opt.Prefix + key + lockSuffix, token: hex.EncodeToString(raw[:])}
	ok, err := s.rdb.SetNX(ctx, l.k, l.token, ttl).Result()
	switch {
	case err != nil:
		return nil, s.fail(hitbox.OpLock, cause(ctx, err))
	case !ok:
		return nil, s.fail(hitbox.OpLock, hitbox.ErrLocked)
	}
	return l, nil
}

// lock is a lock taken by TryLock.
type lock struct {
	s     *Store
	k     string // the lock's stored key
	token string
}

// Extend gives the lock ttl more to live if this holder still has it.
func (l *lock) Extend(ctx context.Context, ttl time.Duration) error {
	if err := l.s.ready(ctx); err != nil {
		return l.s.fail(hitbox.OpExtend, err)
	}
	if ttl <= 0 {
		return l.s.fail(hitbox.OpExtend, fmt.Errorf("lock lifetime %v is not positive", ttl))
	}
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	n, err := extendScript.Run(ctx, l.s.rdb, []string{l.k}, l.token, ms).Int()
	switch {
	case err != nil:
		return l.s.fail(hitbox.OpExtend, cause(ctx, err))
	case n == 0:
		return l.s.fail(hitbox.OpExtend, hitbox.ErrLocked)
	}
	return nil
}

// Unlock releases the lock if this holder still has it.
func (l *lock) Unlock(ctx context.Context) error {
	if err := l.s.ready(ctx); err != nil {
		return l.s.fail(hitbox.OpUnlock, err)
	}
	if err := unlockScript.Run(ctx, l.s.rdb, []string{l.k}, l.token).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return l.s.fail(hitbox.OpUnlock, cause(ctx, err))
	}
	return nil
}
