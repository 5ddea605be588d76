package mapstore

import (
	"context"
	"encoding/binary"
	"math/rand/v2"

	"github.com/hitbox-go/hitbox"
)

var _ hitbox.Leaser = (*Store)(nil)

// Lease takes a lease on key for a load whose entry carries tags. Its
// token is the nonce the key's outstanding leases share (drawn when the
// key has none: every change to the key forgets it) followed by the
// version of each tag (drawn for a tag without one, as SetTagged does).
// Leases never lapse in this store.
func (s *Store) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	if err := s.check(ctx, hitbox.OpLease, key); err != nil {
		return hitbox.Lease{}, err
	}
	if err := hitbox.CheckTags(tags); err != nil {
		return hitbox.Lease{}, s.fail(hitbox.OpLease, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return hitbox.Lease{}, s.fail(hitbox.OpLease, hitbox.ErrClosed)
	}
	n, ok := s.leases[key]
	if !ok {
		n = rand.Uint64() | 1 // never 0, the nonce of no lease
		s.leases[key] = n
	}
	tok := binary.BigEndian.AppendUint64(make([]byte, 0, 8+8*len(tags)), n)
	for _, t := range tags {
		tok = binary.BigEndian.AppendUint64(tok, s.useLocked(t))
	}
	return hitbox.Lease{Token: string(tok)}, nil
}

// SetLeased stores a copy of e under key with tags, as SetTagged does, if
// no change to key and no purge of one of tags happened since l was taken;
// otherwise it stores nothing and returns an error wrapping
// hitbox.ErrLeaseLost. A zero l stores unconditionally. A store ends none
// of the key's leases.
func (s *Store) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	if err := s.check(ctx, hitbox.OpSet, key); err != nil {
		return err
	}
	if err := hitbox.CheckTags(tags); err != nil {
		return s.fail(hitbox.OpSet, err)
	}
	if !l.Valid() {
		return s.SetTagged(ctx, key, e, tags)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return s.fail(hitbox.OpSet, hitbox.ErrClosed)
	}
	tok := []byte(l.Token)
	if len(tok) != 8+8*len(tags) {
		return s.fail(hitbox.OpSet, hitbox.ErrLeaseLost) // not a lease on these tags
	}
	n, ok := s.leases[key]
	if !ok || n != binary.BigEndian.Uint64(tok) {
		return s.fail(hitbox.OpSet, hitbox.ErrLeaseLost)
	}
	for i, t := range tags {
		if v, ok := s.vers[t]; !ok || v != binary.BigEndian.Uint64(tok[8+8*i:]) {
			return s.fail(hitbox.OpSet, hitbox.ErrLeaseLost)
		}
	}
	s.setTaggedLocked(key, e, tags, s.now())
	s.leases[key] = n // the store ends none of the leases
	return nil
}
