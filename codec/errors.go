package codec

import "errors"

// ErrTooLarge is returned by Compressor.Decompress when the restored form
// would exceed the limit it was given. The error's message names the limit.
var ErrTooLarge = errors.New("codec: decompressed size over the limit")
