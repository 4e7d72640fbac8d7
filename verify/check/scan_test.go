package check

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/polyarch/polyarch/verify/internal/layertest"
)

// TestScanWhiteouts runs layers through a scan and checks which files of
// the final filesystem are counted and which mismatch an amd64 label.
func TestScanWhiteouts(t *testing.T) {
	amd64, arm64 := string(layertest.Busybox(t, "amd64")), string(layertest.Busybox(t, "arm64"))
	base := []file{{Name: "bin/"}, {Name: "bin/busybox", Data: amd64}, {Name: "bin/sh", Link: "busybox"}}
	tests := []struct {
		name     string
		all      bool
		layers   [][]file
		files    int
		elfs     int
		mismatch []string
	}{
		{"native only", false, [][]file{base}, 1, 1, nil},
		{"foreign binary", false, [][]file{base, {{Name: "usr/bin/tool", Data: arm64}}}, 2, 2, []string{"/usr/bin/tool"}},
		{"deleted by a whiteout", false, [][]file{base, {{Name: "usr/bin/tool", Data: arm64}}, {{Name: "usr/bin/.wh.tool"}}}, 1, 1, nil},
		{"directory deleted by a whiteout", false, [][]file{base, {{Name: "usr/lib/x/tool", Data: arm64}}, {{Name: "usr/lib/.wh.x"}}}, 1, 1, nil},
		{"opaque directory", false, [][]file{base, {{Name: "usr/lib/x/tool", Data: arm64}}, {{Name: "usr/lib/x/"}, {Name: "usr/lib/x/.wh..wh..opq"}, {Name: "usr/lib/x/ok", Data: amd64}}}, 2, 2, nil},
		{"directory replaced by a symlink", false, [][]file{base, {{Name: "lib64/tool", Data: arm64}}, {{Name: "lib64", Link: "lib"}}}, 1, 1, nil},
		{"re-added after a whiteout", false, [][]file{base, {{Name: "sbin/tool", Data: amd64}}, {{Name: "sbin/.wh.tool"}}, {{Name: "sbin/tool", Data: arm64}}}, 2, 2, []string{"/sbin/tool"}},
		{"overwritten by a native file", false, [][]file{base, {{Name: "usr/local/bin/tool", Data: arm64}}, {{Name: "usr/local/bin/tool", Data: amd64}}}, 2, 2, nil},
		{"hard link", false, [][]file{append(base, file{Name: "usr/sbin/tool", Data: arm64}, file{Name: "usr/sbin/tool2", Hard: "usr/sbin/tool"})}, 3, 3, []string{"/usr/sbin/tool", "/usr/sbin/tool2"}},
		{"outside the default directories", false, [][]file{base, {{Name: "opt/tool", Data: arm64}, {Name: "lib/firmware/fw", Data: arm64}}}, 1, 1, nil},
		{"all files", true, [][]file{base, {{Name: "opt/tool", Data: arm64}, {Name: "etc/passwd", Data: "root:x:0:0::/root:/bin/sh\n"}}}, 3, 2, []string{"/opt/tool"}},
	}
	e, _ := Expect(debArches["amd64"])
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScan(tc.all)
			for i, l := range tc.layers {
				if err := s.Layer(context.Background(), i+1, bytes.NewReader(layertest.Tar(t, l))); err != nil {
					t.Fatal(err)
				}
			}
			files, elfs, bad := s.Results(e, true)
			var paths []string
			for _, m := range bad {
				paths = append(paths, m.Path)
			}
			if files != tc.files || elfs != tc.elfs || !reflect.DeepEqual(paths, tc.mismatch) {
				t.Errorf("files %d, ELF %d, mismatches %v; want %d, %d, %v", files, elfs, paths, tc.files, tc.elfs, tc.mismatch)
			}
		})
	}
}

// TestScanStopsOnCancel checks that a cancelled context ends the scan.
func TestScanStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := NewScan(false).Layer(ctx, 1, bytes.NewReader(layertest.Tar(t, []file{{Name: "bin/x", Data: "x"}})))
	if err == nil {
		t.Fatal("scan of a cancelled context succeeded")
	}
}

// file is one tar entry of a test layer.
type file = layertest.File
