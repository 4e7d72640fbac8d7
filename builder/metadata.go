package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	digest "github.com/opencontainers/go-digest"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/buildah/define"
	buildahcli "go.podman.io/buildah/pkg/cli"
	"go.podman.io/storage"
)

// ParseAnnotation splits an --annotation value into where it goes and
// KEY=VALUE, as buildx spells it: KEY=VALUE and manifest:KEY=VALUE go on
// every platform's manifest, index:KEY=VALUE on the index,
// index,manifest:KEY=VALUE on both.
func ParseAnnotation(s string) (onManifest, onIndex bool, kv string, err error) {
	key, _, hasValue := strings.Cut(s, "=")
	kinds, rest, prefixed := strings.Cut(key, ":")
	if !prefixed {
		kinds, rest = "manifest", key
	}
	if !hasValue || rest == "" {
		return false, false, "", fmt.Errorf("invalid --annotation %q: use KEY=VALUE, manifest:KEY=VALUE or index:KEY=VALUE", s)
	}
	for _, k := range strings.Split(kinds, ",") {
		switch k {
		case "manifest":
			onManifest = true
		case "index":
			onIndex = true
		default:
			return false, false, "", fmt.Errorf("invalid --annotation %q: unsupported type %q (use manifest or index, e.g. index:KEY=VALUE)", s, k)
		}
	}
	_, kv, _ = strings.Cut(s, kinds+":")
	if !prefixed {
		kv = s
	}
	return onManifest, onIndex, kv, nil
}

// validate checks KEY=VALUE forms, and that index annotations have an
// index to go on.
func (m MetadataOptions) validate(platforms int) error {
	for _, set := range []struct {
		flag   string
		values []string
	}{{"--label", m.Labels}, {"--annotation", m.Annotations}, {"--annotation index:", m.IndexAnnotations}} {
		for _, kv := range set.values {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				return fmt.Errorf("invalid %s %q: use KEY=VALUE", set.flag, kv)
			}
		}
	}
	for _, e := range m.Env {
		if k, _, _ := strings.Cut(e, "="); k == "" {
			return fmt.Errorf("invalid --env %q: use KEY=VALUE, or KEY to pass this environment's value", e)
		}
	}
	for flag, path := range map[string]string{"--iidfile": m.IIDFile, "--metadata-file": m.MetadataFile} {
		if st, err := os.Stat(filepath.Dir(path)); path != "" && (err != nil || !st.IsDir()) {
			return fmt.Errorf("invalid %s %q: directory %s does not exist", flag, path, filepath.Dir(path))
		}
	}
	if len(m.IndexAnnotations) > 0 && platforms < 2 {
		return fmt.Errorf("--annotation index:KEY=VALUE needs an index, and one platform is published as a plain image: build two platforms or more, or use manifest:KEY=VALUE")
	}
	return nil
}

// apply sets labels, environment and manifest annotations in buildah's
// options; a bare --env KEY takes this process's value, as in buildah.
func (m MetadataOptions) apply(opts *define.BuildOptions) {
	opts.Labels = m.Labels
	opts.UnsetLabels = m.UnsetLabels
	opts.Annotations = m.Annotations
	opts.Envs = buildahcli.LookupEnvVarReferences(m.Env, os.Environ())
}

// Descriptor is a manifest's media type, digest and size, as OCI
// descriptors and buildx's containerimage.descriptor have them.
type Descriptor struct {
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
}

// PlatformMetadata describes one platform's image in BuildMetadata.
type PlatformMetadata struct {
	Platform     string        `json:"platform"`
	Digest       digest.Digest `json:"containerimage.digest"`
	ConfigDigest digest.Digest `json:"containerimage.config.digest"`
	Descriptor   Descriptor    `json:"containerimage.descriptor"`
	// Build is what the platform's build did and where its time went.
	Build *PlatformSummary `json:"polyarch.build,omitempty"`
}

// BuildMetadata is what --metadata-file receives, with buildx's key names:
// the result (the index, or the image of a single platform), its names,
// and each platform's image in requested order.
type BuildMetadata struct {
	Digest       digest.Digest      `json:"containerimage.digest"`
	Descriptor   Descriptor         `json:"containerimage.descriptor"`
	ConfigDigest digest.Digest      `json:"containerimage.config.digest,omitempty"`
	Name         string             `json:"image.name,omitempty"`
	Platforms    []PlatformMetadata `json:"polyarch.platforms"`
	// Report is every platform's outcome with --keep-going.
	Report []PlatformReport `json:"polyarch.report,omitempty"`
}

