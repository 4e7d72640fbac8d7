package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/manifest"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/types"
)

// Inspection describes the top-level manifest of an image: an index (or
// Docker manifest list) and its entries, or a single image manifest.
type Inspection struct {
	// Name is the image as given: host/repo:tag for registries, else
	// transport:reference.
	Name string `json:"name"`
	// MediaType is the manifest's MIME type.
	MediaType string `json:"mediaType"`
	// Digest is the digest of Raw.
	Digest digest.Digest `json:"digest"`
	// Platform is the platform of a single image, read from its config;
	// nil for an index.
	Platform *specs.Platform `json:"platform,omitempty"`
	// Manifests are the entries of an index, in order; empty for a single
	// image.
	Manifests []specs.Descriptor `json:"manifests"`
	// Raw is the manifest exactly as stored.
	Raw []byte `json:"-"`
	// Referrers lists the referrers of the manifest and of each entry,
	// when asked for (see InspectReferrers); nil otherwise.
	Referrers []SubjectReferrers `json:"referrers,omitempty"`
}

// Inspect reads the top-level manifest of ref and parses it. It works on
// every transport, and on single images as on indexes. In an OCI layout
// or archive, a manifest whose own mediaType is not its descriptor's is a
// MediaTypeMismatchError; a manifest or config over MaxDocumentSize is a
// TooLargeError.
func Inspect(ctx context.Context, ref types.ImageReference, sys *types.SystemContext) (*Inspection, error) {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", displayName(ref), Explain(err, refName(ref)))
	}
	defer src.Close()
	return inspectSource(ctx, ref, src, sys)
}

// inspectSource is Inspect reading from src, an image source of ref the
// caller opened and closes.
func inspectSource(ctx context.Context, ref types.ImageReference, src types.ImageSource, sys *types.SystemContext) (*Inspection, error) {
	name := displayName(ref)
	raw, mime, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("reading manifest of %s: %w", name, Explain(err, refName(ref)))
	}
	d, err := manifest.Digest(raw)
	if err != nil {
		return nil, fmt.Errorf("computing digest of %s: %w", name, err)
	}
	if err := checkSizes(name, d, raw, mime); err != nil {
		return nil, err
	}
	if isLayout(ref) {
		if err := checkDescriptor(name, d, mime, raw); err != nil {
			return nil, err
		}
	}
	in := &Inspection{Name: name, MediaType: mime, Digest: d, Raw: raw, Manifests: []specs.Descriptor{}}
	if manifest.MIMETypeIsMultiImage(mime) {
		var list specs.Index
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("parsing index of %s: %w", name, err)
		}
		if list.Manifests != nil {
			in.Manifests = list.Manifests
		}
		return in, nil
	}
	p, err := configPlatform(ctx, sys, src, nil)
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", name, err)
	}
	if p.OS != "" || p.Architecture != "" {
		in.Platform = &p
	}
	return in, nil
}

// configPlatform returns the os, architecture, variant, os.version and
// os.features recorded in the config of src's image (or of its entry
// instance, if src is an index).
func configPlatform(ctx context.Context, sys *types.SystemContext, src types.ImageSource, instance *digest.Digest) (specs.Platform, error) {
	img, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(src, instance))
	if err != nil {
		return specs.Platform{}, err
	}
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return specs.Platform{}, err
	}
	return specs.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion, OSFeatures: cfg.OSFeatures}, nil
}

// WriteTable writes the inspection as docker buildx imagetools inspect
// does: name, media type and digest, then each entry with its platform
// and annotations.
func (in *Inspection) WriteTable(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Name:      %s\nMediaType: %s\nDigest:    %s\n", in.Name, in.MediaType, in.Digest)
	if in.Platform != nil {
		fmt.Fprintf(&b, "Platform:  %s\n", platformString(in.Platform))
	}
	if len(in.Manifests) > 0 {
		b.WriteString("\nManifests:\n")
	}
	for i, m := range in.Manifests {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  Digest:      %s\n  MediaType:   %s\n  Size:        %d\n  Platform:    %s\n", m.Digest, m.MediaType, m.Size, platformString(m.Platform))
		writeAnnotations(&b, m.Annotations)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeAnnotations lists annotations sorted by key, if there are any.
func writeAnnotations(b *strings.Builder, annotations map[string]string) {
	if len(annotations) == 0 {
		return
	}
	keys := make([]string, 0, len(annotations))
	for k := range annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("  Annotations:\n")
	for _, k := range keys {
		fmt.Fprintf(b, "    %s: %s\n", k, annotations[k])
	}
}

// platformString formats p as os/arch[/variant], or "-" when absent.
func platformString(p *specs.Platform) string {
	if p == nil || (p.OS == "" && p.Architecture == "") {
		return "-"
	}
	return emulation.FormatPlatform(*p)
}

// displayName names ref as a user would: host/repo:tag for registries,
// transport:reference otherwise (see refName).
func displayName(ref types.ImageReference) string {
	if ref.Transport().Name() == "docker" {
		if named := ref.DockerReference(); named != nil {
			return named.String()
		}
	}
	return refName(ref)
}

// refName formats ref with its transport; an image in local storage is
// named by its first name, or its ID, rather than by store paths.
func refName(ref types.ImageReference) string {
	if isStorage(ref) {
		if img, err := is.Transport.GetImage(ref); err == nil {
			if len(img.Names) > 0 {
				return "containers-storage:" + img.Names[0]
			}
			return "containers-storage:" + img.ID
		}
	}
	return transports.ImageName(ref)
}
