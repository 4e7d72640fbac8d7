package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	digest "github.com/opencontainers/go-digest"
	cp "go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/cli"
	"go.podman.io/image/v5/signature/signer"
	"go.podman.io/image/v5/signature/sigstore"
	"go.podman.io/image/v5/types"
)

// SignOptions names the sigstore private key that signs what a push or a
// copy writes to a registry: every image manifest and the index. The
// signatures are stored where registries.d says for the destination
// (use-sigstore-attachments: true stores them in the registry, next to
// the image, as cosign does). The zero value signs nothing.
type SignOptions struct {
	// PrivateKeyFile is a sigstore (cosign) private key, as written by
	// `polyarch key generate` or `cosign generate-key-pair`.
	PrivateKeyFile string
	// PassphraseFile holds the key's passphrase on its first line.
	PassphraseFile string
}

// Enabled reports whether a key was given.
func (o SignOptions) Enabled() bool { return o.PrivateKeyFile != "" }

// Validate checks the flags without reading the key; OpenSigner reads it.
func (o SignOptions) Validate() error {
	switch {
	case o.PassphraseFile != "" && o.PrivateKeyFile == "":
		return errors.New("--sign-passphrase-file needs --sign-by-sigstore-private-key: give the key it unlocks")
	case o.PrivateKeyFile != "" && o.PassphraseFile == "":
		return fmt.Errorf("--sign-by-sigstore-private-key %s needs --sign-passphrase-file: give a file holding the key's passphrase (an empty file for none)", o.PrivateKeyFile)
	}
	return nil
}

// OpenSigner reads and decrypts the key; it returns nil, nil when o signs
// nothing. Callers open it before any work, so a bad key or passphrase
// stops them before anything is pushed, and Close it when done.
func OpenSigner(o SignOptions) (*signer.Signer, error) {
	if err := o.Validate(); err != nil || !o.Enabled() {
		return nil, err
	}
	if _, err := os.Stat(o.PrivateKeyFile); err != nil {
		return nil, fmt.Errorf("reading signing key: %w (create one with `polyarch key generate --output-prefix PREFIX`)", err)
	}
	pass, err := cli.ReadPassphraseFile(o.PassphraseFile)
	if err != nil {
		return nil, fmt.Errorf("reading the passphrase of signing key %s from %s: %w", o.PrivateKeyFile, o.PassphraseFile, err)
	}
	s, err := sigstore.NewSigner(sigstore.WithPrivateKeyFile(o.PrivateKeyFile, []byte(pass)))
	if err != nil {
		return nil, fmt.Errorf("opening signing key %s: %w (is it a sigstore private key, and is %s its passphrase?)", o.PrivateKeyFile, err, o.PassphraseFile)
	}
	return s, nil
}

// CheckSigner opens the key of o and closes it: a bad key or passphrase
// is reported before any build or push starts.
func CheckSigner(o SignOptions) error {
	s, err := OpenSigner(o)
	if s != nil {
		_ = s.Close()
	}
	return err
}

// signers returns s as the Signers of copy options, or nil.
func signers(s *signer.Signer) []*signer.Signer {
	if s == nil {
		return nil
	}
	return []*signer.Signer{s}
}

// KeyPair is a new sigstore key pair in PEM: the private key encrypted
// with the passphrase, and its public key.
type KeyPair struct {
	PrivateKey, PublicKey []byte
}

// GenerateKey creates a sigstore key pair protected by passphrase, as
// `cosign generate-key-pair` does.
func GenerateKey(passphrase []byte) (*KeyPair, error) {
	res, err := sigstore.GenerateKeyPair(passphrase)
	if err != nil {
		return nil, fmt.Errorf("generating a sigstore key pair: %w", err)
	}
	return &KeyPair{PrivateKey: res.PrivateKey, PublicKey: res.PublicKey}, nil
}

