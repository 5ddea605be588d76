package hitboxtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/faulty"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// oddTags are tags a store must keep apart: bytes that a key escape, a
// pattern or a delimiter could mistake, and pairs where one tag is a
// prefix or a glob of the other. Purging one must never purge another.
var oddTags = []string{
	"user:4", "user:42", "user:*", "user:?", "user:[4]", "user",
	"a b", "a  b", "{slot}", "{slot}x", "a\\b", "a\x00b",
	"\xff\xfe", "\xff", "ü", "tag\n",
}

// tagsSuite checks the hitbox.Tagger contract on backends from fresh; it
// is shared by TestBackend and TestLayer.
type tagsSuite struct {
	fresh   func(t *testing.T) hitbox.Backend
	sibling func(t *testing.T, b hitbox.Backend) hitbox.Backend // nil without Options.Sibling
	maxLen  int                                                 // Options.MaxTagLen
}

// run runs the tag checks as subtests of t, or skips when the backend is
// not a Tagger or refuses tags with ErrNotSupported (a layer that forwards
// the ability to a store without it).
func (s tagsSuite) run(t *testing.T) {
	b := s.fresh(t)
	tg, ok := b.(hitbox.Tagger)
	if !ok {
		t.Skip("not a hitbox.Tagger")
	}
	err := tg.SetTagged(context.Background(), "probe", hitbox.Entry{Value: []byte("v")}, []string{"probe"})
	if errors.Is(err, hitbox.ErrNotSupported) {
		t.Skipf("SetTagged refused: %v", err)
	}
	if err != nil {
		t.Fatalf("SetTagged: %v", err)
	}
	for _, c := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"GetTagged returns the entry with its tags", s.roundTrip},
		{"InvalidateTags drops exactly the entries carrying a purged tag", s.purge},
		{"an entry written after a purge survives it", s.writeAfter},
		{"a plain Set over a tagged key drops its tags", s.plainSet},
		{"Delete and Clear drop the tags with the entry", s.deleteDrops},
		{"tags over the limits are refused with ErrInvalidTag", s.limits},
		{"tags with odd bytes are kept apart", s.odd},
		{"a sibling namespace's tag is not purged", s.namespace},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t)
		})
	}
}

func (s tagsSuite) tagger(t *testing.T) (hitbox.Backend, hitbox.Tagger) {
	t.Helper()
	b := s.fresh(t)
	return b, b.(hitbox.Tagger)
}

func mustSetTagged(t *testing.T, tg hitbox.Tagger, key string, e hitbox.Entry, tags ...string) {
	t.Helper()
	if err := tg.SetTagged(context.Background(), key, e, tags); err != nil {
		t.Fatalf("SetTagged %q %q: %v", key, tags, err)
	}
}

func mustInvalidate(t *testing.T, tg hitbox.Tagger, tags ...string) {
	t.Helper()
	if err := tg.InvalidateTags(context.Background(), tags...); err != nil {
		t.Fatalf("InvalidateTags %q: %v", tags, err)
	}
}

// sameTags compares tag lists as sets: a store may keep them in any order.
func sameTags(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(slices.Compact(g), slices.Compact(w))
}

// wantTagged checks that key reads back as value with tags, by Get, by
// GetTagged, and by GetMany, natively and through hitbox.GetMany's loop of
// GetTagged, with the tags in Result.Tags.
func wantTagged(t *testing.T, b hitbox.Backend, key, value string, tags []string) {
	t.Helper()
	ctx := context.Background()
	e, got, err := b.(hitbox.Tagger).GetTagged(ctx, key)
	switch {
	case err != nil:
		t.Errorf("GetTagged %q: %v, want %q with tags %q", key, err, value, tags)
	case string(e.Value) != value:
		t.Errorf("GetTagged %q = %s, want %q", key, show(e.Value), value)
	case !sameTags(got, tags):
		t.Errorf("GetTagged %q: tags %q, want %q", key, got, tags)
	}
	if e, err := b.Get(ctx, key); err != nil || string(e.Value) != value {
		t.Errorf("Get %q = %s, %v; want %q", key, show(e.Value), err, value)
	}
	for _, p := range []path{{"native", b}, {"fallback", taggedBasic{basic{b}, b.(hitbox.Tagger)}}} {
		res, err := hitbox.GetMany(ctx, p.b, []string{key})
		switch {
		case err != nil || len(res) != 1 || res[0].Err != nil:
			t.Errorf("%s GetMany %q = %v, %v; want %q with tags %q", p.name, key, res, err, value, tags)
		case string(res[0].Entry.Value) != value:
			t.Errorf("%s GetMany %q = %s, want %q", p.name, key, show(res[0].Entry.Value), value)
		case !sameTags(res[0].Tags, tags):
			t.Errorf("%s GetMany %q: Result.Tags %q, want %q", p.name, key, res[0].Tags, tags)
		}
	}
}

