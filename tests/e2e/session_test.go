package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// sessionUser runs commands without a login session (no
// XDG_RUNTIME_DIR, as su, setpriv, cron and CI agents start them) and
// with a fresh home, so a store and credentials of its own. As root it
// is a throwaway user (tests/e2e/throwaway-user.sh), so the user of the
// rootless run is left alone; in the rootless run it is that user.
type sessionUser struct {
	Name, Home string
	t          *testing.T
}

// newSessionUser returns the user with a home for this test, removed
// afterwards (store included).
func newSessionUser(t *testing.T) sessionUser {
	t.Helper()
	home, err := os.MkdirTemp("", "pa-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeStore(t, home) })
	if os.Geteuid() != 0 {
		me, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		return sessionUser{Name: me.Username, Home: home, t: t}
	}
	name := strings.TrimSpace(mustOutput(t, "tests/e2e/throwaway-user.sh"))
	mustSucceed(t, runCmd(t, "", "chown", name+":"+name, home))
	return sessionUser{Name: name, Home: home, t: t}
}

// run runs a command as the user, in its home, with a minimal
// environment and no XDG_RUNTIME_DIR.
func (u sessionUser) run(name string, args ...string) result {
	u.t.Helper()
	base := []string{"-i", "HOME=" + u.Home, "USER=" + u.Name, "PATH=/usr/local/bin:/usr/bin:/bin", "TMPDIR=/tmp", name}
	if os.Geteuid() != 0 {
		return runCmd(u.t, u.Home, "env", append(base, args...)...)
	}
	setpriv := []string{"--reuid=" + u.Name, "--regid=" + u.Name, "--init-groups", "env"}
	return runCmd(u.t, u.Home, "setpriv", append(append(setpriv, base...), args...)...)
}

// own gives path to the user.
func (u sessionUser) own(path string) {
	u.t.Helper()
	if os.Geteuid() == 0 {
		mustSucceed(u.t, runCmd(u.t, "", "chown", "-R", u.Name+":"+u.Name, path))
	}
}

// file copies src into the user's home, owned by the user.
func (u sessionUser) file(src string) string {
	u.t.Helper()
	dst := filepath.Join(u.Home, filepath.Base(src))
	copyPath(u.t, src, dst)
	u.own(dst)
	return dst
}

// storeInfo is the store part of `polyarch info --format json`.
type storeInfo struct {
	Driver, DriverReason, GraphRoot, Error string
	ImageCount                             int
}

// infoStore runs polyarch info as the user and returns its store part.
func (u sessionUser) infoStore(global ...string) storeInfo {
	u.t.Helper()
	r := u.run(env.Bin, append(global, "info", "--format", "json")...)
	mustSucceed(u.t, r)
	var info struct{ Store storeInfo }
	if err := json.Unmarshal([]byte(r.Stdout), &info); err != nil {
		u.t.Fatalf("info --format json: %v", err)
	}
	return info.Store
}

// TestPodmanStoreShared: a Debian 12 podman user's store is made by
// podman 4.3 first (vfs, without fuse-overlayfs); polyarch builds into
// it without adding a second driver, podman lists the result, and
// polyarch info says vfs was found in the store. Root runs it as a
// throwaway user, the rootless run as itself with a fresh home.
func TestPodmanStoreShared(t *testing.T) {
	u := newSessionUser(t)
	archive := u.file(filepath.Join(env.Fixtures, "busybox-oci.tar"))
	mustSucceed(t, u.run("podman", "load", "-i", archive))
	if r := u.run("podman", "info", "--format", "{{.Store.GraphDriverName}}"); strings.TrimSpace(r.Stdout) != "vfs" {
		t.Fatalf("podman 4.3 made a %q store for %s, want vfs (the case under test): exit %d, %s", r.Stdout, u.Name, r.Code, r.Stderr)
	}
	graphRoot := filepath.Join(u.Home, ".local", "share", "containers", "storage")
	s := u.infoStore()
	if s.Driver != "vfs" || s.DriverReason != "found in store" || s.GraphRoot != graphRoot || s.ImageCount != 1 {
		t.Errorf("polyarch info store = %+v, want vfs, found in store, %s, 1 image", s, graphRoot)
	}
	ctxDir := filepath.Join(u.Home, "ctx")
	mustSucceed(t, runCmd(t, "", "mkdir", ctxDir))
	copyPath(t, archive, filepath.Join(ctxDir, "busybox.tar"))
	if err := os.WriteFile(filepath.Join(ctxDir, "Containerfile"), []byte("FROM oci-archive:busybox.tar\nRUN echo shared > /shared\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u.own(ctxDir)
	mustSucceed(t, u.run(env.Bin, "build", "--platform", "linux/amd64", "-t", "shared:1", ctxDir))
	r := u.run("podman", "images", "--format", "{{.Repository}}:{{.Tag}}")
	mustSucceed(t, r)
	if !strings.Contains(r.Stdout, "localhost/shared:1") {
		t.Errorf("podman images as %s does not list localhost/shared:1 built by polyarch:\n%s", u.Name, r.Stdout)
	}
	for _, d := range []string{"overlay-images", "overlay-layers"} {
		if _, err := os.Stat(filepath.Join(graphRoot, d)); err == nil {
			t.Errorf("polyarch created %s beside podman's vfs store", d)
		}
	}
	mustSucceed(t, u.run("podman", "image", "exists", "localhost/shared:1"))
}

// TestStoreWithTwoDrivers: a configured driver other than the store's is
// refused before a second driver is created; a store already holding
// vfs and overlay state (as an older polyarch left podman users' stores)
// is refused with an error counting the images of each and naming the
// flag that fixes it; with that flag, the images are there.
func TestStoreWithTwoDrivers(t *testing.T) {
	requireRoot(t)
	s := newStore(t)
	at := []string{"--root", s.Root, "--runroot", s.RunRoot}
	mustSucceed(t, runCmd(t, "", "podman", append(at, "--storage-driver", "vfs", "load", "-i", filepath.Join(env.Fixtures, "busybox-oci.tar"))...))
	r := runCmd(t, "", env.Bin, append(at, "--storage-driver", "overlay", "index", "inspect", "containers-storage:localhost/latest:latest")...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "made with the vfs driver (1 image)") || !strings.Contains(r.Stderr, "--storage-driver vfs") {
		t.Errorf("--storage-driver overlay on a vfs store: exit %d, want an error naming vfs and --storage-driver vfs: %s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(s.Root, "overlay-layers")); err == nil {
		t.Fatalf("polyarch created overlay state in the vfs store at %s", s.Root)
	}
	// A second image in vfs, and overlay state beside it, made by
	// containers/image's storage transport (skopeo) as storage makes it.
	t.Cleanup(func() { _ = exec.Command("umount", filepath.Join(s.Root, "overlay")).Run() })
	for _, tc := range []struct{ arch, dest string }{{"arm64", "vfs@%s+%s]localhost/second:1"}, {"amd64", "overlay@%s+%s]localhost/other:1"}} {
		ref := "containers-storage:[" + fmt.Sprintf(tc.dest, s.Root, s.RunRoot)
		mustSucceed(t, skopeo(t, "copy", "-q", "--override-arch", tc.arch, "oci:"+filepath.Join(env.Fixtures, "busybox-oci")+":3arch", ref))
	}
	for _, args := range [][]string{{"info"}, {"index", "inspect", "containers-storage:localhost/latest:latest"}} {
		r := runCmd(t, "", env.Bin, append(at, args...)...)
		out := r.Stdout + r.Stderr
		if !strings.Contains(out, "several storage drivers: vfs (2 images), overlay (1 image)") || !strings.Contains(out, "--storage-driver vfs") {
			t.Errorf("polyarch %s on a two-driver store: exit %d, want the explaining error: %s", args[0], r.Code, out)
		}
	}
	mustSucceed(t, runCmd(t, "", env.Bin, append(at, "--storage-driver", "vfs", "index", "inspect", "containers-storage:localhost/latest:latest")...))
	mustSucceed(t, runCmd(t, "", env.Bin, append(at, "--storage-driver", "overlay", "index", "inspect", "containers-storage:localhost/other:1")...))
}

// TestNoLoginSession: a user without XDG_RUNTIME_DIR, once root has used
// podman (/run/containers mode 0700), copies and inspects registry
// images, also through local storage; the unreadable default auth file
// is skipped, while an unreadable file named with --authfile is an
// error naming it. The root run makes /run/containers so; the rootless
// run finds it as the machine is.
func TestNoLoginSession(t *testing.T) {
	u := newSessionUser(t)
	if os.Geteuid() == 0 {
		mustSucceed(t, runCmd(t, "", "sh", "-c", "mkdir -p /run/containers && chmod 700 /run/containers"))
	}
	if st, err := os.Stat("/run/containers"); err == nil {
		t.Logf("/run/containers has mode %v", st.Mode())
	}
	layout := u.file(filepath.Join(env.Fixtures, "busybox-oci"))
	image := "docker://" + env.Registry + "/nosession/" + u.Name + ":1"
	mustSucceed(t, u.run(env.Bin, "copy", "--dest-tls-verify=false", "oci:"+layout+":3arch", image))
	r := u.run(env.Bin, "index", "inspect", "--tls-verify=false", image)
	mustSucceed(t, r)
	if !strings.Contains(r.Stdout, "linux/arm64") {
		t.Errorf("index inspect lists no linux/arm64 entry: %s", r.Stdout)
	}
	mustSucceed(t, u.run(env.Bin, "copy", "--src-tls-verify=false", image, "containers-storage:localhost/nosession:1"))
	mustSucceed(t, u.run(env.Bin, "index", "inspect", "localhost/nosession:1"))
	secret := unreadableFile(t)
	for _, args := range [][]string{
		{"index", "inspect", "--tls-verify=false", "--authfile", secret, image},
		{"copy", "--src-tls-verify=false", "--authfile", secret, image, "oci:" + filepath.Join(u.Home, "out") + ":1"},
	} {
		r := u.run(env.Bin, args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "reading credentials file "+secret) {
			t.Errorf("%s with an unreadable --authfile: exit %d, want an error naming %s: %s", args[0], r.Code, secret, r.Stderr)
		}
	}
}

// unreadableFile returns a credentials file the session user cannot
// read: root's (mode 0600) in the root run, mode 0000 in the rootless run.
func unreadableFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "unreadable-auth.json")
	if err := os.WriteFile(p, []byte(`{"auths":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
	}
	return p
}
