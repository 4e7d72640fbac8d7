package emulation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
)

// ProbeTimeout bounds one probe run, qemu's start-up included.
const ProbeTimeout = 30 * time.Second

// ErrNoHandler is returned (wrapped) by Probe when no working binfmt_misc
// handler runs the platform's programs.
var ErrNoHandler = errors.New("no working binfmt_misc handler")

// Probe reports whether programs of platform p run here, by executing a
// tiny static program of that architecture which prints a fixed line and
// exits 0. It returns nil at once for native platforms (see Native). A
// missing or broken handler gives an error wrapping ErrNoHandler that says
// what to run.
func Probe(ctx context.Context, p specs.Platform) error {
	n := NormalizePlatform(p)
	plat := FormatPlatform(n)
	if Native(n) {
		return nil
	}
	e, ok := Lookup(n)
	if !ok {
		return fmt.Errorf("probing %s: no emulator for this platform: supported platforms are %s", plat, supported())
	}
	e.Platform = n
	return probeEmulator(ctx, e)
}

// probeEmulator executes e's probe program, natively or through whatever
// binfmt_misc handler matches it.
func probeEmulator(ctx context.Context, e Emulator) error {
	bin, err := probeELF(e)
	if err != nil {
		return err
	}
	return runProbeELF(ctx, e, bin)
}

// runProbeELF writes the probe executable bin of e to a temporary file and
// runs it (see runProbe).
func runProbeELF(ctx context.Context, e Emulator, bin []byte) error {
	plat := FormatPlatform(e.Platform)
	dir, err := os.MkdirTemp("", "polyarch-probe-")
	if err != nil {
		return fmt.Errorf("probing %s: creating a temporary directory: %w: set TMPDIR to a writable directory", plat, err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "probe-"+e.QEMU)
	if err := os.WriteFile(path, bin, 0o700); err != nil {
		return fmt.Errorf("probing %s: writing %s: %w: set TMPDIR to a writable directory", plat, path, err)
	}
	return runProbe(ctx, plat, path, probeMessage(e))
}

// runProbe executes path and checks that it printed want and exited 0.
func runProbe(ctx context.Context, plat, path, want string) error {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	var err error
	// ETXTBSY: another goroutine's fork may briefly hold the file we just
	// wrote open for writing (golang.org/issue/22315); retry.
	for try := 0; try < 5; try++ {
		stdout.Reset()
		stderr.Reset()
		cmd := exec.CommandContext(ctx, path)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err = cmd.Run(); !errors.Is(err, syscall.ETXTBSY) {
			break
		}
		time.Sleep(time.Duration(try+1) * 10 * time.Millisecond)
	}
	if err != nil {
		return probeError(ctx, plat, path, err, stderr.String())
	}
	if got := stdout.String(); got != want {
		return fmt.Errorf("probing %s: %w: the probe exited 0 but printed %q instead of %q, "+
			"so the handler's interpreter is not an emulator for this architecture: %s",
			plat, ErrNoHandler, got, want, installHint(plat))
	}
	return nil
}

// probeError turns a failed probe run into an error that says what to do.
func probeError(ctx context.Context, plat, path string, err error, stderr string) error {
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("probing %s: running the probe: %w (limit %s)", plat, ctx.Err(), ProbeTimeout)
	case errors.Is(err, syscall.ENOEXEC):
		return fmt.Errorf("probing %s: %w (exec format error): %s", plat, ErrNoHandler, installHint(plat))
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("probing %s: %w: a handler matched but its interpreter was not found "+
			"(registered without flag F, or removed): %s", plat, ErrNoHandler, installHint(plat))
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("probing %s: running %s: %w: is its directory mounted noexec? set TMPDIR to another directory",
			plat, path, err)
	case errors.As(err, &exitErr):
		return fmt.Errorf("probing %s: %w: the probe %s (stderr %q): the registered interpreter is broken: %s",
			plat, ErrNoHandler, exitErr.ProcessState, stderr, installHint(plat))
	}
	return fmt.Errorf("probing %s: running %s: %w", plat, path, err)
}

func installHint(plat string) string {
	return fmt.Sprintf("run `polyarch emulation install %s` as root, or use private mode "+
		"(Linux >= 6.7) so polyarch registers a handler in its own user namespace", plat)
}
