package layer_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/internal/mapstore"
	"github.com/hitbox-go/hitbox/layer"
)

// tagLayers are every layer of the package, each of which must forward
// tags to what it wraps.
var tagLayers = []struct {
	name  string
	layer hitbox.Layer
}{
	{"Encode", layer.Encode()},
	{"Compress with zstd, every value compressed", layer.CompressWith(codec.Zstd(), layer.CompressOptions{MinSize: 1})},
	{"Compress over Encode", func(b hitbox.Backend) hitbox.Backend {
		return hitbox.Chain(layer.Compress(codec.Zstd()), layer.Encode()).Then(b)
	}},
	{"MaxSize", layer.MaxSize(1 << 10)},
	{"Prefix", layer.Prefix("ns:")},
	{"Timeout", layer.Timeout(time.Minute)},
}

// TestLayerTags runs the tag contract through each layer over a store that
// keeps tags, and over one that does not.
func TestLayerTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	value := bytes.Repeat([]byte("tagged value "), 20) // long enough to compress
	e := hitbox.Entry{Value: value, Expire: time.Now().Add(time.Hour)}
	cases := []struct {
		name string
		run  func(t *testing.T, b hitbox.Backend, s *mapstore.Store)
	}{
		{"An entry written with tags reads back whole, with its tags, through GetTagged.", func(t *testing.T, b hitbox.Backend, _ *mapstore.Store) {
			must(t, hitbox.SetTagged(ctx, b, "k", e, "user:42", "product:7"))
			got, tags, err := hitbox.GetTagged(ctx, b, "k")
			if err != nil || !bytes.Equal(got.Value, value) || !got.Expire.Equal(e.Expire) {
				t.Fatalf("GetTagged: %q %v, %v; want the value written", got.Value, got.Expire, err)
			}
			if !slices.Equal(tags, []string{"user:42", "product:7"}) {
				t.Fatalf("GetTagged tags: %q, want [user:42 product:7]", tags)
			}
			if got, err := b.Get(ctx, "k"); err != nil || !bytes.Equal(got.Value, value) {
				t.Fatalf("Get: %q, %v; want the value written", got.Value, err)
			}
		}},
		{"InvalidateTags makes the entry a miss for Get and GetTagged, and leaves entries without the tag.", func(t *testing.T, b hitbox.Backend, _ *mapstore.Store) {
			must(t, hitbox.SetTagged(ctx, b, "a", e, "user:42"))
			must(t, hitbox.SetTagged(ctx, b, "b", e, "user:43"))
			must(t, b.Set(ctx, "c", e))
			must(t, hitbox.InvalidateTags(ctx, b, "user:42"))
			if _, err := b.Get(ctx, "a"); !errors.Is(err, hitbox.ErrMiss) {
				t.Fatalf("Get of a purged entry: %v, want a miss", err)
			}
			if _, _, err := hitbox.GetTagged(ctx, b, "a"); !errors.Is(err, hitbox.ErrMiss) {
				t.Fatalf("GetTagged of a purged entry: %v, want a miss", err)
			}
			for _, k := range []string{"b", "c"} {
				if _, err := b.Get(ctx, k); err != nil {
					t.Fatalf("Get %s, not purged: %v", k, err)
				}
			}
		}},
		{"A plain Set over a tagged key drops its tags.", func(t *testing.T, b hitbox.Backend, _ *mapstore.Store) {
			must(t, hitbox.SetTagged(ctx, b, "k", e, "user:42"))
			must(t, b.Set(ctx, "k", e))
			if _, tags, err := hitbox.GetTagged(ctx, b, "k"); err != nil || tags != nil {
				t.Fatalf("GetTagged: %q, %v; want no tags", tags, err)
			}
		}},
		{"An invalid tag is refused with ErrInvalidTag and nothing is stored.", func(t *testing.T, b hitbox.Backend, s *mapstore.Store) {
			if err := hitbox.SetTagged(ctx, b, "k", e, ""); !errors.Is(err, hitbox.ErrInvalidTag) {
				t.Fatalf("SetTagged with an empty tag: %v, want ErrInvalidTag", err)
			}
			if err := hitbox.InvalidateTags(ctx, b, ""); !errors.Is(err, hitbox.ErrInvalidTag) {
				t.Fatalf("InvalidateTags of an empty tag: %v, want ErrInvalidTag", err)
			}
			if s.Len() != 0 {
				t.Fatalf("%d entries stored", s.Len())
			}
		}},
	}
	for _, l := range tagLayers {
		for _, tc := range cases {
			t.Run(l.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				s := mapstore.New(mapstore.Options{})
				b := l.layer(s)
				if _, ok := b.(hitbox.Tagger); !ok {
					t.Fatalf("%T is not a hitbox.Tagger", b)
				}
				tc.run(t, b, s)
			})
		}
	}
}

// TestLayerTagsNotSupported checks each layer over a store that keeps no
// tags: tagged writes and purges say ErrNotSupported and store nothing,
// plain writes still work, and GetTagged returns them with nil tags.
func TestLayerTagsNotSupported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := hitbox.Entry{Value: []byte("v")}
	for _, l := range tagLayers {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			s := mapstore.New(mapstore.Options{})
			b := l.layer(s.Basic())
			if err := hitbox.SetTagged(ctx, b, "k", e, "user:42"); !errors.Is(err, hitbox.ErrNotSupported) {
				t.Fatalf("SetTagged: %v, want ErrNotSupported", err)
			}
			if s.Len() != 0 {
				t.Fatal("SetTagged over a store without tags stored the entry without them")
			}
			if err := hitbox.InvalidateTags(ctx, b, "user:42"); !errors.Is(err, hitbox.ErrNotSupported) {
				t.Fatalf("InvalidateTags: %v, want ErrNotSupported", err)
			}
			must(t, hitbox.SetTagged(ctx, b, "k", e)) // no tags: a plain Set
			got, tags, err := hitbox.GetTagged(ctx, b, "k")
			if err != nil || string(got.Value) != "v" || tags != nil {
				t.Fatalf("GetTagged: %q %q, %v; want v with nil tags", got.Value, tags, err)
			}
		})
	}
}

