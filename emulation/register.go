package emulation

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxRegisterLength is the kernel's limit on a register string
// (MAX_REGISTER_LENGTH in fs/binfmt_misc.c).
const maxRegisterLength = 1920

// Register registers e's qemu handler, named HandlerName(e), in the
// binfmt_misc mounted at mnt, with the given interpreter (an absolute path,
// see FindInterpreter) and flags (normally DefaultFlags). If the name is
// taken the error wraps ErrExists.
func Register(mnt string, e Emulator, interpreter, flags string) error {
	return RegisterHandler(mnt, Handler{
		Name:        HandlerName(e),
		Interpreter: interpreter,
		Flags:       flags,
		Magic:       e.Magic,
		Mask:        e.Mask,
	})
}

// RegisterHandler registers h in the binfmt_misc mounted at mnt. Enabled is
// ignored (new entries are enabled); the flag O, which C implies, is
// accepted. If the name is taken the error wraps ErrExists.
func RegisterHandler(mnt string, h Handler) error {
	line, err := registerString(h)
	if err != nil {
		return fmt.Errorf("registering binfmt_misc handler %s: %w", h.Name, err)
	}
	f, err := os.OpenFile(filepath.Join(mnt, "register"), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("registering binfmt_misc handler %s: %w", h.Name, openHint(mnt, err))
	}
	_, err = f.Write([]byte(line))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("registering binfmt_misc handler %s at %s: %w", h.Name, mnt, writeHint(h, err))
	}
	return nil
}

// registerString builds ":name:type:offset:magic:mask:interpreter:flags",
// the form binfmt.d(5) files use too; offset 0 is left empty.
func registerString(h Handler) (string, error) {
	if err := checkHandler(h); err != nil {
		return "", err
	}
	kind, offset, magic, mask := "M", "", h.Magic, h.Mask
	if h.Offset != 0 {
		offset = fmt.Sprint(h.Offset)
	}
	if h.Extension != "" {
		kind, offset, magic, mask = "E", "", h.Extension, ""
	}
	line := strings.Join([]string{"", h.Name, kind, offset, magic, mask, h.Interpreter, h.Flags}, ":")
	if len(line) > maxRegisterLength {
		return "", fmt.Errorf("register string is %d bytes, the kernel accepts at most %d", len(line), maxRegisterLength)
	}
	return line, nil
}

func checkHandler(h Handler) error {
	switch {
	case h.Name == "" || h.Name == "." || h.Name == ".." || h.Name == "register" || h.Name == "status" ||
		strings.ContainsAny(h.Name, ":/"):
		return fmt.Errorf("invalid name %q: use a non-empty name without ':' or '/' other than register and status", h.Name)
	case !filepath.IsAbs(h.Interpreter) || strings.Contains(h.Interpreter, ":"):
		return fmt.Errorf("invalid interpreter %q: use an absolute path without ':'", h.Interpreter)
	case strings.Trim(h.Flags, "POCF") != "":
		return fmt.Errorf("invalid flags %q: valid flags are P, O, C and F", h.Flags)
	case h.Extension == "" && h.Magic == "":
		return fmt.Errorf("no magic and no extension: set one of them")
	case strings.ContainsAny(h.Magic+h.Mask+h.Extension, ":\n"):
		return fmt.Errorf("magic, mask or extension contains ':' or a newline: escape them as \\x3a and \\x0a")
	}
	return nil
}

// openHint explains a failure to open the register file.
func openHint(mnt string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%w at %s (no register file): mount it (mount -t binfmt_misc binfmt_misc %s, as root) "+
			"or use private mode", ErrNotMounted, mnt, mnt)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w: not permitted in this namespace: run as root, "+
			"or use private mode to register in polyarch's own user namespace (Linux >= 6.7)", err)
	}
	return err
}

// writeHint explains the kernel's answer to a register string.
func writeHint(h Handler, err error) error {
	switch {
	case errors.Is(err, syscall.EEXIST):
		return fmt.Errorf("%s is %w: unregister it first (echo -1 > <mount>/%s) to change it", h.Name, ErrExists, h.Name)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("%w: interpreter %s not found", err, h.Interpreter)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w: not permitted in this namespace: run as root, "+
			"or use private mode to register in polyarch's own user namespace (Linux >= 6.7)", err)
	case errors.Is(err, syscall.EINVAL):
		return fmt.Errorf("%w: the kernel rejected the handler (magic %q, mask %q, flags %q)", err, h.Magic, h.Mask, h.Flags)
	}
	return err
}

// Unregister removes the handler called name from the binfmt_misc mounted
// at mnt by writing -1 to its entry. A missing handler gives an error
// wrapping ErrNotRegistered.
func Unregister(mnt, name string) error {
	if name == "" || name == "register" || name == "status" || strings.ContainsAny(name, "/") {
		return fmt.Errorf("unregistering binfmt_misc handler %q: invalid name", name)
	}
	if err := requireMounted(mnt); err != nil {
		return fmt.Errorf("unregistering binfmt_misc handler %s: %w", name, err)
	}
	err := writeExisting(filepath.Join(mnt, name), "-1")
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("unregistering binfmt_misc handler %s at %s: %w", name, mnt, ErrNotRegistered)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("unregistering binfmt_misc handler %s at %s: %w: not permitted in this namespace: run as root",
			name, mnt, err)
	case err != nil:
		return fmt.Errorf("unregistering binfmt_misc handler %s at %s: %w", name, mnt, err)
	}
	return nil
}

// writeExisting writes s to an existing file in one write, never creating
// it (binfmt_misc entries act on each write).
func writeExisting(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(s))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
