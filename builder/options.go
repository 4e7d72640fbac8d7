package builder

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"github.com/polyarch/polyarch/session"
)

// PullPolicy says when base images are fetched from their source.
type PullPolicy string

// Pull policies, as podman build spells them.
const (
	PullAlways  PullPolicy = "always"
	PullMissing PullPolicy = "missing"
	PullNever   PullPolicy = "never"
)

// ParsePullPolicy accepts always, missing (also "true"/"ifmissing") and never
// (also "false").
func ParsePullPolicy(s string) (PullPolicy, error) {
	switch strings.ToLower(s) {
	case "", "missing", "ifmissing", "true":
		return PullMissing, nil
	case "always":
		return PullAlways, nil
	case "never", "false":
		return PullNever, nil
	}
	return "", fmt.Errorf("invalid --pull value %q: use always, missing or never", s)
}

// OutputType names where a build's index is written besides local storage.
type OutputType string

// Output types accepted by --output type=...
const (
	OutputOCI        OutputType = "oci"
	OutputOCIArchive OutputType = "oci-archive"
	// OutputRegistry pushes the index to the registry of every tag, as
	// --push does.
	OutputRegistry OutputType = "registry"
)

// Output is one extra destination of the built index.
type Output struct {
	Type OutputType
	// Dest is a directory for OutputOCI and a file for OutputOCIArchive;
	// unused for OutputRegistry, which pushes to the tags.
	Dest string
}

// Options describes one multi-platform build. The zero value of each field
// is its documented default.
type Options struct {
	// ContextDir is the build context directory. Required.
	ContextDir string
	// Containerfile is the path of the Containerfile; default: Containerfile,
	// then Dockerfile, in ContextDir.
	Containerfile string
	// Tags name the resulting index in local storage. Default: none (the
	// index is stored untagged and reported by ID).
	Tags []string
	// Platforms to build, in the order the index lists them. Default: the host's.
	Platforms []specs.Platform
	// BuildArgs are --build-arg values.
	BuildArgs map[string]string
	// Target is the stage to build; default: the last.
	Target string
	// Jobs is how many platforms are built at once; default (0): all.
	Jobs int
	// NoCache disables the layer cache: every step runs (--no-cache);
	// with Cache.To, the new images are still pushed to the cache.
	NoCache bool
	// Cache configures the layer cache, local and in registries.
	Cache CacheOptions
	// Format of the result: FormatOCI (default, also "") or FormatDocker.
	Format string
	// Pull is the pull policy for base images; default: missing.
	Pull PullPolicy
	// Registry configures registry access (TLS, credentials) for base
	// images and pushes.
	Registry index.RegistryOptions
	// Retry is how many times a failed pull or push is retried, with
	// backoff; default (0): none.
	Retry int
	// Outputs are written after the index is stored, each atomically.
	Outputs []Output
	// Compression of the layers of every output; default gzip.
	Compression index.Compression
	// Sign signs every image manifest and the index pushed to registries.
	Sign index.SignOptions
	// Store locates local containers-storage.
	Store session.StoreOptions
	// Emulation configures qemu-user-static handlers for foreign platforms.
	Emulation EmulationOptions
	// Stdout receives build step output, prefixed by platform. Default: discard.
	Stdout io.Writer
	// Stderr receives progress and warnings, prefixed by platform. Default: discard.
	Stderr io.Writer
	// Quiet suppresses step output; it implies Progress quiet.
	Quiet bool
	// Progress is how progress is shown; default: auto.
	Progress ProgressMode
	// liveStatus is set by Validate when auto progress draws status lines.
	liveStatus bool
	// Metadata is what the build sets on the result besides its content,
	// and the files that describe the result.
	Metadata MetadataOptions
	// Inputs are what RUN, COPY and FROM read besides the build context.
	Inputs InputOptions
	// Time clamps the result's timestamps, for reproducible builds.
	Time TimeOptions
	// Verify checks the result with package verify before anything is
	// tagged or published; a mismatch fails the build. Default: off.
	Verify bool
	// AllowMislabelledBase builds from a base whose index entry's platform
	// differs from its image's config, with a warning; default: refuse
	// before any step runs.
	AllowMislabelledBase bool
	// MaxLayerSize caps the inflated size of a gzip layer of a base image
	// polyarch reads into local storage (registry and layout bases, see
	// importBase); past it the build fails naming the base, the platform
	// and the layer (--max-layer-size). 0: index.DefaultMaxLayerSize.
	MaxLayerSize int64
	// Fanout configures push by digest, partial results and the guard
	// against shrinking a published index.
	Fanout FanoutOptions
	// Provenance attaches SLSA provenance to pushes (--provenance).
	Provenance ProvenanceOptions
	// Plan is the build's plan, made by NewPlan from these options, so
	// that the Containerfile is parsed and planned once per process.
	// Default (nil): Build makes it.
	Plan *Plan
	// imports are the images this build read from layouts into local
	// storage (see imports.go); Build sets it.
	imports *importSet
	// archives are the oci-archive: bases this build unpacked (see
	// archivebase.go); nil: containers/image untars them on every read.
	archives *archiveDirs
	// wholeCache reuses the images of earlier builds with the same
	// inputs (see wholecache.go); Build sets it.
	wholeCache *wholeCache
	// baseBlobs is the stager's pool, told where the imported bases'
	// compressed blobs are (see baseblobs.go); nil when nothing is staged.
	baseBlobs *index.SharedLayers
}

