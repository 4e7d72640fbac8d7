package emulation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"

	"go.podman.io/storage/pkg/reexec"
	"golang.org/x/sys/unix"
)

// privateCheckCommand is the name Status re-executes itself under, inside
// a new user and mount namespace. Programs using Status must call
// reexec.Init (or buildah.InitReexec) first thing in main.
const privateCheckCommand = "polyarch-emulation-private-check"

func init() {
	reexec.Register(privateCheckCommand, privateCheckMain)
}

// privateOutcome is what the private check reports, as JSON on stdout.
type privateOutcome struct {
	Error        string           `json:"error,omitempty"`
	Reregistered []string         `json:"reregistered"`
	Skipped      []SkippedHandler `json:"skipped"`
	Rows         []privateRow     `json:"rows"`
}

// privateRow is one platform's result in the private namespace.
type privateRow struct {
	Platform string `json:"platform"`
	// Handler serves the platform; Private is true if it was registered
	// in the private namespace rather than copied from the host.
	Handler     Handler `json:"handler"`
	Private     bool    `json:"private"`
	EnsureError string  `json:"ensureError,omitempty"`
	ProbeError  string  `json:"probeError,omitempty"`
}

// privateCheckMain runs in the re-executed child: os.Args are the command
// name, the mount point and the qemu directory.
func privateCheckMain() {
	var out privateOutcome
	if len(os.Args) != 3 {
		out.Error = fmt.Sprintf("private check: want 2 arguments, got %q", os.Args[1:])
	} else {
		out = privateCheck(context.Background(), os.Args[1], os.Args[2])
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}

// privateCheck does in this namespace what a private-mode build does.
func privateCheck(ctx context.Context, mnt, qemuDir string) privateOutcome {
	out := privateOutcome{Reregistered: []string{}}
	if err := isolateMounts(); err != nil {
		out.Error = err.Error()
		return out
	}
	m, err := MountPrivateReport(mnt)
	var rerr *ReregisterError
	if err != nil && !errors.As(err, &rerr) {
		out.Error = err.Error()
		return out
	} else if err != nil {
		out.Error = err.Error() // some host handlers are missing; go on
	}
	for _, h := range m.Reregistered {
		out.Reregistered = append(out.Reregistered, h.Name)
	}
	out.Skipped = m.Skipped
	for _, e := range table {
		row := privateRow{Platform: FormatPlatform(e.Platform)}
		h, _, err := Ensure(ctx, mnt, e, qemuDir)
		row.Handler, row.Private = h, h.Name != "" && !slices.Contains(out.Reregistered, h.Name)
		if err != nil {
			row.EnsureError = err.Error()
		}
		if err := probeEmulator(ctx, e); err != nil {
			row.ProbeError = err.Error()
		}
		out.Rows = append(out.Rows, row)
	}
	return out
}

// isolateMounts refuses to run in the initial user namespace, then makes
// every mount private so nothing mounted here propagates out.
func isolateMounts() error {
	initial, err := InitialUserNamespace()
	if err != nil {
		return err
	}
	if initial {
		return errors.New("isolating mounts: this process runs in the initial user namespace: refusing to touch the host")
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("isolating mounts: making / private: %w", err)
	}
	return nil
}

// runPrivateCheck runs privateCheckMain in a new user and mount namespace,
// with the ID maps of childIDMaps.
func runPrivateCheck(ctx context.Context, mnt, qemuDir string) (privateOutcome, error) {
	cmd := reexec.CommandContext(ctx, privateCheckCommand, mnt, qemuDir)
	uids, gids, setgroups := childIDMaps()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings:                uids,
		GidMappings:                gids,
		GidMappingsEnableSetgroups: setgroups,
		Pdeathsig:                  syscall.SIGKILL,
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = os.Environ()
	runErr := cmd.Run()
	var out privateOutcome
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return out, fmt.Errorf("checking private mode in a new user and mount namespace: %w (%v; stderr %q): "+
			"check that user namespaces are allowed (polyarch info)", err, runErr, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// childIDMaps returns the ID maps of the private check's namespace. Root
// maps every ID it has to itself, as builds run as root do; anyone else
// maps only their own IDs to root, which needs no newuidmap.
func childIDMaps() (uids, gids []syscall.SysProcIDMap, setgroups bool) {
	if os.Geteuid() != 0 {
		return []syscall.SysProcIDMap{{HostID: os.Geteuid(), Size: 1}}, []syscall.SysProcIDMap{{HostID: os.Getegid(), Size: 1}}, false
	}
	b, _ := os.ReadFile("/proc/self/setgroups")
	return identityMap("/proc/self/uid_map"), identityMap("/proc/self/gid_map"), strings.TrimSpace(string(b)) != "deny"
}

// identityMap maps every ID of this namespace's map file to itself; if the
// file cannot be read, only ID 0.
func identityMap(path string) []syscall.SysProcIDMap {
	var out []syscall.SysProcIDMap
	b, _ := os.ReadFile(path)
	for _, line := range strings.Split(string(b), "\n") {
		var inside, outside, size int
		if n, _ := fmt.Sscan(line, &inside, &outside, &size); n == 3 {
			out = append(out, syscall.SysProcIDMap{ContainerID: inside, HostID: inside, Size: size})
		}
	}
	if len(out) == 0 {
		out = []syscall.SysProcIDMap{{Size: 1}}
	}
	return out
}
