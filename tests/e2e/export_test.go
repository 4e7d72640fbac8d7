package e2e

import (
	"archive/tar"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// whiteoutContainerfile deletes a file of the base (/bin/cat) and one of
// its own (/data/gone.txt), and replaces a directory (/opq, an opaque
// directory in the layer): the flattened rootfs must show none of them.
const whiteoutContainerfile = `FROM %s
COPY keep.txt gone.txt /data/
COPY old /opq/old
RUN rm /data/gone.txt /bin/cat && rm -rf /opq && mkdir /opq && echo new > /opq/new
`

// TestExportForScanners builds a 2-platform image with deletions, pushes
// it, and exports its arm64 image as a docker-archive (skopeo reads it,
// podman load loads it as arm64), an OCI layout (skopeo reads it) and a
// flattened rootfs tar (/bin/busybox an aarch64 ELF, the deleted paths
// absent); --platform all writes one rootfs per platform; the index in
// local storage (by name) and an oci-archive work as sources too.
func TestExportForScanners(t *testing.T) {
	ctxDir := writeContext(t, fmt.Sprintf(whiteoutContainerfile, registryBase("3arch")), map[string]string{"keep.txt": "k\n", "gone.txt": "g\n", "old": "o\n"})
	ref := env.Registry + "/export/app:v1"
	built := newStore(t)
	mustSucceed(t, polyarch(t, built, "build", "--platform", "linux/amd64,linux/arm64", "--tls-verify=false", "-t", ref, "--push", ctxDir))
	dir := t.TempDir()
	s := newStore(t)
	export := func(platform, output string) result {
		return polyarch(t, s, "export", "-q", "--tls-verify=false", "--platform", platform, "-o", output, "docker://"+ref)
	}

	archive := filepath.Join(dir, "app.tar")
	mustSucceed(t, export("linux/arm64", "type=docker-archive,dest="+archive))
	if got := skopeoArch(t, "docker-archive:"+archive); got != "arm64" {
		t.Errorf("skopeo reads the docker-archive as %s, want arm64", got)
	}
	mustSucceed(t, podman(t, s, "load", "-i", archive))
	if r := podman(t, s, "image", "inspect", "--format", "{{.Architecture}}", ref); r.Code != 0 || strings.TrimSpace(r.Stdout) != "arm64" {
		t.Errorf("podman load: %s is %q (exit %d), want arm64", ref, r.Stdout, r.Code)
	}

	layout := filepath.Join(dir, "layout")
	mustSucceed(t, export("linux/arm64", "type=oci,dest="+layout))
	if got := skopeoArch(t, "oci:"+layout+":v1"); got != "arm64" {
		t.Errorf("skopeo reads the OCI layout as %s, want arm64", got)
	}

	r := export("all", "type=tar,dest="+filepath.Join(dir, "rootfs.tar"))
	mustSucceed(t, r)
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		file := filepath.Join(dir, "rootfs-linux-"+arch+".tar")
		if !strings.Contains(r.Stdout, file) {
			t.Errorf("export --platform all printed %q, want %s among the outputs", r.Stdout, file)
		}
		checkRootfs(t, file, machine)
	}

	local := filepath.Join(dir, "local.tar")
	mustSucceed(t, polyarch(t, built, "export", "-q", "--platform", "linux/arm64", "-o", "type=docker-archive,dest="+local, ref))
	if got := skopeoArch(t, "docker-archive:"+local); got != "arm64" {
		t.Errorf("skopeo reads the docker-archive exported from local storage as %s, want arm64", got)
	}
	if r := podman(t, newStore(t), "load", "-i", local); r.Code != 0 || !strings.Contains(r.Stdout, "Loaded image: "+ref) {
		t.Errorf("podman load of the docker-archive exported from local storage: exit %d, want it loaded as %s: %s", r.Code, ref, r.Stdout)
	}

	fixture := filepath.Join(env.Fixtures, "busybox-3arch.tar")
	mustSucceed(t, polyarch(t, s, "export", "-q", "--platform", "linux/s390x", "-o", "type=tar,dest="+filepath.Join(dir, "s390x.tar"), "oci-archive:"+fixture))
	if m := rootfsMachine(t, filepath.Join(dir, "s390x.tar")); m != elf.EM_S390 {
		t.Errorf("rootfs of the s390x fixture: /bin/busybox is %v, want EM_S390", m)
	}

	bad := export("linux/ppc64le", "type=tar,dest="+filepath.Join(dir, "ppc.tar"))
	if bad.Code == 0 || !strings.Contains(bad.Stderr, "linux/arm64") {
		t.Errorf("exporting a platform the image lacks: exit %d, want an error listing those it has: %s", bad.Code, bad.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "ppc.tar")); err == nil {
		t.Error("a failed export left ppc.tar")
	}
	if u := export("linux/arm64", "type=zip,dest=x"); u.Code != 125 {
		t.Errorf("-o type=zip: exit %d, want 125", u.Code)
	}
}

// skopeoArch returns the architecture skopeo reads in ref's config.
func skopeoArch(t *testing.T, ref string) string {
	t.Helper()
	r := skopeo(t, "inspect", "--format", "{{.Architecture}}", ref)
	mustSucceed(t, r)
	return strings.TrimSpace(r.Stdout)
}

// checkRootfs asserts the flattened rootfs at file holds /bin/busybox for
// machine, the files kept, and none of the paths the image deleted.
func checkRootfs(t *testing.T, file string, machine elf.Machine) {
	t.Helper()
	if m := rootfsMachine(t, file); m != machine {
		t.Errorf("%s: /bin/busybox is %v, want %v", file, m, machine)
	}
	names := tarNames(t, file)
	for _, want := range []string{"data/keep.txt", "opq/new", "bin/sh"} {
		if !names[want] {
			t.Errorf("%s lacks %s", file, want)
		}
	}
	for name := range names {
		if name == "data/gone.txt" || name == "bin/cat" || name == "opq/old" || strings.Contains(name, ".wh.") {
			t.Errorf("%s holds %s, which the image deleted (or a whiteout)", file, name)
		}
	}
}

// tarNames lists the entries of a tar file, without trailing slashes.
func tarNames(t *testing.T, file string) map[string]bool {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("reading %s: %v", file, err)
		}
		names[strings.TrimSuffix(hdr.Name, "/")] = true
	}
}

// rootfsMachine returns the ELF machine of bin/busybox in a rootfs tar.
func rootfsMachine(t *testing.T, file string) elf.Machine {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no bin/busybox (%v)", file, err)
		}
		if hdr.Name != "bin/busybox" {
			continue
		}
		tmp := filepath.Join(t.TempDir(), "busybox")
		body, _ := io.ReadAll(tr)
		if err := os.WriteFile(tmp, body, 0o600); err != nil {
			t.Fatal(err)
		}
		e, err := elf.Open(tmp)
		if err != nil {
			t.Fatalf("%s: bin/busybox is not ELF: %v", file, err)
		}
		defer e.Close()
		return e.Machine
	}
}
