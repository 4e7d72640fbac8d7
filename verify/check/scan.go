package check

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Whiteout names, as the OCI image spec and overlayfs-based tools write
// them in layer tars.
const (
	whiteoutPrefix = ".wh."
	opaqueWhiteout = ".wh..wh..opq"
)

// defaultDirs are scanned, with every top-level lib* and usr/lib*
// directory, unless a scan is of all files.
var defaultDirs = []string{"bin/", "sbin/", "usr/bin/", "usr/sbin/", "usr/local/bin/"}

// excludedDirs hold ELF files for other processors on purpose (device
// firmware, cross-compiler runtimes, boot loader modules); they are not
// scanned by default.
var excludedDirs = []string{"lib/firmware/", "usr/lib/firmware/", "usr/lib/gcc-cross/", "usr/lib/grub/"}

// fileState is the last state of a regular file in the layers read so far.
type fileState struct {
	layer int
	elf   *ELFHeader // nil when the file is not ELF
}

// Scan follows every path through an image's layers, bottom to top. Layers
// are numbered from 1; a deletion recorded for layer n hides only what
// layers below n added.
type Scan struct {
	all   bool
	files map[string]fileState
	// gone[p] = n: a whiteout in layer n deleted p and everything below it.
	gone map[string]int
	// under[p] = n: layer n hid everything strictly below p (an opaque
	// directory, or p replaced by a non-directory).
	under map[string]int
}

// NewScan returns an empty scan; all scans every path, not only the
// default directories.
func NewScan(all bool) *Scan {
	return &Scan{all: all, files: map[string]fileState{}, gone: map[string]int{}, under: map[string]int{}}
}

// inScope reports whether the file at p (clean, relative) is scanned.
func (s *Scan) inScope(p string) bool {
	if s.all {
		return true
	}
	for _, d := range excludedDirs {
		if strings.HasPrefix(p, d) {
			return false
		}
	}
	for _, d := range defaultDirs {
		if strings.HasPrefix(p, d) {
			return true
		}
	}
	top, rest, _ := strings.Cut(strings.TrimPrefix(p, "usr/"), "/")
	return strings.HasPrefix(top, "lib") && rest != ""
}

// Layer reads the uncompressed layer tar r as layer n.
func (s *Scan) Layer(ctx context.Context, n int, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		if err := s.entry(n, hdr, tr); err != nil {
			return fmt.Errorf("reading %q: %w", hdr.Name, err)
		}
	}
}

// entry records one tar entry of layer n; body is its content.
func (s *Scan) entry(n int, hdr *tar.Header, body io.Reader) error {
	p := cleanPath(hdr.Name)
	if p == "" {
		return nil
	}
	dir, base := path.Split(p)
	switch {
	case base == opaqueWhiteout:
		s.under[strings.TrimSuffix(dir, "/")] = n
		return nil
	case strings.HasPrefix(base, whiteoutPrefix):
		s.gone[dir+strings.TrimPrefix(base, whiteoutPrefix)] = n
		return nil
	}
	delete(s.files, p)
	if hdr.Typeflag != tar.TypeDir {
		s.under[p] = n
	}
	if !s.inScope(p) {
		return nil
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		h, err := readHeader(body, hdr.Size)
		if err != nil {
			return err
		}
		s.files[p] = fileState{layer: n, elf: h}
	case tar.TypeLink:
		if target, ok := s.files[cleanPath(hdr.Linkname)]; ok {
			s.files[p] = fileState{layer: n, elf: target.elf}
		}
	}
	return nil
}

// readHeader reads the ELF header at the start of a file of size bytes;
// nil when the file is not ELF or too short to be one.
func readHeader(body io.Reader, size int64) (*ELFHeader, error) {
	buf := make([]byte, min(size, HeaderSize))
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, err
	}
	h, err := ReadELFHeader(buf)
	if err != nil {
		return nil, nil // not ELF, or a header no loader would accept
	}
	return &h, nil
}

// cleanPath turns a tar name into a clean relative path, "" for the root.
func cleanPath(name string) string {
	p := strings.TrimPrefix(path.Clean("/"+name), "/")
	return p
}

// alive reports whether the file p added by layer n survives every layer
// above it.
func (s *Scan) alive(p string, n int) bool {
	if s.gone[p] > n {
		return false
	}
	for a := p; a != ""; {
		a = parent(a)
		if s.gone[a] > n || s.under[a] > n {
			return false
		}
	}
	return true
}

// parent returns the directory of p, "" for a top-level name.
func parent(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Results returns the number of files and ELF files in scope in the
// image's final filesystem, and the ELF files that do not fit e (none
// when known is false), sorted by path.
func (s *Scan) Results(e Expectation, known bool) (files, elfs int, bad []Mismatch) {
	paths := make([]string, 0, len(s.files))
	for p := range s.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		st := s.files[p]
		if !s.alive(p, st.layer) {
			continue
		}
		files++
		if st.elf == nil {
			continue
		}
		elfs++
		if !known {
			continue
		}
		if why := e.Mismatch(*st.elf); why != "" {
			bad = append(bad, Mismatch{Path: "/" + p, Layer: st.layer, Machine: Describe(*st.elf), ELF: *st.elf, Reason: why})
		}
	}
	return files, elfs, bad
}

// Mismatch is one ELF file that does not fit its image's platform.
type Mismatch struct {
	Path string `json:"path"`
	// Layer is the 1-based layer that holds the file.
	Layer int `json:"layer"`
	// Machine describes the file's header, e.g. "EM_AARCH64 64-bit LSB
	// (linux/arm64)".
	Machine string    `json:"machine"`
	ELF     ELFHeader `json:"elf"`
	Reason  string    `json:"reason"`
}
