package emulation

import (
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// EnvQEMUDir names the environment variable that, like --qemu-dir, sets the
// only directory searched for qemu interpreters.
const EnvQEMUDir = "POLYARCH_QEMU_DIR"

// Default interpreter locations (Debian's qemu-user-static).
const (
	defaultQEMUBin     = "/usr/bin"
	defaultQEMULibexec = "/usr/libexec/qemu-binfmt"
)

// errNotStatic marks an interpreter that is dynamically linked.
var errNotStatic = errors.New("dynamically linked")

// FindInterpreter returns the path of a statically linked qemu interpreter
// for e. If qemuDir is empty, $POLYARCH_QEMU_DIR is used instead. If either
// is set, only that directory is searched, for qemu-<QEMU>-static then
// qemu-<QEMU>. Otherwise the search order is /usr/bin/qemu-<QEMU>-static,
// /usr/libexec/qemu-binfmt/<QEMU>-binfmt-P, then qemu-<QEMU>-static and
// qemu-<QEMU> in $PATH. Dynamically linked candidates are skipped: they
// cannot start inside a build root that lacks the host's libraries.
func FindInterpreter(e Emulator, qemuDir string) (string, error) {
	dir := qemuDir
	if dir == "" {
		dir = os.Getenv(EnvQEMUDir)
	}
	candidates, where := interpreterCandidates(e, dir)
	var rejected error
	for _, c := range candidates {
		err := checkStatic(c)
		if err == nil {
			return c, nil
		}
		if rejected == nil && !errors.Is(err, fs.ErrNotExist) {
			rejected = err
		}
	}
	plat := FormatPlatform(e.Platform)
	if rejected != nil {
		return "", fmt.Errorf("finding qemu interpreter for %s: %w", plat, rejected)
	}
	return "", fmt.Errorf("finding qemu interpreter for %s: no qemu-%s-static in %s: "+
		"install the package qemu-user-static (apt-get install qemu-user-static) or pass --qemu-dir",
		plat, e.QEMU, where)
}

// interpreterCandidates lists the paths to try, and describes them for
// error messages.
func interpreterCandidates(e Emulator, dir string) ([]string, string) {
	static, plain := "qemu-"+e.QEMU+"-static", "qemu-"+e.QEMU
	if dir != "" {
		return []string{filepath.Join(dir, static), filepath.Join(dir, plain)},
			fmt.Sprintf("%s (set by --qemu-dir or $%s; no other place is searched)", dir, EnvQEMUDir)
	}
	c := []string{
		filepath.Join(defaultQEMUBin, static),
		filepath.Join(defaultQEMULibexec, e.QEMU+"-binfmt-P"),
	}
	for _, name := range []string{static, plain} {
		if p, err := exec.LookPath(name); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				c = append(c, abs)
			}
		}
	}
	return c, fmt.Sprintf("%s, %s or $PATH", defaultQEMUBin, defaultQEMULibexec)
}

// checkStatic returns nil if path is an executable, statically linked ELF
// file: no PT_INTERP program header and no DT_NEEDED entry.
func checkStatic(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("checking qemu interpreter %s: not an executable file: "+
			"install the package qemu-user-static (apt-get install qemu-user-static) or pass --qemu-dir", path)
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("checking qemu interpreter %s: not an ELF executable: %w", path, err)
	}
	defer f.Close()
	if needs := dynamicNeeds(f); needs != "" {
		return fmt.Errorf("checking qemu interpreter %s: %w (needs %s), so it fails inside the build root, "+
			"which has no host libraries: install Debian's statically linked qemu-user-static "+
			"(apt-get install qemu-user-static) or pass --qemu-dir with static binaries", path, errNotStatic, needs)
	}
	return nil
}

// dynamicNeeds returns what makes f dynamically linked (its program
// interpreter and needed libraries), or "" for a static executable.
// Static-PIE executables have a dynamic section but no PT_INTERP and no
// DT_NEEDED, so they count as static.
func dynamicNeeds(f *elf.File) string {
	var needs []string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b := make([]byte, p.Filesz)
			if _, err := p.ReadAt(b, 0); err == nil {
				needs = append(needs, strings.TrimRight(string(b), "\x00"))
			} else {
				needs = append(needs, "a program interpreter")
			}
		}
	}
	libs, _ := f.DynString(elf.DT_NEEDED)
	needs = append(needs, libs...)
	return strings.Join(needs, ", ")
}
