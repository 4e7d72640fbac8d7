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

// goneMIPS serves mips64le under a name of its own; registered like
// dummyGone, its interpreter is then deleted.
func goneMIPS() Handler {
	e := lookup("linux/mips64le")
	return Handler{Name: "polyarch-test-mips64le", Magic: e.Magic, Mask: e.Mask, Flags: "PF"}
}

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
	for _, h := range []Handler{dummyMagic, dummyExt, dummyDisabled, unfitPPC()} {
		if err := RegisterHandler(mnt, h); err != nil {
			return err
		}
	}
	if err := writeExisting(filepath.Join(mnt, dummyDisabled.Name), "0"); err != nil {
		return fmt.Errorf("disabling %s: %w", dummyDisabled.Name, err)
	}
	for _, h := range []Handler{dummyGone, goneMIPS()} {
		if err := registerGone(mnt, h); err != nil {
			return err
		}
	}
	step("outer: registered qemu-aarch64, %s, %s, qemu-ppc64le without F, %s and %s (interpreters deleted) and disabled %s",
		dummyMagic.Name, dummyExt.Name, dummyGone.Name, goneMIPS().Name, dummyDisabled.Name)
	out, err := runInNamespace("nested-inner")
	step("%s", strings.TrimSpace(out))
	if err != nil {
		return fmt.Errorf("nested-inner: %w", err)
	}
	return checkOuterUnchanged(mnt)
}

// registerGone registers h with a temporary copy of /bin/true as
// interpreter, then deletes the copy.
func registerGone(mnt string, h Handler) error {
	dir, err := os.MkdirTemp("", "polyarch-gone-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b, err := os.ReadFile("/bin/true")
	if err != nil {
		return err
	}
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
	want := []string{dummyDisabled.Name, dummyExt.Name, dummyGone.Name, dummyMagic.Name, goneMIPS().Name, "qemu-aarch64", "qemu-ppc64le"}
	if got := handlerNames(hs); !slices.Equal(got, want) {
		return fmt.Errorf("outer handlers after the child ran = %v, want %v", got, want)
	}
	if err := Probe(context.Background(), lookup("linux/s390x").Platform); !errors.Is(err, ErrNoHandler) {
		return fmt.Errorf("outer Probe(linux/s390x) = %v, want ErrNoHandler: the child's handler leaked", err)
	}
	if h, err := ReadHandler(mnt, "qemu-ppc64le"); err != nil || h.Flags != "P" {
		return fmt.Errorf("outer qemu-ppc64le = %+v, %v: want it unchanged, flags P: the child's handler leaked", h, err)
	}
	step("outer: handlers unchanged, the child's qemu-s390x and qemu-ppc64le are not visible here")
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
	got, err := MountPrivateReport(mnt)
	if err := checkGoneError(err); err != nil {
		return err
	}
	want := []string{dummyExt.Name, dummyMagic.Name, "qemu-aarch64"}
	if names := handlerNames(got.Reregistered); !slices.Equal(names, want) {
		return fmt.Errorf("MountPrivate re-registered %v, want %v", names, want)
	}
	if err := checkSkipped(ctx, mnt, got.Skipped); err != nil {
		return err
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
	want := []string{dummyExt.Name, dummyMagic.Name, "qemu-aarch64", "qemu-ppc64le", "qemu-s390x"}
	if names := handlerNames(got); !slices.Equal(names, want) {
		return fmt.Errorf("second MountPrivate returned %v, want %v", names, want)
	}
	step("inner: registered qemu-s390x privately; a second MountPrivate kept %v", want)
	return nil
}

// checkSkipped checks that MountPrivateReport left out the unfit qemu
// handlers, and that Ensure then registers a fit qemu-ppc64le in their
// place instead of failing with ErrUnfit.
func checkSkipped(ctx context.Context, mnt string, skipped []SkippedHandler) error {
	var got []string
	for _, sk := range skipped {
		got = append(got, sk.Handler.Name+": "+sk.Reason)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], goneMIPS().Name+": serves linux/mips64le with interpreter ") ||
		!strings.HasSuffix(got[0], "which is gone") || got[1] != `qemu-ppc64le: serves linux/ppc64le with flags "P", builds need P and F` {
		return fmt.Errorf("MountPrivateReport skipped %q, want %s (interpreter gone) and qemu-ppc64le (no F)", got, goneMIPS().Name)
	}
	h, registered, err := Ensure(ctx, mnt, lookup("linux/ppc64le"), "")
	if err != nil || !registered || h.Flags != "PF" {
		return fmt.Errorf("Ensure(linux/ppc64le) after MountPrivateReport = %+v, %v, %v; want a new handler with flags PF", h, registered, err)
	}
	step("inner: left out %q; Ensure registered a fit %s", got, h.Name)
	return nil
}
