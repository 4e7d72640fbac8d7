package builder

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// RUN steps in their own PID, IPC and mount namespaces.
//
// buildah's chroot isolation (go.podman.io/buildah chroot/run_common.go)
// re-executes this binary as "buildah-chroot-runtime", which bind-mounts
// the /dev and /proc of its own mount namespace into the rootfs and starts
// "buildah-chroot-exec" in new UTS and mount namespaces only ("unable to
// create PID namespace, sorry about that"): a RUN step saw every host
// process, could signal them, and saw the host's /dev. ServeRunNamespace
// slips one process in between: the runtime polyarch re-executes starts
// itself again, as nsHelper, in new PID, IPC and mount namespaces; that
// process, PID 1 of its PID namespace, mounts a fresh /proc and a minimal
// /dev over the inherited ones and then becomes buildah's runtime, whose
// bind mounts now carry those into the RUN step. When it exits, the kernel
// kills every process left in the namespace.

const (
	// chrootRuntime is the argv[0] buildah gives its chroot runtime.
	chrootRuntime = "buildah-chroot-runtime"
	// nsHelper is the argv[0] of the runtime started in new namespaces.
	nsHelper = "polyarch-chroot-ns"
	// runNamespaces are the namespaces every chroot RUN step gets on top
	// of buildah's mount and UTS namespaces.
	runNamespaces = unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWNS
)

// ServeRunNamespace runs buildah's chroot runtime in new PID, IPC and
// mount namespaces with a fresh /proc and a minimal /dev. In the runtime
// buildah starts it starts the runtime again in new namespaces, relays
// signals to it and exits with its status; in that new runtime it sets up
// /proc and /dev and returns, for buildah.InitReexec to run buildah's
// runtime. Otherwise it does nothing. main calls it before
// buildah.InitReexec.
func ServeRunNamespace() {
	switch os.Args[0] {
	case chrootRuntime, nsHelper, chrootExec:
		if err := closeOnExecFrom(3); err != nil { // see runfds.go
			fmt.Fprintf(os.Stderr, "Error: isolating the RUN step: %v\n", err)
			os.Exit(1)
		}
	}
	switch os.Args[0] {
	case chrootRuntime:
		os.Exit(runInNamespaces())
	case nsHelper:
		if err := isolateRunStep(); err != nil {
			fmt.Fprintf(os.Stderr, "Error: isolating the RUN step: %v\n", err)
			os.Exit(1)
		}
		os.Args[0] = chrootRuntime // buildah.InitReexec runs the runtime now
	}
}

// runInNamespaces starts this binary again as nsHelper in new namespaces
// (a network namespace too when the runtime spec asks for one), with the
// same arguments, environment and configuration, forwards SIGHUP,
// SIGINT and SIGTERM to it, and returns its exit status; when a signal
// killed it, this process dies of the same signal.
func runInNamespaces() int {
	// The parent-death signal follows the thread that starts the child.
	runtime.LockOSThread()
	conf, err := readRuntimeConfig(os.NewFile(3, "confpipe"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: starting the RUN step: %v\n", err)
		return 1
	}
	confPipe, err := conf.pipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: starting the RUN step: %v\n", err)
		return 1
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = nsHelper
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = withoutUnshareEnv(os.Environ())
	cmd.ExtraFiles = []*os.File{confPipe} // fd 3, as buildah passes it
	flags := uintptr(runNamespaces)
	if wantsNewNetwork(conf.Spec) {
		flags |= unix.CLONE_NEWNET
		cmd.Env = append(cmd.Env, newNetEnv+"=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags, Pdeathsig: syscall.SIGKILL}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	err = cmd.Start()
	confPipe.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: starting the RUN step in new PID, IPC and mount namespaces: %v (use --isolation oci where an OCI runtime works)\n", err)
		return 1
	}
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	signal.Stop(sigs)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintf(os.Stderr, "Error: waiting for the RUN step: %v\n", err)
		return 1
	}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		signal.Reset(ws.Signal())
		_ = syscall.Kill(os.Getpid(), ws.Signal())
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// withoutUnshareEnv returns env without the _Containers-* variables
// go.podman.io/storage/pkg/unshare sets for the process it starts (its C
// constructor consumed them in this one, but Go's environment still
// holds them): the new process must not take their descriptors again.
func withoutUnshareEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		return strings.HasPrefix(kv, "_Containers-")
	})
}

