package layer_test

import (
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/layer"
)

// Every layer passes the conformance suite any third-party layer runs.
func TestConformance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		layer hitbox.Layer
	}{
		{"Compress with zstd, every value compressed", layer.CompressWith(codec.Zstd(), layer.CompressOptions{MinSize: 1})},
		{"Compress with snappy", layer.CompressWith(codec.Snappy(), layer.CompressOptions{MinSize: 1})},
		{"Compress with gzip", layer.CompressWith(codec.Gzip(), layer.CompressOptions{MinSize: 1})},
		{"Compress with none", layer.Compress(codec.None())},
		{"Encode", layer.Encode()},
		{"Prefix", layer.Prefix("ns:")},
		{"Timeout", layer.Timeout(time.Minute)},
		{"MaxSize", layer.MaxSize(1 << 20)},
		{"Compress over Encode", func(b hitbox.Backend) hitbox.Backend {
			return hitbox.Chain(layer.Compress(codec.Zstd()), layer.Encode()).Then(b)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hitboxtest.TestLayer(t, tt.layer)
		})
	}
}
