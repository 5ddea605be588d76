package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/layer"
)

// compression stores one realistic value through a pipeline per
// compressor, rounds times, and prints the bytes that reached the store
// and the mean cost of a Set and a Get.
func compression(ctx context.Context, w io.Writer, st *store, rounds int) error {
	value := sampleValue()
	switch {
	case rounds > 0:
	case st.remote:
		rounds = 200 // each round trip is a network call
	default:
		rounds = 2000
	}
	fmt.Fprintf(w, "compression: one %d-byte JSON value, %d Set and %d Get through Compress → Encode → %s\n", len(value), rounds, rounds, st.label)
	fmt.Fprintf(w, "  %-7s %8s %7s %10s %10s\n", "codec", "stored", "ratio", "set", "get")
	for _, c := range []codec.Compressor{codec.None(), codec.Snappy(), codec.Gzip(), codec.Zstd()} {
		var stored atomic.Int64
		pipeline := hitbox.Chain(layer.Compress(c), layer.Encode(), measuring(&stored)).Then(st.backend)
		key := hitbox.NewKey("sample").With("codec", c.Name()).String()
		e := hitbox.Entry{Value: value, Expire: time.Now().Add(time.Minute)}

		start := time.Now()
		for range rounds {
			if err := pipeline.Set(ctx, key, e); err != nil {
				return err
			}
		}
		set := time.Since(start) / time.Duration(rounds)
		start = time.Now()
		for range rounds {
			got, err := pipeline.Get(ctx, key)
			if err != nil {
				return err
			}
			if len(got.Value) != len(value) {
				return fmt.Errorf("%s: read back %d bytes, wrote %d", c.Name(), len(got.Value), len(value))
			}
		}
		get := time.Since(start) / time.Duration(rounds)
		n := stored.Load()
		fmt.Fprintf(w, "  %-7s %7dB %6.2fx %10s %10s\n", c.Name(), n, float64(len(value))/float64(n),
			set.Round(10*time.Nanosecond), get.Round(10*time.Nanosecond))
		if st.keep {
			continue // left for cmd/hitbox to look at
		}
		if err := pipeline.Delete(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// sampleValue is a JSON document shaped like a typical API response.
func sampleValue() []byte {
	type item struct {
		ID       int               `json:"id"`
		Name     string            `json:"name"`
		Email    string            `json:"email"`
		Active   bool              `json:"active"`
		Score    float64           `json:"score"`
		Tags     []string          `json:"tags"`
		Settings map[string]string `json:"settings"`
	}
	items := make([]item, 24)
	for i := range items {
		items[i] = item{
			ID: 1000 + i, Name: fmt.Sprintf("user %d", i), Email: fmt.Sprintf("user%d@example.com", i),
			Active: i%3 != 0, Score: float64(i) * 1.25, Tags: []string{"beta", "eu-west", fmt.Sprintf("cohort-%d", i%4)},
			Settings: map[string]string{"theme": "dark", "lang": "en", "tz": "Europe/Paris"},
		}
	}
	b, _ := json.Marshal(items)
	return b
}

// measuring is a layer that records the size of the last value written
// below it: here, what the store really keeps.
func measuring(n *atomic.Int64) hitbox.Layer {
	return func(next hitbox.Backend) hitbox.Backend { return &measured{next, n} }
}

type measured struct {
	hitbox.Backend
	n *atomic.Int64
}

func (m *measured) Set(ctx context.Context, key string, e hitbox.Entry) error {
	m.n.Store(int64(len(e.Value)))
	return m.Backend.Set(ctx, key, e)
}
