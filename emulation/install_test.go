package emulation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

func init() {
	helpers["install-uninstall"] = helperInstallUninstall
	helpers["contrib"] = helperContrib
}

func TestInstallUninstallInNamespace(t *testing.T) { testInNamespace(t, "install-uninstall") }
func TestContribRegistersInNamespace(t *testing.T) { testInNamespace(t, "contrib") }

// unfitPPC is a qemu-ppc64le handler without flag F, as an old setup
// might have left it.
func unfitPPC() Handler {
	e := lookup("linux/ppc64le")
	return Handler{Name: HandlerName(e), Interpreter: "/usr/bin/qemu-ppc64le-static", Flags: "P", Magic: e.Magic, Mask: e.Mask}
}

// debianRISCV is qemu-riscv64 as Debian's systemd-binfmt registers it.
func debianRISCV() Handler {
	e := lookup("linux/riscv64")
	return Handler{Name: HandlerName(e), Interpreter: filepath.Join(defaultQEMULibexec, "riscv64-binfmt-P"), Flags: "OPF",
		Magic: e.Magic, Mask: e.Mask}
}

// helperInstallUninstall plays a host with a foreign handler, an unfit
// qemu handler and one of Debian's: Install keeps going past the unfit one
// and reports it, Uninstall removes only the handlers polyarch registered
// and polyarch's files.
func helperInstallUninstall() error {
	mnt, ctx := DefaultMountPoint, context.Background()
	err := RequireHostAdmin("polyarch emulation install linux/arm64")
	if err == nil || !strings.Contains(err.Error(), "not on the host") || !strings.Contains(err.Error(), "`sudo polyarch emulation install linux/arm64`") {
		return fmt.Errorf("RequireHostAdmin as root of a user namespace = %v, want a refusal naming the command", err)
	}
	if err := mountFresh(mnt); err != nil {
		return err
	}
	for _, h := range []Handler{dummyExt, unfitPPC(), debianRISCV()} {
		if err := RegisterHandler(mnt, h); err != nil {
			return err
		}
	}
	conf := ConfOptions{Dir: filepath.Join(os.TempDir(), "polyarch-binfmt.d-test"), SearchDirs: []string{}}
	defer os.RemoveAll(conf.Dir)
	opts := InstallOptions{Platforms: plats("linux/arm64", "linux/ppc64le", "linux/amd64"), Persist: true, Conf: conf}
	res, err := Install(ctx, opts)
	if err := checkInstall(res, err, StatusRegistered); err != nil {
		return err
	}
	step("install: %v", err)
	res, err = Install(ctx, opts)
	if err := checkInstall(res, err, StatusExisting); err != nil {
		return fmt.Errorf("second install: %w", err)
	}
	return checkUninstallAll(mnt, conf)
}

// checkInstall checks Install's results for arm64, the unfit ppc64le and
// amd64.
func checkInstall(res []InstallResult, err error, arm64 InstallStatus) error {
	if len(res) != 3 {
		return fmt.Errorf("Install returned %d results, want 3", len(res))
	}
	wantConf := filepath.Join(os.TempDir(), "polyarch-binfmt.d-test", "polyarch-qemu-aarch64.conf")
	if res[0].Status != arm64 || res[0].Flags != "PF" || res[0].Persisted != wantConf || res[0].Err != nil {
		return fmt.Errorf("arm64 result %+v, want %s with flags PF persisted in %s", res[0], arm64, wantConf)
	}
	if res[1].Status != StatusFailed || !errors.Is(res[1].Err, ErrUnfit) || res[1].Flags != "P" {
		return fmt.Errorf("ppc64le result %+v, want failed with ErrUnfit and flags P", res[1])
	}
	if res[2].Status != StatusNative {
		return fmt.Errorf("amd64 result %+v, want native", res[2])
	}
	fix := "not registered by polyarch, so polyarch leaves it alone: remove it (echo -1 | sudo tee /proc/sys/fs/binfmt_misc/qemu-ppc64le)"
	if err == nil || !strings.HasPrefix(err.Error(), "[linux/ppc64le] ") || !strings.Contains(err.Error(), fix) {
		return fmt.Errorf("Install error = %v, want the ppc64le failure with the fix %q", err, fix)
	}
	return nil
}

