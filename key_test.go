package hitbox_test

import (
	"math/rand/v2"
	"testing"

	"github.com/hitbox-go/hitbox"
)

func TestKeyString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		key  hitbox.Key
		want string
	}{
		{"a bare prefix renders at version 0", hitbox.NewKey("users"), "users:v0"},
		{"the version follows the prefix", hitbox.NewKey("users").Version(2), "users:v2"},
		{"named parts follow in order", hitbox.NewKey("users").Version(2).With("id", "42").With("lang", "en"), "users:v2:id=42:lang=en"},
		{"separators inside parts are escaped", hitbox.NewKey("a:b").With("c=d", "e%f"), "a%3Ab:v0:c%3Dd=e%25f"},
		{"empty parts still take their place", hitbox.NewKey("").With("", ""), ":v0:="},
		{"integers render in decimal", hitbox.NewKey("p").WithInt("n", -7), "p:v0:n=-7"},
		{"unicode passes through unchanged", hitbox.NewKey("ключ").With("名", "值"), "ключ:v0:名=值"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.key.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKeyWithDoesNotShareParts(t *testing.T) {
	t.Parallel()
	base := hitbox.NewKey("p").With("a", "1").With("b", "2")
	x, y := base.With("c", "x"), base.With("c", "y")
	if x.String() == y.String() || base.String() != "p:v0:a=1:b=2" {
		t.Fatalf("keys built from one base interfere: base=%q x=%q y=%q", base, x, y)
	}
}

// keySpec is a key as data, to compare part lists.
type keySpec struct {
	prefix  string
	version int
	parts   [][2]string
}

func (s keySpec) key() hitbox.Key {
	k := hitbox.NewKey(s.prefix).Version(s.version)
	for _, p := range s.parts {
		k = k.With(p[0], p[1])
	}
	return k
}

func (s keySpec) equal(o keySpec) bool {
	if s.prefix != o.prefix || s.version != o.version || len(s.parts) != len(o.parts) {
		return false
	}
	for i := range s.parts {
		if s.parts[i] != o.parts[i] {
			return false
		}
	}
	return true
}

// TestKeyInjective is a property test: random part lists drawn from an
// alphabet rich in separators, escapes, empty strings and unicode never
// render the same string unless they are the same list.
func TestKeyInjective(t *testing.T) {
	t.Parallel()
	alphabet := []string{"", ":", "=", "%", "%3A", "%25", "a", "v1", ":v1", "é", "\x00", "=:", "%3D"}
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		var s string
		for range rng.IntN(3) {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		return s
	}
	seen := make(map[string]keySpec)
	for range 50000 {
		s := keySpec{prefix: word(), version: rng.IntN(3)}
		for range rng.IntN(3) {
			s.parts = append(s.parts, [2]string{word(), word()})
		}
		got := s.key().String()
		if prev, ok := seen[got]; ok && !prev.equal(s) {
			t.Fatalf("%+v and %+v both render %q", prev, s, got)
		}
		seen[got] = s
	}
}

func FuzzKeyInjective(f *testing.F) {
	f.Add("users", "id", "1", "users", "id=1", "")
	f.Add("a:v0", "", "", "a", "", "")
	f.Fuzz(func(t *testing.T, p1, n1, v1, p2, n2, v2 string) {
		a := keySpec{prefix: p1, parts: [][2]string{{n1, v1}}}
		b := keySpec{prefix: p2, parts: [][2]string{{n2, v2}}}
		if !a.equal(b) && a.key().String() == b.key().String() {
			t.Fatalf("%+v and %+v render the same key %q", a, b, a.key())
		}
	})
}
