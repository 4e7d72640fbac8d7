package session

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	is "go.podman.io/image/v5/storage"
	"go.podman.io/storage"
	storagetypes "go.podman.io/storage/types"
)

// StoreOptions locates the containers-storage store, as the global flags
// --root, --runroot and --storage-driver give it. Empty fields take the
// defaults podman uses for the current user, storage.conf included.
type StoreOptions struct {
	Root    string
	RunRoot string
	Driver  string
}

// StoreConfig is a resolved store: the options to open it with and why
// its driver was chosen.
type StoreConfig struct {
	Options storagetypes.StoreOptions `json:"options"`
	// DriverReason says where the driver came from. With DriverDefault,
	// Options names no driver and storage picks one when opening.
	DriverReason DriverReason `json:"driverReason"`
}

// storeEnv carries a parent's resolved store into polyarch's own user
// namespace, where storage's defaults would differ.
const storeEnv = "_POLYARCH_STORE"

// ResolveStore returns the store podman would use for the current user,
// overridden by o, with the driver chosen by chooseDriver. In a namespace
// entered through RootNamespace it returns the parent's resolution.
func ResolveStore(o StoreOptions) (StoreConfig, error) {
	if v := os.Getenv(storeEnv); v != "" {
		var c StoreConfig
		if err := json.Unmarshal([]byte(v), &c); err != nil {
			return c, fmt.Errorf("decoding %s from the parent polyarch: %w", storeEnv, err)
		}
		return c, nil
	}
	opts, err := storage.DefaultStoreOptions()
	if err != nil {
		return StoreConfig{}, fmt.Errorf("reading storage configuration (storage.conf): %w", err)
	}
	configured := configuredBy(o, opts)
	if o.Root != "" {
		opts.GraphRoot = o.Root
	}
	if o.RunRoot != "" {
		opts.RunRoot = o.RunRoot
	}
	if o.Driver != "" && o.Driver != opts.GraphDriverName {
		opts.GraphDriverOptions = nil
		opts.GraphDriverName = o.Driver
	}
	driver, reason, err := chooseDriver(opts.GraphRoot, opts.GraphDriverName, configured)
	if err != nil {
		return StoreConfig{}, err
	}
	opts.GraphDriverName = driver
	return StoreConfig{Options: opts, DriverReason: reason}, nil
}

// configuredBy says where a configured driver comes from; "" if none is.
func configuredBy(o StoreOptions, defaults storagetypes.StoreOptions) DriverReason {
	switch {
	case o.Driver != "":
		return DriverFlag
	case defaults.GraphDriverName == "":
		return ""
	case os.Getenv("STORAGE_DRIVER") != "":
		return DriverEnv
	}
	return DriverConf
}

// OpenStore opens the store c describes and makes the storage transport
// use it; under a single-ID mapping it lets the driver flatten ownership
// and writes a warning saying so to warn (nil: discard). Call
// store.Shutdown(false) when done.
func OpenStore(c StoreConfig, warn io.Writer) (storage.Store, error) {
	opts := c.Options
	adaptToSingleMapping(&opts, warn)
	store, err := storage.GetStore(opts)
	if err != nil {
		return nil, fmt.Errorf("opening local storage at %s: %w (pass --root and --runroot to use another)", opts.GraphRoot, err)
	}
	is.Transport.SetStore(store)
	return store, nil
}

// encode serialises c for storeEnv.
func (c StoreConfig) encode() (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding the store options for the namespace: %w", err)
	}
	return string(b), nil
}
