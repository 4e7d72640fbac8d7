package emulation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Tests here change binfmt_misc only inside private user+mount namespaces
// (see runInNamespace); the host's binfmt_misc is never mounted or written.

func init() {
	helpers["binfmt"] = helperBinfmt
	helpers["install"] = helperInstall
	helpers["private-empty"] = helperPrivateEmpty
	helpers["nested-outer"] = helperNestedOuter
	helpers["nested-inner"] = helperNestedInner
}

func TestBinfmtInNamespace(t *testing.T)       { testInNamespace(t, "binfmt") }
func TestInstallInNamespace(t *testing.T)      { testInNamespace(t, "install") }
func TestMountPrivateEmpty(t *testing.T)       { testInNamespace(t, "private-empty") }
func TestMountPrivateReregisters(t *testing.T) { testInNamespace(t, "nested-outer") }

// TestMountPrivateRefusesInitialNamespace runs in the test process itself,
// on an empty temporary directory, so even a wrong answer mounts nothing
// over the host's binfmt_misc.
func TestMountPrivateRefusesInitialNamespace(t *testing.T) {
	initial, err := InitialUserNamespace()
	if err != nil {
		t.Fatal(err)
	}
	if !initial {
		t.Skip("the test process is not in the initial user namespace")
	}
	dir := t.TempDir()
	_, err = MountPrivate(dir)
	if err == nil || !strings.Contains(err.Error(), "refusing in the initial user namespace") {
		t.Errorf("MountPrivate in the initial user namespace = %v, want a refusal", err)
	}
	if m, _ := Mounted(dir); m {
		_ = unix.Unmount(dir, 0)
		t.Fatalf("MountPrivate mounted binfmt_misc at %s in the initial user namespace", dir)
	}
}

// mountFresh mounts this namespace's binfmt_misc instance at mnt.
func mountFresh(mnt string) error {
	if err := unix.Mount("binfmt_misc", mnt, "binfmt_misc", 0, ""); err != nil {
		return fmt.Errorf("mounting binfmt_misc at %s: %w", mnt, err)
	}
	return nil
}

func lookup(s string) Emulator {
	e, ok := Lookup(plat(s))
	if !ok {
		panic("no emulator for " + s)
	}
	return e
}

// registerQEMU registers the qemu handler for platform s with flags PF.
func registerQEMU(mnt, s string) error {
	e := lookup(s)
	interp, err := FindInterpreter(e, "")
	if err != nil {
		return err
	}
	return Register(mnt, e, interp, DefaultFlags)
}

func helperBinfmt() error {
	mnt, ctx, arm64 := DefaultMountPoint, context.Background(), lookup("linux/arm64")
	if err := mountFresh(mnt); err != nil {
		return err
	}
	if hs, err := ReadHandlers(mnt); err != nil || len(hs) != 0 {
		return fmt.Errorf("fresh instance: ReadHandlers = %v, %v; want none", hs, err)
	}
	if err := Probe(ctx, arm64.Platform); !errors.Is(err, ErrNoHandler) {
		return fmt.Errorf("Probe before Register = %v, want ErrNoHandler", err)
	}
	if err := registerQEMU(mnt, "linux/arm64"); err != nil {
		return err
	}
	step("registered qemu-aarch64")
	if err := checkRegistered(mnt, arm64); err != nil {
		return err
	}
	if err := Probe(ctx, arm64.Platform); err != nil {
		return fmt.Errorf("Probe after Register: %w", err)
	}
	step("probe linux/arm64 ran through binfmt_misc")
	err := registerQEMU(mnt, "linux/arm64")
	if !errors.Is(err, ErrExists) {
		return fmt.Errorf("second Register = %v, want ErrExists", err)
	}
	step("second Register: %v", err)
	return checkUnregister(ctx, mnt, arm64)
}

// checkRegistered checks what ReadHandlers shows for e's handler.
func checkRegistered(mnt string, e Emulator) error {
	hs, err := ReadHandlers(mnt)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(hs, func(h Handler) bool { return h.Name == HandlerName(e) })
	if i < 0 {
		return fmt.Errorf("ReadHandlers = %+v, lacks %s", hs, HandlerName(e))
	}
	h := hs[i]
	interp, _ := FindInterpreter(e, "")
	if !h.Enabled || !strings.Contains(h.Flags, "P") || !strings.Contains(h.Flags, "F") || h.Interpreter != interp {
		return fmt.Errorf("handler %+v: want enabled, flags with P and F, interpreter %s", h, interp)
	}
	if !sameMagic(h, e.Magic, e.Mask) {
		return fmt.Errorf("handler magic %s mask %s differ from the table's", h.Magic, h.Mask)
	}
	step("ReadHandlers: %s enabled flags=%s interpreter=%s", h.Name, h.Flags, h.Interpreter)
	return nil
}

