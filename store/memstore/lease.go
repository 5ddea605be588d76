package memstore

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/allegro/bigcache/v3"
	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/bufpool"
	"github.com/hitbox-go/hitbox/internal/leasetoken"
)

var _ hitbox.Leaser = (*Store)(nil)

// leaseLife is how long a lease holds: a load that stores later than this
// after its lease is refused, as one a change crossed. It is twice the
// longest a load commonly runs (a 30-second timeout), and no shorter than
// the minute hitbox.Leaser promises.
const leaseLife = 2 * time.Minute

// leaseStripes is how many stripes keys are spread over for leases: a
// change to one key loses the leases of the others on its stripe, a false
// conflict (a refused store, a later miss), never a stale value.
const leaseStripes = 1024

// stripes keeps, per stripe, a generation that every change to one of
// its keys raises before it writes, and a bit held by a SetLeased while
// it writes. A lease remembers the generation; SetLeased sets the bit
// only while the generation is still the lease's (one compare-and-swap,
// so the check and the claim are one step), writes, and clears it. A
// change that raises the generation while the bit is set waits for it to
// clear before it writes, so its write lands after the leased one and
// replaces it; a change that raised it first makes the swap fail. Either
// way no leased value lands after a change that crossed its lease.
type stripes struct {
	seed maphash.Seed
	s    [leaseStripes]stripe
}

type stripe struct {
	word atomic.Uint64 // generation<<1 | the SetLeased bit
	_    [56]byte      // one stripe per cache line: changes to other stripes do not share it
}

func newStripes() *stripes { return &stripes{seed: maphash.MakeSeed()} }

func (p *stripes) of(key string) *stripe {
	return &p.s[maphash.String(p.seed, key)%leaseStripes]
}

// change marks a change to key, before the change writes: one atomic add,
// and a wait only while a SetLeased on the stripe is writing.
func (p *stripes) change(key string) { p.of(key).change() }

func (st *stripe) change() {
	if st.word.Add(2)&1 == 0 {
		return
	}
	for st.word.Load()&1 != 0 {
		runtime.Gosched()
	}
}

// changeAll marks a change to every key, for Clear and ClearPrefix.
func (p *stripes) changeAll() {
	for i := range p.s {
		p.s[i].change()
	}
}

// claim sets the stripe's bit if its generation is still gen, waiting out
// another SetLeased's write on it; false means a change came in between.
func (st *stripe) claim(gen uint64) bool {
	for {
		if st.word.CompareAndSwap(gen, gen|1) {
			return true
		}
		if st.word.Load()&^1 != gen {
			return false
		}
		runtime.Gosched()
	}
}

func (st *stripe) release() { st.word.Add(^uint64(0)) } // clears the bit

// leaseHead is the length of a lease token's fixed head: the stripe's
// generation and the time the lease was taken.
const leaseHead = 16

// Lease takes a lease on key for a load whose entry will carry tags. The
// token holds the generation of key's stripe, the time the lease was
// taken, and the name and version of each tag (drawn for a tag that has
// none, so a purge of a tag never used before still ends the lease). It costs a
// hash, an atomic load, a clock reading and a version lookup per tag; no
// change to what Get reads.
func (s *Store) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	if err := s.check(ctx, key); err != nil {
		return hitbox.Lease{}, s.fail(hitbox.OpLease, err)
	}
	if err := hitbox.CheckTags(tags); err != nil {
		return hitbox.Lease{}, s.fail(hitbox.OpLease, err)
	}
	gen := s.leases.of(key).word.Load() &^ 1
	size := leaseHead
	for _, t := range tags {
		size += leasetoken.Size(t)
	}
	tok := make([]byte, 0, size)
	tok = binary.LittleEndian.AppendUint64(tok, gen)
	tok = binary.LittleEndian.AppendUint64(tok, uint64(s.now().UnixNano()))
	for _, t := range tags {
		tok = leasetoken.Append(tok, t, s.vers.use(t))
	}
	return hitbox.Lease{Token: string(tok)}, nil
}

// SetLeased stores e under key with tags, as SetTagged does, if no change
// to a key of key's stripe and no purge of a tag both l and tags name
// happened since l was taken, and l is younger than two minutes;
// otherwise it stores nothing and returns an error wrapping
// hitbox.ErrLeaseLost. The record keeps the tag versions l was taken with,
// and the current version of a tag l does not name, so a purge that lands
// during the store leaves it a miss. A zero l stores unconditionally. A store
// ends none of the stripe's leases.
// Under pressure, admission may decline the write as it may a Set's; key
// then reads as a miss.
func (s *Store) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	if err := s.check(ctx, key); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	if err := hitbox.CheckTags(tags); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	if !l.Valid() {
		return s.SetTagged(ctx, key, e, tags)
	}
	if len(e.Value) > s.maxValue {
		return s.fail(hitbox.OpSet, &hitbox.SizeError{Size: len(e.Value), Limit: s.maxValue})
	}
	tok := l.Token
	if len(tok) < leaseHead {
		return s.fail(hitbox.OpSet, leasetoken.ErrMalformed)
	}
	var lbuf [8]leasetoken.Tag
	leased, perr := leasetoken.Parse(lbuf[:0], tok[leaseHead:])
	if perr != nil {
		return s.fail(hitbox.OpSet, perr)
	}
	now := s.now()
	taken := time.Unix(0, int64(binary.LittleEndian.Uint64([]byte(tok[8:16]))))
	if now.Sub(taken) > leaseLife {
		return s.fail(hitbox.OpSet, hitbox.ErrLeaseLost)
	}
	var buf [8]tagVersion
	tv := buf[:0]
	for _, t := range tags {
		ver, named := leasetoken.Lookup(leased, t)
		if !named {
			// Not seen by the lease: written at its version now, so a
			// purge from here on leaves the record a miss.
			tv = append(tv, tagVersion{t, s.vers.use(t)})
			continue
		}
		if cur, ok := s.vers.current([]byte(t)); !ok || cur != ver {
			return s.fail(hitbox.OpSet, hitbox.ErrLeaseLost)
		}
		tv = append(tv, tagVersion{t, ver})
	}
	expired := !e.Expire.IsZero() && !now.Before(e.Expire)
	if s.maxTTL > 0 {
		e = e.CapTTL(now, s.maxTTL)
	}
	st := s.leases.of(key)
	if !st.claim(binary.LittleEndian.Uint64([]byte(tok[:8]))) {
		return s.fail(hitbox.OpSet, hitbox.ErrLeaseLost)
	}
	var err error
	if expired {
		if err = s.cache.Delete(key); err == bigcache.ErrEntryNotFound {
			err = nil
		}
	} else {
		b := bufpool.Get()
		var rec []byte
		if len(tv) == 0 {
			rec = appendRecord(*b, e.Expire, e.Stale, e.Value)
		} else {
			rec = appendTaggedRecord(*b, e.Expire, e.Stale, tv, e.Value)
		}
		if s.declined(key, len(rec)) {
			// Not kept, and what key held goes, as in Set.
			err = s.remove(key)
		} else {
			err = s.cache.Set(key, rec)
		}
		bufpool.Put(b, rec)
	}
	st.release()
	if err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	return nil
}
