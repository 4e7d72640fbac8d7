package verify

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/image/v5/manifest"
)

// ErrMismatch is wrapped by Report.Err when an image is not what its
// labels say.
var ErrMismatch = errors.New("image does not match its platform labels")

// Kinds of index entries.
const (
	// KindImage is an image for a usable platform; it is verified.
	KindImage = "image"
	// KindAttestation is an attestation or other manifest annotated with
	// vnd.docker.reference.type: not an image, and not a problem.
	KindAttestation = "attestation"
	// KindInvalid is an entry consumers would mistake for an image: no
	// platform, unknown/unknown, or a nested index polyarch does not read.
	KindInvalid = "invalid"
)

// referenceType is the annotation buildx puts on attestation entries.
const referenceType = "vnd.docker.reference.type"

// Report is the verification of one image or index.
type Report struct {
	// Name is the image as Options.Name or the reference names it.
	Name      string        `json:"name"`
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	// Images are the verified images, in index order.
	Images []ImageReport `json:"images"`
	// Entries are the index entries that are not verified images.
	Entries []Entry `json:"entries,omitempty"`
}

// ImageReport is the verification of one platform's image.
type ImageReport struct {
	// Platform is the index entry's platform (a single image's config's).
	Platform string `json:"platform"`
	// Config is the platform its config records.
	Config string        `json:"config"`
	Digest digest.Digest `json:"digest"`
	// PlatformMismatch says how entry and config differ; "" when they agree.
	PlatformMismatch string `json:"platformMismatch,omitempty"`
	Layers           int    `json:"layers"`
	// Files is the number of regular files scanned in the final
	// filesystem; ELFFiles how many of them are ELF files.
	Files    int `json:"files"`
	ELFFiles int `json:"elfFiles"`
	// Mismatches are the ELF files not made for Platform, by path.
	Mismatches []Mismatch `json:"mismatches"`
	// Note explains a check that could not be made.
	Note string `json:"note,omitempty"`
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

// Entry is an index entry that is not a verified image.
type Entry struct {
	Index     int           `json:"index"`
	Kind      string        `json:"kind"`
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	// Platform is the entry's platform, "unknown" without one.
	Platform string `json:"platform"`
	// Reason says why the entry is invalid, or what an attestation refers to.
	Reason string `json:"reason"`
	// platform is the entry's platform, for verifying an image entry.
	platform *specs.Platform
}

// classify sorts the i-th entry d of an index.
func classify(i int, d specs.Descriptor) Entry {
	e := Entry{Index: i, Kind: KindImage, Digest: d.Digest, MediaType: d.MediaType, Platform: "unknown", platform: d.Platform}
	if d.Platform != nil {
		e.Platform = emulation.FormatPlatform(*d.Platform)
	}
	switch p := d.Platform; {
	case d.Annotations[referenceType] != "":
		e.Kind = KindAttestation
		e.Reason = fmt.Sprintf("%s for %s", d.Annotations[referenceType], d.Annotations["vnd.docker.reference.digest"])
	case p == nil:
		e.Kind, e.Reason = KindInvalid, "entry has no platform: consumers would take it for an image of any platform"
	case p.OS == "" || p.Architecture == "" || p.OS == "unknown" || p.Architecture == "unknown":
		e.Kind, e.Reason = KindInvalid, fmt.Sprintf("entry platform %q is no platform, and it is not annotated as an attestation", e.Platform)
	case manifest.MIMETypeIsMultiImage(d.MediaType):
		e.Kind, e.Reason = KindInvalid, "a nested index: polyarch verifies one level of index"
	}
	return e
}

// OK reports whether every image matches its labels and no entry is invalid.
func (r *Report) OK() bool {
	return r.Err() == nil
}

// Err returns nil when the report is OK, else an error wrapping
// ErrMismatch that names each problem (at most three files per platform).
func (r *Report) Err() error {
	var problems []string
	for _, img := range r.Images {
		if img.PlatformMismatch != "" {
			problems = append(problems, fmt.Sprintf("[%s] %s", img.Platform, img.PlatformMismatch))
		}
		for i, m := range img.Mismatches {
			if i == 3 {
				problems = append(problems, fmt.Sprintf("[%s] and %d more files", img.Platform, len(img.Mismatches)-i))
				break
			}
			problems = append(problems, fmt.Sprintf("[%s] %s: %s", img.Platform, m.Path, m.Reason))
		}
	}
	for _, e := range r.Entries {
		if e.Kind == KindInvalid {
			problems = append(problems, fmt.Sprintf("entry %d (%s): %s", e.Index, e.Digest, e.Reason))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("verifying %s: %w:\n  %s", r.Name, ErrMismatch, strings.Join(problems, "\n  "))
}

// maxListed is how many mismatching files WriteTable lists per platform.
const maxListed = 20

// WriteTable writes the report for people: one row per platform (files
// and ELF files checked, mismatches), then every other entry, then the
// mismatching files of each platform with their machine, and a verdict.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Name:      %s\nMediaType: %s\nDigest:    %s\n\n", r.Name, r.MediaType, r.Digest)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLATFORM\tCONFIG\tLAYERS\tFILES\tELF\tMISMATCHES")
	for _, img := range r.Images {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", img.Platform, img.Config, img.Layers, img.Files, img.ELFFiles, len(img.Mismatches))
	}
	_ = tw.Flush()
	for _, e := range r.Entries {
		fmt.Fprintf(&b, "entry %d %s (%s): %s: %s\n", e.Index, e.Digest, e.Platform, e.Kind, e.Reason)
	}
	for _, img := range r.Images {
		writeImageProblems(&b, img)
	}
	if err := r.Err(); err != nil {
		b.WriteString("\nFAILED: the image does not match its platform labels\n")
	} else {
		b.WriteString("\nOK: every image matches its platform\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeImageProblems lists what is wrong with one image.
func writeImageProblems(b *strings.Builder, img ImageReport) {
	if img.PlatformMismatch == "" && len(img.Mismatches) == 0 && img.Note == "" {
		return
	}
	fmt.Fprintf(b, "\n[%s] %s\n", img.Platform, img.Digest)
	if img.PlatformMismatch != "" {
		fmt.Fprintf(b, "  platform: %s\n", img.PlatformMismatch)
	}
	if img.Note != "" {
		fmt.Fprintf(b, "  note: %s\n", img.Note)
	}
	for i, m := range img.Mismatches {
		if i == maxListed {
			fmt.Fprintf(b, "  ... and %d more (--format json lists all)\n", len(img.Mismatches)-i)
			break
		}
		fmt.Fprintf(b, "  %s (layer %d): %s\n", m.Path, m.Layer, m.Reason)
	}
}
