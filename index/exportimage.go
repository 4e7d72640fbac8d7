package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/archive"
	"go.podman.io/image/v5/docker/reference"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
)

// Export formats of ExportImage, the type= of polyarch export -o.
const (
	// ExportOCI writes an OCI layout directory holding the platform's image.
	ExportOCI = "oci"
	// ExportDockerArchive writes a docker-archive tar file, as `docker
	// save` does: what `podman load`, trivy and grype read.
	ExportDockerArchive = "docker-archive"
	// ExportTar writes the platform's flattened root filesystem as one
	// tar file: every layer applied in order, whiteouts honoured.
	ExportTar = "tar"
)

// ImageExportOptions configures ExportImage.
type ImageExportOptions struct {
	// Platforms to export; each must be one the source offers.
	Platforms []specs.Platform
	// All exports every platform the source offers; Platforms is ignored.
	All bool
	// Type is ExportOCI, ExportDockerArchive or ExportTar.
	Type string
	// Dest is the directory (oci) or file to write. With All or several
	// platforms, each platform's goes to Dest with the platform added
	// before its extension: out.tar becomes out-linux-arm64.tar.
	Dest string
	// SourceCtx configures access to the source (TLS, credentials).
	SourceCtx *types.SystemContext
	// ReportWriter receives progress; nil means silence.
	ReportWriter io.Writer

	// named is the source as given, whose name outputs record.
	named types.ImageReference
}

// ExportedImage is one platform's image written by ExportImage.
type ExportedImage struct {
	Platform specs.Platform
	// Dest is where it was written.
	Dest string
}

// Validate checks the options before any work; its errors name the flags.
func (o ImageExportOptions) Validate() error {
	switch o.Type {
	case ExportOCI, ExportDockerArchive, ExportTar:
	case "":
		return errors.New("-o needs type=: oci, docker-archive or tar")
	default:
		return fmt.Errorf("invalid -o type=%s: use oci, docker-archive or tar", o.Type)
	}
	if o.Dest == "" {
		return fmt.Errorf("-o type=%s needs dest=PATH", o.Type)
	}
	if !o.All && len(o.Platforms) == 0 {
		return errors.New("export needs --platform: OS/ARCH[/VARIANT], a comma list, or all")
	}
	return nil
}

// ExportImage writes the image of each chosen platform of src (any
// transport: a registry, a layout, an archive, local storage) to its own
// output. Every platform and every destination is checked before
// anything is written; each output appears complete or not at all.
func ExportImage(ctx context.Context, src types.ImageReference, o ImageExportOptions) ([]ExportedImage, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o.named = src
	src, cleanup, err := readableSource(ctx, src, o.SourceCtx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	plan, err := planCopy(ctx, src, CopyOptions{SourceCtx: o.SourceCtx, Platforms: o.Platforms})
	if err != nil {
		return nil, err
	}
	chosen := o.Platforms
	if o.All {
		chosen = plan.offered
	}
	if len(chosen) == 0 {
		return nil, fmt.Errorf("%s lists no platform image to export", refName(src))
	}
	outs := make([]ExportedImage, len(chosen))
	for i, p := range chosen {
		outs[i] = ExportedImage{Platform: emulation.NormalizePlatform(p), Dest: o.Dest}
		if o.All || len(chosen) > 1 {
			outs[i].Dest = platformPath(o.Dest, p)
		}
		if err := checkExportTarget(outs[i].Dest, o.Type); err != nil {
			return nil, err
		}
	}
	for _, out := range outs {
		if err := exportPlatform(ctx, src, o, out); err != nil {
			return nil, fmt.Errorf("exporting the %s image of %s to %s: %w", emulation.FormatPlatform(out.Platform), refName(src), out.Dest, err)
		}
	}
	return outs, nil
}

// platformPath adds the platform to path before its extension:
// out.tar, linux/arm/v7 -> out-linux-arm-v7.tar.
func platformPath(path string, p specs.Platform) string {
	ext := filepath.Ext(path)
	if strings.HasSuffix(path, string(filepath.Separator)) || ext == path {
		ext = ""
	}
	suffix := strings.ReplaceAll(emulation.FormatPlatform(emulation.NormalizePlatform(p)), "/", "-")
	return strings.TrimSuffix(strings.TrimSuffix(path, string(filepath.Separator)), ext) + "-" + suffix + ext
}

// checkExportTarget refuses a destination whose replacement would lose
// data (see CheckExportDest).
func checkExportTarget(dest, typ string) error {
	abs, err := filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("resolving output %q: %w", dest, err)
	}
	if typ == ExportOCI {
		return CheckExportDest(abs, false)
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return fmt.Errorf("refusing to replace directory %s with a %s file: give dest= a file path", dest, typ)
	}
	return nil
}