// sameMagic compares h's magic with magic under mask (the kernel may store
// the magic pre-masked).
func sameMagic(h Handler, magic, mask string) bool {
	hm, err1 := unescapeBytes(h.Magic)
	hk, err2 := unescapeBytes(h.Mask)
	m, err3 := unescapeBytes(magic)
	k, err4 := unescapeBytes(mask)
	if errors.Join(err1, err2, err3, err4) != nil || string(hk) != string(k) {
		return false
	}
	if len(k) == 0 {
		return string(hm) == string(m)
	}
	return string(andBytes(hm, k)) == string(andBytes(m, k))
}

func checkUnregister(ctx context.Context, mnt string, e Emulator) error {
	if err := Unregister(mnt, HandlerName(e)); err != nil {
		return err
	}
	if _, err := ReadHandler(mnt, HandlerName(e)); !errors.Is(err, ErrNotRegistered) {
		return fmt.Errorf("ReadHandler after Unregister = %v, want ErrNotRegistered", err)
	}
	if err := Unregister(mnt, HandlerName(e)); !errors.Is(err, ErrNotRegistered) {
		return fmt.Errorf("second Unregister = %v, want ErrNotRegistered", err)
	}
	err := Probe(ctx, e.Platform)
	if !errors.Is(err, ErrNoHandler) || !strings.Contains(err.Error(), "polyarch emulation install linux/arm64") {
		return fmt.Errorf("Probe after Unregister = %v, want ErrNoHandler with the install hint", err)
	}
	step("after Unregister: %v", err)
	return nil
}

func helperInstall() error {
	if err := mountFresh(DefaultMountPoint); err != nil {
		return err
	}
	var ps []string
	for _, e := range Table() {
		ps = append(ps, FormatPlatform(e.Platform))
	}
	opts := InstallOptions{}
	for _, p := range ps {
		opts.Platforms = append(opts.Platforms, plat(p))
	}
	res, err := Install(context.Background(), opts)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, r := range res {
		step("%-14s %-18s %s %s", FormatPlatform(r.Platform), r.Status, r.Handler, r.Interpreter)
		if FormatPlatform(r.Platform) != ps[i] {
			return fmt.Errorf("result %d is for %s, want %s", i, FormatPlatform(r.Platform), ps[i])
		}
		if err := checkStatus(r, seen); err != nil {
			return err
		}
	}
	return nil
}

// checkStatus checks one Install result: native platforms untouched, a
// handler shared by several platforms registered once.
func checkStatus(r InstallResult, seen map[string]bool) error {
	want := StatusRegistered
	switch {
	case Native(r.Platform):
		want = StatusNative
	case seen[r.Handler]:
		want = StatusExisting
	}
	seen[r.Handler] = true
	if r.Status != want || (want != StatusNative && r.Interpreter == "") {
		return fmt.Errorf("Install result %+v: want status %s and an interpreter", r, want)
	}
	return nil
}

func helperPrivateEmpty() error {
	dir, err := os.MkdirTemp("", "polyarch-binfmt-")
	if err != nil {
		return err
	}
	defer func() { _ = unix.Unmount(dir, 0); _ = os.Remove(dir) }()
	hs, err := MountPrivate(dir)
	if err != nil || len(hs) != 0 {
		return fmt.Errorf("MountPrivate on an unmounted directory = %v, %v; want no handlers", hs, err)
	}
	if m, err := Mounted(dir); !m || err != nil {
		return fmt.Errorf("after MountPrivate, Mounted(%s) = %v, %v", dir, m, err)
	}
	if hs, err := ReadHandlers(dir); err != nil || len(hs) != 0 {
		return fmt.Errorf("ReadHandlers after MountPrivate = %v, %v; want none", hs, err)
	}
	step("MountPrivate on an empty directory: mounted, no handlers")
	return nil
}
