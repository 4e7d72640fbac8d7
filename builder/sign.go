package builder

import (
	"errors"

	"github.com/polyarch/polyarch/index"
	"go.podman.io/image/v5/signature/signer"
)

// validateSign checks the signing flags and opens the key once, so a
// missing key or a wrong passphrase stops the build before it starts.
func (o *Options) validateSign() error {
	if !o.Sign.Enabled() {
		return o.Sign.Validate()
	}
	if !o.signsPush() {
		return errors.New("--sign-by-sigstore-private-key signs what --push and --push-by-digest write to registries: add one of them (OCI layouts and archives hold no signatures)")
	}
	return index.CheckSigner(o.Sign)
}

// openSigner opens the signing key for the push, if the build signs;
// call the returned function when the push is done.
func (o *Options) openSigner() (*signer.Signer, func(), error) {
	if !o.Sign.Enabled() || !o.signsPush() {
		return nil, func() {}, nil
	}
	s, err := index.OpenSigner(o.Sign)
	if err != nil {
		return nil, nil, err
	}
	return s, func() { _ = s.Close() }, nil
}

// signsPush reports whether the build writes to a registry, where the
// signatures go: --push, or --push-by-digest.
func (o *Options) signsPush() bool {
	return o.HasOutput(OutputRegistry) || o.Fanout.PushByDigest != ""
}
