package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/platforms"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
)

// Tests of emulation. Those that change the host's binfmt_misc start with
// guardHost and never run in parallel.

// eightPlatforms are the platforms of the busybox:latest fixture.
var eightPlatforms = []string{"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v5", "linux/386",
	"linux/ppc64le", "linux/s390x", "linux/mips64le"}

// eightMachines is what `uname -m` prints in a RUN step of each platform.
// Two differ from what real hardware would print:
//   - linux/arm/v5 prints armv7l: qemu-arm runs with its default CPU (an
//     ARMv7-or-later "max"), and the one qemu-arm handler serves every arm
//     variant, so no per-variant -cpu can be set; a real ARMv5 machine,
//     or qemu-arm -cpu arm926, prints armv5tel. The ARMv5TE busybox runs
//     on it all the same.
//   - linux/386 depends on the kernel (see machine386): x86_64 where the
//     amd64 kernel runs it natively (buildah's chroot isolation sets no
//     PER_LINUX32 personality, which `setarch i686` would add), i686 where
//     it has no IA32 emulation and qemu-i386 serves it.
var eightMachines = map[string]string{
	"linux/amd64": "x86_64", "linux/arm64": "aarch64", "linux/arm/v7": "armv7l", "linux/arm/v5": "armv7l",
	"linux/386": "x86_64 or i686", "linux/ppc64le": "ppc64le", "linux/s390x": "s390x", "linux/mips64le": "mips64",
}

// checkMachines asserts that the layout at dir holds want, in order, each
// image's /arch.txt naming its machine.
func checkMachines(t *testing.T, dir string, want []string) {
	t.Helper()
	l := layout{t: t, dir: dir}
	l.verifyBlobs()
	_, _, idx := l.top()
	if got := imagePlatforms(l, idx); !slices.Equal(got, want) {
		t.Fatalf("index platforms = %v, want %v", got, want)
	}
	for i, p := range want {
		machine := eightMachines[p]
		if p == "linux/386" {
			machine = expected386(t)
		}
		arch, err := l.file(idx, i, "/arch.txt")
		if err != nil || strings.TrimSpace(arch) != machine {
			t.Errorf("%s: /arch.txt = %q (%v), want %q", p, arch, err, machine)
		}
	}
}

// imagePlatforms returns the platform of each entry of idx; an entry
// without one (a single-platform build publishes a plain image) is named
// by its image config, normalised as index entries are (arm64, not
// arm64/v8).
func imagePlatforms(l layout, idx specs.Index) []string {
	got := platformsOf(idx)
	for i, m := range idx.Manifests {
		if m.Platform == nil {
			var man specs.Manifest
			var cfg specs.Image
			l.readJSON(m.Digest.String(), &man)
			l.readJSON(man.Config.Digest.String(), &cfg)
			got[i] = platforms.FormatAll(platforms.Normalize(cfg.Platform))
		}
	}
	return got
}

// TestEmulationEightPlatforms builds every platform of the fixture in one
// build, then times each platform alone running a shell loop, to show what
// emulation costs per architecture compared with amd64.
func TestEmulationEightPlatforms(t *testing.T) {
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
	out := filepath.Join(t.TempDir(), "eight")
	r := polyarch(t, s, "build", "--tls-verify=false", "--platform", strings.Join(eightPlatforms, ","), "-o", "type=oci,dest="+out, ctxDir)
	mustSucceed(t, r)
	checkMachines(t, out, eightPlatforms)
	t.Logf("8-platform build: %s", r.Elapsed.Round(time.Millisecond))

	loop := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt && i=0 && while [ $i -lt 100000 ]; do i=$((i+1)); done\n", nil)
	times := map[string]time.Duration{}
	for _, p := range eightPlatforms {
		r := polyarch(t, s, "build", "--tls-verify=false", "--platform", p, loop)
		mustSucceed(t, r)
		times[p] = r.Elapsed
	}
	var report strings.Builder
	for _, p := range eightPlatforms {
		native := times["linux/amd64"]
		fmt.Fprintf(&report, "  %-15s %6.2fs  %+6.2fs  x%.1f\n", p, times[p].Seconds(), (times[p] - native).Seconds(), times[p].Seconds()/native.Seconds())
	}
	t.Logf("one platform per build, base layers in local storage, RUN of a 100000-iteration busybox sh loop "+
		"(wall time, difference and ratio to amd64):\n%s", report.String())
}