// taggedBasic is a Tagger with no other ability, so hitbox.GetMany takes
// its loop of GetTagged.
type taggedBasic struct {
	basic
	hitbox.Tagger
}

// wantPurged checks that every way of reading key misses: Get, GetTagged,
// GetMany natively and through the fallback loop, and Remove, which must
// not report a purged entry as removed.
func wantPurged(t *testing.T, b hitbox.Backend, key string) {
	t.Helper()
	ctx := context.Background()
	if e, tags, err := b.(hitbox.Tagger).GetTagged(ctx, key); !isMiss(err) {
		t.Errorf("GetTagged %q = %s %q, %v; want a miss after its tag was purged", key, show(e.Value), tags, err)
	}
	if e, err := b.Get(ctx, key); !isMiss(err) {
		t.Errorf("Get %q = %s, %v; want a miss after its tag was purged", key, show(e.Value), err)
	}
	for _, p := range paths(b) {
		res, err := hitbox.GetMany(ctx, p.b, []string{key})
		if err != nil || len(res) != 1 || !isMiss(res[0].Err) {
			t.Errorf("%s GetMany %q = %v, %v; want one miss after its tag was purged", p.name, key, res, err)
		}
		if removed, err := hitbox.Remove(ctx, p.b, key); err != nil || removed {
			t.Errorf("%s Remove %q = %v, %v; want false: a purged entry is not live", p.name, key, removed, err)
		}
	}
}

func (s tagsSuite) roundTrip(t *testing.T) {
	b, tg := s.tagger(t)
	mustSetTagged(t, tg, "one", hitbox.Entry{Value: []byte("1")}, "t1")
	mustSetTagged(t, tg, "two", hitbox.Entry{Value: []byte("2")}, "t1", "t2")
	mustSetTagged(t, tg, "none", hitbox.Entry{Value: []byte("0")})
	mustSet(t, b, "plain", hitbox.Entry{Value: []byte("p")})
	wantTagged(t, b, "one", "1", []string{"t1"})
	wantTagged(t, b, "two", "2", []string{"t1", "t2"})
	wantTagged(t, b, "none", "0", nil)
	wantTagged(t, b, "plain", "p", nil)
	if _, tags, err := tg.GetTagged(context.Background(), "absent"); !isMiss(err) || tags != nil {
		t.Errorf("GetTagged of an absent key = %q, %v; want nil tags and a miss", tags, err)
	}
	// One batch of tagged, untagged and absent keys: each Result has its
	// own entry's tags, none for the others.
	res, err := hitbox.GetMany(context.Background(), b, []string{"one", "two", "plain", "absent", "none"})
	if err != nil || len(res) != 5 || res[0].Err != nil || res[1].Err != nil || res[2].Err != nil || !isMiss(res[3].Err) || res[4].Err != nil ||
		string(res[0].Entry.Value) != "1" || string(res[1].Entry.Value) != "2" || string(res[2].Entry.Value) != "p" {
		t.Fatalf("GetMany of tagged entries = %v, %v; want 1, 2, p, a miss, 0", res, err)
	}
	for i, want := range [][]string{{"t1"}, {"t1", "t2"}, nil, nil, nil} {
		if !sameTags(res[i].Tags, want) {
			t.Errorf("GetMany: Result %d has tags %q, want %q", i, res[i].Tags, want)
		}
	}
}

func (s tagsSuite) purge(t *testing.T) {
	b, tg := s.tagger(t)
	mustSetTagged(t, tg, "x", hitbox.Entry{Value: []byte("x")}, "x")
	mustSetTagged(t, tg, "xy", hitbox.Entry{Value: []byte("xy")}, "y", "x")
	mustSetTagged(t, tg, "y", hitbox.Entry{Value: []byte("y")}, "y")
	mustSetTagged(t, tg, "z", hitbox.Entry{Value: []byte("z")}, "z")
	mustSet(t, b, "plain", hitbox.Entry{Value: []byte("p")})
	mustInvalidate(t, tg, "x")
	wantPurged(t, b, "x")
	wantPurged(t, b, "xy")
	wantTagged(t, b, "y", "y", []string{"y"})
	wantTagged(t, b, "z", "z", []string{"z"})
	wantTagged(t, b, "plain", "p", nil)
	// Several tags in one call, one of them never used.
	mustInvalidate(t, tg, "never", "y", "z")
	wantPurged(t, b, "y")
	wantPurged(t, b, "z")
	wantTagged(t, b, "plain", "p", nil)
	// No tags, and tags of nothing, purge nothing.
	mustSetTagged(t, tg, "w", hitbox.Entry{Value: []byte("w")}, "w")
	mustInvalidate(t, tg)
	mustInvalidate(t, tg, "unused")
	wantTagged(t, b, "w", "w", []string{"w"})
}

