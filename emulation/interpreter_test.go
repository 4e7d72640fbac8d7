package emulation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// requireQEMU fails t unless Debian's static qemu for target is installed.
func requireQEMU(t *testing.T, target string) string {
	t.Helper()
	p := "/usr/bin/qemu-" + target + "-static"
	if err := checkStatic(p); err != nil {
		t.Fatalf("these tests need qemu-user-static (apt-get install qemu-user-static): %v", err)
	}
	return p
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

func TestFindInterpreter(t *testing.T) {
	static := requireQEMU(t, "aarch64")
	arm64, _ := Lookup(plat("linux/arm64"))
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) // fills the --qemu-dir
		useEnv  bool                           // pass the dir through POLYARCH_QEMU_DIR
		noDir   bool                           // search the default places
		want    string                         // file name in dir, or absolute path
		wantErr []string
	}{
		{name: "empty dir", setup: func(*testing.T, string) {},
			wantErr: []string{"linux/arm64", "qemu-aarch64-static", "apt-get install qemu-user-static", "--qemu-dir"}},
		{name: "empty dir from env", useEnv: true, setup: func(*testing.T, string) {},
			wantErr: []string{"qemu-user-static", "POLYARCH_QEMU_DIR"}},
		{name: "static", setup: func(t *testing.T, dir string) {
			symlink(t, static, filepath.Join(dir, "qemu-aarch64-static"))
		}, want: "qemu-aarch64-static"},
		{name: "static from env", useEnv: true, setup: func(t *testing.T, dir string) {
			symlink(t, static, filepath.Join(dir, "qemu-aarch64-static"))
		}, want: "qemu-aarch64-static"},
		{name: "static without suffix", setup: func(t *testing.T, dir string) {
			symlink(t, static, filepath.Join(dir, "qemu-aarch64"))
		}, want: "qemu-aarch64"},
		{name: "dynamic", setup: func(t *testing.T, dir string) {
			copyFile(t, "/bin/true", filepath.Join(dir, "qemu-aarch64-static"), 0o755)
		}, wantErr: []string{"dynamically linked", "static", "ld-linux", "fails inside the build root", "qemu-user-static"}},
		{name: "dynamic then static", setup: func(t *testing.T, dir string) {
			copyFile(t, "/bin/true", filepath.Join(dir, "qemu-aarch64-static"), 0o755)
			symlink(t, static, filepath.Join(dir, "qemu-aarch64"))
		}, want: "qemu-aarch64"},
		{name: "script", setup: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "qemu-aarch64-static"), []byte("#!/bin/sh\n"), 0o755)
		}, wantErr: []string{"not an ELF"}},
		{name: "not executable", setup: func(t *testing.T, dir string) {
			copyFile(t, static, filepath.Join(dir, "qemu-aarch64-static"), 0o644)
		}, wantErr: []string{"not an executable"}},
		{name: "defaults", noDir: true, want: static},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, arg := t.TempDir(), ""
			t.Setenv(EnvQEMUDir, "")
			switch {
			case tt.noDir:
			case tt.useEnv:
				t.Setenv(EnvQEMUDir, dir)
			default:
				arg = dir
			}
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			got, err := FindInterpreter(arm64, arg)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("FindInterpreter = %s, want an error", got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				return
			}
			want := tt.want
			if !filepath.IsAbs(want) {
				want = filepath.Join(dir, want)
			}
			if err != nil || got != want {
				t.Fatalf("FindInterpreter = %q, %v; want %q", got, err, want)
			}
		})
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestFindInterpreterEveryRow checks that Debian's qemu-user-static
// provides a static interpreter for every row of the table.
func TestFindInterpreterEveryRow(t *testing.T) {
	t.Setenv(EnvQEMUDir, "")
	for _, e := range Table() {
		requireQEMU(t, e.QEMU)
		if _, err := FindInterpreter(e, ""); err != nil {
			t.Errorf("FindInterpreter(%s): %v", FormatPlatform(e.Platform), err)
		}
	}
}
