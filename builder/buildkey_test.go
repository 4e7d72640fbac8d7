package builder

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/buildah/define"
)

// someValue returns a value of type t that is not its zero value, or
// false when it cannot make one (an interface).
func someValue(t reflect.Type) (reflect.Value, bool) {
	v := reflect.New(t).Elem()
	switch t.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(t, 1, 1))
		if e, ok := someValue(t.Elem()); ok {
			v.Index(0).Set(e)
		}
	case reflect.Map:
		k, okk := someValue(t.Key())
		e, oke := someValue(t.Elem())
		if !okk || !oke {
			return v, false
		}
		v.Set(reflect.MakeMap(t))
		v.SetMapIndex(k, e)
	case reflect.Pointer:
		e, ok := someValue(t.Elem())
		if !ok && t.Elem().Kind() == reflect.Struct { // no exported field: a zero value, not nil
			v.Set(reflect.New(t.Elem()))
			return v, true
		}
		if !ok {
			return v, false
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(e)
		v.Set(p)
	case reflect.Struct:
		if t == timeType {
			v.Set(reflect.ValueOf(time.Unix(5, 0)))
			return v, true
		}
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			if e, ok := someValue(t.Field(i).Type); ok {
				v.Field(i).Set(e)
				return v, true
			}
		}
		return v, false
	case reflect.Func:
		v.Set(reflect.MakeFunc(t, func([]reflect.Value) []reflect.Value { panic("not called") }))
	default:
		return v, false
	}
	return v, true
}

// TestBuildKeyCoversOptions sets every field of buildah's options, one
// at a time: each changes the key, a function makes it fail, and only the
// fields left out on purpose leave it as it was. A field a new buildah
// adds is covered without a change, or fails this test if it cannot be.
func TestBuildKeyCoversOptions(t *testing.T) {
	p := specs.Platform{OS: "linux", Architecture: "arm64"}
	base := define.BuildOptions{}
	want, err := buildKey(p, []byte("FROM scratch\n"), "ctx", &base)
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeFor[define.BuildOptions]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		val, ok := someValue(f.Type)
		_, ignored := keyIgnoredFields[f.Name]
		if !ok {
			if !ignored {
				t.Errorf("field %s (%s): no value to try; leave it out in keyIgnoredFields with a reason, or let someValue make one", f.Name, f.Type)
			}
			continue
		}
		opts := base
		reflect.ValueOf(&opts).Elem().Field(i).Set(val)
		got, err := buildKey(p, []byte("FROM scratch\n"), "ctx", &opts)
		switch {
		case ignored && (err != nil || got != want):
			t.Errorf("field %s is left out of the key but changed it (err %v)", f.Name, err)
		case ignored:
		case f.Type.Kind() == reflect.Func:
			if err == nil {
				t.Errorf("field %s: a set function gave a key", f.Name)
			}
		case err != nil:
			t.Errorf("field %s: %v", f.Name, err)
		case got == want:
			t.Errorf("field %s: setting it left the key as it was", f.Name)
		}
	}
}

