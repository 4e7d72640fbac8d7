package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/polyarch/polyarch/emulation"
)

// Tests of private mode: builds register handlers in polyarch's own user
// namespace, and the host's binfmt_misc must read the same afterwards.

// buildLeavesHost builds foreign RUN steps with the default
// --emulation=auto and fails t unless the host's binfmt_misc reads byte for
// byte the same before and after.
func buildLeavesHost(t *testing.T) {
	t.Helper()
	s := newStore(t)
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
	out := filepath.Join(t.TempDir(), "out")
	before := binfmtListing(t)
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/arm64,linux/s390x,linux/arm/v7", "-o", "type=oci,dest="+out, ctxDir))
	if after := binfmtListing(t); after != before {
		t.Errorf("the host's binfmt_misc changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	checkMachines(t, out, []string{"linux/arm64", "linux/s390x", "linux/arm/v7"})
	t.Logf("host binfmt_misc unchanged:\n%s", before)
}

// TestEmulationPrivateLeavesHostUntouched checks that a build in private
// mode leaves the host's binfmt_misc as it was: unmounted, or mounted with
// a foreign handler. As root the test sets up the mounted case; the
// rootless run may not change the host, so it checks the host as it finds
// it, in whichever subtest matches.
func TestEmulationPrivateLeavesHostUntouched(t *testing.T) {
	mounted, err := emulation.Mounted(hostBinfmt)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("unmounted", func(t *testing.T) {
		if mounted {
			t.Skip("the host's binfmt_misc is mounted here; the mounted case below covers it")
		}
		buildLeavesHost(t)
	})
	t.Run("mounted", func(t *testing.T) {
		if os.Geteuid() != 0 {
			if !mounted {
				t.Skip("the host's binfmt_misc is not mounted and only root may mount it; the unmounted case above covers this run")
			}
			buildLeavesHost(t) // the host's own handlers, untouched
			return
		}
		guardHost(t)
		mountHost(t)
		registerDummy(t)
		buildLeavesHost(t)
	})
}

// TestEmulationPrivateReplacesUnfitHostHandler registers a host handler
// for linux/arm64 that builds cannot use (no flag F, so the interpreter is
// not found inside the build root), under polyarch's name and under
// another: private mode leaves it out of its own binfmt_misc and registers
// a fit one there, so status reports no problem, the build succeeds and
// the host keeps its handler.
func TestEmulationPrivateReplacesUnfitHostHandler(t *testing.T) {
	ps, err := emulation.ParsePlatforms([]string{"linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	arm64, _ := emulation.Lookup(ps[0])
	for _, name := range []string{"qemu-aarch64", "polyarch-test-arm64"} {
		t.Run(name, func(t *testing.T) {
			guardHost(t)
			mountHost(t)
			unfit := emulation.Handler{Name: name, Interpreter: "/usr/bin/qemu-aarch64-static", Flags: "P", Magic: arm64.Magic, Mask: arm64.Mask}
			if err := emulation.RegisterHandler(hostBinfmt, unfit); err != nil {
				t.Fatal(err)
			}
			s := newStore(t)
			st := emulationStatus(t, s)
			row := statusRow(t, st, "linux/arm64")
			skipped := slices.ContainsFunc(st.Private.Skipped, func(sk emulation.SkippedHandler) bool {
				return sk.Handler.Name == name && strings.Contains(sk.Reason, `flags "P"`)
			})
			if row.Registered != emulation.WherePrivate || row.Flags != "PF" || row.Problem != "" || !skipped || !slices.Contains(st.Supported, "linux/arm64") {
				t.Errorf("status: arm64 %+v, skipped %+v; want %s left out and a PF handler registered privately", row, st.Private.Skipped, name)
			}
			ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
			out := filepath.Join(t.TempDir(), "out")
			before := binfmtListing(t)
			mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--platform", "linux/arm64", "-o", "type=oci,dest="+out, ctxDir))
			checkMachines(t, out, []string{"linux/arm64"})
			if after := binfmtListing(t); after != before {
				t.Errorf("the build changed the host's binfmt_misc:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestEmulationReregistersHostHandler registers qemu-s390x on the host, then
// builds in private mode with --qemu-dir holding a fake qemu-s390x-static
// (a copy of polyarch, which cannot emulate anything). The s390x RUN can
// only succeed through the host's handler, re-registered by MountPrivate
// in the build's namespace; without it the same build fails.
func TestEmulationReregistersHostHandler(t *testing.T) {
	guardHost(t)
	s := newStore(t)
	fake := t.TempDir()
	copyPath(t, env.Bin, filepath.Join(fake, "qemu-s390x-static"))
	mustSucceed(t, polyarch(t, s, "emulation", "install", "linux/s390x"))
	st := emulationStatus(t, s)
	if row := statusRow(t, st, "linux/s390x"); row.Registered != emulation.WhereHost || !slices.Contains(st.Private.Reregistered, "qemu-s390x") {
		t.Errorf("status after install: s390x %+v, re-registered %v; want host, and qemu-s390x re-registered", row, st.Private.Reregistered)
	}
	ctxDir := writeContext(t, "FROM "+registryBase("latest")+"\nRUN uname -m > /arch.txt\n", nil)
	out := filepath.Join(t.TempDir(), "out")
	before := binfmtListing(t)
	mustSucceed(t, polyarch(t, s, "build", "--tls-verify=false", "--qemu-dir", fake, "--platform", "linux/s390x", "-o", "type=oci,dest="+out, ctxDir))
	checkMachines(t, out, []string{"linux/s390x"})
	if after := binfmtListing(t); after != before {
		t.Errorf("the private build changed the host's binfmt_misc:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	mustSucceed(t, polyarch(t, s, "emulation", "uninstall", "linux/s390x"))
	r := polyarch(t, s, "build", "--tls-verify=false", "--qemu-dir", fake, "--platform", "linux/s390x", ctxDir)
	if r.Code == 0 || !strings.Contains(r.Stderr, "linux/s390x") {
		t.Errorf("without the host handler the fake interpreter should fail the build, got exit %d: %s", r.Code, r.Stderr)
	}
}
