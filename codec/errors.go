package codec

import (
	"errors"
	"fmt"
)

// ErrTooLarge is returned by Compressor.Decompress when the restored form
// would exceed the limit it was given. The error's message names the limit.
var ErrTooLarge = errors.New("codec: decompressed size over the limit")

// ErrCorrupt is returned by Compressor.Decompress when its input is damaged,
// truncated or was not written by that compressor. The error also wraps the
// underlying library's error, when there is one.
var ErrCorrupt = errors.New("codec: corrupt compressed input")

// tooLarge returns the error Decompress gives when the restored form would
// exceed limit bytes.
func tooLarge(limit int) error {
	return fmt.Errorf("%w: restored size over %d bytes", ErrTooLarge, limit)
}

// corrupt returns the error Decompress gives for damaged input; cause is the
// library's own error and stays visible to errors.Is.
func corrupt(name string, cause error) error {
	return fmt.Errorf("%w: %s: %w", ErrCorrupt, name, cause)
}

// clampLimit treats a negative limit as zero: nothing may be restored.
func clampLimit(limit int) int {
	return max(limit, 0)
}
