package index

import (
	"context"
	"testing"

	"go.podman.io/image/v5/types"
)

// closeCounter is an image source that counts its Close calls.
type closeCounter struct {
	types.ImageSource
	closed int
}

func (c *closeCounter) Close() error {
	c.closed++
	return c.ImageSource.Close()
}

// TestHandOff checks that the source the plan opened is handed over once,
// as it is, that later opens get a new source, and that an untaken one is
// closed.
func TestHandOff(t *testing.T) {
	ctx := context.Background()
	ref, sys := fixtureLayout(t)
	for _, tc := range []struct {
		name       string
		take       int
		wantClosed int
	}{
		{"taken once, then opened anew", 2, 0},
		{"never taken: closed by closeUnused", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := planCopy(ctx, ref, CopyOptions{SourceCtx: sys})
			if err != nil {
				t.Fatal(err)
			}
			opened := &closeCounter{ImageSource: plan.src}
			plan.src = opened
			wrapped, closeUnused := handOff(ref, plan)
			for i := 0; i < tc.take; i++ {
				src, err := wrapped.NewImageSource(ctx, sys)
				if err != nil {
					t.Fatal(err)
				}
				if got := src == types.ImageSource(opened); got != (i == 0) {
					t.Errorf("open %d returned the planned source: %v, want %v", i, got, i == 0)
				}
				if i > 0 {
					_ = src.Close()
				}
			}
			closeUnused()
			if opened.closed != tc.wantClosed {
				t.Errorf("planned source closed %d times by closeUnused, want %d", opened.closed, tc.wantClosed)
			}
		})
	}
}
