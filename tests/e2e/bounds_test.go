package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ispec "github.com/opencontainers/image-spec/specs-go"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// specsVersioned is schemaVersion 2, as OCI manifests and indexes have.
var specsVersioned = ispec.Versioned{SchemaVersion: 2}

// oversizedLayout copies the fixture layout and adds three tags over the
// 4 MiB limit: "bigconfig" (an image whose config is 5 MiB),
// "bigmanifest" (a 5 MiB image manifest) and "bigentry" (an index
// listing that manifest). It returns the layout and, per tag, the digest
// and size the error must name.
func oversizedLayout(t *testing.T) (string, map[string]specs.Descriptor) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "big")
	mustSucceed(t, runCmd(t, "", "cp", "-a", filepath.Join(env.Fixtures, "busybox-oci"), dir))
	var idx specs.Index
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "index.json"))), &idx); err != nil {
		t.Fatal(err)
	}
	var man specs.Manifest
	for _, m := range idx.Manifests {
		if m.Annotations[specs.AnnotationRefName] == "amd64-single" {
			(layout{t: t, dir: dir}).readJSON(m.Digest.String(), &man)
		}
	}
	pad := strings.Repeat("x", 5<<20)
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux", "rootfs": map[string]any{"type": "layers"}, "padding": pad})
	bigCfg := man
	bigCfg.Config = writeRawBlob(t, dir, specs.MediaTypeImageConfig, cfg)
	raw, _ := json.Marshal(bigCfg)
	withBigCfg := writeRawBlob(t, dir, specs.MediaTypeImageManifest, raw)
	bigMan := man
	bigMan.Annotations = map[string]string{"padding": pad}
	raw, _ = json.Marshal(bigMan)
	big := writeRawBlob(t, dir, specs.MediaTypeImageManifest, raw)
	big.Platform = &specs.Platform{OS: "linux", Architecture: "amd64"}
	raw, _ = json.Marshal(specs.Index{Versioned: idx.Versioned, MediaType: specs.MediaTypeImageIndex, Manifests: []specs.Descriptor{big}})
	entry := writeRawBlob(t, dir, specs.MediaTypeImageIndex, raw)
	tags := map[string]specs.Descriptor{"bigconfig": withBigCfg, "bigmanifest": big, "bigentry": entry}
	for tag, d := range tags {
		d.Annotations = map[string]string{specs.AnnotationRefName: tag}
		idx.Manifests = append(idx.Manifests, d)
	}
	raw, _ = json.Marshal(idx)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, map[string]specs.Descriptor{"bigconfig": bigCfg.Config, "bigmanifest": big, "bigentry": big}
}

// TestCopyRefusesOversizedDocuments copies a layout's images whose
// config or manifest is over 4 MiB, at the top or as an index entry:
// each copy fails naming the digest and the size, and writes nothing.
func TestCopyRefusesOversizedDocuments(t *testing.T) {
	s := newStore(t)
	dir, want := oversizedLayout(t)
	for _, tag := range []string{"bigconfig", "bigmanifest", "bigentry"} {
		t.Run(tag, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			r := polyarch(t, s, "copy", "oci:"+dir+":"+tag, "oci:"+out+":v1")
			d := want[tag]
			if r.Code == 0 || !strings.Contains(r.Stderr, d.Digest.String()) || !strings.Contains(r.Stderr, fmt.Sprintf("%d bytes", d.Size)) {
				t.Errorf("copy of %s: exit %d, stderr %q; want a failure naming %s and %d bytes", tag, r.Code, r.Stderr, d.Digest, d.Size)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused copy created %s: %v", out, err)
			}
		})
	}
}

// bombLayout writes a layout holding "bomb", an amd64 image whose one
// gzip layer (a few KiB) inflates to a tar of 8 MiB of zeros, and returns
// the layout and that layer's digest.
func bombLayout(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bomb")
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	var tarBuf, gzBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	if err := tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: 8 << 20, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(make([]byte, 8<<20)); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	zw := gzip.NewWriter(&gzBuf)
	_, _ = zw.Write(tarBuf.Bytes())
	zw.Close()
	layer := writeRawBlob(t, dir, specs.MediaTypeImageLayerGzip, gzBuf.Bytes())
	cfg, _ := json.Marshal(specs.Image{Platform: specs.Platform{OS: "linux", Architecture: "amd64"},
		RootFS: specs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromBytes(tarBuf.Bytes())}}})
	man, _ := json.Marshal(specs.Manifest{Versioned: specsVersioned, MediaType: specs.MediaTypeImageManifest,
		Config: writeRawBlob(t, dir, specs.MediaTypeImageConfig, cfg), Layers: []specs.Descriptor{layer}})
	top := writeRawBlob(t, dir, specs.MediaTypeImageManifest, man)
	top.Annotations = map[string]string{specs.AnnotationRefName: "bomb"}
	idx, _ := json.Marshal(specs.Index{Versioned: specsVersioned, MediaType: specs.MediaTypeImageIndex, Manifests: []specs.Descriptor{top}})
	for name, content := range map[string]string{"index.json": string(idx), "oci-layout": `{"imageLayoutVersion":"1.0.0"}`} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, layer.Digest.String()
}

// TestCopyLayerSizeCap unpacks a gzip layer inflating to 8 MiB into
// local storage: with --max-layer-size 1MiB the copy fails naming the
// layer and the flag, leaves no image and no temporary file (neither
// the one containers/image names nor any in TMPDIR); under the
// default cap it succeeds.
func TestCopyLayerSizeCap(t *testing.T) {
	s := newStore(t)
	dir, layer := bombLayout(t)
	tmp := t.TempDir()
	run := func(args ...string) result {
		cmd := exec.Command(env.Bin, append(s.flags(), args...)...)
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		t.Logf("$ polyarch %v: %v\n%s", args, err, stderr.String())
		return result{Code: cmd.ProcessState.ExitCode(), Stderr: stderr.String()}
	}
	r := run("copy", "--max-layer-size", "1MiB", "oci:"+dir+":bomb", "containers-storage:localhost/bomb:1")
	if r.Code == 0 || !strings.Contains(r.Stderr, layer) || !strings.Contains(r.Stderr, "--max-layer-size") {
		t.Errorf("copy of a layer over the cap: exit %d, stderr %q; want a failure naming %s and --max-layer-size", r.Code, r.Stderr, layer)
	}
	// containers/image names the temporary file it was writing the layer to.
	m := regexp.MustCompile(`storing blob to file "([^"]+)"`).FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("the error names no temporary file to check: %q", r.Stderr)
	}
	if _, err := os.Stat(filepath.Dir(m[1])); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left after the refused copy: %v", filepath.Dir(m[1]), err)
	}
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		// Rootless, $TMPDIR/storage-run-UID is the documented default run root.
		if !strings.HasPrefix(e.Name(), "storage-run-") {
			t.Errorf("temporary file %s left in TMPDIR after the refused copy", e.Name())
		}
	}
	if p := podman(t, s, "image", "exists", "localhost/bomb:1"); p.Code == 0 {
		t.Errorf("the refused image is in local storage")
	}
	mustSucceed(t, run("copy", "oci:"+dir+":bomb", "containers-storage:localhost/bomb:1"))
	mustSucceed(t, podman(t, s, "image", "exists", "localhost/bomb:1"))
}
