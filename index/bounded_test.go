package index

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"
)

// TestInflateCheck reads a gzip stream of 2 MiB of zeros under caps
// below and above its inflated size.
func TestInflateCheck(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(make([]byte, 2<<20)); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	for _, tc := range []struct {
		name     string
		max      int64
		tooLarge bool
	}{{"under the cap", 4 << 20, false}, {"exactly the cap", 2 << 20, false}, {"over the cap", 1 << 20, true}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newInflateCheck(bytes.NewReader(gz.Bytes()), io.NopCloser(nil), &LayerTooLargeError{Image: "x", Digest: "sha256:00", Max: tc.max})
			defer c.Close()
			got, err := io.ReadAll(c)
			var tl *LayerTooLargeError
			if errors.As(err, &tl) != tc.tooLarge {
				t.Fatalf("read error %v, want too large: %v", err, tc.tooLarge)
			}
			if !tc.tooLarge && !bytes.Equal(got, gz.Bytes()) {
				t.Errorf("the stream passed through changed: %d bytes, want %d", len(got), gz.Len())
			}
		})
	}
}
