package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/polyarch/polyarch/session"
	"go.podman.io/buildah/define"
)

// How RUN steps are isolated (--isolation), as buildah names it.
const (
	// IsolationChroot runs RUN steps with buildah's chroot isolation, in
	// their own PID, IPC, UTS and mount namespaces with a fresh /proc and
	// a minimal /dev (see ServeRunNamespace). The default.
	IsolationChroot = "chroot"
	// IsolationOCI runs RUN steps with an OCI runtime (crun or runc).
	IsolationOCI = "oci"
)

// ociRuntimes are the OCI runtimes --isolation oci tries, in order.
var ociRuntimes = []string{"crun", "runc"}

// ociProbeTimeout bounds the probe of one OCI runtime.
const ociProbeTimeout = 20 * time.Second

// chrootReason says why chroot isolation is polyarch's default.
const chrootReason = "needs no OCI runtime, cgroups or network stack; each RUN step gets its own PID, IPC, UTS and mount namespaces, a fresh /proc and a minimal /dev"

// ParseIsolation checks an --isolation value; "" is chroot.
func ParseIsolation(s string) (string, error) {
	switch s {
	case "", IsolationChroot:
		return IsolationChroot, nil
	case IsolationOCI:
		return IsolationOCI, nil
	}
	return "", fmt.Errorf("invalid --isolation %q: use chroot (the default: %s) or oci (an OCI runtime, crun or runc, where one works here; see polyarch info)", s, chrootReason)
}

// IsolationInfo says which isolation builds use, why, and whether an OCI
// runtime works here for --isolation oci.
type IsolationInfo struct {
	// Default is the isolation of a build without --isolation.
	Default string `json:"default"`
	// Reason says why.
	Reason string `json:"reason"`
	// OCIRuntime is the OCI runtime --isolation oci uses; "" if none works.
	OCIRuntime string `json:"ociRuntime,omitempty"`
	// OCIRuntimes says, per runtime tried, where it is and whether it works.
	OCIRuntimes []string `json:"ociRuntimes"`
}

// isolationInfo probes the OCI runtimes for polyarch info; run it in
// polyarch's namespace, as a build runs.
func isolationInfo(ctx context.Context) IsolationInfo {
	in := IsolationInfo{Default: IsolationChroot, Reason: "chroot " + chrootReason}
	path, tried := findOCIRuntime(ctx)
	in.OCIRuntime, in.OCIRuntimes = path, tried
	if path == "" {
		in.Reason += "; it is the only isolation that works here (no OCI runtime does)"
	} else {
		in.Reason += "; an OCI runtime works here too: opt in with --isolation oci"
	}
	return in
}

// findOCIRuntime returns the first OCI runtime that runs a container
// here, and a line per runtime tried saying what happened.
func findOCIRuntime(ctx context.Context) (path string, tried []string) {
	for _, name := range ociRuntimes {
		p, err := exec.LookPath(name)
		if err != nil {
			tried = append(tried, name+": not found in PATH")
			continue
		}
		if err := probeOCIRuntime(ctx, p); err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		tried = append(tried, p+": works")
		if path == "" {
			path = p
		}
	}
	return path, tried
}

// ociRuntimeFor returns the OCI runtime a build with --isolation oci uses,
// or an error naming each runtime tried and the fallback.
func ociRuntimeFor(ctx context.Context) (string, error) {
	path, tried := findOCIRuntime(ctx)
	if path == "" {
		return "", fmt.Errorf("--isolation oci: no OCI runtime works here (%s): install crun or runc, or use --isolation chroot", strings.Join(tried, "; "))
	}
	return path, nil
}

// findRuntime finds the OCI runtime of IsolationOCI, before any step
// runs.
// Its state goes below work, which the build removes.
func (in *InputOptions) findRuntime(ctx context.Context, work string) error {
	if in.Isolation != IsolationOCI {
		return nil
	}
	path, err := ociRuntimeFor(ctx)
	in.ociRuntime, in.ociState = path, filepath.Join(work, "oci-state")
	return err
}

