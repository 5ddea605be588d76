package codec_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// User is the representative value the tests and benchmarks encode: about
// ten fields of the usual kinds.
type User struct {
	ID        int64             `json:"id" cbor:"id" msgpack:"id"`
	Name      string            `json:"name" cbor:"name" msgpack:"name"`
	Email     string            `json:"email" cbor:"email" msgpack:"email"`
	Age       int               `json:"age" cbor:"age" msgpack:"age"`
	Admin     bool              `json:"admin" cbor:"admin" msgpack:"admin"`
	Score     float64           `json:"score" cbor:"score" msgpack:"score"`
	Tags      []string          `json:"tags" cbor:"tags" msgpack:"tags"`
	Attrs     map[string]string `json:"attrs" cbor:"attrs" msgpack:"attrs"`
	CreatedAt time.Time         `json:"created_at" cbor:"created_at" msgpack:"created_at"`
	Avatar    []byte            `json:"avatar" cbor:"avatar" msgpack:"avatar"`
}

func sampleUser() User {
	return User{
		ID:        1234567,
		Name:      "Ada Lovelace",
		Email:     "ada@example.com",
		Age:       36,
		Admin:     true,
		Score:     98.25,
		Tags:      []string{"math", "engines", "poetry"},
		Attrs:     map[string]string{"team": "analytical", "city": "London"},
		CreatedAt: time.Date(2024, 3, 1, 12, 30, 45, 123456789, time.UTC),
		Avatar:    []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 3},
	}
}

// equal compares two users, times by instant (formats differ in the
// location they restore).
func (u User) equal(o User) bool {
	if !u.CreatedAt.Equal(o.CreatedAt) {
		return false
	}
	if u.ID != o.ID || u.Name != o.Name || u.Email != o.Email || u.Age != o.Age ||
		u.Admin != o.Admin || u.Score != o.Score || string(u.Avatar) != string(o.Avatar) ||
		len(u.Tags) != len(o.Tags) || len(u.Attrs) != len(o.Attrs) {
		return false
	}
	for i := range u.Tags {
		if u.Tags[i] != o.Tags[i] {
			return false
		}
	}
	for k, v := range u.Attrs {
		if w, ok := o.Attrs[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// BinaryUser is a User with a hand-written encoding for the Binary format;
// User itself has none, so the other formats use their own encodings.
type BinaryUser User

// MarshalBinary writes varints, fixed-width floats and length-prefixed
// strings, in field order. Its pointer receiver is the common case the
// formats must handle when given a value.
func (u *BinaryUser) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 128)
	b = binary.AppendVarint(b, u.ID)
	b = appendString(b, u.Name)
	b = appendString(b, u.Email)
	b = binary.AppendVarint(b, int64(u.Age))
	if u.Admin {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(u.Score))
	b = binary.AppendUvarint(b, uint64(len(u.Tags)))
	for _, t := range u.Tags {
		b = appendString(b, t)
	}
	b = binary.AppendUvarint(b, uint64(len(u.Attrs)))
	for k, v := range u.Attrs {
		b = appendString(b, k)
		b = appendString(b, v)
	}
	b = binary.AppendVarint(b, u.CreatedAt.UnixNano())
	b = appendString(b, string(u.Avatar))
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errShort = errors.New("user: short input")

// UnmarshalBinary reverses MarshalBinary and refuses damaged input.
func (u *BinaryUser) UnmarshalBinary(data []byte) error {
	r := reader{b: data}
	u.ID = r.varint()
	u.Name = r.string()
	u.Email = r.string()
	u.Age = int(r.varint())
	u.Admin = r.byte() == 1
	u.Score = math.Float64frombits(r.uint64())
	n := r.count()
	u.Tags = make([]string, 0, n)
	for range n {
		u.Tags = append(u.Tags, r.string())
	}
	n = r.count()
	u.Attrs = make(map[string]string, n)
	for range n {
		k := r.string()
		u.Attrs[k] = r.string()
	}
	u.CreatedAt = time.Unix(0, r.varint()).UTC()
	u.Avatar = []byte(r.string())
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("user: trailing bytes")
	}
	return r.err
}

// reader decodes MarshalBinary's fields, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() { r.err, r.b = errShort, nil }

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) count() int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > uint64(len(r.b)) { // each element takes a byte or more
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uint64() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) string() string {
	n := r.count()
	if len(r.b) < n {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// jsonish returns n bytes of realistic, compressible text: JSON records
// of users with varying ids and names, as a cache of API answers holds.
func jsonish(n int) []byte {
	b := make([]byte, 0, n+256)
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"id":%d,"name":"user-%d","email":"user%d@example.com","active":%t,"score":%d.%02d,"tags":["t%d","group-%d"]},`,
			1000+i*7, i, i*13, i%3 == 0, i*37%100, i%100, i%5, i%11)
	}
	return b[:n]
}

// incompressible returns n bytes that no compressor can shrink, the same
// on every run.
func incompressible(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}
