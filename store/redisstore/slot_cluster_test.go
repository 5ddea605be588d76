package redisstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/hitbox-go/hitbox/internal/redistest"
)

// TestSlotMatchesServer checks slot against CLUSTER KEYSLOT on a live
// cluster node for keys of every shape a caller may write.
func TestSlotMatchesServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.SharedCluster(t).Client(t)
	keys := []string{"", "{", "}", "{}", "{a", "a}", "{a}", "x{a}y", "x{}{a}", "\xff\x00{\x01}"}
	for i := range 500 {
		keys = append(keys, fmt.Sprintf("app:%d:user{%d}", i, i%7), fmt.Sprintf("k%d\x00\xfe", i))
	}
	for _, k := range keys {
		want, err := rdb.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := slot(k); int64(got) != want {
			t.Fatalf("slot(%q) = %d, server says %d", k, got, want)
		}
	}
}
