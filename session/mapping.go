package session

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	storagetypes "go.podman.io/storage/types"
)

// singleMappingWarning is printed when the user namespace maps one ID only.
const singleMappingWarning = "warning: no /etc/subuid and /etc/subgid ranges for this user: files owned by other users collapse to root in built images, and RUN chown to another uid fails; an administrator can run `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s`\n"

// mappedIDs returns how many user IDs the uid_map at path maps.
func mappedIDs(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			continue
		}
		n, err := strconv.ParseUint(fields[2], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing %s: %w", path, err)
		}
		total += n
	}
	return total, sc.Err()
}

// SingleMapping reports whether polyarch runs in its rootless user
// namespace mapping a single ID (the user has no /etc/subuid range).
func SingleMapping() bool {
	if !rootlessNamespace() {
		return false
	}
	n, err := mappedIDs("/proc/self/uid_map")
	return err == nil && n == 1
}

// adaptToSingleMapping lets the store flatten ownership it cannot
// represent, and warns the user, when only one ID is mapped.
func adaptToSingleMapping(opts *storagetypes.StoreOptions, warn io.Writer) {
	if !SingleMapping() {
		return
	}
	driver := opts.GraphDriverName
	if driver == "" {
		driver = "overlay"
	}
	opts.GraphDriverOptions = append(opts.GraphDriverOptions, driver+".ignore_chown_errors=true")
	user := os.Getenv("USER")
	if user == "" {
		user = "USER"
	}
	if warn != nil {
		fmt.Fprintf(warn, singleMappingWarning, user)
	}
}