// checkUninstallAll uninstalls every platform and checks what is left:
// the handlers polyarch did not register, each reported as kept.
func checkUninstallAll(mnt string, conf ConfOptions) error {
	all := TablePlatforms()
	res, err := Uninstall(UninstallOptions{Platforms: all, Conf: conf})
	if err != nil {
		return fmt.Errorf("Uninstall(all): %w", err)
	}
	got := map[string]UninstallResult{}
	for _, r := range res {
		got[r.Handler] = r
	}
	for name, want := range map[string]UninstallStatus{"qemu-aarch64": UninstallRemoved, "qemu-ppc64le": UninstallKept,
		"qemu-riscv64": UninstallKept, "qemu-s390x": UninstallNotRegistered} {
		r := got[name]
		kept := "was not registered by polyarch, which registers qemu-*-static with flags \"PF\"; remove it with `echo -1 > " +
			filepath.Join(mnt, name) + "`"
		if r.Status != want || r.Err != nil || (want == UninstallKept) != strings.Contains(r.Note, kept) {
			return fmt.Errorf("Uninstall result for %s: %+v, want %s (kept ones with a note containing %q)", name, r, want, kept)
		}
	}
	hs, err := ReadHandlers(mnt)
	if names := handlerNames(hs); err != nil || !slices.Equal(names, []string{dummyExt.Name, "qemu-ppc64le", "qemu-riscv64"}) {
		return fmt.Errorf("after Uninstall(all): handlers %v, %v; want %s and the qemu handlers polyarch did not register", names, err, dummyExt.Name)
	}
	if left, _ := os.ReadDir(conf.Dir); len(left) != 0 {
		return fmt.Errorf("after Uninstall(all): %s still holds %v", conf.Dir, left)
	}
	step("uninstall all: removed qemu-aarch64 and polyarch's conf, kept %s, qemu-ppc64le and %s", dummyExt.Name, got["qemu-riscv64"].Note)
	return nil
}

// helperContrib registers every line of contrib/binfmt.d in a fresh
// instance, as systemd-binfmt would, and probes every platform.
func helperContrib() error {
	if err := mountFresh(DefaultMountPoint); err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(contribDir, "*.conf"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !strings.HasPrefix(line, "#") {
				if err := writeExisting(filepath.Join(DefaultMountPoint, "register"), line); err != nil {
					return fmt.Errorf("registering %s: %w", f, err)
				}
			}
		}
	}
	for _, e := range table {
		err := probeEmulator(context.Background(), e)
		if _, serr := os.Stat(filepath.Join(contribDir, ConfName(e))); serr != nil {
			// not shipped (amd64 and 386): it runs exactly if the kernel runs it
			if (err == nil) != Native(e.Platform) {
				return fmt.Errorf("%s has no contrib file: probe %v, native %v", FormatPlatform(e.Platform), err, Native(e.Platform))
			}
			step("%s: no contrib file, native: %v", FormatPlatform(e.Platform), Native(e.Platform))
			continue
		}
		if err != nil {
			return fmt.Errorf("after registering contrib/binfmt.d: %w", err)
		}
	}
	step("registered %d contrib/binfmt.d files; every platform they serve runs", len(files))
	return nil
}

func plats(ss ...string) []specs.Platform {
	out := make([]specs.Platform, len(ss))
	for i, s := range ss {
		out[i] = plat(s)
	}
	return out
}

func TestServes(t *testing.T) {
	arm64, s390x := lookup("linux/arm64"), lookup("linux/s390x")
	debian := Handler{Name: "qemu-aarch64", Enabled: true, Flags: "OPF",
		Magic: `\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00`, Mask: arm64.Mask}
	for _, tt := range []struct {
		name string
		h    Handler
		e    Emulator
		want bool
	}{
		{"debian arm64", debian, arm64, true},
		{"debian arm64 for s390x", debian, s390x, false},
		{"table s390x", Handler{Magic: s390x.Magic, Mask: s390x.Mask}, s390x, true},
		{"elf, any machine", Handler{Magic: `\x7fELF`}, s390x, true},
		{"offset past the header", Handler{Magic: `\x00`, Offset: 4096}, arm64, false},
		{"extension", Handler{Extension: "pyc", Magic: `\x7fELF`}, arm64, false},
		{"python", Handler{Magic: `\xa7\x0d\x0d\x0a`}, arm64, false},
		{"bad escape", Handler{Magic: `\xZZ`}, arm64, false},
	} {
		if got := Serves(tt.h, tt.e); got != tt.want {
			t.Errorf("%s: Serves = %v, want %v", tt.name, got, tt.want)
		}
	}
}
