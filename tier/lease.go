package tier

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hitbox-go/hitbox"
)

// Lease takes a lease on key for a load whose entry will carry tags from
// every level, in one pass, L1 first: one call per level, so a cold miss
// costs one round trip more to each shared level. A level that is not a
// hitbox.Leaser (through any layers) contributes no lease and is written
// unconditionally by SetLeased; a level whose breaker is open, or whose
// Lease fails, contributes a mark that makes SetLeased leave it unwritten
// (and, for a shared level, refuse the whole store), since nothing would
// protect its store from a change made meanwhile. So does a level whose
// last call failed and none has succeeded since, without being asked: a
// load that has just waited out the level's timeout on its read (a frozen
// server) does not wait it out a second time for a lease the level will
// likely not give, which keeps a loading call within two waits on the
// level (its read and its store), as before leases. SetLeased likewise
// refuses, without sending it, a store to a level whose last call
// failed, so a batch load that stores key by key waits out at most one
// timeout in all.
//
// The tokens are packed, length-prefixed, into one; the zero Lease comes
// back when no level gave one. Lease fails only when ctx is done or the
// tier is closed.
func (t *Tier) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	if t.closed.Load() {
		return hitbox.Lease{}, t.fail(hitbox.OpLease, hitbox.ErrClosed)
	}
	if key == "" {
		return hitbox.Lease{}, t.fail(hitbox.OpLease, hitbox.ErrInvalidKey)
	}
	if len(tags) > 0 {
		if err := hitbox.CheckTags(tags); err != nil {
			return hitbox.Lease{}, t.fail(hitbox.OpLease, err)
		}
	}
	var b strings.Builder
	leased := false
	for i := range t.levels {
		lv := &t.levels[i]
		if lv.br.suspect() || !t.writable(ctx, lv) {
			b.WriteByte(noLease)
			leased = true
			continue
		}
		l, err := hitbox.TakeLease(ctx, lv.b, key, tags)
		if err != nil {
			if t.wrote(ctx, lv, err) == outcomeCancelled {
				return hitbox.Lease{}, t.fail(hitbox.OpLease, err)
			}
			b.WriteByte(noLease)
			leased = true
			continue
		}
		t.answered(lv)
		leased = leased || l.Valid()
		b.WriteString(strconv.Itoa(len(l.Token)))
		b.WriteByte(':')
		b.WriteString(l.Token)
	}
	if !leased {
		return hitbox.Lease{}, nil
	}
	return hitbox.Lease{Token: b.String()}, nil
}

var _ hitbox.Leaser = (*Tier)(nil)

// errSuspect is the error of a load's store that a tier did not send to
// a level whose last call failed (see Lease and SetLeased).
var errSuspect = fmt.Errorf("tier: the level failed its last call; a load's store is not sent to it: %w", hitbox.ErrUnavailable)

// noLease marks, in a tier's lease token, a level that gave no lease
// because it could not be asked or failed.
const noLease = 'x'

// levelLease is one level's part of a tier's lease.
type levelLease struct {
	lease  hitbox.Lease
	absent bool // the level could not lease: do not write it
}

// errBadLease is wrapped by SetLeased's error for a token this tier did
// not hand out. It wraps hitbox.ErrLeaseLost, so the caller stores nothing
// and carries on.
var errBadLease = fmt.Errorf("tier: malformed lease token: %w", hitbox.ErrLeaseLost)

// parseLease splits a tier's lease token into n levels' leases.
func parseLease(tok string, n int) ([]levelLease, error) {
	out := make([]levelLease, 0, n)
	for len(tok) > 0 {
		if tok[0] == noLease {
			out = append(out, levelLease{absent: true})
			tok = tok[1:]
			continue
		}
		colon := strings.IndexByte(tok, ':')
		if colon < 0 {
			return nil, errBadLease
		}
		size, err := strconv.Atoi(tok[:colon])
		if err != nil || size < 0 || size > len(tok)-colon-1 {
			return nil, errBadLease
		}
		out = append(out, levelLease{lease: hitbox.Lease{Token: tok[colon+1 : colon+1+size]}})
		tok = tok[colon+1+size:]
	}
	if len(out) != n {
		return nil, errBadLease
	}
	return out, nil
}

