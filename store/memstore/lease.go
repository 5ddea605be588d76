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

// stripes keeps, per stripe, a word holding a generation that every
// change to one of its keys raises before it writes, a count of the
// changes under way (raised with the generation, lowered once the change
// has written), and a bit held by a SetLeased or a re-insertion while it
// writes. A lease remembers the generation; SetLeased sets the bit only
// while the generation is still the lease's (one compare-and-swap, so the
// check and the claim are one step), writes, and clears it. A change that
// raises the generation while the bit is set waits for it to clear before
// it writes, so its write lands after the leased one and replaces it; a
// change that raised it first makes the swap fail. Either way no leased
// value lands after a change that crossed its lease. A re-insertion
// (reinsert.go) claims the same bit, but only on the whole word it saw
// when its entry was evicted, so it also fails if a change was under way
// then.
type stripes struct {
	seed maphash.Seed
	s    [leaseStripes]stripe
}

type stripe struct {
	word atomic.Uint64 // generation<<genShift | changes under way<<1 | the claim bit
	// ver is the stripe's stamp (Store.Stamp): raised by every change,
	// leased write and tag purge before it writes. The generation cannot
	// serve: a leased write leaves the word as it found it.
	ver atomic.Uint64
	_   [48]byte // one stripe per cache line: changes to other stripes do not share it
}

// The stripe word's fields. Twenty bits count the changes under way on a
// stripe, far more than can run at once; the generation takes the rest.
const (
	claimBit  = 1
	busyUnit  = 1 << 1 // one change under way
	genShift  = 21
	genUnit   = 1 << genShift
	genMask   = ^uint64(genUnit - 1)
	startUnit = genUnit + busyUnit // what a change adds when it starts
)

func newStripes() *stripes { return &stripes{seed: maphash.MakeSeed()} }

func (p *stripes) of(key string) *stripe {
	return &p.s[maphash.String(p.seed, key)%leaseStripes]
}

// change marks the start of a change to key, before the change writes:
// one atomic add, and a wait only while a claim on the stripe is writing.
// The caller calls done on the stripe once the change has written.
func (p *stripes) change(key string) *stripe {
	st := p.of(key)
	st.change()
	return st
}

func (st *stripe) change() {
	w := st.word.Add(startUnit)
	st.ver.Add(1) // after the word, so a Stamp that sees the new ver sees the change under way
	if w&claimBit == 0 {
		return
	}
	for st.word.Load()&claimBit != 0 {
		runtime.Gosched()
	}
}

// done marks the end of a change that change started.
func (st *stripe) done() { st.word.Add(^uint64(busyUnit - 1)) }

// changeAll marks the start of a change to every key, for Clear and
// ClearPrefix; doneAll its end.
func (p *stripes) changeAll() {
	for i := range p.s {
		p.s[i].change()
	}
}

func (p *stripes) doneAll() {
	for i := range p.s {
		p.s[i].done()
	}
}

// claim sets the stripe's bit if its generation is still gen, waiting out
// another claim on it; false means a change came in between.
func (st *stripe) claim(gen uint64) bool {
	for {
		w := st.word.Load()
		if w&genMask != gen {
			return false
		}
		if w&claimBit == 0 && st.word.CompareAndSwap(w, w|claimBit) {
			return true
		}
		runtime.Gosched()
	}
}

// claimExact sets the stripe's bit if the whole word is still w (so no
// change started since w was read, and, as w holds no change under way,
// none was writing then); it does not wait.
func (st *stripe) claimExact(w uint64) bool { return st.word.CompareAndSwap(w, w|claimBit) }

func (st *stripe) release() { st.word.Add(^uint64(0)) } // clears the bit

// moveAll raises every stripe's stamp, for a tag purge: once the tags'
// versions have moved, so that a Stamp taken before the purge and
// matched after it can only follow a read that saw the purge.
func (p *stripes) moveAll() {
	for i := range p.s {
		p.s[i].ver.Add(1)
	}
}

var _ hitbox.Stamper = (*Store)(nil)

// Stamp returns key's stripe's stamp, ok=false while a change or a
// leased write on the stripe is under way or the store is closed (see
// hitbox.Stamper). Every write path raises the stamp after marking its
// change and before it writes, and Stamp reads the stamp before the
// marks, so a stamp read with no mark set was raised by changes that had
// all written. Evictions and re-insertions (which write back the bytes
// an eviction took, see reinsert.go) move nothing.
func (s *Store) Stamp(key string) (uint64, bool) {
	st := s.leases.of(key)
	v := st.ver.Load()
	if st.word.Load()&^genMask != 0 || s.closed.Load() {
		return 0, false
	}
	return v, true
}

// Hit counts a read of key answered from a copy its stamp vouched for as
// a hit: for admission and for CLOCK's second chance, as a Get hit is.
func (s *Store) Hit(key string) { s.seen(key) }

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
	gen := s.leases.of(key).word.Load() & genMask
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
	st.ver.Add(1) // the claim bit is the mark a Stamp sees
	var err error
	var h uint64
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
		var keep bool
		if h, keep = s.admit(key, len(rec)); keep {
			err = s.cache.Set(key, rec)
		} else {
			// Not kept, and what key held goes, as in Set.
			err = s.remove(key)
		}
		bufpool.Put(b, rec)
	}
	st.release()
	s.reinsert(h)
	if err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	return nil
}