func (s tagsSuite) writeAfter(t *testing.T) {
	b, tg := s.tagger(t)
	mustSetTagged(t, tg, "k", hitbox.Entry{Value: []byte("old")}, "t")
	mustInvalidate(t, tg, "t")
	wantPurged(t, b, "k")
	mustSetTagged(t, tg, "k", hitbox.Entry{Value: []byte("new")}, "t")
	mustSetTagged(t, tg, "k2", hitbox.Entry{Value: []byte("new2")}, "t", "u")
	wantTagged(t, b, "k", "new", []string{"t"})
	wantTagged(t, b, "k2", "new2", []string{"t", "u"})
	// A second purge drops them again.
	mustInvalidate(t, tg, "t")
	wantPurged(t, b, "k")
	wantPurged(t, b, "k2")
}

func (s tagsSuite) plainSet(t *testing.T) {
	b, tg := s.tagger(t)
	ctx := context.Background()
	mustSetTagged(t, tg, "k", hitbox.Entry{Value: []byte("tagged")}, "t")
	mustSet(t, b, "k", hitbox.Entry{Value: []byte("plain")})
	wantTagged(t, b, "k", "plain", nil)
	mustSetTagged(t, tg, "m", hitbox.Entry{Value: []byte("tagged")}, "t")
	if err := hitbox.SetMany(ctx, b, []hitbox.Item{{Key: "m", Entry: hitbox.Entry{Value: []byte("plain")}}}); err != nil {
		t.Fatalf("SetMany: %v", err)
	}
	wantTagged(t, b, "m", "plain", nil)
	mustSetTagged(t, tg, "n", hitbox.Entry{Value: []byte("t")}, "t")
	mustSetTagged(t, tg, "n", hitbox.Entry{Value: []byte("u")}, "u")
	wantTagged(t, b, "n", "u", []string{"u"})
	mustInvalidate(t, tg, "t")
	wantTagged(t, b, "k", "plain", nil)
	wantTagged(t, b, "m", "plain", nil)
	wantTagged(t, b, "n", "u", []string{"u"})
}

func (s tagsSuite) deleteDrops(t *testing.T) {
	b, tg := s.tagger(t)
	ctx := context.Background()
	mustSetTagged(t, tg, "k", hitbox.Entry{Value: []byte("v")}, "t")
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, tags, err := tg.GetTagged(ctx, "k"); !isMiss(err) || tags != nil {
		t.Errorf("GetTagged after Delete = %q, %v; want nil tags and a miss", tags, err)
	}
	mustSet(t, b, "k", hitbox.Entry{Value: []byte("w")})
	wantTagged(t, b, "k", "w", nil)
	if _, ok := b.(hitbox.Clearer); !ok {
		return
	}
	mustSetTagged(t, tg, "c", hitbox.Entry{Value: []byte("v")}, "t")
	if err := hitbox.Clear(ctx, b); errors.Is(err, hitbox.ErrNotSupported) {
		return
	} else if err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if _, tags, err := tg.GetTagged(ctx, "c"); !isMiss(err) || tags != nil {
		t.Errorf("GetTagged after Clear = %q, %v; want nil tags and a miss", tags, err)
	}
	mustSet(t, b, "c", hitbox.Entry{Value: []byte("w")})
	wantTagged(t, b, "c", "w", nil)
}

