package emulation

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultMountPoint is where binfmt_misc is normally mounted.
const DefaultMountPoint = "/proc/sys/fs/binfmt_misc"

// DefaultFlags are the handler flags polyarch registers with: P (preserve
// argv[0], for busybox-style multi-call binaries) and F (open the
// interpreter at registration, so it works inside chroots and other mount
// namespaces).
const DefaultFlags = "PF"

var (
	// ErrExists is returned (wrapped) when a handler of that name is
	// already registered.
	ErrExists = errors.New("already registered")
	// ErrNotRegistered is returned (wrapped) when no handler of that name
	// exists.
	ErrNotRegistered = errors.New("not registered")
	// ErrNotMounted is returned (wrapped) when no binfmt_misc file system is
	// mounted at the given mount point.
	ErrNotMounted = errors.New("binfmt_misc is not mounted")
)

// Handler is one binfmt_misc entry.
type Handler struct {
	// Name is the entry's file name, e.g. "qemu-aarch64".
	Name string `json:"name"`
	// Interpreter is the program the kernel runs with the binary.
	Interpreter string `json:"interpreter"`
	// Flags are the entry's flags as the kernel prints them (P, O, C, F).
	Flags string `json:"flags"`
	// Enabled is false when the entry was disabled (echo 0 > entry).
	Enabled bool `json:"enabled"`
	// Magic and Mask are \x-escaped like Emulator's. Mask may be empty.
	Magic string `json:"magic,omitempty"`
	Mask  string `json:"mask,omitempty"`
	// Offset is where Magic is matched in the file.
	Offset int `json:"offset"`
	// Extension is set, without its dot, for entries that match a file
	// name extension instead of magic bytes.
	Extension string `json:"extension,omitempty"`
}

// Mounted reports whether a binfmt_misc file system is mounted at mnt.
func Mounted(mnt string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		return false, fmt.Errorf("checking binfmt_misc mount %s: %w", mnt, err)
	}
	return st.Type == unix.BINFMTFS_MAGIC, nil
}

// ReadHandlers returns every entry of the binfmt_misc mounted at mnt except
// register and status, sorted by name.
func ReadHandlers(mnt string) ([]Handler, error) {
	if err := requireMounted(mnt); err != nil {
		return nil, fmt.Errorf("reading binfmt_misc handlers: %w", err)
	}
	entries, err := os.ReadDir(mnt)
	if err != nil {
		return nil, fmt.Errorf("reading binfmt_misc handlers in %s: %w", mnt, err)
	}
	var hs []Handler
	for _, ent := range entries {
		if ent.Name() == "register" || ent.Name() == "status" {
			continue
		}
		h, err := ReadHandler(mnt, ent.Name())
		if errors.Is(err, ErrNotRegistered) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// ReadHandler returns the entry called name of the binfmt_misc mounted at
// mnt. A missing entry gives an error wrapping ErrNotRegistered.
func ReadHandler(mnt, name string) (Handler, error) {
	if err := requireMounted(mnt); err != nil {
		return Handler{}, fmt.Errorf("reading binfmt_misc handler %s: %w", name, err)
	}
	if name == "" || name == "register" || name == "status" || strings.Contains(name, "/") {
		return Handler{}, fmt.Errorf("reading binfmt_misc handler %q: invalid name", name)
	}
	b, err := os.ReadFile(filepath.Join(mnt, name))
	if errors.Is(err, os.ErrNotExist) {
		return Handler{}, fmt.Errorf("reading binfmt_misc handler %s at %s: %w", name, mnt, ErrNotRegistered)
	}
	if err != nil {
		return Handler{}, fmt.Errorf("reading binfmt_misc handler %s at %s: %w", name, mnt, err)
	}
	h, err := parseEntry(name, string(b))
	if err != nil {
		return Handler{}, fmt.Errorf("reading binfmt_misc handler %s at %s: %w", name, mnt, err)
	}
	return h, nil
}

func requireMounted(mnt string) error {
	ok, err := Mounted(mnt)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w at %s: mount it (mount -t binfmt_misc binfmt_misc %s, as root) or use private mode",
			ErrNotMounted, mnt, mnt)
	}
	return nil
}

// parseEntry parses an entry file as printed by the kernel's
// fs/binfmt_misc.c (entry_status).
func parseEntry(name, text string) (Handler, error) {
	h := Handler{Name: name}
	for i, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if i == 0 {
			if line != "enabled" && line != "disabled" {
				return h, fmt.Errorf("parsing entry: first line %q is neither enabled nor disabled", line)
			}
			h.Enabled = line == "enabled"
			continue
		}
		if err := parseEntryLine(&h, line); err != nil {
			return h, fmt.Errorf("parsing entry line %q: %w", line, err)
		}
	}
	return h, nil
}

func parseEntryLine(h *Handler, line string) error {
	key, val, _ := strings.Cut(line, " ")
	var err error
	switch key {
	case "interpreter":
		h.Interpreter = val
	case "flags:":
		h.Flags = val
	case "offset":
		h.Offset, err = strconv.Atoi(val)
	case "magic":
		h.Magic, err = hexToEscaped(val)
	case "mask":
		h.Mask, err = hexToEscaped(val)
	case "extension":
		h.Extension = strings.TrimPrefix(val, ".")
	}
	return err
}

// hexToEscaped turns the kernel's hex dump into a \x-escaped string.
func hexToEscaped(s string) (string, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return "", err
	}
	return escapeBytes(b), nil
}

// escapeBytes \x-escapes every byte of b.
func escapeBytes(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, `\x%02x`, c)
	}
	return sb.String()
}

// unescapeBytes decodes a \x-escaped string as the kernel does for magic
// and mask (only \xHH and \\ escapes are accepted).
func unescapeBytes(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && s[i+1] == 'x':
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("decoding %q: bad escape at byte %d: %w", s, i, err)
			}
			out = append(out, byte(v))
			i += 3
		default:
			return nil, fmt.Errorf("decoding %q: bad escape at byte %d: only \\xHH and \\\\ are allowed", s, i)
		}
	}
	return out, nil
}
