package hitbox

import (
	"strconv"
	"strings"
)

// Key builds cache keys from parts: a prefix, a version and named parts.
//
// The rendered form is readable ("users:v2:id=42:lang=en") and injective:
// two different part lists never render to the same string, whatever bytes
// the parts hold, because the separators ':' and '=' and the escape '%'
// are percent-escaped inside every part. Bumping the version orphans every
// key of the old version at once, which is how a change of value shape is
// rolled out without reading old bytes into a new type.
//
// A Key is a value: each method returns a new Key and never changes the one
// it was called on, so a base key can be shared between goroutines.
type Key struct {
	prefix  string
	version int
	parts   []keyPart
}

type keyPart struct{ name, value string }

// NewKey starts a key under prefix, usually the name of what is cached
// ("users"), at version 0.
func NewKey(prefix string) Key { return Key{prefix: prefix} }

// Version returns k at version v.
func (k Key) Version(v int) Key {
	k.version = v
	return k
}

// With returns k with one more named part.
func (k Key) With(name, value string) Key {
	// The full slice expression forces append to copy, so keys built from a
	// shared base never overwrite each other's parts.
	k.parts = append(k.parts[:len(k.parts):len(k.parts)], keyPart{name, value})
	return k
}

// WithInt returns k with one more named part holding an integer.
func (k Key) WithInt(name string, value int64) Key {
	return k.With(name, strconv.FormatInt(value, 10))
}

// String renders the key.
func (k Key) String() string {
	var b strings.Builder
	n := len(k.prefix) + 4
	for _, p := range k.parts {
		n += len(p.name) + len(p.value) + 2
	}
	b.Grow(n)
	escapeKeyPart(&b, k.prefix)
	b.WriteString(":v")
	b.WriteString(strconv.Itoa(k.version))
	for _, p := range k.parts {
		b.WriteByte(':')
		escapeKeyPart(&b, p.name)
		b.WriteByte('=')
		escapeKeyPart(&b, p.value)
	}
	return b.String()
}

const hexDigits = "0123456789ABCDEF"

// escapeKeyPart writes s with the three bytes that give a key its structure
// percent-escaped, so a part can never forge a separator.
func escapeKeyPart(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ':', '=', '%':
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
}
