package verify

import (
	"context"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/verify/check"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/types"
)

// Options configures Image. The zero value scans the default directories.
type Options struct {
	// AllFiles scans every file of every image, not only the program and
	// library directories.
	AllFiles bool
	// Name is what the report calls the image; default: the reference with
	// its transport.
	Name string
}

// Image verifies the image or index ref on any transport: every image's
// platform labels against its config and the ELF files of its layers, and
// every index entry for a usable platform (see the package doc). A
// mismatch is not an error: it is in the report (Report.OK, Report.Err);
// the error is for an image that cannot be read.
func Image(ctx context.Context, ref types.ImageReference, sys *types.SystemContext, o Options) (*Report, error) {
	name := o.Name
	if name == "" {
		name = transports.ImageName(ref)
	}
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", name, err)
	}
	defer src.Close()
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading manifest of %s: %w", name, err)
	}
	top, err := decodeTop(raw, mime)
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", name, err)
	}
	rep := &Report{Name: name, MediaType: top.mediaType, Digest: digest.FromBytes(raw), Images: []ImageReport{}}
	if !top.index {
		ir, err := verifyImage(ctx, sys, src, nil, nil, o)
		if err != nil {
			return nil, fmt.Errorf("verifying %s: %w", name, err)
		}
		rep.Images = append(rep.Images, *ir)
		return rep, nil
	}
	for _, e := range top.entries {
		if e.Kind != KindImage {
			rep.Entries = append(rep.Entries, e)
			continue
		}
		ir, err := verifyEntry(ctx, sys, ref, src, e, o)
		if err != nil {
			return nil, fmt.Errorf("verifying %s, %s image %s: %w", name, e.Platform, e.Digest, err)
		}
		rep.Images = append(rep.Images, *ir)
	}
	return rep, nil
}

// verifyEntry checks the image of index entry e of ref (open as src).
func verifyEntry(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, src types.ImageSource, e Entry, o Options) (*ImageReport, error) {
	isrc, instance, done, err := instanceSource(ctx, sys, ref, src, e.Digest)
	if err != nil {
		return nil, err
	}
	defer done()
	return verifyImage(ctx, sys, isrc, instance, e.Declared, o)
}

// verifyImage checks one image of src (instance nil: src's only image)
// against the platform of its index entry (nil: of its config).
func verifyImage(ctx context.Context, sys *types.SystemContext, src types.ImageSource, instance *digest.Digest, entry *specs.Platform, o Options) (*ImageReport, error) {
	img, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(src, instance))
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	config := specs.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	label := config
	if entry != nil {
		label = *entry
	}
	raw, _, err := img.Manifest(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	ir := &ImageReport{Platform: emulation.FormatPlatform(label), Config: emulation.FormatPlatform(config), Digest: digest.FromBytes(raw), Mismatches: []Mismatch{}}
	if !samePlatform(label, config) {
		ir.PlatformMismatch = fmt.Sprintf("index entry says %s, config says %s", ir.Platform, ir.Config)
	}
	exp, known := check.Expect(label)
	if !known {
		ir.Note = fmt.Sprintf("polyarch knows no ELF machine for %s: ELF files counted, not checked", ir.Platform)
	}
	s := check.NewScan(o.AllFiles)
	layers := img.LayerInfos()
	for i, l := range layers {
		if err := readLayer(ctx, src, s, i+1, l); err != nil {
			return nil, fmt.Errorf("reading layer %d of %d (%s): %w", i+1, len(layers), l.Digest, err)
		}
	}
	ir.Layers = len(layers)
	ir.Files, ir.ELFFiles, ir.Mismatches = s.Results(exp, known)
	if ir.Mismatches == nil {
		ir.Mismatches = []Mismatch{}
	}
	return ir, nil
}

// readLayer streams one layer blob of src through s as layer n,
// decompressing it on the fly.
func readLayer(ctx context.Context, src types.ImageSource, s *check.Scan, n int, l types.BlobInfo) error {
	rc, _, err := src.GetBlob(ctx, l, none.NoCache)
	if err != nil {
		return err
	}
	defer rc.Close()
	r, _, err := compression.AutoDecompress(rc)
	if err != nil {
		return fmt.Errorf("decompressing: %w", err)
	}
	defer r.Close()
	return s.Layer(ctx, n, r)
}

// samePlatform compares os, architecture and variant after normalisation,
// so arm64 equals arm64/v8 and arm equals arm/v7.
func samePlatform(a, b specs.Platform) bool {
	a, b = emulation.NormalizePlatform(a), emulation.NormalizePlatform(b)
	return a.OS == b.OS && a.Architecture == b.Architecture && a.Variant == b.Variant
}

// topLevel is a decoded top-level manifest.
type topLevel struct {
	mediaType string
	index     bool
	entries   []Entry
}

// decodeTop decodes the top-level manifest raw of MIME type mime (guessed
// when empty): an index or manifest list is decoded into classified
// entries, in order; anything else is a single image.
func decodeTop(raw []byte, mime string) (topLevel, error) {
	if mime == "" {
		mime = manifest.GuessMIMEType(raw)
	}
	if !check.IsIndex(mime) {
		return topLevel{mediaType: mime}, nil
	}
	entries, err := check.DecodeIndex(raw, mime)
	if err != nil {
		return topLevel{}, err
	}
	return topLevel{mediaType: mime, index: true, entries: entries}, nil
}
