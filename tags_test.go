package hitbox_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// untagged is a Backend without the Tagger ability.
type untagged struct{ hitbox.Backend }

func TestCheckTags(t *testing.T) {
	many := make([]string, hitbox.MaxTags+1)
	for i := range many {
		many[i] = "t"
	}
	for _, tc := range []struct {
		name string
		tags []string
		want string // "" for valid, else a part of the message
	}{
		{"no tags are valid: the entry is untagged", nil, ""},
		{"ordinary tags are valid", []string{"user:42", "org:7"}, ""},
		{"a tag of exactly MaxTagLen bytes is valid", []string{strings.Repeat("x", hitbox.MaxTagLen)}, ""},
		{"MaxTags tags are valid", many[:hitbox.MaxTags], ""},
		{"an empty tag would name every untagged entry, so it is refused", []string{"a", ""}, "empty tag"},
		{"a tag over MaxTagLen names the limit", []string{strings.Repeat("x", hitbox.MaxTagLen+1)}, "hitbox.MaxTagLen"},
		{"more than MaxTags tags names the limit", many, "hitbox.MaxTags"},
	} {
		err := hitbox.CheckTags(tc.tags)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.Is(err, hitbox.ErrInvalidTag) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want ErrInvalidTag mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestTagHelpersWithoutTagger(t *testing.T) {
	ctx := context.Background()
	b := untagged{mapstore.New(mapstore.Options{})}
	e := hitbox.Entry{Value: []byte("v"), Expire: time.Now().Add(time.Hour)}

	// Without tags SetTagged is a plain Set, so callers need not branch.
	if err := hitbox.SetTagged(ctx, b, "plain", e); err != nil {
		t.Fatalf("SetTagged without tags: %v", err)
	}
	got, tags, err := hitbox.GetTagged(ctx, b, "plain")
	if err != nil || string(got.Value) != "v" || tags != nil {
		t.Fatalf("GetTagged on a non-Tagger = %q, %v, %v; want the entry and nil tags", got.Value, tags, err)
	}
	// With tags it refuses and stores nothing: an entry stored without its
	// tags could never be purged by them.
	if err := hitbox.SetTagged(ctx, b, "tagged", e, "user:42"); !errors.Is(err, hitbox.ErrNotSupported) {
		t.Fatalf("SetTagged with tags on a non-Tagger: %v, want ErrNotSupported", err)
	}
	if _, err := b.Get(ctx, "tagged"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("refused SetTagged stored the entry anyway: %v", err)
	}
	var he *hitbox.Error
	if err := hitbox.InvalidateTags(ctx, b, "user:42"); !errors.As(err, &he) || he.Op != hitbox.OpInvalidateTags || !errors.Is(err, hitbox.ErrNotSupported) {
		t.Fatalf("InvalidateTags on a non-Tagger: %v, want an *Error with Op %q wrapping ErrNotSupported", err, hitbox.OpInvalidateTags)
	}
	if err := hitbox.InvalidateTags(ctx, b); err != nil {
		t.Fatalf("InvalidateTags without tags: %v, want nil (nothing to do)", err)
	}
	if err := hitbox.SetTagged(ctx, b, "bad", e, ""); !errors.Is(err, hitbox.ErrInvalidTag) {
		t.Fatalf("SetTagged with an empty tag: %v, want ErrInvalidTag", err)
	}
	if err := hitbox.InvalidateTags(ctx, b, "ok", ""); !errors.Is(err, hitbox.ErrInvalidTag) {
		t.Fatalf("InvalidateTags with an empty tag: %v, want ErrInvalidTag", err)
	}
}
