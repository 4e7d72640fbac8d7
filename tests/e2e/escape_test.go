package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The escape tests throw at polyarch what a hostile base image or
// Containerfile tries on a shared runner: layers whose entries climb out
// of the rootfs, RUN --mount sources outside the context (buildah
// CVE-2024-1753, CVE-2024-9675), a WORKDIR on a leaked descriptor (runc
// CVE-2024-21626). Each may fail the build with an error; none may write
// outside the build's own files or read the host's secret. They run as
// root and rootless alike.

// hostSecret makes a host directory holding a file "secret" whose
// content the builds must never show, and returns both.
func hostSecret(t *testing.T) (dir, secret string) {
	t.Helper()
	dir = t.TempDir()
	secret = fmt.Sprintf("HOST-SECRET-%d", time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, secret
}

// checkConfined fails the test if r shows the secret or if anything but
// the secret appeared in the host directory.
func checkConfined(t *testing.T, r result, dir, secret string) {
	t.Helper()
	read, wrote := escaped(t, r, dir, secret)
	if read {
		t.Errorf("the build read the host's %s/secret", dir)
	}
	if len(wrote) > 0 {
		t.Errorf("the build wrote into the host directory %s: %q", dir, wrote)
	}
	if r.Code != 0 && r.Code != 1 {
		t.Errorf("exit %d, want 0 or a clean failure (1)", r.Code)
	}
}

// escaped reports whether r shows the secret, and what else than the
// secret the host directory holds.
func escaped(t *testing.T, r result, dir, secret string) (read bool, wrote []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "secret" {
			wrote = append(wrote, e.Name())
		}
	}
	return strings.Contains(r.Stdout+r.Stderr, secret), wrote
}

// TestEscapeDetection is the escape tests' control: a RUN step given the
// host directory on purpose (--volume) reads the secret and writes there,
// and escaped sees both, so the tests above would see an escape.
func TestEscapeDetection(t *testing.T) {
	host, secret := hostSecret(t)
	ctxDir := writeContext(t, "FROM oci:busybox-oci:3arch\nRUN cat /mnt/secret; touch /mnt/run-wrote\n", nil)
	copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
	r := polyarch(t, newStore(t), "build", "--volume", host+":/mnt", "--platform", "linux/amd64", ctxDir)
	mustSucceed(t, r)
	if read, wrote := escaped(t, r, host, secret); !read || !slices.Equal(wrote, []string{"run-wrote"}) {
		t.Errorf("a step bound to the host directory: read %v, wrote %q; want the secret read and run-wrote written", read, wrote)
	}
}

// up climbs far above any rootfs.
const up = "../../../../../../../../../../../../../../../.."

// tarEntry is one entry of a crafted layer.
type tarEntry struct {
	name, link string
	typ        byte
	body       string
}

