package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/buildah/define"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/signature"
	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// Bases given as a layout or archive (FROM oci:DIR, oci-archive:FILE...)
// are copied into local storage by polyarch, one untagged image per
// platform, and handed to buildah by image ID. Left to buildah, each
// platform's build copies the whole layout into TMPDIR and never removes
// it, and the pulled image is tagged with a name made up from the layout's
// ref (localhost/latest:latest) that ends up, on some platforms only, in
// the org.opencontainers.image.base.name annotation. By ID, no copy is
// left behind, no name is invented, and every platform's image carries the
// same annotations: base.digest, and no base.name.

// layoutBase is one FROM of a stage whose image comes from a path.
type layoutBase struct {
	// Written is the FROM argument as written, before expansion: buildah
	// matches additional build contexts on it.
	Written string
	// Image is the expanded reference, e.g. oci-archive:base.tar.
	Image    string
	Platform specs.Platform
}

// layoutBases lists, for one target platform, the FROM arguments of the
// stages built that polyarch reads itself: those naming a path transport
// and, unless --pull=never, registry images (see registrybase.go). A FROM written once but
// meaning different images (say, two stages of different --platform) is
// left out, and buildah reads that base itself.
func (p *Plan) layoutBases(o *Options, target specs.Platform) ([]layoutBase, error) {
	return p.stageBases(o, target, func(i int, image string) bool { return p.importedBase(o, i, image) })
}

// stageBases lists, for one target platform, the FROM arguments of the
// stages built for which keep(stage index, expanded image) is true,
// leaving out those written once but meaning different images.
func (p *Plan) stageBases(o *Options, target specs.Platform, keep func(i int, image string) bool) ([]layoutBase, error) {
	cf := p.file
	built, err := cf.reachable(o.Target)
	if err != nil {
		return nil, err
	}
	found := map[string]layoutBase{}
	ambiguous := map[string]bool{}
	var order []string
	for i, s := range cf.Stages {
		image := cf.expand(s.Base, o.BuildArgs, target)
		if !built[i] || !keep(i, image) {
			continue
		}
		plat, err := cf.stagePlatform(s, o.BuildArgs, target)
		if err != nil {
			return nil, err
		}
		b := layoutBase{Written: s.Base, Image: image, Platform: plat}
		if prev, ok := found[s.Base]; ok {
			ambiguous[s.Base] = ambiguous[s.Base] || prev.Image != b.Image || emulation.FormatPlatform(prev.Platform) != emulation.FormatPlatform(b.Platform)
			continue
		}
		found[s.Base] = b
		order = append(order, s.Base)
	}
	var out []layoutBase
	for _, w := range order {
		if !ambiguous[w] {
			out = append(out, found[w])
		}
	}
	return out, nil
}

// isPathBase reports whether a FROM image names a path transport.
func isPathBase(image string) bool {
	t := alltransports.TransportFromImageName(image)
	return t != nil && isPathTransport(t.Name())
}

// importLayoutBases copies the platform's image of every layout base into
// local storage, untagged, and returns buildah's additional build
// contexts that replace each FROM, as written, by that image's ID.
// Copy progress goes to report (nil: nowhere).
func importLayoutBases(ctx context.Context, o *Options, plan *Plan, store storage.Store, sys *types.SystemContext, target specs.Platform, report io.Writer) (map[string]*define.AdditionalBuildContext, error) {
	bases, err := plan.layoutBases(o, target)
	if err != nil || len(bases) == 0 {
		return nil, err
	}
	if o.Pull == PullAlways && !plan.readsOnly(bases) {
		// buildah must pull the others with "always", which it refuses
		// for an image ID: it reads these bases itself too.
		return nil, nil
	}
	out := map[string]*define.AdditionalBuildContext{}
	for _, b := range bases {
		id, err := importBase(ctx, o, store, sys, b, report)
		var tooLarge *index.LayerTooLargeError
		if errors.As(err, &tooLarge) {
			err = tooLarge // containers/image removed the temporary file its wrapping names
		}
		if err != nil {
			return nil, fmt.Errorf("reading base image %s for %s: %w", b.Image, emulation.FormatPlatform(b.Platform), err)
		}
		if id == "" {
			continue // tagged in local storage: buildah reads it by name
		}
		out[b.Written] = &define.AdditionalBuildContext{IsImage: true, Value: id}
	}
	return out, nil
}

// importBase copies one platform's image of a layout or registry base
// into local storage under the ID its config gives it, with no name,
// unless it is there already, and returns that ID; "" for a registry
// base that local storage holds by name, which buildah reads itself.
func importBase(ctx context.Context, o *Options, store storage.Store, sys *types.SystemContext, b layoutBase, report io.Writer) (string, error) {
	refs, err := baseReferences(o, store, sys, b.Image)
	if err != nil {
		return "", err
	}
	if !isPathBase(b.Image) && refs[0].Transport().Name() == "containers-storage" {
		return "", nil
	}
	src, id, err := platformSource(ctx, sys, refs, b.Platform, report)
	if err != nil {
		return "", err
	}
	psys := *sys
	psys.OSChoice, psys.ArchitectureChoice, psys.VariantChoice = b.Platform.OS, b.Platform.Architecture, b.Platform.Variant
	recordBaseBlobs(ctx, o.baseBlobs, &psys, src)
	if storedID(store, id) {
		return id, nil
	}
	dest, err := is.Transport.NewStoreReference(store, nil, id)
	if err != nil {
		return "", err
	}
	policy, err := signature.DefaultPolicy(sys)
	if err != nil {
		return "", fmt.Errorf("reading signature policy: %w", err)
	}
	pc, err := signature.NewPolicyContext(policy)
	if err != nil {
		return "", fmt.Errorf("loading signature policy: %w", err)
	}
	defer func() { _ = pc.Destroy() }()
	_, err = cp.Image(ctx, pc, dest, index.BoundLayers(src, o.MaxLayerSize), &cp.Options{SourceCtx: &psys, DestinationCtx: sys, ReportWriter: report})
	if err == nil {
		o.imports.add(id)
	}
	return id, err
}

// readsOnly reports whether every image the build reads is one of bases.
func (p *Plan) readsOnly(bases []layoutBase) bool {
	for _, n := range p.needs {
		if !slices.ContainsFunc(bases, func(b layoutBase) bool { return b.Image == n.Image }) {
			return false
		}
	}
	return true
}

// buildahPullPolicy is the pull policy buildah gets: polyarch's, except
// that --pull=always becomes missing when polyarch read every base itself
// (buildah refuses "always" for an image ID; polyarch read them afresh).
func buildahPullPolicy(o *Options, imported map[string]*define.AdditionalBuildContext) define.PullPolicy {
	if o.Pull == PullAlways && len(imported) > 0 {
		return define.PullIfMissing
	}
	return pullPolicy(o.Pull)
}

// newWorkDir makes the directory that holds every temporary file of a
// build: in $TMPDIR, else /var/tmp, where containers/image and buildah put
// big files. The caller removes it on every exit path.
func newWorkDir() (string, error) {
	parent := os.Getenv("TMPDIR")
	if parent == "" {
		parent = "/var/tmp"
	}
	dir, err := os.MkdirTemp(parent, "polyarch-build-")
	if err != nil {
		return "", fmt.Errorf("creating a working directory in %s: %w (set TMPDIR to a writable directory)", parent, err)
	}
	return dir, nil
}
