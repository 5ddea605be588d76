// Package panics lets a test see what a call panicked with, for the
// module's tests of constructor rules ("a programmer error panics with a
// hitbox/...: prefix"):
//
//	if got := panics.Message(func() { tier.New(nil) }); got != want {
//		t.Errorf("New(nil) panicked with %q, want %q", got, want)
//	}
package panics

import "fmt"

// Message runs fn and returns what it panicked with, formatted with
// fmt.Sprint, or "" when fn returned.
func Message(fn func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	fn()
	return ""
}
