package builder

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Descriptors of RUN steps.
//
// Go's os/exec passes a child every descriptor that lacks close-on-exec,
// not only Stdin, Stdout, Stderr and ExtraFiles, and buildah's chroot
// processes open nothing close-on-exec that they pass on. A RUN step
// under chroot isolation saw, besides 0, 1 and 2: fd 3, the read end of
// the configuration pipe buildah-chroot-exec reads and closes only when
// the step has ended (chroot/run_common.go, `defer confPipe.Close()`),
// and every descriptor whoever started polyarch left open (a shell's
// /dev/null on 10 and a pipe on 251, make's jobserver pipes), carried
// through polyarch, buildah's runtime and its exec. polyarch marks every
// descriptor from 3 up close-on-exec in each of those processes as it
// starts (reading a descriptor still works), and hands on the runtime's
// configuration through a pipe of its own: a RUN step gets 0, 1 and 2
// only. runc closes everything else itself (--isolation oci).

// chrootExec is the argv[0] of the process buildah's chroot runtime
// starts in the rootfs, which starts the RUN step.
const chrootExec = "buildah-chroot-exec"

// closeOnExecFrom marks every descriptor from low up close-on-exec.
func closeOnExecFrom(low int) error {
	if err := unix.CloseRange(uint(low), math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	// Kernels before 5.11: one by one.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("listing this process's descriptors: %w", err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < low {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && err != unix.EBADF {
			return fmt.Errorf("marking descriptor %d close-on-exec: %w", fd, err)
		}
	}
	return nil
}

// runtimeConfig is what buildah's chroot runtime reads from fd 3, raw,
// and the part of it polyarch looks at.
type runtimeConfig struct {
	raw  []byte
	Spec *rspec.Spec
}

// readRuntimeConfig reads the configuration buildah writes to its chroot
// runtime's fd 3 (buildah closes its end once written).
func readRuntimeConfig(r io.Reader) (*runtimeConfig, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading buildah's runtime configuration: %w", err)
	}
	c := &runtimeConfig{raw: raw}
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("decoding buildah's runtime configuration: %w", err)
	}
	if c.Spec == nil {
		return nil, fmt.Errorf("buildah's runtime configuration holds no runtime spec")
	}
	return c, nil
}

// pipe returns the read end of a new pipe from which the configuration
// can be read again, as buildah's runtime reads it from fd 3.
func (c *runtimeConfig) pipe() (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating a pipe for buildah's runtime configuration: %w", err)
	}
	go func() {
		_, _ = w.Write(c.raw) // a failed runtime fails to read it and says so
		w.Close()
	}()
	return r, nil
}
