package panics_test

import (
	"errors"
	"fmt"

	"github.com/hitbox-go/hitbox/internal/panics"
)

func Example() {
	fmt.Printf("%q\n", panics.Message(func() { panic("hitbox/layer: Prefix: empty prefix") }))
	fmt.Printf("%q\n", panics.Message(func() { panic(errors.New("an error value")) }))
	fmt.Printf("%q\n", panics.Message(func() {}))
	// Output:
	// "hitbox/layer: Prefix: empty prefix"
	// "an error value"
	// ""
}