// runtimeArgs are the global options of the OCI runtime at path, keeping
// its state in state (its default, /run/NAME, is root's). runc takes
// polyarch's user namespace, which maps every ID for root, for the
// initial one and writes cgroups it may not write there: it is told it is
// rootless (it then leaves cgroups alone).
func runtimeArgs(path, state string) []string {
	args := []string{"--root", state}
	if filepath.Base(path) == "runc" && session.InUserNamespace() {
		args = append(args, "--rootless", "true")
	}
	return args
}

// applyIsolation sets buildah's isolation and runtime.
func applyIsolation(opts *define.BuildOptions, isolation, runtime, state string) {
	if isolation != IsolationOCI {
		opts.Isolation = define.IsolationChroot
		return
	}
	opts.Isolation, opts.Runtime, opts.RuntimeArgs = define.IsolationOCI, runtime, runtimeArgs(runtime, state)
}

// probeOCIRuntime runs the host's /bin/sh in a container of the runtime
// at path, in new PID, IPC, UTS and mount namespaces, as buildah's RUN
// steps would run (the host's /bin, /usr and library directories are
// bound read-only into an empty root), and checks that it runs as PID 1.
func probeOCIRuntime(ctx context.Context, path string) error {
	bundle, err := os.MkdirTemp("", "polyarch-oci-probe-")
	if err != nil {
		return fmt.Errorf("creating the probe's bundle: %w", err)
	}
	defer os.RemoveAll(bundle)
	spec, err := probeBundle(bundle)
	if err != nil {
		return fmt.Errorf("writing the probe's bundle: %w", err)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o600); err != nil {
		return fmt.Errorf("writing the probe's bundle: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, ociProbeTimeout)
	defer cancel()
	args := append(runtimeArgs(path, filepath.Join(bundle, "state")), "run", "--bundle", bundle, filepath.Base(bundle))
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		msg := shorten(strings.TrimSpace(string(out)), 300)
		if strings.Contains(msg, "unknown version") {
			msg += fmt.Sprintf(" (the runtime is older than OCI runtime-spec %s, which buildah writes)", rspec.Version)
		}
		return fmt.Errorf("a probe container failed: %w: %s", err, msg)
	}
	if got := strings.TrimSpace(string(out)); got != probeWant {
		return fmt.Errorf("a probe container printed %q, want %q (its own PID namespace)", shorten(got, 300), probeWant)
	}
	return nil
}

// probeWant is what the probe container prints.
const probeWant = "probe-pid-1"

// shorten cuts s to at most n bytes.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// probeBundle makes the probe's root in bundle and returns its OCI
// configuration.
func probeBundle(bundle string) (*rspec.Spec, error) {
	rootfs := filepath.Join(bundle, "rootfs")
	if err := os.MkdirAll(filepath.Join(rootfs, "proc"), 0o755); err != nil {
		return nil, err
	}
	mounts := []rspec.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=64k"}},
	}
	for _, dir := range []string{"/bin", "/usr", "/lib", "/lib64", "/lib32"} {
		fi, err := os.Lstat(dir)
		switch {
		case err != nil:
			continue
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(dir)
			if err != nil {
				return nil, err
			}
			if err := os.Symlink(target, filepath.Join(rootfs, dir)); err != nil {
				return nil, err
			}
		case fi.IsDir():
			mounts = append(mounts, rspec.Mount{Destination: dir, Type: "bind", Source: dir, Options: []string{"rbind", "ro"}})
		}
	}
	return &rspec.Spec{
		Version:  rspec.Version,
		Root:     &rspec.Root{Path: rootfs},
		Hostname: "polyarch-probe",
		Process: &rspec.Process{
			Args: []string{"/bin/sh", "-c", "echo probe-pid-$$"}, Cwd: "/", Env: []string{"PATH=/usr/bin:/bin"},
			Capabilities: &rspec.LinuxCapabilities{}, NoNewPrivileges: true,
		},
		Mounts: mounts,
		Linux: &rspec.Linux{Namespaces: []rspec.LinuxNamespace{
			{Type: rspec.PIDNamespace}, {Type: rspec.IPCNamespace}, {Type: rspec.UTSNamespace}, {Type: rspec.MountNamespace},
		}},
	}, nil
}
