package builder

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	is "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	storagetypes "go.podman.io/storage/types"
)

// storeEnv carries the parent's resolved store options into polyarch's
// own user namespace, where the defaults would differ.
const storeEnv = "_POLYARCH_STORE"

// permissivePolicy accepts any image; used when the host has no
// /etc/containers/policy.json.
const permissivePolicy = `{"default":[{"type":"insecureAcceptAnything"}]}`

// ResolveStoreOptions returns the store options podman would use for the
// current user (storage.conf included), overridden by o.
func ResolveStoreOptions(o StoreOptions) (storagetypes.StoreOptions, error) {
	if v := os.Getenv(storeEnv); v != "" {
		var opts storagetypes.StoreOptions
		if err := json.Unmarshal([]byte(v), &opts); err != nil {
			return opts, fmt.Errorf("decoding %s: %w", storeEnv, err)
		}
		return opts, nil
	}
	opts, err := storage.DefaultStoreOptions()
	if err != nil {
		return opts, fmt.Errorf("reading storage configuration: %w", err)
	}
	if o.Root != "" {
		opts.GraphRoot = o.Root
	}
	if o.RunRoot != "" {
		opts.RunRoot = o.RunRoot
	}
	if o.Driver != "" {
		if o.Driver != opts.GraphDriverName {
			opts.GraphDriverOptions = nil
		}
		opts.GraphDriverName = o.Driver
	}
	return opts, nil
}

// openStore opens local containers-storage and makes the storage
// transport use it.
func openStore(o StoreOptions) (storage.Store, error) {
	opts, err := ResolveStoreOptions(o)
	if err != nil {
		return nil, err
	}
	store, err := storage.GetStore(opts)
	if err != nil {
		return nil, fmt.Errorf("opening local storage at %s: %w", opts.GraphRoot, err)
	}
	is.Transport.SetStore(store)
	return store, nil
}

// systemContext returns a self-contained SystemContext for pulls and
// copies, with a signature policy file under the store's run root.
func systemContext(o *Options, store storage.Store) (*types.SystemContext, error) {
	sys := &types.SystemContext{
		BlobInfoCacheDir:    filepath.Join(store.GraphRoot(), "cache"),
		SignaturePolicyPath: "/etc/containers/policy.json",
	}
	if _, err := os.Stat(sys.SignaturePolicyPath); err != nil {
		p := filepath.Join(store.RunRoot(), "polyarch-policy.json")
		if err := os.WriteFile(p, []byte(permissivePolicy), 0o600); err != nil {
			return nil, fmt.Errorf("writing signature policy: %w", err)
		}
		sys.SignaturePolicyPath = p
	}
	if o.TLSVerify != nil && !*o.TLSVerify {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
		sys.OCIInsecureSkipTLSVerify = true
		sys.DockerDaemonInsecureSkipTLSVerify = true
	}
	if p := authFile(); p != "" {
		sys.AuthFilePath = p
	}
	return sys, nil
}

// authFile returns the first existing credentials file among
// $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json and
// ~/.docker/config.json, or "" for none.
func authFile() string {
	candidates := []string{os.Getenv("REGISTRY_AUTH_FILE")}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		candidates = append(candidates, filepath.Join(d, "containers", "auth.json"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(h, ".docker", "config.json"))
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return ""
}

// encodeStoreEnv serialises resolved store options for storeEnv.
func encodeStoreEnv(opts storagetypes.StoreOptions) (string, error) {
	b, err := json.Marshal(opts)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
