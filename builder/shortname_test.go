package builder

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.podman.io/image/v5/types"
)

// confContext returns a SystemContext reading only conf as registries.conf.
func confContext(t *testing.T, conf string) *types.SystemContext {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "registries.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return &types.SystemContext{
		SystemRegistriesConfPath:    path,
		SystemRegistriesConfDirPath: filepath.Join(dir, "none.d"),
		UserShortNameAliasConfPath:  filepath.Join(dir, "aliases.conf"),
	}
}

func TestRegistryCandidates(t *testing.T) {
	for _, tc := range []struct {
		name, conf, image string
		want              []string
		wantErr           string
	}{
		{"qualified", "", "quay.io/a/b:1", []string{"quay.io/a/b:1"}, ""},
		{"qualified docker.io", "", "docker.io/alpine", []string{"docker.io/library/alpine:latest"}, ""},
		{"no search list", "", "alpine", nil, "no unqualified-search-registries are configured"},
		{"alias", "[aliases]\n\"alpine\" = \"quay.io/x/alpine\"\n", "alpine:3", []string{"quay.io/x/alpine:3"}, ""},
		{"one registry", "unqualified-search-registries = [\"r.example:5000\"]\n", "team/app", []string{"r.example:5000/team/app:latest"}, ""},
		{"permissive keeps order", "short-name-mode = \"permissive\"\nunqualified-search-registries = [\"a.example\", \"b.example\"]\n", "app@sha256:" + strings.Repeat("a", 64),
			[]string{"a.example/app@sha256:" + strings.Repeat("a", 64), "b.example/app@sha256:" + strings.Repeat("a", 64)}, ""},
		{"enforcing refuses to guess", "short-name-mode = \"enforcing\"\nunqualified-search-registries = [\"a.example\", \"b.example\"]\n", "app", nil, "polyarch never prompts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := registryCandidates(confContext(t, tc.conf), tc.image)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if tc.name == "no search list" && !errors.Is(err, errNoSearchRegistries) {
					t.Errorf("error %v is not errNoSearchRegistries", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, n := range got {
				names = append(names, n.String())
			}
			if !slices.Equal(names, tc.want) {
				t.Errorf("candidates %v, want %v", names, tc.want)
			}
		})
	}
}
