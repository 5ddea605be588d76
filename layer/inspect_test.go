package layer_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
)

// sealed returns the bytes p stores below for e.
func sealed(t testing.TB, l hitbox.Layer, e hitbox.Entry) []byte {
	t.Helper()
	s := newRawStore()
	if err := l(s).Set(context.Background(), "k", e); err != nil {
		t.Fatal(err)
	}
	got, _ := s.entry("k")
	return got.Value
}

func TestDecodeEnvelope(t *testing.T) {
	t.Parallel()
	expire := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	stale := expire.Add(-time.Minute)
	good := sealed(t, layer.Encode(), hitbox.Entry{Value: []byte("value"), Expire: expire, Stale: stale})
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 1
	version := bytes.Clone(good)
	version[2] = 9
	cases := []struct {
		name     string
		b        []byte
		wantErr  bool
		wantVal  string
		deadline bool // the deadlines could be read
		sumOK    bool
	}{
		{"an envelope Encode wrote reads whole", good, false, "value", true, true},
		{"a flipped value byte keeps the deadlines and fails the checksum", flipped, true, "valud", true, false},
		{"an unknown version (the checksum covers it) is reported with the fields still read", version, true, "value", true, false},
		{"a short input reads nothing", good[:10], true, "", false, false},
		{"foreign bytes are not an envelope", []byte("{\"json\": \"text, long enough\"}"), true, "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env, err := layer.DecodeEnvelope(tc.b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if string(env.Value) != tc.wantVal {
				t.Errorf("Value = %q, want %q", env.Value, tc.wantVal)
			}
			if tc.deadline && (!env.Expire.Equal(expire) || !env.Stale.Equal(stale)) {
				t.Errorf("deadlines %v, %v; want %v, %v", env.Expire, env.Stale, expire, stale)
			}
			if env.ChecksumOK != tc.sumOK {
				t.Errorf("ChecksumOK = %v, want %v", env.ChecksumOK, tc.sumOK)
			}
		})
	}
}

func TestDecodeCompressed(t *testing.T) {
	t.Parallel()
	long := bytes.Repeat([]byte("abcdefgh"), 100)
	cases := []struct {
		name    string
		b       []byte
		limit   int
		wantErr bool
		wantID  byte
		wantNm  string
		wantVal []byte
	}{
		{"a zstd value restores", sealed(t, layer.Compress(codec.Zstd()), hitbox.Entry{Value: long}), 0, false, 3, "zstd", long},
		{"a gzip value restores", sealed(t, layer.Compress(codec.Gzip()), hitbox.Entry{Value: long}), 0, false, 2, "gzip", long},
		{"a short value is stored as it is", sealed(t, layer.Compress(codec.Zstd()), hitbox.Entry{Value: []byte("short")}), 0, false, 0, "none", []byte("short")},
		{"a value over the limit is damaged, its compressor still named", sealed(t, layer.Compress(codec.Zstd()), hitbox.Entry{Value: long}), 100, true, 3, "zstd", nil},
		{"an unknown id is damaged", []byte{200, 1, 2}, 0, true, 200, "", nil},
		{"an empty value is damaged", nil, 0, true, 0, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := layer.DecodeCompressed(tc.b, tc.limit)
			if (err != nil) != tc.wantErr || err != nil && !errors.Is(err, hitbox.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt %v", err, tc.wantErr)
			}
			if c.ID != tc.wantID || c.Name != tc.wantNm || c.Stored != len(tc.b) || !bytes.Equal(c.Value, tc.wantVal) {
				t.Errorf("got id %d name %q stored %d value %d bytes; want %d %q %d %d",
					c.ID, c.Name, c.Stored, len(c.Value), tc.wantID, tc.wantNm, len(tc.b), len(tc.wantVal))
			}
		})
	}
}

// FuzzDecodeEnvelope checks that DecodeEnvelope never panics and agrees
// with Encode's Get: the same bytes are accepted, with the same entry.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(sealed(f, layer.Encode(), hitbox.Entry{Value: []byte("v"), Expire: time.Unix(1, 2), Stale: time.Unix(1, 1)}))
	f.Add([]byte("hb\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := layer.DecodeEnvelope(b)
		e, gerr := layer.Encode()(static{hitbox.Entry{Value: b}}).Get(context.Background(), "k")
		if (err == nil) != (gerr == nil) {
			t.Fatalf("DecodeEnvelope: %v; Get: %v", err, gerr)
		}
		if err == nil && (!bytes.Equal(env.Value, e.Value) || !env.Expire.Equal(e.Expire) || !env.Stale.Equal(e.Stale) || !env.ChecksumOK) {
			t.Fatalf("DecodeEnvelope read %+v, Get %+v", env, e)
		}
	})
}

// FuzzDecodeCompressed checks that DecodeCompressed never panics and
// agrees with Compress's Get.
func FuzzDecodeCompressed(f *testing.F) {
	f.Add(sealed(f, layer.Compress(codec.Snappy()), hitbox.Entry{Value: bytes.Repeat([]byte("ab"), 200)}))
	f.Add([]byte{0, 'r', 'a', 'w'})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := layer.DecodeCompressed(b, 1<<20)
		p := layer.CompressWith(codec.Zstd(), layer.CompressOptions{MaxDecompressed: 1 << 20})
		e, gerr := p(static{hitbox.Entry{Value: b}}).Get(context.Background(), "k")
		if (err == nil) != (gerr == nil) {
			t.Fatalf("DecodeCompressed: %v; Get: %v", err, gerr)
		}
		if err == nil && !bytes.Equal(c.Value, e.Value) {
			t.Fatal("DecodeCompressed and Get restored different values")
		}
	})
}
