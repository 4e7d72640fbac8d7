package emulation

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

//go:generate env POLYARCH_UPDATE_CONTRIB=1 go test -count=1 -run ^TestContribBinfmtD$ .

// DefaultConfDir is where Persist writes: the binfmt.d(5) directory for
// local configuration, which systemd-binfmt reads at boot.
const DefaultConfDir = "/etc/binfmt.d"

// confMarker starts every file polyarch writes; Unpersist removes only
// files that start with it.
const confMarker = "# Written by `polyarch emulation install --persist`"

// systemConfDirs are the binfmt.d(5) directories, highest priority first.
var systemConfDirs = []string{"/etc/binfmt.d", "/run/binfmt.d", "/usr/local/lib/binfmt.d", "/usr/lib/binfmt.d"}

// ConfOptions selects binfmt.d directories. Zero values mean the system's.
type ConfOptions struct {
	// Dir is where polyarch's files are written and removed; default
	// DefaultConfDir.
	Dir string
	// SearchDirs are every directory systemd-binfmt reads, highest
	// priority first; default /etc, /run, /usr/local/lib and /usr/lib
	// binfmt.d.
	SearchDirs []string
}

func (o ConfOptions) withDefaults() ConfOptions {
	if o.Dir == "" {
		o.Dir = DefaultConfDir
	}
	if o.SearchDirs == nil {
		o.SearchDirs = systemConfDirs
	}
	return o
}

// ConfName returns the file name polyarch persists e's handler in,
// "polyarch-qemu-<QEMU>.conf".
func ConfName(e Emulator) string {
	return "polyarch-" + HandlerName(e) + ".conf"
}

// ConfFile returns the binfmt.d(5) file that registers e's handler with
// interpreter and DefaultFlags: a comment, then the register line, e.g.
// ":qemu-aarch64:M::<magic>:<mask>:/usr/bin/qemu-aarch64-static:PF".
func ConfFile(e Emulator, interpreter string) (string, error) {
	line, err := registerString(Handler{Name: HandlerName(e), Interpreter: interpreter, Flags: DefaultFlags,
		Magic: e.Magic, Mask: e.Mask})
	if err != nil {
		return "", fmt.Errorf("writing binfmt.d line for %s: %w", HandlerName(e), err)
	}
	return fmt.Sprintf("%s for %s.\n# systemd-binfmt registers it at boot; `polyarch emulation uninstall` removes it.\n%s\n",
		confMarker, strings.Join(sharedPlatforms(e), ", "), line), nil
}

// sharedPlatforms lists the table's platforms served by e's handler.
func sharedPlatforms(e Emulator) []string {
	var out []string
	for _, t := range table {
		if t.QEMU == e.QEMU {
			out = append(out, FormatPlatform(t.Platform))
		}
	}
	return out
}

// Persist makes systemd-binfmt register e's handler at boot. If a
// binfmt.d file that polyarch did not write already defines a handler of
// that name (Debian's qemu-user-static ships /usr/lib/binfmt.d/qemu-*.conf),
// it writes nothing, since a second definition would fail at boot, and
// returns that file (removing polyarch's own file, which would clash with
// it). Otherwise it writes ConfFile with the interpreter
// FindInterpreter finds in qemuDir to ConfName(e) in the directory, and
// returns its path.
func Persist(e Emulator, qemuDir string, o ConfOptions) (string, error) {
	o = o.withDefaults()
	own := filepath.Join(o.Dir, ConfName(e))
	if other, err := definingConf(o.SearchDirs, HandlerName(e), own); err != nil || other != "" {
		if err == nil {
			_, err = Unpersist(e, o) // ours would clash with it at boot
		}
		return other, err
	}
	interp, err := FindInterpreter(e, qemuDir)
	if err != nil {
		return "", fmt.Errorf("persisting %s: %w", HandlerName(e), err)
	}
	content, err := ConfFile(e, interp)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(own, []byte(content)); err != nil {
		return "", fmt.Errorf("persisting %s in %s: %w: run as root, or drop --persist", HandlerName(e), own, err)
	}
	return own, nil
}

// writeFileAtomic writes data to path through a temporary sibling.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

// Unpersist removes ConfName(e) from the directory if polyarch wrote it.
// It returns the removed path, or "" if there was no such file.
func Unpersist(e Emulator, o ConfOptions) (string, error) {
	path := filepath.Join(o.withDefaults().Dir, ConfName(e))
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("removing %s: %w", path, err)
	}
	if !bytes.HasPrefix(b, []byte(confMarker)) {
		return "", fmt.Errorf("removing %s: it was not written by polyarch (no %q line): remove it yourself if it is unwanted",
			path, confMarker)
	}
	if err := os.Remove(path); err != nil {
		return "", fmt.Errorf("removing %s: %w: run as root", path, err)
	}
	return path, nil
}

// definingConf returns the effective binfmt.d file, other than skip, that
// defines a handler called name, or "". As systemd-binfmt does, a file name
// found in several directories counts only in the first, and a file linked
// to /dev/null masks the name.
func definingConf(dirs []string, name, skip string) (string, error) {
	effective := map[string]string{}
	for _, dir := range dirs {
		matches, err := filepath.Glob(filepath.Join(dir, "*.conf"))
		if err != nil {
			return "", err
		}
		for _, m := range matches {
			if _, seen := effective[filepath.Base(m)]; !seen {
				effective[filepath.Base(m)] = m
			}
		}
	}
	names := make([]string, 0, len(effective))
	for base := range effective {
		names = append(names, base)
	}
	sort.Strings(names)
	for _, base := range names {
		path := effective[base]
		if path != skip && confDefines(path, name) {
			return path, nil
		}
	}
	return "", nil
}

// confDefines reports whether the binfmt.d file at path has a rule for
// a handler called name. Unreadable files and /dev/null define nothing.
func confDefines(path, name string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		fields := strings.Split(line[1:], line[:1]) // the first character is the delimiter
		if fields[0] == name {
			return true
		}
	}
	return false
}
