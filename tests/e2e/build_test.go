package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// archContainerfile records the machine name of each platform's RUN.
const archContainerfile = `FROM %s
ARG TARGETPLATFORM
RUN uname -m > /arch.txt && echo "$TARGETPLATFORM" > /targetplatform.txt
`

// wantMachine is what `uname -m` prints under each platform.
var wantMachine = map[string]string{
	"linux/amd64": "x86_64", "linux/arm64": "aarch64", "linux/s390x": "s390x",
}

// TestBuildThreePlatforms builds from the registry base into local storage
// and an OCI layout, then checks both with podman, skopeo and by reading
// the layout.
func TestBuildThreePlatforms(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, fmt.Sprintf(archContainerfile, registryBase("latest")), nil)
	out := filepath.Join(t.TempDir(), "app-oci")
	r := polyarch(t, s, "build", "--platform", "linux/amd64,linux/arm64", "--platform", "linux/s390x",
		"--tls-verify=false", "-t", "localhost/app:1", "-o", "type=oci,dest="+out, ctxDir)
	mustSucceed(t, r)
	for _, p := range []string{"linux/arm64", "linux/s390x"} {
		if !strings.Contains(r.Stdout+r.Stderr, "["+p+"] ") {
			t.Errorf("no output line prefixed [%s]", p)
		}
	}
	checkArchLayout(t, out, []string{"linux/amd64", "linux/arm64", "linux/s390x"})
	raw := skopeo(t, "inspect", "--raw", "oci:"+out+":1")
	mustSucceed(t, raw)
	var idx struct {
		Manifests []struct{ Platform struct{ Architecture string } }
	}
	if err := json.Unmarshal([]byte(raw.Stdout), &idx); err != nil || len(idx.Manifests) != 3 {
		t.Fatalf("skopeo inspect --raw: want an index of 3 manifests, got %q (%v)", raw.Stdout, err)
	}
	checkPodmanSees(t, s, "localhost/app:1", []string{"amd64", "arm64", "s390x"})
}

// checkArchLayout asserts the layout's index lists want in order, each
// config matches its entry, and each image's /arch.txt is right.
func checkArchLayout(t *testing.T, dir string, want []string) {
	t.Helper()
	l := layout{t: t, dir: dir}
	n := l.verifyBlobs()
	_, desc, idx := l.top()
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got == "" {
		t.Errorf("index.json entry has no org.opencontainers.image.ref.name")
	}
	if got := platformsOf(idx); !reflect.DeepEqual(got, want) {
		t.Fatalf("index platforms = %v, want %v", got, want)
	}
	for i, p := range want {
		cfg := l.config(idx, i)
		if cfg.OS+"/"+cfg.Architecture != strings.Join(strings.Split(p, "/")[:2], "/") {
			t.Errorf("entry %d (%s) has config %s/%s", i, p, cfg.OS, cfg.Architecture)
		}
		arch, err := l.file(idx, i, "/arch.txt")
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if strings.TrimSpace(arch) != wantMachine[p] {
			t.Errorf("%s: /arch.txt = %q, want %q", p, arch, wantMachine[p])
		}
		tp, err := l.file(idx, i, "/targetplatform.txt")
		if err != nil || strings.TrimSpace(tp) != p {
			t.Errorf("%s: TARGETPLATFORM = %q (%v)", p, tp, err)
		}
	}
	t.Logf("layout %s: %d blobs verified, platforms %v", dir, n, want)
}

// checkPodmanSees asserts that podman, on the same store, reads the index
// with the architectures in order.
func checkPodmanSees(t *testing.T, s store, name string, archs []string) {
	t.Helper()
	r := podman(t, s, "manifest", "inspect", name)
	mustSucceed(t, r)
	var list struct {
		Manifests []struct{ Platform struct{ Architecture string } }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
		t.Fatalf("podman manifest inspect output: %v", err)
	}
	var got []string
	for _, m := range list.Manifests {
		got = append(got, m.Platform.Architecture)
	}
	if !reflect.DeepEqual(got, archs) {
		t.Errorf("podman sees architectures %v, want %v", got, archs)
	}
	ls := podman(t, s, "images", "--format", "{{.Repository}}:{{.Tag}}")
	mustSucceed(t, ls)
	if !strings.Contains(ls.Stdout, name) {
		t.Errorf("podman images does not list %s", name)
	}
}

