package builder

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"github.com/polyarch/polyarch/index"
	"go.podman.io/buildah/pkg/parse"
)

// SLSA provenance v1 vocabulary.
const (
	// StatementType is the in-toto Statement v1 type.
	StatementType = "https://in-toto.io/Statement/v1"
	// PredicateSLSAProvenance is the SLSA provenance v1 predicate type.
	PredicateSLSAProvenance = "https://slsa.dev/provenance/v1"
	// BuildType names the build polyarch performs, in SLSA's buildType.
	BuildType = "https://github.com/polyarch/polyarch/buildtypes/build@v1"
	// builderRepository prefixes the builder id, followed by @VERSION.
	builderRepository = "https://github.com/polyarch/polyarch"
)

// ProvenanceOptions say whether SLSA provenance is attached to the result
// (--provenance) and what the builder is.
type ProvenanceOptions struct {
	// Enabled: nil (default) attaches provenance to registry pushes
	// (--push, --push-by-digest) only; true also writes it into oci:
	// layouts (as untagged index.json entries); false attaches none.
	Enabled *bool
	// BuilderVersion is polyarch's version, recorded in the builder id.
	BuilderVersion string
	// started is when the build began, recorded as startedOn.
	started time.Time
}

// wanted reports whether provenance is made for o's outputs.
func (p ProvenanceOptions) wanted(o *Options) bool {
	if p.Enabled != nil {
		return *p.Enabled
	}
	return o.HasOutput(OutputRegistry) || o.Fanout.PushByDigest != ""
}

// intoLayouts reports whether oci: layouts get the provenance too: only
// when asked for explicitly, since a layout whose index.json lists more
// than the image needs a tag to be read by skopeo and podman.
func (p ProvenanceOptions) intoLayouts() bool {
	return p.Enabled != nil && *p.Enabled
}

// slsaStatement is an in-toto Statement v1.
type slsaStatement struct {
	Type          string         `json:"_type"`
	Subject       []slsaSubject  `json:"subject"`
	PredicateType string         `json:"predicateType"`
	Predicate     slsaProvenance `json:"predicate"`
}

// slsaSubject is an artifact a statement is about.
type slsaSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// slsaProvenance is the SLSA provenance v1 predicate.
type slsaProvenance struct {
	BuildDefinition slsaBuildDefinition `json:"buildDefinition"`
	RunDetails      slsaRunDetails      `json:"runDetails"`
}

// slsaBuildDefinition is what was built, from what.
type slsaBuildDefinition struct {
	BuildType            string                 `json:"buildType"`
	ExternalParameters   slsaExternalParameters `json:"externalParameters"`
	InternalParameters   map[string]string      `json:"internalParameters,omitempty"`
	ResolvedDependencies []slsaResource         `json:"resolvedDependencies"`
}

// slsaExternalParameters are the build's inputs under the user's control.
type slsaExternalParameters struct {
	Containerfile slsaContainerfile `json:"containerfile"`
	BuildArgs     map[string]string `json:"buildArgs,omitempty"`
	// Secrets are the ids of --secret values; their values never appear.
	Secrets   []string `json:"secrets,omitempty"`
	Target    string   `json:"target,omitempty"`
	Platform  string   `json:"platform,omitempty"`
	Platforms []string `json:"platforms,omitempty"`
}

// slsaContainerfile names the Containerfile and its content.
type slsaContainerfile struct {
	Path   string            `json:"path"`
	Digest map[string]string `json:"digest"`
}

// slsaResource is an SLSA resource: a base image or an emulator.
type slsaResource struct {
	URI         string            `json:"uri,omitempty"`
	Name        string            `json:"name,omitempty"`
	Digest      map[string]string `json:"digest"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// slsaRunDetails is who built it, when.
type slsaRunDetails struct {
	Builder  slsaBuilder  `json:"builder"`
	Metadata slsaMetadata `json:"metadata"`
}

// slsaBuilder identifies polyarch and its version.
type slsaBuilder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version"`
}

// slsaMetadata is the invocation's id and times.
type slsaMetadata struct {
	InvocationID string    `json:"invocationId"`
	StartedOn    time.Time `json:"startedOn"`
	FinishedOn   time.Time `json:"finishedOn"`
}

// attachProvenance attaches to p, when o wants it, one SLSA provenance
// referrer per platform manifest and one for the index.
func attachProvenance(ctx context.Context, o *Options, p *index.Staged, res *Result) error {
	if !o.Provenance.wanted(o) {
		return nil
	}
	refs, err := provenanceReferrers(ctx, o, p, res)
	if err != nil {
		return fmt.Errorf("making the provenance of %s: %w (pass --provenance=false to build without it)", res.Digest, err)
	}
	p.Attach(refs...)
	return nil
}

