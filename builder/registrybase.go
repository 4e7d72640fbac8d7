package builder

import (
	"context"
	"fmt"
	"io"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Registry bases are read by polyarch too, one untagged image per
// platform handed to buildah by ID, as layout bases are (see
// layoutbase.go). Left to buildah, every platform pulls the same name:
// the name moves to the image pulled last, and with --jobs > 1 whether a
// platform's image still bears it when buildah records the base ("FROM
// NAME" in the first history comment, or a name cut at its first colon
// when it has lost it) depends on timing, so two identical builds gave
// different digests. By ID the comment is never written: same input,
// same bytes, at any --jobs. A base local storage holds by name (pulled
// by podman, say) and --pull=never are left to buildah, which then reads
// local storage only; as the images polyarch reads are untagged, a later
// build with --pull=missing reads the registry's manifest again (not the
// layers it has).

// importedBase reports whether polyarch copies the image that stage i's
// FROM names (expanded: image) into local storage itself: a layout or
// archive, or, unless --pull=never, a registry image by name.
func (p *Plan) importedBase(o *Options, i int, image string) bool {
	return isPathBase(image) || (o.Pull != PullNever && p.isRegistryBase(o, i, image))
}

// isRegistryBase reports whether image, the FROM of stage i, names a
// registry image: not scratch, a stage, a named context or an image ID.
func (p *Plan) isRegistryBase(o *Options, i int, image string) bool {
	if image == "" || strings.EqualFold(image, "scratch") || p.file.stageIndex(image, i) >= 0 {
		return false
	}
	if _, isContext := contextImage(mustContexts(o), image); isContext {
		return false
	}
	if index.HasTransport(image) {
		t := alltransports.TransportFromImageName(image)
		return t != nil && t.Name() == "docker"
	}
	_, err := reference.ParseNormalizedNamed(image)
	return err == nil
}

// platformSource returns the first of refs whose image for platform is
// that platform's, with the image's config ID. Only images in local
// storage are checked: a name there may hold another platform's image;
// a registry or layout gives the image its index lists for platform
// (mislabelled bases are checked elsewhere, see --allow-mislabelled-base).
func platformSource(ctx context.Context, sys *types.SystemContext, refs []types.ImageReference, platform specs.Platform, report io.Writer) (types.ImageReference, string, error) {
	psys := *sys
	psys.OSChoice, psys.ArchitectureChoice, psys.VariantChoice = platform.OS, platform.Architecture, platform.Variant
	var errs []string
	for _, ref := range refs {
		if named := ref.DockerReference(); named != nil && ref.Transport().Name() == "docker" && report != nil {
			fmt.Fprintf(report, "Trying to pull %s...\n", named.String())
		}
		id, got, err := configOf(ctx, &psys, ref)
		if err == nil && (ref.Transport().Name() != "containers-storage" || samePlatform(got, platform)) {
			return ref, id, nil
		}
		if err == nil {
			err = fmt.Errorf("it holds %s", emulation.FormatPlatform(got))
		}
		errs = append(errs, fmt.Sprintf("%s: %v", ref.Transport().Name()+":"+ref.StringWithinTransport(), err))
	}
	return nil, "", fmt.Errorf("no %s image: %s", emulation.FormatPlatform(platform), strings.Join(errs, "; "))
}

// configOf returns the config ID and platform of ref's image for sys.
func configOf(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) (string, specs.Platform, error) {
	img, err := metadataImage(ctx, sys, ref)
	if err != nil {
		return "", specs.Platform{}, err
	}
	defer img.Close()
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return "", specs.Platform{}, err
	}
	return img.ConfigInfo().Digest.Encoded(), specs.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}, nil
}

// storedID reports whether store holds the image id already.
func storedID(store storage.Store, id string) bool {
	_, err := store.Image(id)
	return err == nil
}
