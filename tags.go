package hitbox

import (
	"context"
	"errors"
	"strconv"
)

// Tag limits, the same for every store so a pipeline's tags fit all of its
// levels. A tag names a group of entries ("user:42", "product:7"); one
// entry carries a handful, not hundreds.
const (
	// MaxTags is how many tags one entry may carry.
	MaxTags = 64
	// MaxTagLen is the longest tag, in bytes.
	MaxTagLen = 1024
)

// ErrInvalidTag is returned for an empty tag, a tag longer than MaxTagLen
// or more than MaxTags tags on one entry.
var ErrInvalidTag = errors.New("hitbox: invalid tag")

// Tagger is a Backend that keeps tags with its entries and can drop, in
// one call, every entry that carries a tag: "everything about user 42",
// "every page that shows product 7".
//
// Tags are the Backend's business, not the Entry's: an entry's Value and
// deadlines are what Set stored, and the tags travel beside it through
// SetTagged and GetTagged, so layers that transform values stay
// transparent and stores that know nothing of tags keep working (the
// helpers below then say ErrNotSupported rather than drop a tag silently).
//
// A Tagger's plain Get honours tags as GetTagged does: an entry written
// with a tag is a miss after that tag was invalidated, whichever method
// reads it.
type Tagger interface {
	// SetTagged stores e under key like Set and remembers tags with it.
	// Tags were checked by CheckTags; an empty tags is a plain Set.
	SetTagged(ctx context.Context, key string, e Entry, tags []string) error
	// GetTagged is Get that also returns the tags the entry was written
	// with (nil for one written by Set). A tier refills its upper levels
	// with them. Receivers must not modify the returned tags.
	GetTagged(ctx context.Context, key string) (Entry, []string, error)
	// InvalidateTags makes every entry that carries one of tags and was
	// written before the call began read as a miss, on every Get that
	// starts after it returns. An entry written while it runs may be
	// dropped too: a Tagger errs on the side of a miss, never of serving
	// an entry it was asked to purge. Its cost must not grow with the
	// whole keyspace: O(1) per tag, or O(entries carrying the tag).
	InvalidateTags(ctx context.Context, tags ...string) error
}

// CheckTags returns an error wrapping ErrInvalidTag, naming the limit,
// when tags holds an empty tag, a tag over MaxTagLen bytes, or more than
// MaxTags tags. Taggers and the helpers below call it first.
func CheckTags(tags []string) error {
	if len(tags) > MaxTags {
		return &tagError{"an entry carries " + strconv.Itoa(len(tags)) + " tags, over the limit of " + strconv.Itoa(MaxTags) + " (hitbox.MaxTags)"}
	}
	for _, t := range tags {
		if t == "" {
			return &tagError{"empty tag"}
		}
		if len(t) > MaxTagLen {
			return &tagError{"a tag of " + strconv.Itoa(len(t)) + " bytes, over the limit of " + strconv.Itoa(MaxTagLen) + " (hitbox.MaxTagLen)"}
		}
	}
	return nil
}

type tagError struct{ why string }

func (e *tagError) Error() string        { return "hitbox: invalid tag: " + e.why }
func (e *tagError) Is(target error) bool { return target == ErrInvalidTag }

// SetTagged stores e under key in b with tags. Without tags it is b.Set.
// With tags, b must be a Tagger: otherwise it returns an *Error wrapping
// ErrNotSupported and stores nothing, since an entry stored without its
// tags could never be purged by them.
func SetTagged(ctx context.Context, b Backend, key string, e Entry, tags ...string) error {
	if len(tags) == 0 {
		return b.Set(ctx, key, e)
	}
	if err := CheckTags(tags); err != nil {
		return &Error{Op: OpSet, Backend: b.Label(), Err: err}
	}
	if t, ok := b.(Tagger); ok {
		return t.SetTagged(ctx, key, e, tags)
	}
	return &Error{Op: OpSet, Backend: b.Label(), Err: ErrNotSupported}
}

// GetTagged reads key from b with the tags it was written with. A backend
// that is not a Tagger keeps no tags, so its entries come back with nil.
func GetTagged(ctx context.Context, b Backend, key string) (Entry, []string, error) {
	if t, ok := b.(Tagger); ok {
		return t.GetTagged(ctx, key)
	}
	e, err := b.Get(ctx, key)
	return e, nil, err
}

// InvalidateTags drops from b every entry that carries one of tags (see
// Tagger.InvalidateTags). A call without tags does nothing. A backend that
// is not a Tagger gets an *Error wrapping ErrNotSupported: it keeps no tags,
// so there is nothing it could drop by them.
func InvalidateTags(ctx context.Context, b Backend, tags ...string) error {
	if len(tags) == 0 {
		return nil
	}
	if err := CheckTagList(tags); err != nil {
		return &Error{Op: OpInvalidateTags, Backend: b.Label(), Err: err}
	}
	if t, ok := b.(Tagger); ok {
		return t.InvalidateTags(ctx, tags...)
	}
	return &Error{Op: OpInvalidateTags, Backend: b.Label(), Err: ErrNotSupported}
}

// CheckTagList checks the tags of a purge: each as CheckTags does, but
// any number of them, since MaxTags bounds what one entry carries, not
// what one purge may name. Taggers call it first in InvalidateTags.
func CheckTagList(tags []string) error {
	for i := 0; i < len(tags); i += MaxTags {
		if err := CheckTags(tags[i:min(i+MaxTags, len(tags))]); err != nil {
			return err
		}
	}
	return nil
}
