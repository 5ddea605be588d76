//go:build !race

package httpcache

// raceEnabled is true under -race, where sync.Pool drops items at random
// and allocated bytes mean nothing.
const raceEnabled = false
