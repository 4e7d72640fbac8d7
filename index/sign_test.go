package index

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignOptionsValidate checks that a key and its passphrase file go
// together.
func TestSignOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    SignOptions
		want string // "" for valid
	}{
		{"none", SignOptions{}, ""},
		{"both", SignOptions{PrivateKeyFile: "k", PassphraseFile: "p"}, ""},
		{"key alone", SignOptions{PrivateKeyFile: "k"}, "--sign-passphrase-file"},
		{"passphrase alone", SignOptions{PassphraseFile: "p"}, "--sign-by-sigstore-private-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// TestKeyPairSignerRoundTrip writes a key pair, opens it with its
// passphrase, and refuses a wrong passphrase, a missing key and a second
// key pair over the first.
func TestKeyPairSignerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "k")
	priv, pub, err := WriteKeyPair(prefix, []byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(priv); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private key %s: %v, mode %v, want 0600", priv, err, st.Mode())
	}
	if b, err := os.ReadFile(pub); err != nil || !strings.Contains(string(b), "PUBLIC KEY") {
		t.Errorf("public key %s: %v %q", pub, err, b)
	}
	if _, _, err := WriteKeyPair(prefix, []byte("x")); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second WriteKeyPair over %s: %v, want a refusal", prefix, err)
	}
	for _, tc := range []struct {
		name, key, pass, want string
	}{
		{"right", priv, "right\n", ""},
		{"wrong passphrase", priv, "wrong\n", "passphrase"},
		{"missing key", filepath.Join(dir, "none.key"), "right\n", "polyarch key generate"},
		{"public key", pub, "right\n", "sigstore private key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			passFile := filepath.Join(t.TempDir(), "pass")
			if err := os.WriteFile(passFile, []byte(tc.pass), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := OpenSigner(SignOptions{PrivateKeyFile: tc.key, PassphraseFile: passFile})
			if s != nil {
				_ = s.Close()
			}
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("OpenSigner: %v, want an error naming %q", err, tc.want)
			}
		})
	}
}
