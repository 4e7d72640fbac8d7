package builder

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/polyarch/polyarch/emulation"
	"go.podman.io/buildah/define"
	"go.podman.io/image/v5/types"
)

// A build key names everything that decides one platform's image, so
// that a rebuild with the same key can take the image the last build
// committed without starting buildah's executor (see wholecache.go). It
// hashes the Containerfile's bytes, the context's digest (contextDigest),
// every field of the buildah options polyarch made for the platform
// (build args, target, labels, annotations, environment, timestamps,
// format, isolation, mounts, the base images given by ID...), the
// environment variables buildah reads while building, and this binary.
//
// Options fields are hashed by reflection, so a field a later buildah
// adds is part of the key without a change here; a field that cannot be
// hashed (a function, a channel) that is set makes the key fail, and the
// build then runs as usual. Only the fields below are left out, each for
// its reason.
var keyIgnoredFields = map[string]string{
	"In":                  "where output goes",
	"Out":                 "where output goes",
	"Err":                 "where output goes",
	"ReportWriter":        "where output goes",
	"Log":                 "where output goes",
	"LogFile":             "where output goes",
	"LogSplitByPlatform":  "where output goes",
	"LogRusage":           "where output goes",
	"RusageLogFile":       "where output goes",
	"SystemContext":       "registry access and temporary directories: every base is given by image ID (keyed); the platform choice is keyed from it below",
	"SignaturePolicyPath": "registry access: every base is given by image ID",
	"MaxPullPushRetries":  "registry access",
	"PullPushRetryDelay":  "registry access",
	"Jobs":                "how many stages run at once",
	"JobSemaphore":        "how many stages run at once",
	"NetworkInterface":    "a network backend polyarch passes as a value without fields; ConfigureNetwork (keyed) says which",
}

// keyEnvironment are the variables buildah itself reads while it builds
// (imagebuildah's Containerfile preprocessing, commit's sources label).
var keyEnvironment = []string{"BUILDAH_CPPFLAGS", "BUILD_REGISTRY_SOURCES", "BUILDAH_NOPIVOT"}

// buildKey returns the build key of one platform: p, the Containerfile's
// bytes cf, the context digest ctxDigest and buildah's options opts.
func buildKey(p specs.Platform, cf []byte, ctxDigest string, opts *define.BuildOptions) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "polyarch build key 1\nplatform %s\n", emulation.FormatPlatform(emulation.NormalizePlatform(p)))
	if err := hashBinary(h); err != nil {
		return "", err
	}
	fmt.Fprintf(h, "containerfile %d\n", len(cf))
	h.Write(cf)
	fmt.Fprintf(h, "\ncontext %s\n", ctxDigest)
	for _, name := range keyEnvironment {
		v, ok := os.LookupEnv(name)
		fmt.Fprintf(h, "env %s %t %q\n", name, ok, v)
	}
	var choice types.SystemContext
	if opts.SystemContext != nil {
		choice = *opts.SystemContext
	}
	fmt.Fprintf(h, "choice %q %q %q\n", choice.OSChoice, choice.ArchitectureChoice, choice.VariantChoice)
	v := reflect.ValueOf(*opts)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if _, ok := keyIgnoredFields[f.Name]; ok {
			continue
		}
		if err := hashValue(h, f.Name, v.Field(i)); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashBinary writes what identifies this polyarch into h: its build
// information (version, revision, every module's version) and the size
// and time of its executable (read through /proc/self/exe: in polyarch's
// user namespace, os.Executable names no file), so a rebuilt binary never
// reuses a key.
func hashBinary(h hash.Hash) error {
	if info, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(h, "buildinfo %q\n", info.String())
	}
	st, err := os.Stat("/proc/self/exe")
	if err != nil {
		return fmt.Errorf("reading this executable: %w", err)
	}
	fmt.Fprintf(h, "binary %d %d\n", st.Size(), st.ModTime().UnixNano())
	return nil
}

var timeType = reflect.TypeFor[time.Time]()

// maxKeyDepth bounds how deep hashValue follows structs and pointers (a
// cycle would never end).
const maxKeyDepth = 16

// hashValue writes v, named path, into h: scalars by value, slices and
// arrays element by element, maps in key order, pointers and interfaces
// by what they point to (with the dynamic type), structs field by field,
// times as an instant. A set function, channel or unsafe pointer is an
// error: the key could not say what it does.
func hashValue(h hash.Hash, path string, v reflect.Value) error {
	if strings.Count(path, ".")+strings.Count(path, "*") > maxKeyDepth {
		return fmt.Errorf("option %s is nested too deeply to be part of a build key", path)
	}
	if v.Type() == timeType && v.CanInterface() {
		t := v.Interface().(time.Time) //nolint:forcetypeassert // checked by type
		fmt.Fprintf(h, "%s=time:%d\n", path, t.UnixNano())
		return nil
	}
	switch v.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
		fmt.Fprintf(h, "%s=%q\n", path, fmt.Sprint(v))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			fmt.Fprintf(h, "%s=nil\n", path)
			return nil
		}
		fmt.Fprintf(h, "%s=len:%d\n", path, v.Len())
		for i := range v.Len() {
			if err := hashValue(h, fmt.Sprintf("%s[%d]", path, i), v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		return hashMap(h, path, v)
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			fmt.Fprintf(h, "%s=nil\n", path)
			return nil
		}
		fmt.Fprintf(h, "%s=%s\n", path, v.Elem().Type())
		return hashValue(h, path+"*", v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if err := hashValue(h, path+"."+v.Type().Field(i).Name, v.Field(i)); err != nil {
				return err
			}
		}
	default: // func, chan, unsafe pointer
		if v.IsNil() {
			fmt.Fprintf(h, "%s=nil\n", path)
			return nil
		}
		return fmt.Errorf("option %s (%s) is set and cannot be part of a build key", path, v.Type())
	}
	return nil
}

// hashMap writes a map's entries in the order of their keys' text.
func hashMap(h hash.Hash, path string, v reflect.Value) error {
	if v.IsNil() {
		fmt.Fprintf(h, "%s=nil\n", path)
		return nil
	}
	keys := v.MapKeys()
	text := make([]string, len(keys))
	for i, k := range keys {
		text[i] = fmt.Sprint(k)
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(text[a], text[b]) })
	fmt.Fprintf(h, "%s=len:%d\n", path, len(keys))
	for _, i := range order {
		if err := hashValue(h, fmt.Sprintf("%s[%q]", path, text[i]), v.MapIndex(keys[i])); err != nil {
			return err
		}
	}
	return nil
}