// TestBuildFromTransports builds from an oci-archive and an OCI layout
// directory in the build context, with no registry involved.
func TestBuildFromTransports(t *testing.T) {
	for _, tc := range []struct{ name, from, fixture, dst string }{
		{"oci-archive", "oci-archive:busybox.tar", "busybox-3arch.tar", "busybox.tar"},
		{"oci-dir", "oci:busybox-oci:3arch", "busybox-oci", "busybox-oci"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			ctxDir := writeContext(t, fmt.Sprintf(archContainerfile, tc.from), nil)
			copyPath(t, filepath.Join(env.Fixtures, tc.fixture), filepath.Join(ctxDir, tc.dst))
			out := filepath.Join(t.TempDir(), "out.tar")
			r := polyarch(t, s, "build", "--pull=missing", "--platform", "linux/arm64,linux/amd64", "-t", "app:2",
				"--output", "type=oci-archive,dest="+out, ctxDir)
			mustSucceed(t, r)
			unpacked := t.TempDir()
			mustSucceed(t, runCmd(t, "", "tar", "-xf", out, "-C", unpacked))
			checkArchLayout(t, unpacked, []string{"linux/arm64", "linux/amd64"})
			checkPodmanSees(t, s, "localhost/app:2", []string{"arm64", "amd64"})
		})
	}
}

// copyPath copies a file or directory tree with cp -a.
func copyPath(t *testing.T, src, dst string) {
	t.Helper()
	mustSucceed(t, runCmd(t, "", "cp", "-a", src, dst))
}

// TestFailingPlatformPublishesNothing checks all-or-nothing: one failing
// platform leaves the old tag and the old OCI output untouched.
func TestFailingPlatformPublishesNothing(t *testing.T) {
	s := newStore(t)
	good := writeContext(t, "FROM "+registryBase("latest")+"\nRUN echo v1 > /version\n", nil)
	out := filepath.Join(t.TempDir(), "out")
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64", "-t", "app:1", "-o", "type=oci,dest="+out, good))
	before := podman(t, s, "image", "inspect", "--format", "{{.ID}}", "localhost/app:1")
	mustSucceed(t, before)
	outHash := treeHash(t, out)

	bad := writeContext(t, "FROM "+registryBase("latest")+"\nRUN [ \"$(uname -m)\" != s390x ]\n", nil)
	r := polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64,linux/s390x",
		"-t", "app:1", "-o", "type=oci,dest="+out, bad)
	if r.Code == 0 {
		t.Fatal("build with a failing s390x RUN succeeded")
	}
	if !strings.Contains(r.Stderr, "linux/s390x") {
		t.Errorf("error does not name linux/s390x: %s", r.Stderr)
	}
	after := podman(t, s, "image", "inspect", "--format", "{{.ID}}", "localhost/app:1")
	mustSucceed(t, after)
	if before.Stdout != after.Stdout {
		t.Errorf("tag app:1 moved from %s to %s", before.Stdout, after.Stdout)
	}
	if treeHash(t, out) != outHash {
		t.Errorf("OCI output %s changed after a failed build", out)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".out.polyarch-*")); len(m) > 0 {
		t.Errorf("temporary output left behind: %v", m)
	}
}

// TestPreflightMissingPlatform asks an amd64-only base for arm64 and
// s390x: one error lists both, and nothing is built.
func TestPreflightMissingPlatform(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("amd64")+"\nRUN touch /ran\n", nil)
	r := polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/amd64,linux/arm64,linux/s390x", "-t", "app:x", ctxDir)
	if r.Code == 0 {
		t.Fatal("build succeeded although the base has no arm64 image")
	}
	for _, want := range []string{
		registryBase("amd64") + " has no linux/arm64 image; it has linux/amd64",
		registryBase("amd64") + " has no linux/s390x image; it has linux/amd64",
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stdout+r.Stderr, "STEP") {
		t.Errorf("a build step ran before preflight failed")
	}
	ls := podman(t, s, "images", "-a", "-q")
	mustSucceed(t, ls)
	if strings.TrimSpace(ls.Stdout) != "" {
		t.Errorf("preflight failure left images in storage: %q", ls.Stdout)
	}
	t.Logf("preflight failed in %s", r.Elapsed)
}

// TestPreflightIgnoresAttestations: an unknown/unknown entry never
// satisfies a platform.
func TestPreflightIgnoresAttestations(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM oci:busybox-oci:with-attestation\nRUN true\n", nil)
	copyPath(t, filepath.Join(env.Fixtures, "busybox-oci"), filepath.Join(ctxDir, "busybox-oci"))
	r := polyarch(t, s, "build", "--platform", "linux/arm64", ctxDir)
	if r.Code == 0 || !strings.Contains(r.Stderr, "has no linux/arm64 image; it has linux/amd64") {
		t.Fatalf("want a preflight error listing only linux/amd64, got exit %d: %s", r.Code, r.Stderr)
	}
}

