package check

import (
	"archive/tar"
	"bytes"
	"context"
	"reflect"
	"testing"
)

// file is one tar entry of a test layer: a regular file with data, a
// directory (name ending in /), a symlink (link set) or a hard link (hard set).
type file struct {
	name, data, link, hard string
}

// tarLayer returns the uncompressed tar of files.
func tarLayer(t *testing.T, files []file) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o755, Typeflag: tar.TypeReg, Size: int64(len(f.data))}
		switch {
		case f.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, f.link, 0
		case f.hard != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeLink, f.hard, 0
		case f.name[len(f.name)-1] == '/':
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestScanWhiteouts runs layers through a scan and checks which files of
// the final filesystem are counted and which mismatch an amd64 label.
func TestScanWhiteouts(t *testing.T) {
	amd64, arm64 := string(busybox(t, "amd64")), string(busybox(t, "arm64"))
	base := []file{{name: "bin/"}, {name: "bin/busybox", data: amd64}, {name: "bin/sh", link: "busybox"}}
	tests := []struct {
		name     string
		all      bool
		layers   [][]file
		files    int
		elfs     int
		mismatch []string
	}{
		{"native only", false, [][]file{base}, 1, 1, nil},
		{"foreign binary", false, [][]file{base, {{name: "usr/bin/tool", data: arm64}}}, 2, 2, []string{"/usr/bin/tool"}},
		{"deleted by a whiteout", false, [][]file{base, {{name: "usr/bin/tool", data: arm64}}, {{name: "usr/bin/.wh.tool"}}}, 1, 1, nil},
		{"directory deleted by a whiteout", false, [][]file{base, {{name: "usr/lib/x/tool", data: arm64}}, {{name: "usr/lib/.wh.x"}}}, 1, 1, nil},
		{"opaque directory", false, [][]file{base, {{name: "usr/lib/x/tool", data: arm64}}, {{name: "usr/lib/x/"}, {name: "usr/lib/x/.wh..wh..opq"}, {name: "usr/lib/x/ok", data: amd64}}}, 2, 2, nil},
		{"directory replaced by a symlink", false, [][]file{base, {{name: "lib64/tool", data: arm64}}, {{name: "lib64", link: "lib"}}}, 1, 1, nil},
		{"re-added after a whiteout", false, [][]file{base, {{name: "sbin/tool", data: amd64}}, {{name: "sbin/.wh.tool"}}, {{name: "sbin/tool", data: arm64}}}, 2, 2, []string{"/sbin/tool"}},
		{"overwritten by a native file", false, [][]file{base, {{name: "usr/local/bin/tool", data: arm64}}, {{name: "usr/local/bin/tool", data: amd64}}}, 2, 2, nil},
		{"hard link", false, [][]file{append(base, file{name: "usr/sbin/tool", data: arm64}, file{name: "usr/sbin/tool2", hard: "usr/sbin/tool"})}, 3, 3, []string{"/usr/sbin/tool", "/usr/sbin/tool2"}},
		{"outside the default directories", false, [][]file{base, {{name: "opt/tool", data: arm64}, {name: "lib/firmware/fw", data: arm64}}}, 1, 1, nil},
		{"all files", true, [][]file{base, {{name: "opt/tool", data: arm64}, {name: "etc/passwd", data: "root:x:0:0::/root:/bin/sh\n"}}}, 3, 2, []string{"/opt/tool"}},
	}
	e, _ := Expect(debArches["amd64"])
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScan(tc.all)
			for i, l := range tc.layers {
				if err := s.Layer(context.Background(), i+1, bytes.NewReader(tarLayer(t, l))); err != nil {
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
	err := NewScan(false).Layer(ctx, 1, bytes.NewReader(tarLayer(t, []file{{name: "bin/x", data: "x"}})))
	if err == nil {
		t.Fatal("scan of a cancelled context succeeded")
	}
}
