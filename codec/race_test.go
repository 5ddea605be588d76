//go:build race

package codec_test

// raceEnabled is true under -race, where sync.Pool drops items at random
// and allocation counts mean nothing.
const raceEnabled = true