func (s tagsSuite) limits(t *testing.T) {
	b, tg := s.tagger(t)
	ctx := context.Background()
	many := make([]string, hitbox.MaxTags+1)
	for i := range many {
		many[i] = fmt.Sprint("t", i)
	}
	maxLen := s.maxLen
	if maxLen <= 0 {
		maxLen = hitbox.MaxTagLen
	}
	long := strings.Repeat("x", maxLen)
	for _, c := range []struct {
		why  string
		tags []string
	}{
		{"an empty tag", []string{""}},
		{"an empty tag among good ones", []string{"a", "", "b"}},
		{"a tag one byte over the limit", []string{long + "x"}},
		{"one tag over MaxTags", many},
	} {
		err := tg.SetTagged(ctx, "k", hitbox.Entry{Value: []byte("v")}, c.tags)
		if !errors.Is(err, hitbox.ErrInvalidTag) {
			t.Errorf("SetTagged with %s: %v, want ErrInvalidTag", c.why, err)
		}
		wantMiss(t, b, "k")
	}
	if err := tg.InvalidateTags(ctx, "a", ""); !errors.Is(err, hitbox.ErrInvalidTag) {
		t.Errorf("InvalidateTags with an empty tag: %v, want ErrInvalidTag", err)
	}
	// At the limits exactly, tags are kept.
	mustSetTagged(t, tg, "max", hitbox.Entry{Value: []byte("v")}, many[:hitbox.MaxTags]...)
	wantTagged(t, b, "max", "v", many[:hitbox.MaxTags])
	mustSetTagged(t, tg, "long", hitbox.Entry{Value: []byte("v")}, long)
	wantTagged(t, b, "long", "v", []string{long})
	mustInvalidate(t, tg, many[hitbox.MaxTags-1])
	wantPurged(t, b, "max")
	mustInvalidate(t, tg, long)
	wantPurged(t, b, "long")
}

func (s tagsSuite) odd(t *testing.T) {
	b, tg := s.tagger(t)
	for i, tag := range oddTags {
		mustSetTagged(t, tg, fmt.Sprint("k", i), hitbox.Entry{Value: []byte(tag)}, tag)
	}
	for i, tag := range oddTags {
		wantTagged(t, b, fmt.Sprint("k", i), tag, []string{tag})
	}
	for i, purged := range oddTags {
		mustInvalidate(t, tg, purged)
		wantPurged(t, b, fmt.Sprint("k", i))
		for j, tag := range oddTags[i+1:] {
			key := fmt.Sprint("k", i+1+j)
			e, tags, err := tg.GetTagged(context.Background(), key)
			if err != nil || string(e.Value) != tag || !sameTags(tags, []string{tag}) {
				t.Errorf("after InvalidateTags(%q), GetTagged %q = %s %q, %v; want %q, whose tag %q was not purged",
					purged, key, show(e.Value), tags, err, tag, tag)
			}
		}
	}
}

func (s tagsSuite) namespace(t *testing.T) {
	if s.sibling == nil {
		t.Skip("Options.Sibling is not set")
	}
	b, tg := s.tagger(t)
	sib := s.sibling(t, b)
	stg, ok := sib.(hitbox.Tagger)
	if !ok {
		t.Skip("the sibling is not a hitbox.Tagger")
	}
	mustSetTagged(t, tg, "k", hitbox.Entry{Value: []byte("mine")}, "t")
	mustSetTagged(t, stg, "k", hitbox.Entry{Value: []byte("sibling's")}, "t")
	mustInvalidate(t, tg, "t")
	wantPurged(t, b, "k")
	wantTagged(t, sib, "k", "sibling's", []string{"t"})
	mustSetTagged(t, tg, "k", hitbox.Entry{Value: []byte("mine")}, "t")
	mustInvalidate(t, stg, "t")
	wantPurged(t, sib, "k")
	wantTagged(t, b, "k", "mine", []string{"t"})
}

// taggedFaulty is the store under a layer in TestLayer: the faulty
// mapstore, plus the mapstore's tags and leases, so a layer that forwards
// hitbox.Tagger and hitbox.Leaser is checked too. Tag and lease calls
// bypass the fault injection, which no tag or lease check uses.
type taggedFaulty struct {
	*faulty.Backend
	store *mapstore.Store
}

func (f taggedFaulty) SetTagged(ctx context.Context, key string, e hitbox.Entry, tags []string) error {
	return f.store.SetTagged(ctx, key, e, tags)
}

func (f taggedFaulty) GetTagged(ctx context.Context, key string) (hitbox.Entry, []string, error) {
	return f.store.GetTagged(ctx, key)
}

func (f taggedFaulty) InvalidateTags(ctx context.Context, tags ...string) error {
	return f.store.InvalidateTags(ctx, tags...)
}

func (f taggedFaulty) Lease(ctx context.Context, key string, tags []string) (hitbox.Lease, error) {
	return f.store.Lease(ctx, key, tags)
}

func (f taggedFaulty) SetLeased(ctx context.Context, key string, e hitbox.Entry, tags []string, l hitbox.Lease) error {
	return f.store.SetLeased(ctx, key, e, tags, l)
}

// tags runs the hitbox.Tagger checks when the backend is one.
func (s *backendSuite) tags(t *testing.T) {
	tagsSuite{
		fresh:   func(t *testing.T) hitbox.Backend { b, _ := s.fresh(t); return b },
		sibling: s.opts.Sibling,
		maxLen:  s.opts.MaxTagLen,
	}.run(t)
}