// SetLeased stores e under key with tags, as SetTagged does, if the lease
// l that Lease handed out still holds on every level that gave one
// (hitbox.Leaser). The shared levels are written first, the lowest first,
// each with its own lease: when one refuses because a change crossed the
// load, or gave no lease at Lease time, no level above it is written and
// the error, wrapping hitbox.ErrLeaseLost, is returned. The local levels
// are written next, each with its lease when it gave one, as a change
// under the tier's guard (see guard), so a change to key that crossed
// the store here (a Delete, a bus invalidation) is not undone: the copy is
// taken back instead. A local level that refuses is left unwritten, and
// the store still succeeds: the shared levels have the entry.
//
// A leased store is never done behind, whatever the write policy: it is a
// load's store, and what decides whether it may happen is the shared
// level's answer. Under WriteBehind, a Set of key still on its way to the
// lower levels counts as a change that crossed the lease. Under
// WriteParallel the levels are written in turn too, and the failure of a
// level not named in Options.Required does not fail the store.
//
// A zero l stores unconditionally: SetTagged.
func (t *Tier) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	if !l.Valid() {
		return t.SetTagged(ctx, key, e, tags)
	}
	if t.closed.Load() {
		return t.fail(hitbox.OpSet, hitbox.ErrClosed)
	}
	if key == "" {
		return t.fail(hitbox.OpSet, hitbox.ErrInvalidKey)
	}
	if len(tags) > 0 {
		if err := hitbox.CheckTags(tags); err != nil {
			return t.fail(hitbox.OpSet, err)
		}
		if t.untagged >= 0 {
			lv := &t.levels[t.untagged]
			return t.fail(hitbox.OpSet, &hitbox.Error{Op: hitbox.OpSet, Backend: lv.label, Err: hitbox.ErrNotSupported})
		}
	}
	parts, err := parseLease(l.Token, len(t.levels))
	if err != nil {
		return t.fail(hitbox.OpSet, err)
	}
	if t.wbLocks != nil {
		unlock := t.lockBehind([]string{key})
		pending := t.pool.busy(kindWriteBehind, key)
		unlock()
		if pending {
			return t.fail(hitbox.OpSet, fmt.Errorf("tier: a write of the key is still on its way: %w", hitbox.ErrLeaseLost))
		}
	}
	var ts stamp
	if len(tags) > 0 {
		ts = t.guard.tagStamp()
	}
	items := []hitbox.Item{{Key: key, Entry: e}}
	changes := t.begin(items, nil)
	shared := t.local < len(t.levels)
	if shared {
		t.expectOwn(items)
	}
	var errs []error
	failedAt := -1
	sharedStored := false
levels:
	for j := len(t.levels) - 1; j >= 0; j-- {
		lv := &t.levels[j]
		isShared := j >= t.local
		if len(tags) > 0 && j < len(t.levels)-1 && !t.guard.tagsValid(ts, tags) {
			break // a purge began: the upper copies are dropped below
		}
		if parts[j].absent {
			if isShared {
				errs = append(errs, &hitbox.Error{Op: hitbox.OpSet, Backend: lv.label,
					Err: fmt.Errorf("no lease was taken on it: %w", hitbox.ErrLeaseLost)})
				break
			}
			continue
		}
		r := t.setLevelLeased(ctx, j, key, e, tags, parts[j].lease)
		switch r.out {
		case outcomeOK:
			sharedStored = sharedStored || isShared
		case outcomeLost:
			if isShared {
				errs = append(errs, r.err)
			} else if sharedStored {
				// A change crossed the local level's lease only: the
				// shared level took the value, and the local copy may be
				// older; dropped below, so a read refills it.
				failedAt = j + 1
			}
			break levels // a change crossed: nothing above is written
		case outcomeFailed, outcomeCancelled:
			if t.write != WriteParallel || lv.required {
				failedAt = j
				errs = append(errs, r.err)
				break levels
			}
		}
	}
	if shared && !sharedStored {
		t.cancelOwn(items)
	}
	if failedAt > 0 {
		// No level above a failed one may hold what it lacks.
		for j := failedAt - 1; j >= 0; j-- {
			if err := t.dropKeys(ctx, &t.levels[j], []string{key}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	purged := len(tags) > 0 && !t.guard.tagsValid(ts, tags)
	t.end(ctx, items, changes, purged)
	if sharedStored {
		if err := t.publish(ctx, hitbox.Invalidation{Keys: []string{key}}); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return t.fail(hitbox.OpSet, errors.Join(errs...))
	}
	return nil
}

// setLevelLeased is setLevel for one leased entry: through
// hitbox.SetLeased, capped to the level's MaxTTL. A refusal because a
// change crossed the lease is outcomeLost, and no sign the level failed.
func (t *Tier) setLevelLeased(ctx context.Context, j int, key string, e hitbox.Entry, tags []string, l hitbox.Lease) levelResult {
	lv := &t.levels[j]
	if lv.br.suspect() {
		// Its last call failed: a load's store is not worth a timeout
		// (a batch load stores key by key, and would wait once per key).
		// Refused like a store whose level failed, without asking it.
		return levelResult{outcomeFailed, &hitbox.Error{Op: hitbox.OpSet, Backend: lv.label, Err: errSuspect}}
	}
	if !t.writable(ctx, lv) {
		return levelResult{outcomeFailed, openErr(hitbox.OpSet, lv)}
	}
	if lv.maxTTL > 0 {
		e = e.CapTTL(t.now(), lv.maxTTL)
	}
	err := hitbox.SetLeased(ctx, lv.b, key, e, tags, l)
	if err != nil && errors.Is(err, hitbox.ErrLeaseLost) {
		t.answered(lv)
		return levelResult{outcomeLost, err}
	}
	out := t.wrote(ctx, lv, err)
	if out == outcomeRefused {
		_ = t.dropKeys(ctx, lv, []string{key})
	}
	return levelResult{out, err}
}