// WriteKeyPair generates a key pair protected by passphrase and writes
// PREFIX.key (mode 0600) and PREFIX.pub. It refuses to replace either
// file, and leaves neither behind when it fails.
func WriteKeyPair(prefix string, passphrase []byte) (privPath, pubPath string, err error) {
	privPath, pubPath = prefix+".key", prefix+".pub"
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("%s already exists: remove it or choose another --output-prefix", p)
		}
	}
	kp, err := GenerateKey(passphrase)
	if err != nil {
		return "", "", err
	}
	if err := writeNew(privPath, kp.PrivateKey, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, kp.PublicKey, 0o644); err != nil {
		_ = os.Remove(privPath)
		return "", "", err
	}
	return privPath, pubPath, nil
}

// writeNew creates path, which must not exist, holding data.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing key %s: %w", path, err)
	}
	return nil
}

// openCopySigner opens opts.Sign into opts.signer for a copy to dst (a
// registry: only registries store sigstore signatures) and returns what
// closes it.
func openCopySigner(opts *CopyOptions, dst types.ImageReference) (func(), error) {
	o, err := openPushSigner(opts.Sign, dst)
	if err != nil {
		return nil, err
	}
	opts.signer = o.s
	return o.close, nil
}

// openedSigner is a signer opened for one push; s is nil when unsigned.
type openedSigner struct{ s *signer.Signer }

// close closes the signer, if any.
func (o openedSigner) close() {
	if o.s != nil {
		_ = o.s.Close()
	}
}

// openPushSigner opens sign for a push to dest, which must be a registry
// when signing.
func openPushSigner(sign SignOptions, dest types.ImageReference) (openedSigner, error) {
	if !sign.Enabled() {
		return openedSigner{}, nil
	}
	if dest.Transport().Name() != "docker" {
		return openedSigner{}, fmt.Errorf("cannot sign %s: sigstore signatures are stored in registries only; write to docker://REG/REPO:TAG, or drop --sign-by-sigstore-private-key", transportName(dest))
	}
	s, err := OpenSigner(sign)
	return openedSigner{s: s}, err
}

// pushSigned writes the staged index under dest's tag with containers/
// image, which signs each image manifest and the index with p's signer
// and stores the signatures as registries.d says for dest. PushContent
// has already sent every blob and child manifest: they are found in
// place, and every digest stays as staged.
func (p *Staged) pushSigned(ctx context.Context, dest types.ImageReference) (digest.Digest, error) {
	policy, err := policyContext(p.sys)
	if err != nil {
		return "", err
	}
	defer func() { _ = policy.Destroy() }()
	written, err := cp.Image(ctx, policy, dest, p.ref, &cp.Options{
		ImageListSelection: cp.CopyAllImages, PreserveDigests: true,
		SourceCtx: p.sys, DestinationCtx: p.sys, ReportWriter: p.o.ReportWriter,
		Signers: signers(p.o.Signer),
	})
	if err != nil {
		return "", fmt.Errorf("signing and writing %s: %w", transportName(dest), err)
	}
	return manifest.Digest(written)
}

// isSigstoreDisabled reports containers/image refusing to store sigstore
// signatures in a registry that registries.d does not enable them for.
func isSigstoreDisabled(err error) bool {
	return err != nil && strings.Contains(err.Error(), "writing sigstore attachments is disabled")
}

// explainSigstoreDisabled names the registries.d setting that is missing.
func explainSigstoreDisabled(err error, ref, reg string) error {
	return &ExplainedError{Problem: "registries.d does not let " + orRef(reg, ref) + " store sigstore signatures",
		Hint: "add `docker: {" + orRef(reg, ref) + ": {use-sigstore-attachments: true}}` to a YAML file in the directory --registries.d names; the tag was not written", Err: err}
}

// signing reports whether a copy from src to dst signs, or may carry
// the source's signatures (registry to registry, unless RemoveSignatures):
// then containers/image copies a platform subset, which reads and writes
// signatures, instead of copyEntries, which copies manifests and blobs
// only.
func signing(opts CopyOptions, src, dst types.ImageReference) bool {
	if opts.signer != nil {
		return true
	}
	return !opts.RemoveSignatures && src.Transport().Name() == "docker" && dst.Transport().Name() == "docker"
}
