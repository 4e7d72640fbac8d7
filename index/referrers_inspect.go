package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/types"
)

// SubjectReferrers lists the referrers of one manifest: the top-level
// index (or image) or one of its entries.
type SubjectReferrers struct {
	// Subject is the manifest's digest.
	Subject digest.Digest `json:"subject"`
	// Platform is the entry's platform; nil for the top-level manifest.
	Platform *specs.Platform `json:"platform,omitempty"`
	// Source says where the list was read: the registry's referrers API,
	// its sha256-<hex> referrers tag, or the layout's index.json.
	Source string `json:"source"`
	// Referrers are the artifacts whose subject is this manifest.
	Referrers []ReferrerInfo `json:"referrers"`
}

// ReferrerInfo describes one referrer artifact.
type ReferrerInfo struct {
	ArtifactType  string        `json:"artifactType"`
	Digest        digest.Digest `json:"digest"`
	Size          int64         `json:"size"`
	PredicateType string        `json:"predicateType,omitempty"`
}

// InspectReferrers lists the referrers of in's top-level manifest and of
// each of its entries, read from ref: a registry's referrers API or its
// referrers tags, or the manifests of an OCI layout's index.json whose
// subject names them. in is what Inspect returned for ref.
func InspectReferrers(ctx context.Context, ref types.ImageReference, sys *types.SystemContext, in *Inspection) ([]SubjectReferrers, error) {
	subjects := []SubjectReferrers{{Subject: in.Digest, Platform: in.Platform}}
	for _, m := range in.Manifests {
		subjects = append(subjects, SubjectReferrers{Subject: m.Digest, Platform: m.Platform})
	}
	var err error
	switch ref.Transport().Name() {
	case "docker":
		err = registryReferrers(ctx, sys, ref, subjects)
	case "oci":
		err = layoutReferrers(ctx, sys, ref, subjects)
	default:
		return nil, fmt.Errorf("listing the referrers of %s: referrers live in registries (docker://) and OCI layouts (oci:DIR), not in %s", in.Name, ref.Transport().Name())
	}
	if err != nil {
		return nil, fmt.Errorf("listing the referrers of %s: %w", in.Name, Explain(err, refName(ref)))
	}
	return subjects, nil
}

// registryReferrers fills each subject's referrers from the registry.
func registryReferrers(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, subjects []SubjectReferrers) error {
	repo := reference.TrimNamed(ref.DockerReference())
	ds := make([]digest.Digest, len(subjects))
	for i, s := range subjects {
		ds[i] = s.Subject
	}
	lists, viaAPI, err := referrersOf(ctx, sys, repo, ds)
	if err != nil {
		return err
	}
	for i := range subjects {
		subjects[i].Source = "tag " + ReferrersTag(subjects[i].Subject)
		if viaAPI {
			subjects[i].Source = "referrers API"
		}
		descs, err := completeDescriptors(ctx, sys, repo, lists[subjects[i].Subject].Manifests)
		if err != nil {
			return err
		}
		subjects[i].Referrers = referrerInfos(descs)
	}
	return nil
}

// layoutReferrers fills each subject's referrers from the layout's
// index.json: every image manifest listed there whose subject is one of
// them.
func layoutReferrers(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, subjects []SubjectReferrers) error {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return err
	}
	defer src.Close()
	found, err := layoutReferrersOf(ctx, ref, src)
	if err != nil {
		return err
	}
	for i := range subjects {
		subjects[i].Source = "layout index.json"
		subjects[i].Referrers = referrerInfos(found[subjects[i].Subject])
	}
	return nil
}

// completeDescriptors fills the artifact type and annotations of the
// entries of a referrers list that lack annotations from their manifests,
// for registries whose referrers API leaves them out (the spec asks for
// both; some take the artifact type from the config instead).
func completeDescriptors(ctx context.Context, sys *types.SystemContext, repo reference.Named, descs []specs.Descriptor) ([]specs.Descriptor, error) {
	return completeDescriptorsWith(descs, func(d digest.Digest) ([]byte, error) { return readReferrer(ctx, sys, repo, d) })
}

// completeDescriptorsWith is completeDescriptors reading each manifest
// with read.
func completeDescriptorsWith(descs []specs.Descriptor, read func(digest.Digest) ([]byte, error)) ([]specs.Descriptor, error) {
	out := make([]specs.Descriptor, len(descs))
	for i, d := range descs {
		out[i] = d
		if len(d.Annotations) > 0 || d.MediaType != specs.MediaTypeImageManifest {
			continue
		}
		raw, err := read(d.Digest)
		if err != nil {
			return nil, err
		}
		var m specs.Manifest
		if json.Unmarshal(raw, &m) == nil {
			out[i].ArtifactType, out[i].Annotations = artifactTypeOf(m), m.Annotations
		}
	}
	return out, nil
}

// referrerInfos describes the descriptors of a referrers list.
func referrerInfos(descs []specs.Descriptor) []ReferrerInfo {
	out := []ReferrerInfo{}
	for _, d := range descs {
		out = append(out, ReferrerInfo{ArtifactType: d.ArtifactType, Digest: d.Digest, Size: d.Size, PredicateType: d.Annotations[AnnotationPredicateType]})
	}
	return out
}

// artifactTypeOf returns a manifest's artifact type as the referrers API
// reports it: artifactType, else the config's media type.
func artifactTypeOf(m specs.Manifest) string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	return m.Config.MediaType
}

// WriteReferrersTable writes the referrers of each subject as a table.
func WriteReferrersTable(w io.Writer, subjects []SubjectReferrers) error {
	var b strings.Builder
	b.WriteString("\nReferrers:\n")
	for _, s := range subjects {
		what := "index"
		if s.Platform != nil {
			what = platformString(s.Platform)
		}
		fmt.Fprintf(&b, "  Subject:     %s (%s, from %s)\n", s.Subject, what, s.Source)
		if len(s.Referrers) == 0 {
			b.WriteString("    (none)\n")
		}
		for _, r := range s.Referrers {
			fmt.Fprintf(&b, "    %s  %s  %d  %s\n", r.Digest, r.ArtifactType, r.Size, orDash(r.PredicateType))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
