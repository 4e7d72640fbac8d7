package builder

import (
	"slices"
	"testing"

	"go.podman.io/storage"
)

func TestChildrenFirst(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layers []storage.Layer
		want   []string
	}{
		{"chain", []storage.Layer{{ID: "a"}, {ID: "b", Parent: "a"}, {ID: "c", Parent: "b"}}, []string{"c", "b", "a"}},
		{"two chains", []storage.Layer{{ID: "a"}, {ID: "x"}, {ID: "b", Parent: "a"}, {ID: "y", Parent: "x"}}, []string{"b", "y", "a", "x"}},
		{"parent unknown", []storage.Layer{{ID: "b", Parent: "gone"}, {ID: "a"}}, []string{"b", "a"}},
		{"cycle", []storage.Layer{{ID: "a", Parent: "b"}, {ID: "b", Parent: "a"}}, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, l := range childrenFirst(tc.layers) {
				got = append(got, l.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
		})
	}
}
