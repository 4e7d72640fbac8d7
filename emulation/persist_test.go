package emulation

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// contribDir holds the binfmt.d files shipped in contrib/.
const contribDir = "../contrib/binfmt.d"

// contribConfs returns what contrib/binfmt.d must hold: ConfFile for every
// handler of the table that amd64 does not run natively, with the
// interpreter Debian's qemu-user-static installs.
func contribConfs(t *testing.T) map[string]string {
	t.Helper()
	want := map[string]string{}
	for _, e := range table {
		if e.Platform.Architecture == "amd64" || compatArch("amd64", e.Platform.Architecture) {
			continue
		}
		content, err := ConfFile(e, filepath.Join(defaultQEMUBin, "qemu-"+e.QEMU+"-static"))
		if err != nil {
			t.Fatal(err)
		}
		want[ConfName(e)] = content
	}
	return want
}

// TestContribBinfmtD keeps contrib/binfmt.d equal to what `polyarch
// emulation install --persist` writes. Regenerate with `go generate
// ./emulation` (POLYARCH_UPDATE_CONTRIB=1).
func TestContribBinfmtD(t *testing.T) {
	want := contribConfs(t)
	if os.Getenv("POLYARCH_UPDATE_CONTRIB") != "" {
		writeContrib(t, want)
	}
	got, err := filepath.Glob(filepath.Join(contribDir, "*.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range got {
		if _, ok := want[filepath.Base(path)]; !ok {
			t.Errorf("%s is not a file polyarch writes: remove it, or run go generate ./emulation", path)
		}
	}
	for name, content := range want {
		b, err := os.ReadFile(filepath.Join(contribDir, name))
		if err != nil || string(b) != content {
			t.Errorf("%s/%s differs from ConfFile (%v): run go generate ./emulation\ngot:\n%s\nwant:\n%s",
				contribDir, name, err, b, content)
		}
	}
}

func writeContrib(t *testing.T, want map[string]string) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(contribDir, "*.conf"))
	for _, path := range old {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range want {
		if err := os.WriteFile(filepath.Join(contribDir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConfFile(t *testing.T) {
	for _, tt := range []struct {
		platform, interp, want string
	}{
		{"linux/arm64", "/usr/bin/qemu-aarch64-static", confMarker + " for linux/arm64.\n" +
			"# systemd-binfmt registers it at boot; `polyarch emulation uninstall` removes it.\n" +
			`:qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:` +
			`\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:PF` + "\n"},
		{"linux/arm/v5", "/opt/q/qemu-arm", confMarker + " for linux/arm/v7, linux/arm/v6, linux/arm/v5.\n" +
			"# systemd-binfmt registers it at boot; `polyarch emulation uninstall` removes it.\n" +
			":qemu-arm:M::" + armMagic + ":" + maskLE + ":/opt/q/qemu-arm:PF\n"},
	} {
		got, err := ConfFile(lookup(tt.platform), tt.interp)
		if err != nil || got != tt.want {
			t.Errorf("ConfFile(%s) = %q, %v\nwant %q", tt.platform, got, err, tt.want)
		}
	}
	if _, err := ConfFile(lookup("linux/s390x"), "relative/qemu"); err == nil {
		t.Error("ConfFile with a relative interpreter succeeded")
	}
}

// confTree makes an /etc-like and a /usr/lib-like binfmt.d directory.
func confTree(t *testing.T, files map[string]string) ConfOptions {
	t.Helper()
	root := t.TempDir()
	o := ConfOptions{Dir: filepath.Join(root, "etc"), SearchDirs: []string{filepath.Join(root, "etc"), filepath.Join(root, "lib")}}
	for rel, content := range files {
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if content == "/dev/null" {
			err = os.Symlink(content, path)
		} else {
			err = os.WriteFile(path, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return o
}

func TestPersist(t *testing.T) {
	debian := ":qemu-aarch64:M::\\x7fELF::/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF\n"
	for _, tt := range []struct {
		name      string
		files     map[string]string
		wantOther string // the file that already persists it, or "" if polyarch writes its own
	}{
		{"empty", nil, ""},
		{"debian", map[string]string{"lib/qemu-aarch64.conf": "# comment\n" + debian}, "lib/qemu-aarch64.conf"},
		{"other delimiter", map[string]string{"lib/x.conf": ";c\n|qemu-aarch64|M||\\x7fELF||/q|F\n"}, "lib/x.conf"},
		{"masked", map[string]string{"lib/qemu-aarch64.conf": debian, "etc/qemu-aarch64.conf": "/dev/null"}, ""},
		{"overridden", map[string]string{"lib/qemu-aarch64.conf": debian, "etc/qemu-aarch64.conf": "# off\n"}, ""},
		{"stale own", map[string]string{"lib/qemu-aarch64.conf": debian, "etc/polyarch-qemu-aarch64.conf": confMarker}, "lib/qemu-aarch64.conf"},
		{"other names", map[string]string{"lib/python3.11.conf": ":python3.11:M::\\xa7\\x0d\\x0d\\x0a::/usr/bin/python3.11:\n"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := confTree(t, tt.files)
			got, err := Persist(lookup("linux/arm64"), "", o)
			own := filepath.Join(o.Dir, "polyarch-qemu-aarch64.conf")
			want := own
			if tt.wantOther != "" {
				want = filepath.Join(filepath.Dir(o.Dir), tt.wantOther)
			}
			if err != nil || got != want {
				t.Fatalf("Persist = %q, %v; want %q", got, err, want)
			}
			_, statErr := os.Stat(own)
			if exists := statErr == nil; exists != (tt.wantOther == "") {
				t.Errorf("%s exists = %v, want %v", own, exists, tt.wantOther == "")
			}
		})
	}
}

func TestUnpersist(t *testing.T) {
	arm64 := lookup("linux/arm64")
	content, err := ConfFile(arm64, "/usr/bin/qemu-aarch64-static")
	if err != nil {
		t.Fatal(err)
	}
	o := confTree(t, map[string]string{
		"etc/polyarch-qemu-aarch64.conf": content,
		"etc/polyarch-qemu-s390x.conf":   ":qemu-s390x:M::x::/q:F\n", // not ours: no marker
		"etc/qemu-riscv64.conf":          ":qemu-riscv64:M::x::/q:F\n",
	})
	if got, err := Unpersist(arm64, o); err != nil || got != filepath.Join(o.Dir, "polyarch-qemu-aarch64.conf") {
		t.Errorf("Unpersist(arm64) = %q, %v", got, err)
	}
	if got, err := Unpersist(arm64, o); err != nil || got != "" {
		t.Errorf("second Unpersist(arm64) = %q, %v; want nothing removed", got, err)
	}
	if _, err := Unpersist(lookup("linux/s390x"), o); err == nil || !strings.Contains(err.Error(), "not written by polyarch") {
		t.Errorf("Unpersist of a foreign file = %v, want a refusal", err)
	}
	if _, err := Unpersist(lookup("linux/riscv64"), o); err != nil {
		t.Errorf("Unpersist(riscv64) = %v, want nil (its file has another name)", err)
	}
	left, _ := os.ReadDir(o.Dir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if want := []string{"polyarch-qemu-s390x.conf", "qemu-riscv64.conf"}; !slices.Equal(names, want) {
		t.Errorf("left in %s: %v, want %v", o.Dir, names, want)
	}
}
