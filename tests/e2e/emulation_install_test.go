package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/polyarch/polyarch/emulation"
)

// wantRow fails unless out has a line for platform p whose second column
// is result.
func wantRow(t *testing.T, out, p, result string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(p) + `\s+` + regexp.QuoteMeta(result) + `(\s|$)`)
	if !re.MatchString(out) {
		t.Errorf("no %q line for %s in:\n%s", result, p, out)
	}
}

// TestEmulationHostInstall installs a host handler, checks it with the
// kernel's own entry and with status, builds with --emulation=host, and
// uninstalls, leaving a foreign handler and the host's others alone.
func TestEmulationHostInstall(t *testing.T) {
	guardHost(t)
	wasMounted, _ := emulation.Mounted(hostBinfmt)
	var others []string // the host's handlers that are not qemu's (guardHost removed those)
	if wasMounted {
		others = hostHandlers(t)
	}
	wantLeft := append(slices.Clone(others), "polyarch-test-dummy")
	slices.Sort(wantLeft)
	s := newStore(t)
	r := polyarch(t, s, "emulation", "install", "linux/arm64")
	mustSucceed(t, r)
	wantRow(t, r.Stdout, "linux/arm64", "registered")
	if !wasMounted && !strings.Contains(r.Stderr, "mounted binfmt_misc at "+hostBinfmt) {
		t.Errorf("install did not say it mounted binfmt_misc: %s", r.Stderr)
	}
	entry, err := os.ReadFile(filepath.Join(hostBinfmt, "qemu-aarch64"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"enabled\n", "\nflags: PF\n", "\ninterpreter /usr/bin/qemu-aarch64-static\n"} {
		if !strings.Contains(string(entry), want) {
			t.Errorf("%s/qemu-aarch64 lacks %q:\n%s", hostBinfmt, want, entry)
		}
	}
	r = polyarch(t, s, "emulation", "install", "linux/arm64", "linux/amd64")
	mustSucceed(t, r)
	wantRow(t, r.Stdout, "linux/arm64", "already registered")
	wantRow(t, r.Stdout, "linux/amd64", "native")

	st := emulationStatus(t, s)
	row := statusRow(t, st, "linux/arm64")
	if !slices.Contains(st.Emulators, "qemu-aarch64") || !slices.Contains(st.Supported, "linux/arm64") ||
		row.Registered != emulation.WhereHost || row.Flags != "PF" || row.HostProbe != emulation.ProbeOK {
		t.Errorf("status: emulators %v, supported %v, arm64 %+v; want qemu-aarch64 on the host with PF, probe ok", st.Emulators, st.Supported, row)
	}

	registerDummy(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
	out := filepath.Join(t.TempDir(), "out")
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--emulation=host", "--platform", "linux/arm64", "-o", "type=oci,dest="+out, ctxDir))
	checkMachines(t, out, []string{"linux/arm64"})

	r = polyarch(t, s, "emulation", "uninstall", "linux/arm64")
	mustSucceed(t, r)
	wantRow(t, r.Stdout, "linux/arm64", "removed")
	if got := hostHandlers(t); !slices.Equal(got, wantLeft) {
		t.Errorf("after uninstall linux/arm64: handlers %v, want %v", got, wantLeft)
	}
	mustSucceed(t, polyarch(t, s, "emulation", "install", "linux/s390x,linux/arm/v7"))
	r = polyarch(t, s, "emulation", "uninstall", "all")
	mustSucceed(t, r)
	wantRow(t, r.Stdout, "linux/s390x", "removed")
	wantRow(t, r.Stdout, "linux/arm/v5", "removed")
	wantRow(t, r.Stdout, "linux/riscv64", "not registered")
	if got := hostHandlers(t); !slices.Equal(got, wantLeft) {
		t.Errorf("after uninstall all: handlers %v, want %v", got, wantLeft)
	}
}

// TestEmulationUninstallKeepsDistroHandler registers qemu-s390x as
// Debian's systemd-binfmt does (interpreter in /usr/libexec/qemu-binfmt,
// flags OPF): install keeps it, and uninstall leaves it and says how to
// remove it, since polyarch did not register it.
func TestEmulationUninstallKeepsDistroHandler(t *testing.T) {
	guardHost(t)
	mountHost(t)
	ps, err := emulation.ParsePlatforms([]string{"linux/s390x"})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := emulation.Lookup(ps[0])
	distro := emulation.Handler{Name: "qemu-s390x", Interpreter: "/usr/libexec/qemu-binfmt/s390x-binfmt-P", Flags: "OPF",
		Magic: e.Magic, Mask: e.Mask}
	if err := emulation.RegisterHandler(hostBinfmt, distro); err != nil {
		t.Fatalf("%v (is Debian's qemu-user-static installed?)", err)
	}
	s := newStore(t)
	r := polyarch(t, s, "emulation", "install", "linux/s390x")
	mustSucceed(t, r)
	wantRow(t, r.Stdout, "linux/s390x", "already registered")
	r = polyarch(t, s, "emulation", "uninstall", "linux/s390x")
	mustSucceed(t, r)
	wantRow(t, r.Stdout, "linux/s390x", "kept")
	for _, want := range []string{"qemu-s390x (interpreter /usr/libexec/qemu-binfmt/s390x-binfmt-P, flags \"POF\") was not registered by polyarch",
		"remove it with `echo -1 > " + hostBinfmt + "/qemu-s390x`"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("uninstall does not say %q:\n%s", want, r.Stdout)
		}
	}
	if h, err := emulation.ReadHandler(hostBinfmt, "qemu-s390x"); err != nil || h.Flags != "POF" || h.Interpreter != distro.Interpreter {
		t.Errorf("after uninstall: qemu-s390x = %+v, %v; want the distribution's handler kept", h, err)
	}
}

// TestEmulationPersist checks where --persist leaves the handler for boot,
// and that uninstall removes only the binfmt.d files polyarch wrote.
func TestEmulationPersist(t *testing.T) {
	guardHost(t)
	dir := emulation.DefaultConfDir
	ours := filepath.Join(dir, "polyarch-qemu-s390x.conf")
	foreign := filepath.Join(dir, "polyarch-test-foreign.conf")
	for _, p := range []string{ours, foreign, filepath.Join(dir, "polyarch-qemu-aarch64.conf")} {
		if _, err := os.Stat(p); err == nil {
			t.Fatalf("%s exists before the test: refusing to touch it", p)
		}
		t.Cleanup(func() { os.Remove(p) })
	}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		t.Cleanup(func() { os.Remove(dir) })
	}
	s := newStore(t)
	r := polyarch(t, s, "emulation", "install", "--persist", "linux/arm64")
	mustSucceed(t, r)
	want := filepath.Join(dir, "polyarch-qemu-aarch64.conf")
	if _, err := os.Stat("/usr/lib/binfmt.d/qemu-aarch64.conf"); err == nil {
		want = "/usr/lib/binfmt.d/qemu-aarch64.conf" // Debian's qemu-user-static persists it already
	}
	wantRow(t, r.Stdout, "linux/arm64", "registered")
	if !strings.Contains(r.Stdout, want) {
		t.Errorf("install --persist does not report %s:\n%s", want, r.Stdout)
	}
	contrib, err := os.ReadFile("../../contrib/binfmt.d/polyarch-qemu-s390x.conf")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for path, content := range map[string][]byte{ours: contrib, foreign: []byte(":polyarch-test-foreign:E::pdfx::/bin/true:\n")} {
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r = polyarch(t, s, "emulation", "uninstall", "all")
	mustSucceed(t, r)
	if !strings.Contains(r.Stdout, ours) {
		t.Errorf("uninstall all does not report removing %s:\n%s", ours, r.Stdout)
	}
	if _, err := os.Stat(ours); !os.IsNotExist(err) {
		t.Errorf("%s survived uninstall all", ours)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("uninstall all removed %s, which polyarch did not write: %v", foreign, err)
	}
}
