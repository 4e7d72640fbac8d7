package emulation

import (
	"fmt"
	"strings"
)

// Mode says where handlers are registered.
type Mode string

const (
	// ModeAuto uses handlers that already work, and registers missing ones
	// in a private binfmt_misc when the kernel supports it.
	ModeAuto Mode = "auto"
	// ModePrivate registers handlers only in polyarch's own user namespace
	// (Linux >= 6.7); the host's binfmt_misc is never changed.
	ModePrivate Mode = "private"
	// ModeHost registers handlers in the host's binfmt_misc (needs root in
	// the initial user namespace; affects the whole machine).
	ModeHost Mode = "host"
)

// Modes lists the valid modes, default first.
func Modes() []Mode { return []Mode{ModeAuto, ModePrivate, ModeHost} }

// ParseMode parses s as a Mode. Case and surrounding blanks are ignored and
// the empty string means ModeAuto.
func ParseMode(s string) (Mode, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "" {
		return ModeAuto, nil
	}
	for _, m := range Modes() {
		if string(m) == v {
			return m, nil
		}
	}
	return "", fmt.Errorf("parsing emulation mode %q: valid values are auto, private and host", s)
}

// String returns the mode's name.
func (m Mode) String() string { return string(m) }
