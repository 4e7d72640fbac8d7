package builder

import (
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/pkg/shortnames"
)

// baseNameAnnotation returns the org.opencontainers.image.base.name
// annotation buildah means every platform's image to carry when the
// built stage starts from a fully qualified registry name, or "". Left to
// buildah, platforms built at once in one store race for that name as
// they pull it, and only some images keep the annotation; setting it
// explicitly gives every platform, and every rebuild, the same manifest.
func (p *Plan) baseNameAnnotation(o *Options, target specs.Platform) string {
	cf := p.file
	last := len(cf.Stages) - 1
	if o.Target != "" {
		last = cf.stageIndex(o.Target, len(cf.Stages))
	}
	if last < 0 {
		return ""
	}
	image := cf.expand(cf.Stages[last].Base, o.BuildArgs, target)
	if _, isContext := contextImage(mustContexts(o), image); isContext {
		return ""
	}
	if image == "" || strings.EqualFold(image, "scratch") || cf.stageIndex(image, last) >= 0 || index.HasTransport(image) || shortnames.IsShortName(image) {
		return ""
	}
	return specs.AnnotationBaseImageName + "=" + image
}

// mustContexts returns the named contexts, which Validate has checked.
func mustContexts(o *Options) map[string]namedContext {
	named, _ := parseBuildContexts(o.Inputs.BuildContexts)
	return named
}
