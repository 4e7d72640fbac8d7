package index

import (
	"archive/tar"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
)

// layerTar makes a layer from entries: "d/" is a directory, "f=body" a
// file, "l->target" a symlink.
func layerTar(t *testing.T, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e, Mode: 0o644, Typeflag: tar.TypeReg}
		body := ""
		switch {
		case strings.HasSuffix(e, "/"):
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		case strings.Contains(e, "->"):
			hdr.Name, hdr.Linkname, _ = strings.Cut(e, "->")
			hdr.Typeflag = tar.TypeSymlink
		default:
			hdr.Name, body, _ = strings.Cut(e, "=")
			hdr.Size = int64(len(body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// eachEntry calls f for every entry of a layer tar.
func eachEntry(t *testing.T, layer []byte, f func(*tar.Header, io.Reader) error) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := f(hdr, tr); err != nil {
			t.Fatal(err)
		}
	}
}

// flattenForTest applies layers as flattenImage does and returns the
// entries of the result as "name" or "name=body".
func flattenForTest(t *testing.T, layers ...[]byte) []string {
	t.Helper()
	winner := map[string]owner{}
	for i, l := range layers {
		eachEntry(t, l, func(hdr *tar.Header, _ io.Reader) error { record(winner, i, hdr); return nil })
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for i, l := range layers {
		eachEntry(t, l, func(hdr *tar.Header, body io.Reader) error { return copyWinner(tw, winner, i, hdr, body) })
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	eachEntry(t, out.Bytes(), func(hdr *tar.Header, body io.Reader) error {
		b, _ := io.ReadAll(body)
		got = append(got, strings.TrimSuffix(hdr.Name+"="+string(b), "="))
		return nil
	})
	slices.Sort(got)
	return got
}

// TestFlatten checks whiteouts, opaque directories and replacements.
func TestFlatten(t *testing.T) {
	base := layerTar(t, "bin/", "bin/busybox=elf", "bin/sh->busybox", "etc/", "etc/a=1", "etc/b=2", "opq/", "opq/old=o", "d/", "d/x=x")
	for _, tc := range []struct {
		name  string
		upper [][]byte
		want  []string
	}{
		{"base alone", nil, []string{"bin/", "bin/busybox=elf", "bin/sh", "d/", "d/x=x", "etc/", "etc/a=1", "etc/b=2", "opq/", "opq/old=o"}},
		{"whiteout and overwrite", [][]byte{layerTar(t, "etc/", "etc/.wh.a=", "etc/b=new", "./bin/.wh.sh=")},
			[]string{"bin/", "bin/busybox=elf", "d/", "d/x=x", "etc/", "etc/b=new", "opq/", "opq/old=o"}},
		{"opaque directory", [][]byte{layerTar(t, "opq/", "opq/.wh..wh..opq=", "opq/new=n")},
			[]string{"bin/", "bin/busybox=elf", "bin/sh", "d/", "d/x=x", "etc/", "etc/a=1", "etc/b=2", "opq/", "opq/new=n"}},
		{"directory deleted then recreated above", [][]byte{layerTar(t, ".wh.d="), layerTar(t, "d/", "d/y=y")},
			[]string{"bin/", "bin/busybox=elf", "bin/sh", "d/", "d/y=y", "etc/", "etc/a=1", "etc/b=2", "opq/", "opq/old=o"}},
		{"file replaces directory", [][]byte{layerTar(t, "d=file")},
			[]string{"bin/", "bin/busybox=elf", "bin/sh", "d=file", "etc/", "etc/a=1", "etc/b=2", "opq/", "opq/old=o"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := flattenForTest(t, append([][]byte{base}, tc.upper...)...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("flattened:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}
