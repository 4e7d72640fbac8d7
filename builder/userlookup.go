package builder

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/polyarch/polyarch/emulation"
	"golang.org/x/sys/unix"
)

// buildah looks users and groups up (USER app, COPY --chown=app, the
// home directory of a RUN) by re-executing this binary as
// "chrootuser-open ROOTDIR FILE...", a helper that chroots into the build
// container and copies the files to its stdout
// (go.podman.io/buildah/pkg/chrootuser). Its open blocks for ever on a
// FIFO /etc/passwd, it has no deadline and it outlives a killed polyarch,
// so polyarch serves that name itself: regular files only, at most
// lookupSizeCap bytes, within lookupDeadline, killed with its parent.
// What it refuses is appended to the file named by lookupReportEnv, so
// the build can say which file was wrong.

// lookupHelper is argv[0] of buildah's user-lookup helper.
const lookupHelper = "chrootuser-open"

// lookupReportEnv names the file the helper reports refusals to, one
// line each: ROOTDIR, FILE and the problem, tab-separated.
const lookupReportEnv = "_POLYARCH_LOOKUP_REPORT"

// lookupSizeCap bounds /etc/passwd and /etc/group; real ones are a few KiB.
const lookupSizeCap = 4 << 20

// lookupDeadline bounds one lookup.
const lookupDeadline = 10 * time.Second

// ServeUserLookup runs polyarch's user-lookup helper, and exits, when this
// process was started as one; otherwise it returns at once. main calls it
// first, before buildah.InitReexec, which would run buildah's own.
func ServeUserLookup() {
	if filepath.Base(os.Args[0]) != lookupHelper {
		return
	}
	os.Exit(serveLookup(os.Args[1:], os.Stdout))
}

// serveLookup chroots into args[0] and copies each file of args[1:] to
// out, refusing what is not a regular file of at most lookupSizeCap
// bytes; it returns the exit status.
func serveLookup(args []string, out io.Writer) int {
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	if os.Getppid() == 1 {
		return 1 // the parent is already gone
	}
	if len(args) < 1 {
		fmt.Fprintf(os.Stderr, "usage: %s ROOTDIR FILE...\n", lookupHelper)
		return 1
	}
	report := openLookupReport()
	root := args[0]
	time.AfterFunc(lookupDeadline, func() {
		reportLookup(report, root, strings.Join(args[1:], " "), fmt.Sprintf("not read within %s", lookupDeadline))
		os.Exit(1)
	})
	if err := unix.Chdir(root); err != nil {
		fmt.Fprintf(os.Stderr, "chdir %s: %v\n", root, err)
		return 1
	}
	if err := unix.Chroot(root); err != nil {
		fmt.Fprintf(os.Stderr, "chroot %s: %v\n", root, err)
		return 1
	}
	status := 0
	w := bufio.NewWriter(out)
	for _, name := range args[1:] {
		if problem := copyRegular(w, name); problem != "" {
			reportLookup(report, root, name, problem)
			status = 1
		}
	}
	if err := w.Flush(); err != nil {
		return 1
	}
	return status
}

// copyRegular copies name to w if it is a regular file of at most
// lookupSizeCap bytes, and says what is wrong otherwise. It looks at the
// file through an O_PATH descriptor first, which opens nothing: opening a
// FIFO or a device can block or act.
func copyRegular(w io.Writer, name string) string {
	pfd, err := unix.Open(name, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Sprintf("cannot be opened: %v", err)
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	if err := unix.Fstat(pfd, &st); err != nil {
		return fmt.Sprintf("cannot be read: %v", err)
	}
	if problem := regularProblem(st); problem != "" {
		return problem
	}
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Sprintf("cannot be opened: %v", err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var again unix.Stat_t
	if err := unix.Fstat(fd, &again); err != nil || again.Ino != st.Ino || again.Dev != st.Dev {
		return "changed while it was read"
	}
	n, err := io.Copy(w, io.LimitReader(f, lookupSizeCap+1))
	switch {
	case err != nil:
		return fmt.Sprintf("cannot be read: %v", err)
	case n > lookupSizeCap:
		return fmt.Sprintf("is larger than %d bytes", lookupSizeCap)
	}
	return ""
}

// regularProblem describes st when it is not a regular file within the cap.
func regularProblem(st unix.Stat_t) string {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		if st.Size > lookupSizeCap {
			return fmt.Sprintf("is %d bytes, more than the %d a user or group file may have", st.Size, lookupSizeCap)
		}
		return ""
	case unix.S_IFIFO:
		return "is a named pipe (FIFO), not a regular file"
	case unix.S_IFCHR:
		return "is a character device, not a regular file"
	case unix.S_IFBLK:
		return "is a block device, not a regular file"
	case unix.S_IFSOCK:
		return "is a socket, not a regular file"
	case unix.S_IFDIR:
		return "is a directory, not a regular file"
	}
	return "is not a regular file"
}

// openLookupReport opens the report file named by lookupReportEnv, or
// returns nil. It is opened before the chroot, which would hide it.
func openLookupReport() *os.File {
	path := os.Getenv(lookupReportEnv)
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil
	}
	return f
}

// reportLookup appends one refusal to the report, if there is one.
func reportLookup(report *os.File, root, name, problem string) {
	fmt.Fprintf(os.Stderr, "%s: %s %s\n", lookupHelper, name, problem)
	if report != nil {
		fmt.Fprintf(report, "%s\t%s\t%s\n", root, name, problem)
	}
}

// lookupRefusals returns the distinct refusals of the report at path, as
// "FILE PROBLEM", in the order they came.
func lookupRefusals(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 {
			continue
		}
		if s := f[1] + " " + f[2]; !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// errUserLookup marks a build error caused by a user or group file the
// lookup helper refused.
var errUserLookup = errors.New("user and group lookups read only regular files")

// PlatformError is the failure of one platform's build.
type PlatformError struct {
	// Platform is os/arch[/variant].
	Platform string
	Err      error
}

// Error prefixes the failure with its platform: "[linux/arm64] ...".
func (e *PlatformError) Error() string { return "[" + e.Platform + "] " + e.Err.Error() }

// Unwrap returns the platform's own error.
func (e *PlatformError) Unwrap() error { return e.Err }

// explainLookup adds to a failed build what the lookup helper refused,
// with the platform and the bases it was building from.
func explainLookup(err error, reportPath string, plan *Plan) error {
	refusals := lookupRefusals(reportPath)
	if err == nil || len(refusals) == 0 {
		return err
	}
	where := "the build container"
	var pe *PlatformError
	if errors.As(err, &pe) {
		var bases []string
		for _, n := range plan.needs {
			if emulation.FormatPlatform(n.Platform) == pe.Platform && !slices.Contains(bases, n.Image) {
				bases = append(bases, n.Image)
			}
		}
		where = fmt.Sprintf("the %s build container, from base image %s", pe.Platform, strings.Join(bases, " or "))
	}
	return fmt.Errorf("%w\n%s in %s: %v (at most %d bytes, within %s); fix the base image, or the step that made the file",
		err, strings.Join(refusals, "; "), where, errUserLookup, lookupSizeCap, lookupDeadline)
}

// reportUserLookups makes the lookup helpers this process starts report
// their refusals to a file in work, and returns its path. (The helpers
// inherit the environment; buildah offers no other channel.)
func reportUserLookups(work string) (string, error) {
	path := filepath.Join(work, "user-lookups")
	if err := os.Setenv(lookupReportEnv, path); err != nil {
		return "", fmt.Errorf("setting %s: %w", lookupReportEnv, err)
	}
	return path, nil
}
