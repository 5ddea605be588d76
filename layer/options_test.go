package layer_test

import (
	"testing"
	"time"

	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/internal/panics"
	"github.com/hitbox-go/hitbox/layer"
)

// TestInvalidOptions checks the constructor rule for every layer
// constructor: an argument or option that cannot work is a programmer
// error, reported by a panic whose message names the package and the
// option; where an Options type exists, its Validate returns that message.
func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		call     func()
		validate func() error // nil when the constructor has no Options type
		want     string
	}{
		{"Compress needs a compressor.", func() { layer.Compress(nil) }, nil,
			"hitbox/layer: Compress: nil compressor"},
		{"A negative MinSize cannot work.",
			func() { layer.CompressWith(codec.Zstd(), layer.CompressOptions{MinSize: -1}) },
			layer.CompressOptions{MinSize: -1}.Validate,
			"hitbox/layer: CompressOptions.MinSize: negative (-1)"},
		{"A negative MaxDecompressed cannot work.",
			func() { layer.CompressWith(codec.Zstd(), layer.CompressOptions{MaxDecompressed: -5}) },
			layer.CompressOptions{MaxDecompressed: -5}.Validate,
			"hitbox/layer: CompressOptions.MaxDecompressed: negative (-5)"},
		{"MaxSize needs a positive size.", func() { layer.MaxSize(0) }, nil,
			"hitbox/layer: MaxSize: n is 0, want a positive size"},
		{"Timeout needs a positive duration.", func() { layer.Timeout(-time.Second) }, nil,
			"hitbox/layer: Timeout: d is -1s, want a positive duration"},
		{"Prefix needs a namespace.", func() { layer.Prefix("") }, nil,
			"hitbox/layer: Prefix: empty prefix"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.validate != nil {
				if err := tc.validate(); err == nil || err.Error() != tc.want {
					t.Errorf("Validate = %v, want %q", err, tc.want)
				}
			}
			if got := panics.Message(tc.call); got != tc.want {
				t.Errorf("panicked with %q, want %q", got, tc.want)
			}
		})
	}
	if err := (layer.CompressOptions{}).Validate(); err != nil {
		t.Errorf("the zero CompressOptions: Validate = %v, want nil", err)
	}
}
