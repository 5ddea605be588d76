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
	const limit = 1 << 20
	tests := []struct {
		name  string
		layer hitbox.Layer
		opts  hitboxtest.Options
	}{
		{"Compress with zstd, every value compressed", layer.CompressWith(codec.Zstd(), layer.CompressOptions{MinSize: 1}), hitboxtest.Options{}},
		{"Compress with snappy", layer.CompressWith(codec.Snappy(), layer.CompressOptions{MinSize: 1}), hitboxtest.Options{}},
		{"Compress with gzip", layer.CompressWith(codec.Gzip(), layer.CompressOptions{MinSize: 1}), hitboxtest.Options{}},
		{"Compress with none", layer.Compress(codec.None()), hitboxtest.Options{}},
		{"Encode", layer.Encode(), hitboxtest.Options{}},
		{"Prefix", layer.Prefix("ns:"), hitboxtest.Options{MaxTagLen: hitbox.MaxTagLen - len("ns:")}},
		{"Timeout", layer.Timeout(time.Minute), hitboxtest.Options{}},
		{"Compress with zstd and a 1 MiB MaxDecompressed, which Set keeps too",
			layer.CompressWith(codec.Zstd(), layer.CompressOptions{MaxDecompressed: limit}), hitboxtest.Options{MaxValueSize: limit}},
		{"MaxSize", layer.MaxSize(limit), hitboxtest.Options{MaxValueSize: limit}},
		{"Compress over Encode", func(b hitbox.Backend) hitbox.Backend {
			return hitbox.Chain(layer.Compress(codec.Zstd()), layer.Encode()).Then(b)
		}, hitboxtest.Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hitboxtest.TestLayer(t, tt.layer, tt.opts)
		})
	}
}
