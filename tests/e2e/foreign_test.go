package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// nondistributableGzip is the OCI media type of a foreign gzip layer.
const nondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

// layerServer serves one blob at any path, counting requests and those
// carrying credentials.
type layerServer struct {
	blob          []byte
	hits, withAut atomic.Int32
}

func (s *layerServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	if r.Header.Get("Authorization") != "" {
		s.withAut.Add(1)
	}
	_, _ = w.Write(s.blob)
}

// writeRawBlob stores raw bytes as a blob of the layout dir and returns
// its descriptor.
func writeRawBlob(t *testing.T, dir, mediaType string, raw []byte) specs.Descriptor {
	t.Helper()
	d := digest.FromBytes(raw)
	if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return specs.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(raw))}
}

// foreignLayout copies the fixture layout and adds "foreign", busybox's
// amd64 image with its layer made foreign (served by srv, absent from
// the layout), and "foreignidx", an index of it and the arm64 image.
func foreignLayout(t *testing.T, srv *httptest.Server, ls *layerServer) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "foreign")
	mustSucceed(t, runCmd(t, "", "cp", "-a", filepath.Join(env.Fixtures, "busybox-oci"), dir))
	l := layout{t: t, dir: dir}
	var idx, three specs.Index
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "index.json"))), &idx); err != nil {
		t.Fatal(err)
	}
	var single specs.Descriptor
	for _, m := range idx.Manifests {
		switch m.Annotations[specs.AnnotationRefName] {
		case "amd64-single":
			single = m
		case "3arch":
			l.readJSON(m.Digest.String(), &three)
		}
	}
	var man specs.Manifest
	l.readJSON(single.Digest.String(), &man)
	layerPath := l.blobPath(man.Layers[0].Digest.String())
	ls.blob = []byte(readFile(t, layerPath))
	if err := os.Remove(layerPath); err != nil {
		t.Fatal(err)
	}
	man.Layers[0].MediaType, man.Layers[0].URLs = nondistributableGzip, []string{srv.URL + "/layer"}
	raw, _ := json.Marshal(man)
	foreign := writeRawBlob(t, dir, specs.MediaTypeImageManifest, raw)
	foreign.Platform = &specs.Platform{OS: "linux", Architecture: "amd64"}
	raw, _ = json.Marshal(specs.Index{Versioned: three.Versioned, MediaType: specs.MediaTypeImageIndex, Manifests: []specs.Descriptor{foreign, three.Manifests[1]}})
	foreignIdx := writeRawBlob(t, dir, specs.MediaTypeImageIndex, raw)
	foreign.Annotations = map[string]string{specs.AnnotationRefName: "foreign"}
	foreignIdx.Annotations = map[string]string{specs.AnnotationRefName: "foreignidx"}
	idx.Manifests = append(idx.Manifests, foreign, foreignIdx)
	raw, _ = json.Marshal(idx)
	if err := os.WriteFile(filepath.Join(dir, "index.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCopyForeignLayers copies images with a foreign layer: without
// --allow-nondistributable-artifacts its url is never fetched (layouts
// keep the url, local storage is refused naming the flag); with it, the
// layer is fetched, and never with the credentials given.
func TestCopyForeignLayers(t *testing.T) {
	s := newStore(t)
	ls := &layerServer{}
	srv := httptest.NewServer(ls)
	defer srv.Close()
	dir := foreignLayout(t, srv, ls)
	out := t.TempDir()
	allow := "--allow-nondistributable-artifacts"
	for _, tc := range []struct {
		name  string
		args  []string
		fail  string // part of the expected error; "" for success
		fetch bool
	}{
		{"image to layout", []string{"oci:" + dir + ":foreign", "oci:" + out + "/a:v1"}, "", false},
		{"subset to layout", []string{"--platform", "linux/amd64", "oci:" + dir + ":foreignidx", "oci:" + out + "/b:v1"}, "", false},
		{"image to local storage", []string{"oci:" + dir + ":foreign", "containers-storage:localhost/foreign:1"}, allow, false},
		{"allowed to local storage", []string{allow, "--src-creds", "user:secret", "oci:" + dir + ":foreign", "containers-storage:localhost/foreign:1"}, "", true},
		{"allowed subset to layout", []string{allow, "--creds", "user:secret", "--platform", "linux/amd64", "oci:" + dir + ":foreignidx", "oci:" + out + "/c:v1"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ls.hits.Load()
			r := polyarch(t, s, append([]string{"copy"}, tc.args...)...)
			if tc.fail == "" {
				mustSucceed(t, r)
			} else if r.Code == 0 || !strings.Contains(r.Stderr, tc.fail) || !strings.Contains(r.Stderr, srv.URL) {
				t.Errorf("exit %d, stderr %q: want a failure naming %s and the url", r.Code, r.Stderr, tc.fail)
			}
			if fetched := ls.hits.Load() > before; fetched != tc.fetch {
				t.Errorf("foreign layer fetched: %v, want %v", fetched, tc.fetch)
			}
		})
	}
	if n := ls.withAut.Load(); n != 0 {
		t.Errorf("%d requests for the foreign layer carried credentials", n)
	}
	if raw := skopeoRaw(t, "oci:"+out+"/a:v1"); !strings.Contains(raw, srv.URL) {
		t.Errorf("the copied manifest lost the foreign layer's url: %s", raw)
	}
	layer := "sha256:" + sha256hex(string(ls.blob))
	if _, err := os.Stat((layout{t: t, dir: out + "/c"}).blobPath(layer)); err != nil {
		t.Errorf("the fetched foreign layer %s is not in the layout it was copied to: %v", layer, err)
	}
	if _, err := os.Stat((layout{t: t, dir: out + "/a"}).blobPath(layer)); err == nil {
		t.Errorf("the foreign layer %s is in a layout although it was not to be fetched", layer)
	}
}
