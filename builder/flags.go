package builder

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"go.podman.io/buildah/define"
)

// stdinContainerfileName names a Containerfile read from stdin in errors.
const stdinContainerfileName = "<stdin>"

// validateFlags checks the metadata, input and time options.
func (o *Options) validateFlags() error {
	if err := o.Metadata.validate(len(o.Platforms)); err != nil {
		return err
	}
	if err := o.Inputs.validate(); err != nil {
		return err
	}
	if err := o.checkLayoutContextPull(); err != nil {
		return err
	}
	return o.Time.validate()
}

// checkLayoutContextPull refuses --pull=always with an oci-layout://
// context: polyarch hands buildah that context's image by ID, which
// buildah will not pull "always"; a layout's image is read again anyway
// whenever its content, hence its ID, changes.
func (o *Options) checkLayoutContextPull() error {
	if o.Pull != PullAlways {
		return nil
	}
	named, err := parseBuildContexts(o.Inputs.BuildContexts)
	if err != nil {
		return err
	}
	for name, c := range named {
		if c.Layout != "" {
			return fmt.Errorf("--pull=always cannot be used with --build-context %s=%s: use --pull=missing (an OCI layout's image is read again whenever its content changes)", name, c.Layout)
		}
	}
	return nil
}

// applyFlags sets buildah's options from the metadata, input and time
// options; the same for every platform.
func (o *Options) applyFlags(opts *define.BuildOptions) {
	o.Metadata.apply(opts)
	o.Inputs.apply(opts)
	o.Time.apply(opts)
}

// parseContainerfile parses the Containerfile, from its file or, for -f -,
// from the content read from stdin.
func (o *Options) parseContainerfile() (*containerfile, error) {
	if o.Inputs.ContainerfileData != nil {
		return parseContainerfileFrom(stdinContainerfileName, bytes.NewReader(o.Inputs.ContainerfileData))
	}
	return parseContainerfile(o.Containerfile)
}

// writeStdinContainerfile writes a Containerfile read from stdin into the
// build's working directory, for buildah to read.
func (o *Options) writeStdinContainerfile(work string) error {
	if o.Inputs.ContainerfileData == nil {
		return nil
	}
	p := filepath.Join(work, "Containerfile")
	if err := os.WriteFile(p, o.Inputs.ContainerfileData, 0o600); err != nil {
		return fmt.Errorf("writing the Containerfile read from stdin: %w", err)
	}
	o.Containerfile = p
	return nil
}
