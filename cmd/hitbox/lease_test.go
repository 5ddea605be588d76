package main

import (
	"context"
	"strings"
	"testing"

	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// TestInspectPlaceholder shows a lease's placeholder as what it is, a
// load in flight with nothing stored, not as damaged bytes.
func TestInspectPlaceholder(t *testing.T) {
	t.Parallel()
	srv := redistest.Shared(t)
	st, err := redisstore.New(srv.Client(t), redisstore.Options{Prefix: "lease-cmd:"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Lease(context.Background(), "loading", nil); err != nil {
		t.Fatal(err)
	}
	r := hitboxCmd(t, "", "inspect", "--redis", srv.Addr, "--prefix", "lease-cmd:", "loading")
	if r.code != 0 || !strings.Contains(r.out, "a lease's placeholder: a load is in flight") || strings.Contains(r.out, "DAMAGED") {
		t.Errorf("inspect of a placeholder: exit %d\n%s%s", r.code, r.out, r.err)
	}
}
