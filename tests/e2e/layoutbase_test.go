package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// markedBase copies the fixture index into the build context as an
// oci-archive (base.tar) or an OCI layout (base-oci) whose ref name is a
// marker unique to this test: any copy of it left anywhere holds the
// marker. It returns the FROM reference, as written, and the marker.
func markedBase(t *testing.T, ctxDir, transport string) (from, marker string) {
	t.Helper()
	marker = fmt.Sprintf("polyarch-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())
	from = "oci-archive:base.tar:" + marker
	dest := "oci-archive:" + filepath.Join(ctxDir, "base.tar") + ":" + marker
	if transport == "oci" {
		from = "oci:base-oci:" + marker
		dest = "oci:" + filepath.Join(ctxDir, "base-oci") + ":" + marker
	}
	mustSucceed(t, skopeo(t, "copy", "--all", "--quiet", fixtureIndex(), dest))
	return from, marker
}

// varTmpEntries lists the names in /var/tmp.
func varTmpEntries(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/var/tmp")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// checkNoTempFiles fails if tmpDir holds anything, or if /var/tmp gained a
// buildah-* or polyarch-* entry holding marker since before (other
// builds on the machine may add their own meanwhile). The one entry a
// user without a login session may find in TMPDIR is the user's runtime
// directory, storage-run-UID (mode 0700, as podman's /tmp/podman-run-UID):
// containers/storage keeps its run state there for every later command,
// so it must not hold a copy of the base either.
func checkNoTempFiles(t *testing.T, tmpDir, marker string, before []string) {
	t.Helper()
	left, err := os.ReadDir(tmpDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		if isRuntimeDir(t, tmpDir, e) {
			if out, _ := exec.Command("grep", "-rlaF", marker, filepath.Join(tmpDir, e.Name())).Output(); len(out) > 0 {
				t.Errorf("the runtime directory %s holds a copy of this build's base: %s", e.Name(), out)
			}
			continue
		}
		t.Errorf("left in TMPDIR: %s", filepath.Join(tmpDir, e.Name()))
	}
	for _, name := range varTmpEntries(t) {
		if slices.Contains(before, name) || !(strings.HasPrefix(name, "buildah") || strings.HasPrefix(name, "polyarch")) {
			continue
		}
		out, _ := exec.Command("grep", "-rlaF", marker, filepath.Join("/var/tmp", name)).Output()
		if len(out) > 0 {
			t.Errorf("left in /var/tmp: %s holds a copy of this build's base", name)
		}
	}
}

// isRuntimeDir reports whether e is containers/storage's runtime directory
// of a user without XDG_RUNTIME_DIR: storage-run-UID, a directory of
// this user's, mode 0700.
func isRuntimeDir(t *testing.T, dir string, e os.DirEntry) bool {
	t.Helper()
	if os.Getenv("XDG_RUNTIME_DIR") != "" || e.Name() != fmt.Sprintf("storage-run-%d", os.Getuid()) {
		return false
	}
	st, err := os.Lstat(filepath.Join(dir, e.Name()))
	return err == nil && st.IsDir() && st.Mode().Perm() == 0o700
}

// TestNoTempFilesLeft builds from an oci-archive base with TMPDIR set to
// an empty directory: after a success, a failure and a SIGTERM to
// polyarch's PID during a RUN step, TMPDIR is empty and /var/tmp holds no
// copy of the base.
func TestNoTempFilesLeft(t *testing.T) {
	for _, tc := range []struct {
		name, run string
		code      int
	}{
		{"success", `RUN echo started && uname -m > /arch`, 0},
		{"failure", `RUN echo started && [ "$(uname -m)" = x86_64 ]`, 1},
		{"SIGTERM", `RUN echo started && sleep 60`, 128 + int(syscall.SIGTERM)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			ctxDir := writeContext(t, "", nil)
			from, marker := markedBase(t, ctxDir, "oci-archive")
			writeTemp(t, ctxDir, "Containerfile", "FROM "+from+"\n"+tc.run+"\n")
			tmpDir := t.TempDir()
			before := varTmpEntries(t)
			cmd := exec.Command(env.Bin, append(s.flags(), "build", "--platform", "linux/amd64,linux/arm64", "-t", "app:tmp", ctxDir)...)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmpDir)
			code := runUntil(t, cmd, tc.code == 128+int(syscall.SIGTERM))
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			checkNoTempFiles(t, tmpDir, marker, before)
		})
	}
}

