package builder

import (
	"context"
	"os"
	"os/exec"
	"strings"

	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/session"
	"go.podman.io/storage/pkg/unshare"
	"golang.org/x/sys/unix"
)

// InfoReport is what a bug report needs to know about polyarch's host,
// as `buildah info` and `podman info` report it.
type InfoReport struct {
	Host      HostInfo      `json:"host"`
	Store     StoreInfo     `json:"store"`
	Emulation EmulationInfo `json:"emulation"`
	Isolation IsolationInfo `json:"isolation"`
}

// HostInfo describes the kernel, the user and its user namespace.
type HostInfo struct {
	Kernel            string   `json:"kernel"`
	Arch              string   `json:"arch"`
	Rootless          bool     `json:"rootless"`
	UID               int      `json:"uid"`
	UserNamespaces    bool     `json:"userNamespaces"`
	MaxUserNamespaces string   `json:"maxUserNamespaces"`
	Newuidmap         string   `json:"newuidmap"`
	UIDMap            []string `json:"uidMap"`
	GIDMap            []string `json:"gidMap"`
	SingleMapping     bool     `json:"singleMapping"`
}

// StoreInfo describes local containers-storage as polyarch opens it.
type StoreInfo struct {
	Driver string `json:"driver"`
	// DriverReason says why that driver: configured (and by what),
	// found in store, or default.
	DriverReason  string   `json:"driverReason"`
	DriverOptions []string `json:"driverOptions"`
	GraphRoot     string   `json:"graphRoot"`
	RunRoot       string   `json:"runRoot"`
	ImageCount    int      `json:"imageCount"`
	// Error says why the store could not be opened, if it could not.
	Error string `json:"error,omitempty"`
}

// EmulationInfo describes qemu emulation support.
type EmulationInfo struct {
	PrivateSupported bool           `json:"privateSupported"`
	PrivateReason    string         `json:"privateReason,omitempty"`
	Emulators        []EmulatorInfo `json:"emulators"`
}

// EmulatorInfo is one platform's emulator as found on this host.
type EmulatorInfo struct {
	Platform    string `json:"platform"`
	Native      bool   `json:"native"`
	Interpreter string `json:"interpreter,omitempty"`
	Error       string `json:"error,omitempty"`
}

// Info gathers an InfoReport, opening the store as a build would. Run it
// after entering the namespace EnterNamespace returns so rootless storage and ID maps are the build's;
// if entering failed, pass that error as nsErr: the store is then
// reported as unavailable, with the reason, and the rest still gathered.
func Info(ctx context.Context, o session.StoreOptions, qemuDir string, nsErr error) (*InfoReport, error) {
	r := &InfoReport{Host: hostInfo()}
	if nsErr != nil {
		r.Store.Error = nsErr.Error()
	} else {
		s, err := storeInfo(o)
		if err != nil {
			return nil, err
		}
		r.Store = s
	}
	r.Isolation = isolationInfo(ctx)
	r.Emulation.PrivateSupported, r.Emulation.PrivateReason = emulation.PrivateSupported()
	for _, e := range emulation.Table() {
		ei := EmulatorInfo{Platform: emulation.FormatPlatform(e.Platform), Native: emulation.Native(e.Platform)}
		if !ei.Native {
			if p, err := emulation.FindInterpreter(e, qemuDir); err != nil {
				ei.Error = err.Error()
			} else {
				ei.Interpreter = p
			}
		}
		r.Emulation.Emulators = append(r.Emulation.Emulators, ei)
	}
	return r, nil
}

// storeInfo opens the store and describes it. A store that cannot be
// resolved or opened is reported as unavailable, with the reason.
func storeInfo(o session.StoreOptions) (StoreInfo, error) {
	c, err := session.ResolveStore(o)
	if err != nil {
		return StoreInfo{Error: err.Error()}, nil
	}
	store, err := session.OpenStore(c, nil)
	if err != nil {
		return StoreInfo{Error: err.Error()}, nil
	}
	defer func() { _, _ = store.Shutdown(false) }()
	imgs, err := store.Images()
	if err != nil {
		return StoreInfo{}, err
	}
	return StoreInfo{Driver: store.GraphDriverName(), DriverReason: string(c.DriverReason), DriverOptions: store.GraphOptions(), GraphRoot: store.GraphRoot(), RunRoot: store.RunRoot(), ImageCount: len(imgs)}, nil
}

// hostInfo reads kernel, user and user namespace facts.
func hostInfo() HostInfo {
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	h := HostInfo{
		Kernel:            unix.ByteSliceToString(uts.Release[:]),
		Arch:              unix.ByteSliceToString(uts.Machine[:]),
		Rootless:          session.Rootless(),
		UID:               unshare.GetRootlessUID(),
		MaxUserNamespaces: readTrimmed("/proc/sys/user/max_user_namespaces"),
		UIDMap:            readLines("/proc/self/uid_map"),
		GIDMap:            readLines("/proc/self/gid_map"),
		SingleMapping:     session.SingleMapping(),
	}
	h.UserNamespaces = h.MaxUserNamespaces != "" && h.MaxUserNamespaces != "0" && readTrimmed("/proc/sys/kernel/unprivileged_userns_clone") != "0"
	h.Newuidmap, _ = exec.LookPath("newuidmap")
	return h
}

// readTrimmed returns a file's content without surrounding space, or "".
func readTrimmed(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// readLines returns a file's lines with runs of spaces collapsed.
func readLines(path string) []string {
	var out []string
	for _, l := range strings.Split(readTrimmed(path), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, strings.Join(f, " "))
		}
	}
	return out
}
