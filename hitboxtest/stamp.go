package hitboxtest

import (
	"context"
	"testing"

	"github.com/hitbox-go/hitbox"
)

// stamps checks the hitbox.Stamper contract: reads and Hit leave a key's
// stamp where it is, and every way of changing what the key holds moves it
// (the ways the backend has: a test whose ability it lacks is skipped).
func (s *backendSuite) stamps(t *testing.T) {
	b, _ := s.fresh(t)
	sb, ok := b.(hitbox.Stamper)
	if !ok {
		t.Skip("not a hitbox.Stamper")
	}
	ctx := context.Background()
	v1 := hitbox.Entry{Value: []byte("v1")}
	v2 := hitbox.Entry{Value: []byte("v2")}
	_, tags := b.(hitbox.Tagger)
	tags = tags && tagged(b)
	_, leases := b.(hitbox.Leaser)
	_, clears := b.(hitbox.Clearer)
	_, prefixes := b.(hitbox.PrefixClearer)
	for _, c := range []struct {
		name   string
		skip   bool
		change func(key string) error
	}{
		{"Set", false, func(key string) error { return b.Set(ctx, key, v2) }},
		{"Set of the same value", false, func(key string) error { return b.Set(ctx, key, v1) }},
		{"Delete", false, func(key string) error { return b.Delete(ctx, key) }},
		{"SetMany", false, func(key string) error { return hitbox.SetMany(ctx, b, []hitbox.Item{{Key: key, Entry: v2}}) }},
		{"DeleteMany", false, func(key string) error { return hitbox.DeleteMany(ctx, b, []string{key}) }},
		{"Remove", false, func(key string) error { _, err := hitbox.Remove(ctx, b, key); return err }},
		{"Clear", !clears, func(string) error { return hitbox.Clear(ctx, b) }},
		{"ClearPrefix", !prefixes, func(key string) error { return hitbox.ClearPrefix(ctx, b, key) }},
		{"SetTagged", !tags, func(key string) error { return hitbox.SetTagged(ctx, b, key, v2, "t") }},
		{"InvalidateTags", !tags, func(key string) error { return hitbox.InvalidateTags(ctx, b, key+"-tag") }},
		{"SetLeased", !leases, func(key string) error {
			l, err := hitbox.TakeLease(ctx, b, key, nil)
			if err != nil {
				return err
			}
			return hitbox.SetLeased(ctx, b, key, v2, nil, l)
		}},
	} {
		if c.skip {
			continue
		}
		key := "stamp:" + c.name
		if tags {
			mustSetTagged(t, b.(hitbox.Tagger), key, v1, key+"-tag")
		} else {
			mustSet(t, b, key, v1)
		}
		before, ok := sb.Stamp(key)
		if !ok {
			t.Fatalf("%s: Stamp(%q) not ok with no change under way", c.name, key)
		}
		mustGet(t, b, key)
		sb.Hit(key)
		if st, ok := sb.Stamp(key); !ok || st != before {
			t.Errorf("%s: a Get or a Hit moved the stamp: %d, %v; was %d", c.name, st, ok, before)
		}
		if err := c.change(key); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if st, ok := sb.Stamp(key); ok && st == before {
			t.Errorf("%s did not move %q's stamp (%d)", c.name, key, st)
		}
	}
	if cl, ok := b.(hitbox.Closer); ok {
		mustSet(t, b, "stamp:closed", v1)
		if err := cl.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, ok := sb.Stamp("stamp:closed"); ok {
			t.Error("Stamp is ok on a closed backend")
		}
	}
}