// TestBadPlatforms rejects malformed, non-linux and unknown platforms
// before work, saying how to write one or which ones exist.
func TestBadPlatforms(t *testing.T) {
	ctxDir := writeContext(t, "FROM scratch\n", nil)
	s := newStore(t)
	const forms, list = "use OS/ARCH[/VARIANT]", "supported platforms are linux/amd64, linux/386"
	for _, tc := range []struct{ value, want, advice string }{
		{"*", "malformed platform", forms},
		{"linux/", "malformed platform", forms},
		{"linux/amd64/v1/x", "malformed platform", forms},
		{"windows/amd64", "linux images only", list},
		{"linux/sparc9", `unsupported platform "linux/sparc9"`, list},
		{"linux/mips", "polyarch has no emulator for it", list},
	} {
		t.Run(tc.value, func(t *testing.T) {
			r := polyarch(t, s, "build", "--platform", tc.value, ctxDir)
			if r.Code != 125 {
				t.Errorf("exit %d, want 125", r.Code)
			}
			if !strings.Contains(r.Stderr, tc.want) || !strings.Contains(r.Stderr, tc.advice) {
				t.Errorf("error %q lacks %q and %q", r.Stderr, tc.want, tc.advice)
			}
		})
	}
}

// TestPlatformAliases: build, copy and emulation take the same Debian and
// kernel spellings, normalised alike.
func TestPlatformAliases(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nCOPY Containerfile /\n", nil)
	out := filepath.Join(t.TempDir(), "aliases")
	r := polyarch(t, s, "build", "--tls-verify=false", "--platform", "ppc64el,aarch64,linux/armhf,i386,x86_64",
		"-t", "aliases:1", "-o", "type=oci,dest="+out, ctxDir)
	mustSucceed(t, r)
	want := []string{"linux/ppc64le", "linux/arm64", "linux/arm/v7", "linux/386", "linux/amd64"}
	l := layout{t: t, dir: out}
	_, _, idx := l.top()
	if got := imagePlatforms(l, idx); !slices.Equal(got, want) {
		t.Errorf("index platforms = %v, want %v", got, want)
	}
	copied := filepath.Join(t.TempDir(), "copied")
	mustSucceed(t, polyarch(t, s, "copy", "--platform", "linux/ppc64el,armhf", "oci:"+out+":1", "oci:"+copied+":1"))
	l = layout{t: t, dir: copied}
	_, _, idx = l.top()
	if got := imagePlatforms(l, idx); !slices.Equal(got, []string{"linux/ppc64le", "linux/arm/v7"}) {
		t.Errorf("copied platforms = %v, want linux/ppc64le and linux/arm/v7", got)
	}
}

// TestBuildPlatformStageRunsNatively: a FROM --platform=$BUILDPLATFORM
// stage runs on the host's architecture, the final stage on the target's.
func TestBuildPlatformStageRunsNatively(t *testing.T) {
	s := newStore(t)
	base := registryBase("latest")
	cf := "FROM --platform=$BUILDPLATFORM " + base + " AS tools\nARG BUILDPLATFORM\nARG TARGETARCH\nRUN uname -m > /build-arch.txt && echo \"$BUILDPLATFORM $TARGETARCH\" > /args.txt\n" +
		"FROM " + base + "\nCOPY --from=tools /build-arch.txt /args.txt /\nRUN uname -m > /arch.txt\n"
	ctxDir := writeContext(t, cf, nil)
	out := filepath.Join(t.TempDir(), "out")
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/arm64,linux/s390x", "-o", "type=oci,dest="+out, ctxDir))
	l := layout{t: t, dir: out}
	_, _, idx := l.top()
	for i, p := range []string{"linux/arm64", "linux/s390x"} {
		got, err := l.file(idx, i, "/build-arch.txt")
		if err != nil || strings.TrimSpace(got) != "x86_64" {
			t.Errorf("%s: BUILDPLATFORM stage ran as %q (%v), want x86_64", p, got, err)
		}
		args, _ := l.file(idx, i, "/args.txt")
		if want := "linux/amd64 " + strings.Split(p, "/")[1]; strings.TrimSpace(args) != want {
			t.Errorf("%s: args %q, want %q", p, args, want)
		}
		arch, _ := l.file(idx, i, "/arch.txt")
		if strings.TrimSpace(arch) != wantMachine[p] {
			t.Errorf("%s: final stage ran as %q", p, arch)
		}
	}
}