// provenanceReferrers makes the statements for the staged result.
func provenanceReferrers(ctx context.Context, o *Options, p *index.Staged, res *Result) ([]index.Referrer, error) {
	ext, err := externalParameters(o)
	if err != nil {
		return nil, err
	}
	emus, err := emulatorDependencies(ctx, o)
	if err != nil {
		return nil, err
	}
	meta := buildMetadata(o, ext)
	if len(p.Manifests()) != len(res.Images) {
		return nil, fmt.Errorf("the staged result lists %d manifests for %d platforms", len(p.Manifests()), len(res.Images))
	}
	var refs []index.Referrer
	var all []slsaResource
	for i, d := range p.Manifests() {
		plat := res.Images[i].Platform
		raw, mime, err := p.ReadManifest(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("reading staged manifest %s of %s: %w", d, emulation.FormatPlatform(plat), err)
		}
		deps := append(baseDependencies(raw, plat), emus[emulation.FormatPlatform(plat)]...)
		all = append(all, deps...)
		e := ext
		e.Platform = emulation.FormatPlatform(plat)
		r, err := provenanceReferrer(o, descriptor(mime, raw), e, deps, meta)
		if err != nil {
			return nil, err
		}
		refs = append(refs, r)
	}
	if ms := p.Manifests(); len(ms) == 1 && ms[0] == p.Digest() {
		return refs, nil // a single image: its statement is the result's
	}
	raw, mime, err := p.ReadManifest(ctx, p.Digest())
	if err != nil {
		return nil, fmt.Errorf("reading staged index %s: %w", p.Digest(), err)
	}
	e := ext
	for _, img := range res.Images {
		e.Platforms = append(e.Platforms, emulation.FormatPlatform(img.Platform))
	}
	r, err := provenanceReferrer(o, descriptor(mime, raw), e, all, meta)
	if err != nil {
		return nil, err
	}
	return append(refs, r), nil
}