// TestTransformTags checks that Encode and Compress transform a tagged
// value as they do a plain one, and treat damage alike.
func TestTransformTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	value := bytes.Repeat([]byte("abc"), 100)
	for _, l := range tagLayers[:3] {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			s := mapstore.New(mapstore.Options{})
			b := l.layer(s)
			must(t, hitbox.SetTagged(ctx, b, "k", hitbox.Entry{Value: value}, "t"))
			below, tags, err := s.GetTagged(ctx, "k")
			if err != nil || bytes.Equal(below.Value, value) || !slices.Equal(tags, []string{"t"}) {
				t.Fatalf("below: %d bytes with tags %q, %v; want the transformed value with the tag", len(below.Value), tags, err)
			}
			// Damage what is stored, keeping its tags.
			must(t, s.SetTagged(ctx, "k", hitbox.Entry{Value: []byte{0xff, 1, 2}}, []string{"t"}))
			if _, _, err := hitbox.GetTagged(ctx, b, "k"); !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("GetTagged of damaged bytes: %v, want ErrCorrupt", err)
			}
			if s.Len() != 0 {
				t.Fatal("the damaged entry was not removed below")
			}
		})
	}
}

// TestMaxSizeTags checks that the size rule holds for tagged writes: a
// value over the limit is refused and the key it was to replace removed.
func TestMaxSizeTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mapstore.New(mapstore.Options{})
	b := layer.MaxSize(4)(s)
	must(t, hitbox.SetTagged(ctx, b, "k", hitbox.Entry{Value: []byte("old")}, "t"))
	err := hitbox.SetTagged(ctx, b, "k", hitbox.Entry{Value: []byte("too long")}, "t")
	if !errors.Is(err, hitbox.ErrTooLarge) {
		t.Fatalf("SetTagged over the limit: %v, want ErrTooLarge", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("the value the refused write was to replace: %v, want a miss", err)
	}
}

// TestPrefixTags checks that Prefix namespaces tags as it does keys, so
// two caches sharing a store never purge each other's entries.
func TestPrefixTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mapstore.New(mapstore.Options{})
	a, b := layer.Prefix("a:")(s), layer.Prefix("b:")(s)
	e := hitbox.Entry{Value: []byte("v")}
	must(t, hitbox.SetTagged(ctx, a, "k", e, "user:42"))
	must(t, hitbox.SetTagged(ctx, b, "k", e, "user:42"))

	if _, tags, err := s.GetTagged(ctx, "a:k"); err != nil || !slices.Equal(tags, []string{"a:user:42"}) {
		t.Fatalf("the store holds tags %q, %v; want [a:user:42]", tags, err)
	}
	if _, tags, err := hitbox.GetTagged(ctx, a, "k"); err != nil || !slices.Equal(tags, []string{"user:42"}) {
		t.Fatalf("GetTagged through the prefix: %q, %v; want the tag as written, [user:42]", tags, err)
	}
	must(t, hitbox.InvalidateTags(ctx, a, "user:42"))
	if _, err := a.Get(ctx, "k"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("the purged namespace's entry: %v, want a miss", err)
	}
	if _, err := b.Get(ctx, "k"); err != nil {
		t.Fatalf("the other namespace's entry with the same tag: %v, want it kept", err)
	}
	if err := hitbox.InvalidateTags(ctx, s, "user:42"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); err != nil {
		t.Fatalf("a purge of the bare tag on the store reached a namespace: %v", err)
	}
}

// slowTagger waits for its context in each tag method and then reports
// the cut in its own words, as a network client's I/O timeout does.
type slowTagger struct{ *mapstore.Store }

func (slowTagger) SetTagged(ctx context.Context, _ string, _ hitbox.Entry, _ []string) error {
	<-ctx.Done()
	return &hitbox.Error{Op: hitbox.OpSet, Backend: "slow", Err: hitbox.ErrUnavailable}
}

func (slowTagger) GetTagged(ctx context.Context, _ string) (hitbox.Entry, []string, error) {
	<-ctx.Done()
	return hitbox.Entry{}, nil, &hitbox.Error{Op: hitbox.OpGet, Backend: "slow", Err: hitbox.ErrUnavailable}
}

func (slowTagger) InvalidateTags(ctx context.Context, _ ...string) error {
	<-ctx.Done()
	return &hitbox.Error{Op: hitbox.OpInvalidateTags, Backend: "slow", Err: hitbox.ErrUnavailable}
}

// TestTimeoutTags checks that Timeout bounds the tag operations as it
// does the others.
func TestTimeoutTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(context.Context, hitbox.Backend) error
	}{
		{"A slow SetTagged fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error {
			return hitbox.SetTagged(ctx, b, "k", hitbox.Entry{}, "t")
		}},
		{"A slow GetTagged fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error {
			_, _, err := hitbox.GetTagged(ctx, b, "k")
			return err
		}},
		{"A slow InvalidateTags fails with DeadlineExceeded.", func(ctx context.Context, b hitbox.Backend) error {
			return hitbox.InvalidateTags(ctx, b, "t")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := layer.Timeout(time.Millisecond)(slowTagger{mapstore.New(mapstore.Options{})})
			if err := tt.call(context.Background(), b); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v, want DeadlineExceeded", err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