// runUntil runs cmd and returns its exit code; with interrupt, it sends
// SIGTERM to cmd's PID alone once both platforms' RUN steps started.
func runUntil(t *testing.T, cmd *exec.Cmd, interrupt bool) int {
	t.Helper()
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if interrupt {
		deadline := time.Now().Add(60 * time.Second)
		for strings.Count(stdout.String(), "started") < 2 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if strings.Count(stdout.String(), "started") < 2 {
			_ = cmd.Process.Kill()
			t.Fatalf("RUN steps did not start: %s %s", stdout.String(), stderr.String())
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	_ = cmd.Wait()
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", cmd.ProcessState.ExitCode(), stdout.String(), stderr.String())
	return cmd.ProcessState.ExitCode()
}

// TestLayoutBaseNamesAndAnnotations builds two platforms from an
// oci-archive and from an OCI layout base: no name but the build's own
// tag appears in local storage, and both children carry the same
// annotation keys, the base digest of their own platform's base image,
// and a base name equal to the FROM reference as written, or none.
func TestLayoutBaseNamesAndAnnotations(t *testing.T) {
	for _, transport := range []string{"oci-archive", "oci"} {
		t.Run(transport, func(t *testing.T) {
			s := newStore(t)
			ctxDir := writeContext(t, "", nil)
			from, _ := markedBase(t, ctxDir, transport)
			writeTemp(t, ctxDir, "Containerfile", fmt.Sprintf(archContainerfile, from))
			out := filepath.Join(t.TempDir(), "out")
			mustSucceed(t, polyarch(t, s, "build", "--platform", "linux/amd64,linux/arm64", "-t", "app:base", "-o", "type=oci,dest="+out, ctxDir))
			if names := storedNames(t, s); !reflect.DeepEqual(names, []string{"localhost/app:base"}) {
				t.Errorf("names in local storage = %v, want only localhost/app:base", names)
			}
			checkBaseAnnotations(t, out, from, basePlatformDigests(t, ctxDir, from))
		})
	}
}

// storedNames lists the names podman sees in the store, untagged
// images left out.
func storedNames(t *testing.T, s store) []string {
	t.Helper()
	r := podman(t, s, "images", "--all", "--format", "{{.Repository}}:{{.Tag}}")
	mustSucceed(t, r)
	var names []string
	for _, n := range strings.Fields(r.Stdout) {
		if n != "<none>:<none>" {
			names = append(names, n)
		}
	}
	return names
}

// basePlatformDigests maps each platform of the base to its manifest digest.
func basePlatformDigests(t *testing.T, ctxDir, from string) map[string]string {
	t.Helper()
	transport, rest, _ := strings.Cut(from, ":")
	var idx specs.Index
	if err := json.Unmarshal([]byte(skopeoRaw(t, transport+":"+filepath.Join(ctxDir, rest))), &idx); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range idx.Manifests {
		if m.Platform != nil {
			out[m.Platform.OS+"/"+m.Platform.Architecture] = m.Digest.String()
		}
	}
	return out
}

// checkBaseAnnotations compares the annotations of every child manifest
// of the layout at dir.
func checkBaseAnnotations(t *testing.T, dir, from string, baseDigests map[string]string) {
	t.Helper()
	l := layout{t: t, dir: dir}
	_, _, idx := l.top()
	var firstKeys []string
	for i, d := range idx.Manifests {
		var m specs.Manifest
		l.readJSON(d.Digest.String(), &m)
		p := d.Platform.OS + "/" + d.Platform.Architecture
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range m.Annotations {
				if !yield(k) {
					return
				}
			}
		})
		t.Logf("%s: %d bytes, annotations %v", p, d.Size, m.Annotations)
		if i == 0 {
			firstKeys = keys
		} else if !reflect.DeepEqual(keys, firstKeys) {
			t.Errorf("%s has annotation keys %v, %s has %v", p, keys, platformOf(idx, 0), firstKeys)
		}
		if name, ok := m.Annotations[specs.AnnotationBaseImageName]; ok && name != from {
			t.Errorf("%s: base name %q, want %q or none", p, name, from)
		}
		if got, want := m.Annotations[specs.AnnotationBaseImageDigest], baseDigests[p]; got != want {
			t.Errorf("%s: base digest %q, want %q (the base's %s manifest)", p, got, want, p)
		}
	}
}

// platformOf formats the platform of entry i of idx.
func platformOf(idx specs.Index, i int) string {
	return idx.Manifests[i].Platform.OS + "/" + idx.Manifests[i].Platform.Architecture
}
