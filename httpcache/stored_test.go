package httpcache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/hitbox-go/hitbox"
)

func sampleStored(bodySize int) *storedResponse {
	return &storedResponse{
		status: 200,
		fields: []field{
			{"Content-Type", "text/html; charset=utf-8"},
			{"Cache-Control", "public, max-age=60"},
			{"Set-Cookie", "a=1"},
			{"Etag", `"v1"`},
			{"Set-Cookie", "b=2"},
			{"Date", "Sun, 01 Mar 2026 12:00:00 GMT"},
			{"Vary", "Accept-Encoding"},
		},
		body:         bytes.Repeat([]byte("x"), bodySize),
		requestTime:  time.Date(2026, 3, 1, 11, 59, 59, 123456789, time.UTC),
		responseTime: time.Date(2026, 3, 1, 12, 0, 0, 987654321, time.UTC),
		varyNames:    []string{"accept-encoding"},
		varyValues:   []string{"=gzip"},
		variantOf:    "http:example.com/",
	}
}

func equalStored(a, b *storedResponse) bool {
	return a.status == b.status && reflect.DeepEqual(a.fields, b.fields) && bytes.Equal(a.body, b.body) &&
		a.requestTime.Equal(b.requestTime) && a.responseTime.Equal(b.responseTime) &&
		reflect.DeepEqual(a.varyNames, b.varyNames) && reflect.DeepEqual(a.varyValues, b.varyValues) &&
		a.variantOf == b.variantOf
}

func TestStoredRoundTrip(t *testing.T) {
	tests := []struct {
		why string
		s   *storedResponse
	}{
		{"§3.1: fields kept in received order, repeated lines kept", sampleStored(1024)},
		{"an empty response with zero times", &storedResponse{status: 204}},
		{"a response with an empty field value and no body", &storedResponse{status: 301, fields: []field{{"Location", "/x"}, {"X-Empty", ""}}}},
		{"times before 1970", &storedResponse{status: 200, requestTime: time.Date(1900, 1, 1, 0, 0, 0, 5, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			b := tt.s.marshal([]byte("prefix"))
			if string(b[:6]) != "prefix" {
				t.Fatal("marshal did not append")
			}
			got, err := unmarshalStored(b[6:])
			if err != nil {
				t.Fatal(err)
			}
			if !equalStored(got, tt.s) {
				t.Errorf("round trip\n got %+v\nwant %+v", got, tt.s)
			}
			resp, idx, err := decodeRecord(b[6:])
			if err != nil || idx != nil || !equalStored(resp, tt.s) {
				t.Errorf("decodeRecord = %v, %v, %v", resp, idx, err)
			}
		})
	}
}

func TestStoredHeader(t *testing.T) {
	h := sampleStored(0).header()
	if got := h["Set-Cookie"]; !reflect.DeepEqual(got, []string{"a=1", "b=2"}) {
		t.Errorf("Set-Cookie lines = %q, want both in order", got)
	}
	if got := h.Get("Etag"); got != `"v1"` {
		t.Errorf("Etag = %q", got)
	}
	// Appending to one name's lines must not clobber another's.
	h.Add("Content-Type", "x")
	if h.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("Cache-Control clobbered: %q", h["Cache-Control"])
	}
}

func TestVaryIndexRoundTrip(t *testing.T) {
	b := varyIndex{names: []string{"accept-encoding", "foo"}}.marshal(nil)
	resp, idx, err := decodeRecord(b)
	if err != nil || resp != nil || idx == nil || !reflect.DeepEqual(idx.names, []string{"accept-encoding", "foo"}) {
		t.Fatalf("decodeRecord = %v, %v, %v", resp, idx, err)
	}
	// A vary index is no response.
	if _, err := unmarshalStored(b); !errors.Is(err, hitbox.ErrCorrupt) {
		t.Errorf("unmarshalStored(vary index) = %v, want ErrCorrupt", err)
	}
}

// reseal recomputes the checksum of a record whose payload a test changed,
// so the structural checks behind it are reached.
func resealRecord(b []byte) []byte {
	p := b[:len(b)-4]
	return binary.LittleEndian.AppendUint32(append([]byte(nil), p...), crc32.Checksum(p, crcTable))
}