// TestHostileLayers builds from bases whose layers try to write or link
// outside the rootfs: a path with .., an absolute path, a file through a
// symlink to the host (same layer and next layer), hard links to a host
// file. Whether the base is refused or built, nothing lands on the host
// and a RUN reading the links sees no host file.
func TestHostileLayers(t *testing.T) {
	host, secret := hostSecret(t)
	rel := up + host
	for _, tc := range []struct {
		name   string
		layers [][]tarEntry
	}{
		{"dotdot", [][]tarEntry{{{name: rel + "/tar-dotdot", typ: tar.TypeReg, body: "x"}}}},
		{"absolute", [][]tarEntry{{{name: host + "/tar-absolute", typ: tar.TypeReg, body: "x"}}}},
		{"symlink-same-layer", [][]tarEntry{{
			{name: "hostlink", link: host, typ: tar.TypeSymlink},
			{name: "hostlink/tar-through-symlink", typ: tar.TypeReg, body: "x"},
		}}},
		{"symlink-next-layer", [][]tarEntry{
			{{name: "rellink", link: rel, typ: tar.TypeSymlink}},
			{{name: "rellink/tar-through-symlink", typ: tar.TypeReg, body: "x"}},
		}},
		{"symlink-dir-next-layer", [][]tarEntry{
			{{name: "hostlink", link: host, typ: tar.TypeSymlink}},
			{{name: "hostlink/", typ: tar.TypeDir}, {name: "hostlink/tar-in-dir", typ: tar.TypeReg, body: "x"}},
		}},
		{"hardlink-relative", [][]tarEntry{{{name: "hardsecret", link: rel + "/secret", typ: tar.TypeLink}}}},
		{"hardlink-absolute", [][]tarEntry{{{name: "hardsecret", link: host + "/secret", typ: tar.TypeLink}}}},
		{"hardlink-through-symlink", [][]tarEntry{{
			{name: "hostlink", link: host, typ: tar.TypeSymlink},
			{name: "hardsecret", link: "hostlink/secret", typ: tar.TypeLink},
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctxDir := writeContext(t, "FROM oci:evil:latest\nRUN cat /hardsecret /rellink/secret /hostlink/secret 2>&1; ls -la / 2>&1; true\n", nil)
			writeEvilLayout(t, filepath.Join(ctxDir, "evil"), tc.layers)
			r := polyarch(t, newStore(t), "build", "--platform", "linux/amd64", ctxDir)
			checkConfined(t, r, host, secret)
		})
	}
}

// TestRunMountEscapes tries RUN --mount sources outside the build
// context and the cache directory, and through a symlink in the context.
func TestRunMountEscapes(t *testing.T) {
	host, secret := hostSecret(t)
	rel := up + host
	for _, tc := range []struct{ name, mount string }{
		{"bind-dotdot", "type=bind,source=" + rel + ",target=/mnt"},
		{"bind-absolute", "type=bind,source=" + host + ",target=/mnt"},
		{"bind-context-symlink", "type=bind,source=escape,target=/mnt"},
		{"cache-dotdot", "type=cache,id=x,source=" + rel + ",target=/mnt"},
		{"bind-from-stage-symlink", "type=bind,from=linker,source=link,target=/mnt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cf := "FROM oci:busybox-oci:3arch AS linker\nRUN ln -s " + host + " /link\n" +
				"FROM oci:busybox-oci:3arch\nRUN --mount=" + tc.mount + " cat /mnt/secret 2>&1; touch /mnt/run-wrote 2>&1; true\n"
			ctxDir := writeContext(t, cf, nil)
			copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
			if err := os.Symlink(host, filepath.Join(ctxDir, "escape")); err != nil {
				t.Fatal(err)
			}
			r := polyarch(t, newStore(t), "build", "--platform", "linux/amd64", ctxDir)
			checkConfined(t, r, host, secret)
		})
	}
}

// TestWorkdirProcSelfFd sets WORKDIR to /proc/self/fd/N for the
// descriptors a RUN step's runtime may hold (runc's CVE-2024-21626 left a
// host directory open there) and reads the host's secret relative to it.
func TestWorkdirProcSelfFd(t *testing.T) {
	host, secret := hostSecret(t)
	for _, isolation := range []string{"chroot", "oci"} {
		if isolation == "oci" {
			requireRunc(t)
		}
		for _, fd := range []int{3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 255} {
			t.Run(fmt.Sprintf("%s/%d", isolation, fd), func(t *testing.T) {
				cf := fmt.Sprintf("FROM oci:busybox-oci:3arch\nWORKDIR /proc/self/fd/%d\nRUN pwd; cat %s%s/secret 2>&1; touch %s%s/run-wrote 2>&1; true\n", fd, up, host, up, host)
				ctxDir := writeContext(t, cf, nil)
				copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
				r := polyarch(t, newStore(t), "build", "--isolation", isolation, "--platform", "linux/amd64", ctxDir)
				checkConfined(t, r, host, secret)
			})
		}
	}
}

// writeEvilLayout writes an OCI layout at dir whose image "latest" is the
// fixture's amd64 busybox plus the crafted layers (uncompressed tars).
func writeEvilLayout(t *testing.T, dir string, layers [][]tarEntry) {
	t.Helper()
	src, idx := fixtureLayout(t, "latest")
	copyPath(t, src.dir, dir)
	var man specs.Manifest
	src.readJSON(idx.Manifests[entryOf(t, idx, "amd64")].Digest.String(), &man)
	var cfg specs.Image
	src.readJSON(man.Config.Digest.String(), &cfg)
	for _, entries := range layers {
		layer := craftTar(t, entries)
		d := digest.FromBytes(layer)
		if err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), layer, 0o644); err != nil {
			t.Fatal(err)
		}
		man.Layers = append(man.Layers, specs.Descriptor{MediaType: specs.MediaTypeImageLayer, Digest: d, Size: int64(len(layer))})
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, d)
		cfg.History = append(cfg.History, specs.History{CreatedBy: "crafted layer"})
	}
	man.Config = writeBlob(t, dir, specs.MediaTypeImageConfig, cfg)
	entry := writeBlob(t, dir, specs.MediaTypeImageManifest, man)
	entry.Annotations = map[string]string{specs.AnnotationRefName: "latest"}
	b, _ := json.Marshal(specs.Index{Versioned: idx.Versioned, MediaType: specs.MediaTypeImageIndex, Manifests: []specs.Descriptor{entry}})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// craftTar writes the entries as a tar, names and links as given.
func craftTar(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if e.typ == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