// descriptor describes a manifest as a subject.
func descriptor(mime string, raw []byte) specs.Descriptor {
	return specs.Descriptor{MediaType: mime, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
}

// provenanceReferrer serialises one statement about subject.
func provenanceReferrer(o *Options, subject specs.Descriptor, ext slsaExternalParameters, deps []slsaResource, meta slsaMetadata) (index.Referrer, error) {
	if deps == nil {
		deps = []slsaResource{}
	}
	st := slsaStatement{
		Type:          StatementType,
		Subject:       []slsaSubject{{Name: subjectName(o), Digest: digestMap(subject.Digest)}},
		PredicateType: PredicateSLSAProvenance,
		Predicate: slsaProvenance{
			BuildDefinition: slsaBuildDefinition{BuildType: BuildType, ExternalParameters: ext, InternalParameters: internalParameters(o), ResolvedDependencies: deps},
			RunDetails: slsaRunDetails{
				Builder:  slsaBuilder{ID: builderRepository + "@" + builderVersion(o), Version: map[string]string{"polyarch": builderVersion(o)}},
				Metadata: meta,
			},
		},
	}
	payload, err := json.Marshal(st)
	if err != nil {
		return index.Referrer{}, err
	}
	return index.Referrer{
		Subject: subject, ArtifactType: index.MediaTypeInToto, Payload: payload,
		Annotations: map[string]string{index.AnnotationPredicateType: PredicateSLSAProvenance},
	}, nil
}

// builderVersion returns polyarch's version, "dev" when unknown.
func builderVersion(o *Options) string {
	if o.Provenance.BuilderVersion == "" {
		return "dev"
	}
	return o.Provenance.BuilderVersion
}

// subjectName names the image the statements are about: the first tag,
// else the push-by-digest repository.
func subjectName(o *Options) string {
	if len(o.Tags) > 0 {
		if n, err := index.NormalizeName(o.Tags[0]); err == nil {
			return n
		}
		return o.Tags[0]
	}
	return o.Fanout.PushByDigest
}

// digestMap spells a digest as in-toto does: {"sha256": "<hex>"}.
func digestMap(d digest.Digest) map[string]string {
	return map[string]string{d.Algorithm().String(): d.Encoded()}
}

// externalParameters records the Containerfile (its path relative to the
// context when inside it, and its digest), build args, secret ids and
// target. Secret values are never read.
func externalParameters(o *Options) (slsaExternalParameters, error) {
	data, path := o.Inputs.ContainerfileData, "-"
	if data == nil {
		var err error
		if data, err = os.ReadFile(o.Containerfile); err != nil {
			return slsaExternalParameters{}, fmt.Errorf("reading Containerfile %s: %w", o.Containerfile, err)
		}
		path = containerfilePath(o.ContextDir, o.Containerfile)
	}
	ext := slsaExternalParameters{
		Containerfile: slsaContainerfile{Path: path, Digest: digestMap(digest.FromBytes(data))},
		BuildArgs:     o.BuildArgs,
		Target:        o.Target,
	}
	secrets, err := parse.Secrets(o.Inputs.Secrets)
	if err != nil {
		return ext, fmt.Errorf("invalid --secret: %w", err)
	}
	for id := range secrets {
		ext.Secrets = append(ext.Secrets, id)
	}
	sort.Strings(ext.Secrets)
	return ext, nil
}

// containerfilePath is file relative to the context directory when it
// lies inside it (the same on every machine), else as given.
func containerfilePath(contextDir, file string) string {
	ctxAbs, err1 := filepath.Abs(contextDir)
	fileAbs, err2 := filepath.Abs(file)
	if err1 != nil || err2 != nil {
		return file
	}
	rel, err := filepath.Rel(ctxAbs, fileAbs)
	if err != nil || rel == ".." || filepath.IsAbs(rel) || len(rel) > 2 && rel[:3] == "../" {
		return file
	}
	return rel
}

// internalParameters records the clamp applied to the result's times.
func internalParameters(o *Options) map[string]string {
	if o.Time.SourceDateEpoch == nil {
		return nil
	}
	return map[string]string{"sourceDateEpoch": fmt.Sprint(*o.Time.SourceDateEpoch)}
}

// buildMetadata returns the invocation id and times. Under
// --source-date-epoch both times are clamped to it and the id is derived
// from the build's parameters, so two builds write the same bytes;
// otherwise the id is random.
func buildMetadata(o *Options, ext slsaExternalParameters) slsaMetadata {
	started, finished := o.Provenance.started, time.Now()
	if started.IsZero() {
		started = finished
	}
	m := slsaMetadata{StartedOn: started.UTC().Truncate(time.Second), FinishedOn: finished.UTC().Truncate(time.Second)}
	if epoch := epochTime(o.Time.SourceDateEpoch); epoch != nil {
		m.StartedOn, m.FinishedOn = clamp(m.StartedOn, *epoch), clamp(m.FinishedOn, *epoch)
		b, _ := json.Marshal(struct {
			Ext   slsaExternalParameters
			Epoch int64
			Tags  []string
		}{ext, *o.Time.SourceDateEpoch, o.Tags})
		sum := sha256.Sum256(b)
		m.InvocationID = hex.EncodeToString(sum[:16])
		return m
	}
	var id [16]byte
	_, _ = io.ReadFull(rand.Reader, id[:])
	m.InvocationID = hex.EncodeToString(id[:])
	return m
}

// clamp returns t, or limit when t is later.
func clamp(t, limit time.Time) time.Time {
	if t.After(limit) {
		return limit
	}
	return t
}

// baseDependencies returns the base image a platform's manifest records
// in its org.opencontainers.image.base.* annotations (buildah's: the
// final stage's base, its manifest for that platform).
func baseDependencies(raw []byte, plat specs.Platform) []slsaResource {
	var m specs.Manifest
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	d, err := digest.Parse(m.Annotations[specs.AnnotationBaseImageDigest])
	if err != nil {
		return nil
	}
	r := slsaResource{Name: "base image", Digest: digestMap(d), Annotations: map[string]string{"platform": emulation.FormatPlatform(plat)}}
	if name := m.Annotations[specs.AnnotationBaseImageName]; name != "" {
		r.URI = "docker://" + name
	}
	return []slsaResource{r}
}

// emulatorDependencies describes, per platform, the qemu-user
// interpreter that ran its RUN steps: path, sha256 and version.
func emulatorDependencies(ctx context.Context, o *Options) (map[string][]slsaResource, error) {
	out := map[string][]slsaResource{}
	if o.Plan == nil {
		return out, nil
	}
	for _, e := range o.Plan.emulators {
		sum, err := fileDigest(e.Interpreter)
		if err != nil {
			return nil, err
		}
		version, err := emulation.InterpreterVersion(ctx, e.Interpreter)
		if err != nil {
			return nil, err
		}
		plat := emulation.FormatPlatform(e.Platform)
		out[plat] = append(out[plat], slsaResource{
			URI: "file://" + e.Interpreter, Name: filepath.Base(e.Interpreter), Digest: digestMap(sum),
			Annotations: map[string]string{"platform": plat, "version": version},
		})
	}
	return out, nil
}

// fileDigest returns the sha256 digest of a file's content.
func fileDigest(path string) (digest.Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return digest.FromReader(f)
}