// record builds a sealed record by hand around meta and rest, so a test can
// reach the checks behind the checksum.
func sealRecord(kind byte, meta, rest []byte) []byte {
	b := append([]byte(storedMagic), storedVersion, kind)
	b = binary.AppendUvarint(b, uint64(len(meta)))
	b = append(append(b, meta...), rest...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// meta begins a response meta: status and two zero times.
func respMeta(status uint64) []byte {
	b := binary.AppendUvarint(nil, status)
	b = appendTime(b, time.Time{})
	return appendTime(b, time.Time{})
}

func TestStoredCorrupt(t *testing.T) {
	good := sampleStored(100).marshal(nil)
	flip := append([]byte(nil), good...)
	flip[len(flip)/2] ^= 1
	// The rest of a valid response meta after the field count: no Vary
	// names or values, no variantOf, body length 0.
	tail := []byte{0, 0, 0, 0}
	tests := []struct {
		why string
		b   []byte
	}{
		{"nil input", nil},
		{"empty input", []byte{}},
		{"another format altogether", []byte(`{"json": true, "padding": "......"}`)},
		{"a future version", append(append([]byte(storedMagic), 2), good[len(storedMagic)+1:]...)},
		{"truncated by one byte", good[:len(good)-1]},
		{"truncated to half", good[:len(good)/2]},
		{"a flipped bit", flip},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"a field count larger than the input", sealRecord(kindResponse, append(binary.AppendUvarint(respMeta(200), 1<<40), tail...), nil)},
		{"a field count over the cap", sealRecord(kindResponse, append(append(binary.AppendUvarint(respMeta(200), maxStoredFields+1), make([]byte, 2*maxStoredFields+2)...), tail...), nil)},
		{"a string length beyond meta", sealRecord(kindResponse, append(binary.AppendUvarint(respMeta(200), 1), 0x7f, 0), nil)},
		{"a status out of range", sealRecord(kindResponse, append(append(respMeta(7), 0), tail...), nil)},
		{"a varint that overflows", sealRecord(kindResponse, bytes.Repeat([]byte{0xff}, 11), nil)},
		{"nanoseconds out of range", sealRecord(kindResponse, append(binary.AppendUvarint([]byte{200, 1}, 0), 0xff, 0xff, 0xff, 0xff, 0x0f), nil)},
		{"a body shorter than declared", sealRecord(kindResponse, append(append(respMeta(200), 0), 0, 0, 0, 5), []byte("abc"))},
		{"a body longer than declared", sealRecord(kindResponse, append(append(respMeta(200), 0), 0, 0, 0, 1), []byte("abc"))},
		{"meta with bytes left over", sealRecord(kindResponse, append(append(append(respMeta(200), 0), tail...), 9), nil)},
		{"a record of an unknown kind", sealRecord('Z', nil, nil)},
		{"a vary index with a body", sealRecord(kindVaryIndex, []byte{0}, []byte("x"))},
		{"a vary index count beyond its meta", sealRecord(kindVaryIndex, []byte{200, 1}, nil)},
		{"a meta length beyond the input", resealRecord(append(append([]byte(storedMagic), storedVersion, kindResponse, 0xff, 0x7f), 0, 0, 0, 0))},
	}
	for _, tt := range tests {
		t.Run(tt.why, func(t *testing.T) {
			s, err := unmarshalStored(tt.b)
			if !errors.Is(err, hitbox.ErrCorrupt) || s != nil {
				t.Errorf("unmarshalStored = %v, %v; want nil, ErrCorrupt", s, err)
			}
			resp, idx, err := decodeRecord(tt.b)
			if !errors.Is(err, hitbox.ErrCorrupt) || resp != nil || idx != nil {
				t.Errorf("decodeRecord = %v, %v, %v; want ErrCorrupt", resp, idx, err)
			}
		})
	}
}

func TestStoredAllocs(t *testing.T) {
	b := sampleStored(1024).marshal(nil)
	// The struct, meta as one string, the fields, the two Vary slices.
	if n := testing.AllocsPerRun(100, func() { _, _ = unmarshalStored(b) }); n > 5 {
		t.Errorf("unmarshalStored: %v allocations, want at most 5", n)
	}
	s := sampleStored(1024)
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = s.marshal(buf[:0]) }); n != 0 {
		t.Errorf("marshal into a large enough buffer: %v allocations, want 0", n)
	}
}

func BenchmarkStored(b *testing.B) {
	s := sampleStored(1024)
	enc := s.marshal(nil)
	b.Run("marshal", func(b *testing.B) {
		buf := make([]byte, 0, 4096)
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		for b.Loop() {
			buf = s.marshal(buf[:0])
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := unmarshalStored(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal+header", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r, _ := unmarshalStored(enc)
			_ = r.header()
		}
	})
}

// TestStoredIntoAliases: decoding into a decodeBuf (the hit path) reads a
// response without the Vary lists allocating nothing, its strings and body
// sharing the input's bytes, and gives what decodeRecord's copy gives.
func TestStoredIntoAliases(t *testing.T) { // not parallel: AllocsPerRun
	s := sampleStored(1024)
	s.varyNames, s.varyValues = nil, nil
	b := s.marshal(nil)
	var buf decodeBuf
	if n := testing.AllocsPerRun(100, func() { _, _, _ = decodeRecordInto(b, &buf) }); n != 0 {
		t.Errorf("decodeRecordInto with a buffer: %v allocations, want 0", n)
	}
	got, _, err := decodeRecordInto(b, &buf)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !equalStored(got, want) || !equalStored(got, s) {
		t.Fatalf("decodeRecordInto = %+v, want %+v", got, s)
	}
	inside := func(v string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(v)))
		start := uintptr(unsafe.Pointer(&b[0]))
		return p >= start && p < start+uintptr(len(b))
	}
	if !inside(got.fields[0].value) {
		t.Error("a field decoded into a buffer does not alias the input")
	}
	if inside(want.fields[0].value) {
		t.Error("decodeRecord's field aliases the input; it should be a copy")
	}
}
