package emulation

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// busyboxFixtures maps Debian architectures of the busybox-static fixtures
// to platforms.
var busyboxFixtures = []struct{ debarch, platform string }{
	{"amd64", "linux/amd64"}, {"arm64", "linux/arm64"}, {"armhf", "linux/arm/v7"},
	{"armel", "linux/arm/v5"}, {"i386", "linux/386"}, {"ppc64el", "linux/ppc64le"},
	{"s390x", "linux/s390x"}, {"mips64el", "linux/mips64le"},
}

func init() { helpers["busybox"] = helperBusybox }

// TestBusyboxArgv0InNamespace registers handlers privately and runs each
// Debian busybox-static fixture as "echo": it prints only if the handler
// preserved argv[0] (flag P), as busybox picks its applet from argv[0].
func TestBusyboxArgv0InNamespace(t *testing.T) {
	if os.Getenv("POLYARCH_FIXTURE_ROOTFS") == "" {
		t.Skip("POLYARCH_FIXTURE_ROOTFS is unset: set it to the fixture rootfs directory " +
			"(${POLYARCH_FIXTURE_CACHE:-$HOME/.cache/polyarch-fixtures}/rootfs) to run real busybox binaries")
	}
	testInNamespace(t, "busybox")
}

func helperBusybox() error {
	if err := mountFresh(DefaultMountPoint); err != nil {
		return err
	}
	root, dir := os.Getenv("POLYARCH_FIXTURE_ROOTFS"), os.TempDir()
	var opts InstallOptions
	for _, f := range busyboxFixtures {
		opts.Platforms = append(opts.Platforms, plat(f.platform))
	}
	if _, err := Install(context.Background(), opts); err != nil {
		return err
	}
	for _, f := range busyboxFixtures {
		if err := runBusyboxEcho(root, dir, f.debarch, f.platform); err != nil {
			return err
		}
	}
	return nil
}

// runBusyboxEcho copies the fixture to dir (so its mode does not matter)
// and runs it with argv[0] "echo".
func runBusyboxEcho(root, dir, debarch, platform string) error {
	src := filepath.Join(root, debarch, "busybox")
	if _, err := os.Stat(src); err != nil {
		src = filepath.Join(root, debarch, "bin", "busybox")
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("fixture %s: %w: run the fixture script", debarch, err)
	}
	bin := filepath.Join(dir, "busybox-"+debarch)
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		return err
	}
	defer os.Remove(bin)
	cmd := &exec.Cmd{Path: bin, Args: []string{"echo", "polyarch", platform}}
	out, err := cmd.CombinedOutput()
	if want := "polyarch " + platform + "\n"; err != nil || !bytes.Equal(out, []byte(want)) {
		return fmt.Errorf("busybox %s as echo: output %q, err %v; want %q (argv[0] lost?)", debarch, out, err, want)
	}
	step("busybox %-8s (%s) ran as echo: argv[0] preserved", debarch, platform)
	return nil
}