// emulationStatus runs `polyarch emulation status --format json`.
func emulationStatus(t *testing.T, s store, args ...string) emulation.Report {
	t.Helper()
	r := polyarch(t, s, append([]string{"emulation", "status", "--format", "json"}, args...)...)
	mustSucceed(t, r)
	var rep emulation.Report
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("decoding status JSON: %v", err)
	}
	return rep
}

// statusRow returns the row of platform p.
func statusRow(t *testing.T, r emulation.Report, p string) emulation.PlatformStatus {
	t.Helper()
	for _, row := range r.Platforms {
		if row.Platform == p {
			return row
		}
	}
	t.Fatalf("status has no row for %s", p)
	return emulation.PlatformStatus{}
}

// TestEmulationInstallNeedsRoot checks the refusal an unprivileged user
// gets (in the rootless run of the suite; as root, install is tested below).
func TestEmulationInstallNeedsRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs in the unprivileged run of the suite")
	}
	s := newStore(t)
	for _, args := range [][]string{{"install", "linux/arm64"}, {"uninstall", "all"}} {
		r := polyarch(t, s, append([]string{"emulation"}, args...)...)
		want := "ask an administrator to run `sudo polyarch emulation " + strings.Join(args, " ") + "`"
		if r.Code == 0 || !strings.Contains(r.Stderr, "needs root") || !strings.Contains(r.Stderr, want) {
			t.Errorf("emulation %v as uid %d: exit %d, %q; want a refusal with %q", args, os.Geteuid(), r.Code, r.Stderr, want)
		}
	}
}

// TestEmulationEmptyQEMUDir: with --qemu-dir pointing at an empty
// directory, a build with a foreign RUN fails before contacting the
// registry, naming the platform, the package and the flag; status shows
// the interpreters missing.
func TestEmulationEmptyQEMUDir(t *testing.T) {
	s := newStore(t)
	empty := t.TempDir()
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
	logBefore := registryLogSize(t)
	r := polyarch(t, s, "build", "--tls-verify=false", "--qemu-dir", empty, "--platform", "linux/arm64", ctxDir)
	if r.Code == 0 {
		t.Fatal("build with an empty --qemu-dir succeeded")
	}
	for _, want := range []string{"linux/arm64", "qemu-aarch64-static", "qemu-user-static", "--qemu-dir", empty} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("error lacks %q:\n%s", want, r.Stderr)
		}
	}
	if requests := registryLogSince(t, logBefore); strings.Contains(requests, "/v2/") {
		t.Errorf("the build contacted the registry before failing:\n%s", requests)
	}
	ls := podman(t, s, "images", "-a", "-q")
	if strings.TrimSpace(ls.Stdout) != "" {
		t.Errorf("images were pulled before the failure: %q", ls.Stdout)
	}
	st := emulationStatus(t, s, "--qemu-dir", empty)
	for _, row := range st.Platforms {
		if !row.Native && (row.Interpreter != "" || !strings.Contains(row.InterpreterError, empty)) {
			t.Errorf("status --qemu-dir %s: %s has interpreter %q (%s), want none found", empty, row.Platform, row.Interpreter, row.InterpreterError)
		}
	}
	// Platforms a host handler serves (Debian's systemd-binfmt registers
	// them) need no interpreter; the others report the missing one.
	table := polyarch(t, s, "emulation", "status", "--qemu-dir", empty)
	mustSucceed(t, table)
	for _, row := range st.Platforms {
		if row.Registered == emulation.WhereNone && (!strings.Contains(row.Problem, empty) ||
			!strings.Contains(table.Stdout, row.Platform+": "+row.Problem)) {
			t.Errorf("status table does not report the missing interpreter of %s (%q):\n%s", row.Platform, row.Problem, table.Stdout)
		}
	}
}

// registryLogSize returns the current size of the registry's log.
func registryLogSize(t *testing.T) int64 {
	t.Helper()
	st, err := os.Stat(env.RegistryLog)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// registryLogSince returns what the registry logged after offset.
func registryLogSince(t *testing.T, offset int64) string {
	t.Helper()
	b, err := os.ReadFile(env.RegistryLog)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[offset:])
}
