package verify

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	digest "github.com/opencontainers/go-digest"
	"github.com/polyarch/polyarch/verify/check"
)

// ErrMismatch is wrapped by Report.Err when an image is not what its
// labels say.
var ErrMismatch = errors.New("image does not match its platform labels")

// Kinds of index entries, as Entry.Kind says.
const (
	KindImage       = check.KindImage
	KindAttestation = check.KindAttestation
	KindInvalid     = check.KindInvalid
)

// Mismatch is one ELF file that does not fit its image's platform.
type Mismatch = check.Mismatch

// Entry is an index entry that is not a verified image: an attestation
// or an invalid entry.
type Entry = check.Entry

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