// writeResultFiles writes --iidfile and --metadata-file, after everything
// was published.
func writeResultFiles(m MetadataOptions, store storage.Store, res *Result, tags []string) error {
	if m.IIDFile != "" {
		if err := writeFileAtomic(m.IIDFile, []byte(res.Digest)); err != nil {
			return fmt.Errorf("writing --iidfile: %w", err)
		}
	}
	if m.MetadataFile == "" {
		return nil
	}
	md, err := describeResult(store, res, tags)
	if err != nil {
		return fmt.Errorf("writing --metadata-file: %w", err)
	}
	b, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(m.MetadataFile, append(b, '\n')); err != nil {
		return fmt.Errorf("writing --metadata-file: %w", err)
	}
	return nil
}

// outputManifests are the result's manifests as the outputs hold them.
type outputManifests struct {
	top    index.ManifestInfo
	images []index.ManifestInfo
}

// describeOutputs reads the staged manifests when a metadata file is
// wanted: with outputs, their layers are compressed, so their manifests
// are not local storage's.
func describeOutputs(ctx context.Context, m MetadataOptions, p *index.Staged) (*outputManifests, error) {
	if m.MetadataFile == "" {
		return nil, nil
	}
	top, images, err := p.Describe(ctx)
	if err != nil {
		return nil, err
	}
	return &outputManifests{top: top, images: images}, nil
}

// describeResult describes the result as the outputs hold it or, without
// outputs, as local storage does.
func describeResult(store storage.Store, res *Result, tags []string) (*BuildMetadata, error) {
	out := res.outputs
	if out == nil {
		var err error
		if out, err = storedManifests(store, res); err != nil {
			return nil, err
		}
	}
	if len(out.images) != len(res.Images) {
		return nil, fmt.Errorf("the result holds %d images, %d platforms were built", len(out.images), len(res.Images))
	}
	names := tags
	if res.pushedName != "" {
		names = append([]string{res.pushedName}, tags...)
	}
	md := &BuildMetadata{Digest: out.top.Digest, Descriptor: descriptorOf(out.top), Name: strings.Join(names, ","), Report: res.Report}
	for i, img := range out.images {
		md.Platforms = append(md.Platforms, PlatformMetadata{
			Platform: emulation.FormatPlatform(res.Images[i].Platform), Digest: img.Digest, ConfigDigest: img.Config, Descriptor: descriptorOf(img),
			Build: res.Images[i].Summary,
		})
	}
	if res.IndexID == "" {
		md.ConfigDigest = out.top.Config
	}
	return md, nil
}

// descriptorOf turns a manifest description into a Descriptor.
func descriptorOf(m index.ManifestInfo) Descriptor {
	return Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: m.Size}
}

// storedManifests describes the result's manifests in local storage.
func storedManifests(store storage.Store, res *Result) (*outputManifests, error) {
	out := &outputManifests{}
	for _, img := range res.Images {
		m, err := storedManifest(store, img.ImageID, digest.Digest(img.Digest))
		if err != nil {
			return nil, err
		}
		out.images = append(out.images, m)
	}
	if res.IndexID == "" {
		out.top = out.images[0]
		return out, nil
	}
	var err error
	out.top, err = storedManifest(store, res.IndexID, digest.Digest(res.Digest))
	return out, err
}

// storedManifest describes the manifest want of a stored image or index.
func storedManifest(store storage.Store, id string, want digest.Digest) (index.ManifestInfo, error) {
	raw, err := store.ImageBigData(id, storage.ImageDigestBigDataKey)
	if err != nil {
		return index.ManifestInfo{}, fmt.Errorf("reading manifest of %s: %w", id, err)
	}
	if got := digest.FromBytes(raw); got != want {
		return index.ManifestInfo{}, fmt.Errorf("manifest of %s has digest %s, expected %s", id, got, want)
	}
	return index.DescribeManifest(raw)
}

// writeFileAtomic writes data to path through a temporary sibling, so a
// reader never sees a partial file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// annotateIndex sets the index annotations (--annotation index:K=V) on the
// assembled, still untagged index, which gets a new ID and digest.
func annotateIndex(store storage.Store, res *Result, kvs []string) error {
	if len(kvs) == 0 || res.IndexID == "" {
		return nil
	}
	ann := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		ann[k] = v
	}
	l, err := index.Annotate(store, res.IndexID, "", index.AnnotateOptions{Annotations: ann})
	if err != nil {
		return err
	}
	res.ID, res.IndexID = l.ID, l.ID
	res.Digest, res.IndexDigest = l.Digest.String(), l.Digest.String()
	return nil
}