// EmulationOptions configures emulation of foreign platforms.
type EmulationOptions struct {
	// Mode is auto, private or host (see package emulation). Default: auto.
	Mode string
	// QEMUDir is searched for qemu-*-static first; default: POLYARCH_QEMU_DIR,
	// then the usual locations.
	QEMUDir string
}

// PlatformImage is one platform's image of a Result.
type PlatformImage struct {
	Platform specs.Platform
	// ImageID is the image's ID in local storage.
	ImageID string
	// Digest is the digest of the image's manifest, as Result.Digest.
	Digest string
	// Summary is what the platform's build did and where its time went.
	Summary *PlatformSummary
}

// Result describes a finished build.
type Result struct {
	// ID is what the tags name in local storage: the index of several
	// platforms, or the image of a single platform.
	ID string
	// Digest is the digest of that index or image manifest as every
	// output holds it (layers compressed); without outputs, as local
	// storage holds it.
	Digest string
	// IndexID is the ID of the index (manifest list) in local storage; ""
	// for a single platform.
	IndexID string
	// IndexDigest is the digest of the stored index; "" for one platform.
	IndexDigest string
	// Images are the platform images, in requested platform order.
	Images []PlatformImage
	// Report is every requested platform's outcome, in requested order,
	// with --keep-going; nil otherwise.
	Report []PlatformReport
	// pushedName is REG/REPO@DIGEST after --push-by-digest.
	pushedName string
	// outputs describes the manifests as the outputs hold them, when the
	// metadata file needs them; nil otherwise.
	outputs *outputManifests
}

// resolveContainerfile fills Containerfile with its default and checks
// that context and file exist.
func (o *Options) resolveContainerfile() error {
	if o.ContextDir == "" {
		return fmt.Errorf("no build context given: pass a directory, e.g. polyarch build .")
	}
	st, err := os.Stat(o.ContextDir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("build context %q is not a directory", o.ContextDir)
	}
	if o.Inputs.ContainerfileData != nil {
		return nil
	}
	if o.Containerfile != "" {
		if _, err := os.Stat(o.Containerfile); err != nil {
			return fmt.Errorf("reading Containerfile %q: %w", o.Containerfile, err)
		}
		return nil
	}
	for _, name := range []string{"Containerfile", "Dockerfile"} {
		p := filepath.Join(o.ContextDir, name)
		if _, err := os.Stat(p); err == nil {
			o.Containerfile = p
			return nil
		}
	}
	return fmt.Errorf("no Containerfile or Dockerfile in %q: pass one with -f", o.ContextDir)
}