// TestBuildKeyInputs checks that the platform, the Containerfile, the
// context digest and the environment buildah reads each change the key.
func TestBuildKeyInputs(t *testing.T) {
	amd := specs.Platform{OS: "linux", Architecture: "amd64"}
	key := func(p specs.Platform, cf, ctx string) string {
		k, err := buildKey(p, []byte(cf), ctx, &define.BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	want := key(amd, "FROM scratch\n", "ctx")
	if key(amd, "FROM scratch\n", "ctx") != want {
		t.Fatal("the same inputs gave two keys")
	}
	for name, got := range map[string]string{
		"platform":      key(specs.Platform{OS: "linux", Architecture: "arm64"}, "FROM scratch\n", "ctx"),
		"containerfile": key(amd, "FROM scratch\nENV A=1\n", "ctx"),
		"context":       key(amd, "FROM scratch\n", "ctx2"),
	} {
		if got == want {
			t.Errorf("another %s gave the same key", name)
		}
	}
	t.Setenv("BUILD_REGISTRY_SOURCES", `{"insecureRegistries":["x"]}`)
	if key(amd, "FROM scratch\n", "ctx") == want {
		t.Error("BUILD_REGISTRY_SOURCES did not change the key")
	}
}

// TestContextDigest checks what changes the digest of a context: a
// file's content or mode, a new file, the ignore file; and what does
// not: times, files the ignore file leaves out, unless an exception lets
// them in again.
func TestContextDigest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("Containerfile", "FROM scratch\nCOPY . /\n")
	write(".containerignore", "skipped\nlogs/\n!logs/keep\n")
	write("kept", "1")
	write("skipped", "1")
	write("logs/noise", "1")
	write("logs/keep", "1")
	digest := func() string {
		t.Helper()
		d, err := contextDigest(dir, "", filepath.Join(dir, "Containerfile"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name    string
		change  func()
		changes bool
	}{
		{"nothing", func() {}, false},
		{"an ignored file", func() { write("skipped", "2") }, false},
		{"a file in an ignored directory", func() { write("logs/noise", "2") }, false},
		{"a kept file's content", func() { write("kept", "2") }, true},
		{"a kept file's mode", func() { _ = os.Chmod(filepath.Join(dir, "kept"), 0o600) }, true},
		{"a kept file's time (buildah's cache ignores it too)", func() { _ = os.Chtimes(filepath.Join(dir, "kept"), time.Unix(1, 0), time.Unix(1, 0)) }, false},
		{"a file let in again", func() { write("logs/keep", "2") }, true},
		{"a new file", func() { write("new", "") }, true},
		{"the ignore file", func() { write(".containerignore", "skipped\n") }, true},
	} {
		before := digest()
		tc.change()
		if got := digest() != before; got != tc.changes {
			t.Errorf("%s: digest changed %t, want %t", tc.name, got, tc.changes)
		}
	}
}

// TestKeyBypass lists the options and Containerfiles no build key can
// stand for.
func TestKeyBypass(t *testing.T) {
	plan := func(cf string) *Plan {
		f, err := parseContainerfileFrom("Containerfile", strings.NewReader(cf))
		if err != nil {
			t.Fatal(err)
		}
		return &Plan{file: f}
	}
	plain := "FROM busybox\nCOPY a /a\nADD b.tar /\nRUN --mount=type=cache,target=/c true\n"
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"plain", Options{Plan: plan(plain)}, ""},
		{"--no-cache", Options{Plan: plan(plain), NoCache: true}, "--no-cache"},
		{"--layers=false", Options{Plan: plan(plain), Cache: CacheOptions{FinalOnly: true}}, "--layers=false"},
		{"--pull=always", Options{Plan: plan(plain), Pull: PullAlways}, "--pull=always"},
		{"--cache-to", Options{Plan: plan(plain), Cache: CacheOptions{To: []string{"r/c"}}}, "--cache-from/--cache-to"},
		{"--secret", Options{Plan: plan(plain), Inputs: InputOptions{Secrets: []string{"id=a,src=f"}}}, "--secret"},
		{"--ssh", Options{Plan: plan(plain), Inputs: InputOptions{SSH: []string{"default"}}}, "--ssh"},
		{".in", Options{Plan: plan(plain), Containerfile: "Containerfile.in"}, "a preprocessed Containerfile (.in)"},
		{"ADD URL", Options{Plan: plan("FROM busybox\nADD https://example.com/a /a\n")}, "line 2: ADD https://example.com/a"},
		{"ADD git", Options{Plan: plan("FROM busybox\nADD git@example.com:a.git /a\n")}, "line 2: ADD git@example.com:a.git"},
		{"ADD variable", Options{Plan: plan("FROM busybox\nARG U\nADD $U /a\n")}, "line 3: ADD $U"},
		{"secret mount", Options{Plan: plan("FROM busybox\nRUN --mount=type=secret,id=a cat /run/secrets/a\n")}, "line 2: RUN --mount=type=secret,id=a"},
		{"ssh mount", Options{Plan: plan("FROM busybox\nRUN --mount=type=ssh true\n")}, "line 2: RUN --mount=type=ssh"},
	} {
		if got := tc.o.keyBypass(); got != tc.want {
			t.Errorf("%s: bypass %q, want %q", tc.name, got, tc.want)
		}
	}
}
