package codec

import (
	"errors"
	"fmt"
)

// ErrOverLimit is returned by Compressor.Decompress when the restored form
// would exceed the limit it was given. The error's message names the limit.
// It is named apart from hitbox.ErrTooLarge, which refuses a value on the
// way in: layer.Compress reports a stored value over the limit as
// hitbox.ErrCorrupt wrapping this.
var ErrOverLimit = errors.New("codec: decompressed size over the limit")

// ErrDamaged is returned by Compressor.Decompress when its input is damaged,
// truncated or was not written by that compressor. The error also wraps the
// underlying library's error, when there is one. layer.Compress reports
// it as hitbox.ErrCorrupt wrapping this.
var ErrDamaged = errors.New("codec: corrupt compressed input")

// tooLarge returns the error Decompress gives when the restored form would
// exceed limit bytes.
func tooLarge(limit int) error {
	return fmt.Errorf("%w: restored size over %d bytes", ErrOverLimit, limit)
}

// corrupt returns the error Decompress gives for damaged input; cause is the
// library's own error and stays visible to errors.Is.
func corrupt(name string, cause error) error {
	return fmt.Errorf("%w: %s: %w", ErrDamaged, name, cause)
}

// clampLimit treats a negative limit as zero: nothing may be restored.
func clampLimit(limit int) int {
	return max(limit, 0)
}