// Validate fills defaults and checks the options for contradictions and
// bad values before any work starts; Build calls it too. Its errors are
// usage errors: they name the flag and what to do.
func (o *Options) Validate() error {
	if err := o.resolveContainerfile(); err != nil {
		return err
	}
	if o.Jobs < 0 {
		return fmt.Errorf("invalid --jobs %d: use 0 (all platforms at once) or more", o.Jobs)
	}
	if _, err := emulation.ParseMode(o.Emulation.Mode); err != nil {
		return err
	}
	if o.MaxLayerSize < 0 {
		return fmt.Errorf("invalid --max-layer-size %d: give a positive size such as 64GiB", o.MaxLayerSize)
	}
	if o.Retry < 0 {
		return fmt.Errorf("invalid --retry %d: use 0 or more", o.Retry)
	}
	if err := o.Compression.Validate(); err != nil {
		return err
	}
	if err := o.resolveProgress(); err != nil {
		return err
	}
	if o.Pull == "" {
		o.Pull = PullMissing
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []specs.Platform{emulation.HostPlatform()}
	}
	for _, out := range o.Outputs {
		if err := o.validateOutput(out); err != nil {
			return err
		}
	}
	if err := o.Fanout.validate(); err != nil {
		return err
	}
	if err := o.validateShrink(); err != nil {
		return err
	}
	if err := o.Cache.validate(); err != nil {
		return err
	}
	if err := o.validateSign(); err != nil {
		return err
	}
	if err := o.validateFormat(); err != nil {
		return err
	}
	return o.validateFlags()
}

// validateOutput checks one output against the rest of the options.
func (o *Options) validateOutput(out Output) error {
	switch out.Type {
	case OutputOCI, OutputOCIArchive:
		if out.Dest == "" {
			return fmt.Errorf("--output type=%s needs dest=PATH", out.Type)
		}
		if err := index.CheckExportDest(out.Dest, out.Type == OutputOCIArchive); err != nil {
			return err
		}
	case OutputRegistry:
		if len(o.Tags) == 0 {
			return fmt.Errorf("--push needs at least one -t REGISTRY/REPOSITORY:TAG to push to")
		}
		for _, t := range o.Tags {
			if n, err := index.NormalizeName(t); err == nil && strings.HasPrefix(n, "localhost/") {
				return fmt.Errorf("--push cannot push -t %s: it names no registry (it would be localhost/...); use -t REGISTRY/REPOSITORY:TAG, e.g. -t quay.io/you/app:1", t)
			}
		}
	default:
		return fmt.Errorf("unsupported --output type %q: use oci, oci-archive or registry", out.Type)
	}
	return nil
}

// HasOutput reports whether an output of type t was requested.
func (o *Options) HasOutput(t OutputType) bool {
	for _, out := range o.Outputs {
		if out.Type == t {
			return true
		}
	}
	return false
}

// ParseOutput parses a --output value such as "type=oci,dest=./dir".
func ParseOutput(s string) (Output, error) {
	var out Output
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return out, fmt.Errorf("invalid --output %q: expected type=oci,dest=DIR, type=oci-archive,dest=FILE or type=registry", s)
		}
		switch strings.TrimSpace(k) {
		case "type":
			out.Type = OutputType(v)
		case "dest":
			out.Dest = v
		default:
			return out, fmt.Errorf("invalid --output %q: unknown key %q (use type and dest)", s, k)
		}
	}
	switch out.Type {
	case OutputRegistry:
		if out.Dest != "" {
			return out, fmt.Errorf("invalid --output %q: type=registry pushes to the -t names and takes no dest", s)
		}
		return out, nil
	case OutputOCI, OutputOCIArchive:
	case "":
		return out, fmt.Errorf("invalid --output %q: missing type= (oci, oci-archive or registry)", s)
	default:
		return out, fmt.Errorf("invalid --output %q: unsupported type %q (use oci, oci-archive or registry)", s, out.Type)
	}
	if out.Dest == "" {
		return out, fmt.Errorf("invalid --output %q: missing dest=", s)
	}
	return out, nil
}
