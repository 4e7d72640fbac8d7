package builder

import (
	"fmt"

	"github.com/polyarch/polyarch/index"
	"go.podman.io/buildah/define"
)

// Image formats accepted by Options.Format (--format), as podman build
// names them.
const (
	// FormatOCI is OCI image manifests in an OCI image index (default).
	FormatOCI = "oci"
	// FormatDocker is Docker schema 2 manifests in a Docker manifest
	// list; their configs keep HEALTHCHECK, SHELL and ONBUILD, which the
	// OCI image config has no place for.
	FormatDocker = "docker"
)

// ParseFormat accepts oci (also "", the default) and docker (also v2s2,
// as index push spells it), and returns oci or docker.
func ParseFormat(s string) (string, error) {
	switch s {
	case "", FormatOCI:
		return FormatOCI, nil
	case FormatDocker, index.FormatV2S2:
		return FormatDocker, nil
	}
	return "", fmt.Errorf("invalid --format %q: use oci or docker", s)
}

// validateFormat refuses what a Docker-format result cannot hold, before
// any work.
func (o *Options) validateFormat() error {
	if _, err := ParseFormat(o.Format); err != nil {
		return err
	}
	if !o.docker() {
		return nil
	}
	for _, out := range o.Outputs {
		if out.Type == OutputOCI || out.Type == OutputOCIArchive {
			return fmt.Errorf("--format docker cannot be written to -o type=%s: an OCI layout holds OCI manifests only; use --format oci for layouts, or --push the Docker format to a registry", out.Type)
		}
	}
	if c := o.Compression.Format; c == index.Zstd || c == index.ZstdChunked {
		return fmt.Errorf("--compression-format %s needs OCI manifests: drop --format docker, or use --compression-format gzip", c)
	}
	if len(o.Metadata.Annotations) > 0 || len(o.Metadata.IndexAnnotations) > 0 {
		return fmt.Errorf("--annotation needs --format oci: Docker manifests and manifest lists have no annotations (use --label for the config)")
	}
	return nil
}

// docker reports whether the result is in Docker format.
func (o *Options) docker() bool {
	f, err := ParseFormat(o.Format)
	return err == nil && f == FormatDocker
}

// buildahFormat is buildah's name for the format of committed images.
func (o *Options) buildahFormat() string {
	if o.docker() {
		return define.Dockerv2ImageManifest
	}
	return define.OCIv1ImageManifest
}

// manifestFormat is package index's name for the format of the result.
func (o *Options) manifestFormat() string {
	if o.docker() {
		return index.FormatV2S2
	}
	return index.FormatOCI
}
