package builder

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/openshift/imagebuilder/dockerfile/parser"
)

// RUN --mount options are checked while the Containerfile is parsed, so
// that a typo is a usage error (exit 125) naming the line, before any base
// is pulled, instead of a failure at the step. The rules are buildah
// 1.45's (internal/volumes/volumes.go GetBindMount, GetCacheMount,
// GetTmpfsMount; run_common.go getSecretMount, getSSHMount).

// mountOption is how one option of a mount type is written: alone
// (Flag), or as NAME=VALUE with Check (nil: any non-empty value).
type mountOption struct {
	Flag  bool
	Check func(string) error
}

// mountKeys maps the options of one mount type to how they are written.
type mountKeys map[string]mountOption

// oneOf accepts the listed values only.
func oneOf(valid ...string) mountOption {
	return mountOption{Check: func(v string) error {
		if slices.Contains(valid, v) {
			return nil
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(valid, ", "))
	}}
}

// uintBase accepts an unsigned 32-bit number in base (8 for modes).
func uintBase(base int) mountOption {
	return mountOption{Check: func(v string) error {
		if _, err := strconv.ParseUint(v, base, 32); err != nil {
			return fmt.Errorf("%q is not a base-%d number", v, base)
		}
		return nil
	}}
}

// boolValue accepts what strconv.ParseBool accepts.
var boolValue = mountOption{Check: func(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	return nil
}}

// anyValue accepts any non-empty value.
var anyValue = mountOption{}

var propagation = []string{"shared", "rshared", "private", "rprivate", "slave", "rslave"}

// flagKeys returns options written alone.
func flagKeys(names ...string) mountKeys {
	k := mountKeys{}
	for _, n := range names {
		k[n] = mountOption{Flag: true}
	}
	return k
}

// with returns k plus the entries of more.
func (k mountKeys) with(more mountKeys) mountKeys {
	out := mountKeys{}
	for _, m := range []mountKeys{k, more} {
		for name, v := range m {
			out[name] = v
		}
	}
	return out
}

// targetKeys are the destination spellings every type accepts.
var targetKeys = mountKeys{"target": anyValue, "dst": anyValue, "destination": anyValue}

// runMountTypes lists, per mount type, the options buildah accepts.
var runMountTypes = map[string]mountKeys{
	"bind": flagKeys("bind-nonrecursive", "nosuid", "nodev", "noexec", "rw", "readwrite", "ro", "readonly",
		"shared", "rshared", "private", "rprivate", "slave", "rslave", "Z", "z", "U", "no-dereference").with(targetKeys).with(mountKeys{
		"from": anyValue, "src": anyValue, "source": anyValue, "bind-propagation": oneOf(propagation...),
		"relabel": oneOf("private", "shared"), "consistency": anyValue}),
	"cache": flagKeys("nosuid", "nodev", "noexec", "U", "rw", "readwrite", "ro", "readonly", "Z", "z",
		"shared", "rshared", "private", "rprivate", "slave", "rslave").with(targetKeys).with(mountKeys{
		"sharing": oneOf("shared", "private", "locked"), "bind-propagation": oneOf(propagation...),
		"id": anyValue, "from": anyValue, "src": anyValue, "source": anyValue, "mode": uintBase(8), "uid": uintBase(10), "gid": uintBase(10)}),
	"tmpfs": flagKeys("nosuid", "nodev", "noexec", "ro", "readonly", "tmpcopyup").with(targetKeys).with(mountKeys{
		"tmpfs-mode": anyValue, "tmpfs-size": anyValue}),
	"secret": targetKeys.with(mountKeys{"id": anyValue, "required": boolValue, "mode": uintBase(8),
		"uid": uintBase(10), "gid": uintBase(10), "env": anyValue}),
	"ssh": targetKeys.with(mountKeys{"id": anyValue, "required": boolValue, "mode": uintBase(8),
		"uid": uintBase(10), "gid": uintBase(10)}),
}

// mountTypeNames lists the valid types, for hints.
func mountTypeNames() string {
	var names []string
	for t := range runMountTypes {
		names = append(names, t)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// checkRunMounts rejects a RUN instruction whose --mount options buildah
// would refuse at the step.
func checkRunMounts(path string, n *parser.Node) error {
	for _, fl := range n.Flags {
		spec, ok := strings.CutPrefix(fl, "--mount=")
		if !ok {
			continue
		}
		if problem, hint := runMountProblem(spec); problem != "" {
			return &ParseError{File: path, Line: n.StartLine, Instruction: instructionAsWritten(n),
				Problem: fmt.Sprintf("--mount=%s: %s", spec, problem), Hint: hint}
		}
	}
	return nil
}

// runMountProblem returns what is wrong with one --mount value and what
// to write instead; "" when buildah accepts it. Values holding a build
// argument ($NAME) are expanded later, so only their key is checked.
func runMountProblem(spec string) (problem, hint string) {
	fields := strings.Split(spec, ",")
	typ := "bind"
	for _, f := range fields {
		if v, ok := strings.CutPrefix(f, "type="); ok {
			typ = v
		}
	}
	keys, ok := runMountTypes[typ]
	if !ok {
		return fmt.Sprintf("unknown mount type %q", typ), "use type= one of " + mountTypeNames()
	}
	hasTarget := false
	for _, f := range fields {
		name, value, hasValue := strings.Cut(f, "=")
		if name == "type" {
			continue
		}
		if problem, hint := optionProblem(typ, keys, name, value, hasValue); problem != "" {
			return problem, hint
		}
		_, isTarget := targetKeys[name]
		hasTarget = hasTarget || isTarget
	}
	if !hasTarget && (typ == "bind" || typ == "cache" || typ == "tmpfs") {
		return fmt.Sprintf("type=%s needs a target", typ), "add target=/PATH"
	}
	return "", ""
}

// optionProblem checks one NAME[=VALUE] option of a mount of type typ.
// A secret's or ssh's "required" may be written alone.
func optionProblem(typ string, keys mountKeys, name, value string, hasValue bool) (problem, hint string) {
	opt, known := keys[name]
	switch {
	case !known:
		return fmt.Sprintf("unknown option %q for type=%s", name, typ), "valid options: " + keyNames(keys)
	case opt.Flag && hasValue:
		return fmt.Sprintf("option %q takes no value", name), "write " + name + " alone"
	case opt.Flag:
		return "", ""
	case !hasValue && name == "required":
		return "", ""
	case !hasValue || value == "":
		return fmt.Sprintf("option %q needs a value", name), "write " + name + "=VALUE"
	case opt.Check != nil && !strings.Contains(value, "$"):
		if err := opt.Check(value); err != nil {
			return fmt.Sprintf("option %s: %v", name, err), ""
		}
	}
	return "", ""
}

// keyNames lists the options of a mount type, sorted, for hints.
func keyNames(k mountKeys) string {
	var names []string
	for n := range k {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
