package emulation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Dummy handlers registered in the outer namespace; /bin/true never runs.
var (
	dummyMagic    = Handler{Name: "polyarch-test-magic", Interpreter: "/bin/true", Magic: `\x01\x02polyarch-test`, Offset: 4}
	dummyExt      = Handler{Name: "polyarch-test-ext", Interpreter: "/bin/true", Extension: "polyarchtest"}
	dummyDisabled = Handler{Name: "polyarch-test-disabled", Interpreter: "/bin/true", Magic: `\x01\x03polyarch-test`}
	// dummyGone is registered with F, then its interpreter is deleted, so
	// it cannot be registered again.
	dummyGone = Handler{Name: "polyarch-test-gone", Magic: `\x01\x04polyarch-test`, Flags: "F"}
)

// helperNestedOuter plays the host: it registers handlers in its own
// instance, runs helperNestedInner in a child user namespace, then checks
// that the child's private registrations did not leak back.
func helperNestedOuter() error {
	mnt := DefaultMountPoint
	if err := mountFresh(mnt); err != nil {
		return err
	}
	if err := registerQEMU(mnt, "linux/arm64"); err != nil {
		return err
	}
	for _, h := range []Handler{dummyMagic, dummyExt, dummyDisabled} {
		if err := RegisterHandler(mnt, h); err != nil {
			return err
		}
	}
	if err := writeExisting(filepath.Join(mnt, dummyDisabled.Name), "0"); err != nil {
		return fmt.Errorf("disabling %s: %w", dummyDisabled.Name, err)
	}
	if err := registerGone(mnt); err != nil {
		return err
	}
	step("outer: registered qemu-aarch64, %s, %s, %s (interpreter deleted) and disabled %s",
		dummyMagic.Name, dummyExt.Name, dummyGone.Name, dummyDisabled.Name)
	out, err := runInNamespace("nested-inner")
	step("%s", strings.TrimSpace(out))
	if err != nil {
		return fmt.Errorf("nested-inner: %w", err)
	}
	return checkOuterUnchanged(mnt)
}

// registerGone registers dummyGone with a temporary copy of /bin/true as
// interpreter, then deletes the copy.
func registerGone(mnt string) error {
	dir, err := os.MkdirTemp("", "polyarch-gone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := os.ReadFile("/bin/true")
	if err != nil {
		return err
	}
	h := dummyGone
	h.Interpreter = filepath.Join(dir, "interp")
	if err := os.WriteFile(h.Interpreter, b, 0o755); err != nil {
		return err
	}
	return RegisterHandler(mnt, h)
}

func checkOuterUnchanged(mnt string) error {
	hs, err := ReadHandlers(mnt)
	if err != nil {
		return err
	}
	want := []string{dummyDisabled.Name, dummyExt.Name, dummyGone.Name, dummyMagic.Name, "qemu-aarch64"}
	if got := handlerNames(hs); !slices.Equal(got, want) {
		return fmt.Errorf("outer handlers after the child ran = %v, want %v", got, want)
	}
	if err := Probe(context.Background(), lookup("linux/s390x").Platform); !errors.Is(err, ErrNoHandler) {
		return fmt.Errorf("outer Probe(linux/s390x) = %v, want ErrNoHandler: the child's handler leaked", err)
	}
	step("outer: handlers unchanged, the child's qemu-s390x is not visible here")
	return nil
}

func handlerNames(hs []Handler) []string {
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	slices.Sort(names)
	return names
}

// helperNestedInner runs in a user namespace whose parent has its own
// binfmt_misc instance.
func helperNestedInner() error {
	mnt, ctx := DefaultMountPoint, context.Background()
	arm64, s390x := lookup("linux/arm64"), lookup("linux/s390x")
	if err := Probe(ctx, arm64.Platform); err != nil {
		return fmt.Errorf("inner Probe before MountPrivate (parent's handler): %w", err)
	}
	got, err := MountPrivate(mnt)
	if err := checkGoneError(err); err != nil {
		return err
	}
	want := []string{dummyExt.Name, dummyMagic.Name, "qemu-aarch64"}
	if names := handlerNames(got); !slices.Equal(names, want) {
		return fmt.Errorf("MountPrivate re-registered %v, want %v", names, want)
	}
	if err := checkCopies(mnt); err != nil {
		return err
	}
	if err := Probe(ctx, arm64.Platform); err != nil {
		return fmt.Errorf("inner Probe after MountPrivate: %w", err)
	}
	step("inner: MountPrivate re-registered %v; linux/arm64 still runs", want)
	if err := registerQEMU(mnt, "linux/s390x"); err != nil {
		return err
	}
	if err := Probe(ctx, s390x.Platform); err != nil {
		return fmt.Errorf("inner Probe(linux/s390x): %w", err)
	}
	return checkMountPrivateAgain(mnt)
}

// checkGoneError checks that MountPrivate reported exactly dummyGone as
// not re-registered.
func checkGoneError(err error) error {
	var rerr *ReregisterError
	if !errors.As(err, &rerr) || len(rerr.Errs) != 1 || !strings.Contains(err.Error(), dummyGone.Name) ||
		!strings.Contains(err.Error(), "not found") {
		return fmt.Errorf("MountPrivate error = %v, want a *ReregisterError for %s only", err, dummyGone.Name)
	}
	step("inner: MountPrivate warned: %v", err)
	return nil
}

// checkCopies compares the private instance's handlers with the dummies.
func checkCopies(mnt string) error {
	for _, want := range []Handler{dummyMagic, dummyExt} {
		h, err := ReadHandler(mnt, want.Name)
		if err != nil {
			return err
		}
		if !h.Enabled || h.Interpreter != want.Interpreter || h.Extension != want.Extension || h.Offset != want.Offset ||
			(want.Magic != "" && !sameMagic(h, want.Magic, want.Mask)) {
			return fmt.Errorf("private copy %+v differs from %+v", h, want)
		}
	}
	if _, err := ReadHandler(mnt, dummyDisabled.Name); !errors.Is(err, ErrNotRegistered) {
		return fmt.Errorf("disabled handler was copied (ReadHandler = %v)", err)
	}
	return nil
}

// checkMountPrivateAgain checks that a second MountPrivate in the same
// namespace (same instance) keeps every handler.
func checkMountPrivateAgain(mnt string) error {
	got, err := MountPrivate(mnt)
	if err != nil {
		return fmt.Errorf("second MountPrivate: %w", err)
	}
	want := []string{dummyExt.Name, dummyMagic.Name, "qemu-aarch64", "qemu-s390x"}
	if names := handlerNames(got); !slices.Equal(names, want) {
		return fmt.Errorf("second MountPrivate returned %v, want %v", names, want)
	}
	step("inner: registered qemu-s390x privately; a second MountPrivate kept %v", want)
	return nil
}