// isolateRunStep, in nsHelper (PID 1 of a new PID namespace, in new IPC
// and mount namespaces), keeps its mounts to itself, mounts a /proc of
// the new PID namespace and a minimal /dev, and makes itself
// undumpable, so a RUN step cannot reach the host's root through
// /proc/1/root.
func isolateRunStep() error {
	if os.Getpid() != 1 {
		return fmt.Errorf("%s runs as pid %d, want 1 in a new PID namespace", nsHelper, os.Getpid())
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("making the RUN step's init undumpable: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc of the new PID namespace: %w", err)
	}
	if err := setUpNewNetwork(); err != nil {
		return err
	}
	return mountMinimalDev("/dev")
}

// devNodes are the host's device nodes bound into the minimal /dev: with
// devLinks, a devpts and a shm, the /dev the OCI runtime specification
// gives every container.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

// devLinks are the symbolic links of the minimal /dev.
var devLinks = [][2]string{
	{"ptmx", "pts/ptmx"}, {"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
}

// mountMinimalDev mounts over dev a tmpfs holding the host's devNodes
// (bind-mounted: they cannot be created in a user namespace), devLinks, a
// new devpts instance and its own shm.
func mountMinimalDev(dev string) error {
	nodes := map[string]int{}
	defer func() {
		for _, fd := range nodes {
			unix.Close(fd)
		}
	}()
	for _, n := range devNodes {
		fd, err := unix.Open(filepath.Join(dev, n), unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("opening the host's %s: %w", filepath.Join(dev, n), err)
		}
		nodes[n] = fd
	}
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_STRICTATIME, "mode=755,size=64k"); err != nil {
		return fmt.Errorf("mounting a tmpfs on %s: %w", dev, err)
	}
	for _, n := range devNodes {
		if err := bindNode(nodes[n], filepath.Join(dev, n)); err != nil {
			return err
		}
	}
	for _, l := range devLinks {
		if err := os.Symlink(l[1], filepath.Join(dev, l[0])); err != nil {
			return fmt.Errorf("linking %s: %w", filepath.Join(dev, l[0]), err)
		}
	}
	if err := mountDevPts(filepath.Join(dev, "pts")); err != nil {
		return err
	}
	shm := filepath.Join(dev, "shm")
	if err := os.Mkdir(shm, 0o1777); err != nil {
		return fmt.Errorf("creating %s: %w", shm, err)
	}
	if err := unix.Mount("shm", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
		return fmt.Errorf("mounting a tmpfs on %s: %w", shm, err)
	}
	return nil
}

// bindNode bind-mounts the node opened as fd (O_PATH) on a new empty
// file at target.
func bindNode(fd int, target string) error {
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
	if err != nil {
		return fmt.Errorf("creating %s: %w", target, err)
	}
	f.Close()
	if err := unix.Mount("/proc/self/fd/"+strconv.Itoa(fd), target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting the host's device node on %s: %w", target, err)
	}
	return nil
}

// mountDevPts mounts a new devpts instance on dir, with group tty when
// this user namespace maps it.
func mountDevPts(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	flags := uintptr(unix.MS_NOSUID | unix.MS_NOEXEC)
	err := unix.Mount("devpts", dir, "devpts", flags, "newinstance,ptmxmode=0666,mode=0620,gid=5")
	if err != nil {
		err = unix.Mount("devpts", dir, "devpts", flags, "newinstance,ptmxmode=0666,mode=0620")
	}
	if err != nil {
		return fmt.Errorf("mounting a new devpts instance on %s: %w", dir, err)
	}
	return nil
}