// exportPlatform writes one platform's image.
func exportPlatform(ctx context.Context, src types.ImageReference, o ImageExportOptions, out ExportedImage) error {
	sys := platformContext(o.SourceCtx, out.Platform)
	if o.Type == ExportOCI {
		st, err := stageExport(ExportOptions{Dest: out.Dest, RefName: exportRefName(o.named)}, func(dest types.ImageReference) error {
			return copySystemImage(ctx, src, dest, sys, o.ReportWriter)
		})
		if err != nil {
			return err
		}
		defer st.Discard()
		return st.Commit(ctx)
	}
	return writeFileAtomically(ctx, out.Dest, func(path string) error {
		if o.Type == ExportTar {
			return flattenImage(ctx, src, sys, path)
		}
		dest, err := archive.NewReference(path, archiveName(o.named))
		if err != nil {
			return err
		}
		return copySystemImage(ctx, src, dest, sys, o.ReportWriter)
	})
}

// platformContext returns a copy of sys choosing platform p in indexes.
func platformContext(sys *types.SystemContext, p specs.Platform) *types.SystemContext {
	out := types.SystemContext{}
	if sys != nil {
		out = *sys
	}
	out.OSChoice, out.ArchitectureChoice, out.VariantChoice = p.OS, p.Architecture, p.Variant
	return &out
}

// copySystemImage copies the image sys chooses out of src to dest.
func copySystemImage(ctx context.Context, src, dest types.ImageReference, sys *types.SystemContext, report io.Writer) error {
	policy, err := policyContext(sys)
	if err != nil {
		return err
	}
	defer func() { _ = policy.Destroy() }()
	_, err = cp.Image(ctx, policy, dest, src, &cp.Options{
		SourceCtx: sys, DestinationCtx: sys, ReportWriter: report, ImageListSelection: cp.CopySystemImage, RemoveSignatures: true,
	})
	return err
}

// exportRefName is the ref name of an OCI export: the source's tag, else
// "latest".
func exportRefName(src types.ImageReference) string {
	if t := archiveName(src); t != nil {
		return t.Tag()
	}
	return "latest"
}

// archiveName is the name a docker-archive records for src: its
// registry name and tag, or its first name in local storage, when it has
// one (podman load then tags it so), else none.
func archiveName(src types.ImageReference) reference.NamedTagged {
	named := src.DockerReference()
	if named == nil && isStorage(src) {
		if img, err := is.Transport.GetImage(src); err == nil && len(img.Names) > 0 {
			named, _ = reference.ParseNormalizedNamed(img.Names[0])
		}
	}
	if t, ok := named.(reference.NamedTagged); ok {
		return t
	}
	return nil
}

// writeFileAtomically lets write fill a file in a staging directory
// next to dest, then renames it over dest under its lock
// (ArchiveLockPath).
func writeFileAtomically(ctx context.Context, dest string, write func(path string) error) error {
	abs, err := filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("resolving output %q: %w", dest, err)
	}
	tmp, err := newStagingDir(abs)
	if err != nil {
		return err
	}
	defer tmp.remove()
	staged := filepath.Join(tmp.path, "out")
	if err := write(staged); err != nil {
		return err
	}
	if err := syncDir(staged); err != nil {
		return fmt.Errorf("flushing %s: %w", dest, err)
	}
	return replaceArchive(ctx, staged, abs)
}

// ParseExportOutput parses an export -o value, type=TYPE,dest=PATH, into
// o.Type and o.Dest.
func ParseExportOutput(s string, o *ImageExportOptions) error {
	for _, field := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(field, "=")
		switch {
		case ok && k == "type":
			o.Type = v
		case ok && k == "dest":
			o.Dest = v
		default:
			return fmt.Errorf("invalid -o %q: use type=oci,dest=DIR, type=docker-archive,dest=FILE or type=tar,dest=FILE", s)
		}
	}
	return nil
}

// readableSource returns src, or, for an index in local storage (whose
// entries are images of their own, which containers/image cannot select
// from it), a staged OCI layout of it; call cleanup when done.
func readableSource(ctx context.Context, src types.ImageReference, sys *types.SystemContext) (types.ImageReference, func(), error) {
	if !isStorage(src) {
		return src, func() {}, nil
	}
	store := is.Transport.GetStoreIfSet()
	img, err := is.Transport.GetImage(src)
	if store == nil || err != nil {
		return src, func() {}, nil // Inspect explains what is missing
	}
	if list, err := isStoredList(store, img.ID); err != nil || !list {
		return src, func() {}, nil
	}
	return stageStoredList(ctx, src, sys)
}
