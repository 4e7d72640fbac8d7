package builder

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/openshift/imagebuilder/dockerfile/command"
	"github.com/openshift/imagebuilder/dockerfile/parser"
)

// ParseError is a Containerfile that cannot be built as written: it names
// the file, the line and the instruction, and says what to write instead.
// The CLI reports it as a usage error (exit 125).
type ParseError struct {
	// File is the Containerfile's path.
	File string
	// Line is the 1-based line of the instruction; 0 when unknown.
	Line int
	// Instruction is the instruction as written (e.g. RUNN), if any.
	Instruction string
	// Problem says what is wrong, Hint what to do.
	Problem, Hint string
}

// Error formats the error as "parsing FILE line N: INSTRUCTION: problem; hint".
func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "parsing %s", e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, " line %d", e.Line)
	}
	if e.Instruction != "" {
		fmt.Fprintf(&b, ": %s", e.Instruction)
	}
	fmt.Fprintf(&b, ": %s", e.Problem)
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

// validInstructions lists the instructions buildah executes, for hints.
func validInstructions() string {
	var names []string
	for name := range command.Commands {
		names = append(names, strings.ToUpper(name))
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// checkInstruction rejects what imagebuilder's parser accepts but buildah
// cannot build: an unknown instruction, an instruction other than ARG
// before the first FROM, a FROM without an image and RUN --mount options
// buildah refuses.
func checkInstruction(path string, n *parser.Node, stages int) error {
	name := strings.ToLower(n.Value)
	written := instructionAsWritten(n)
	if _, ok := command.Commands[name]; !ok {
		return &ParseError{File: path, Line: n.StartLine, Instruction: written, Problem: "unknown instruction",
			Hint: "use one of " + validInstructions()}
	}
	if stages == 0 && name != command.Arg && name != command.From {
		return &ParseError{File: path, Line: n.StartLine, Instruction: written, Problem: "instruction before the first FROM",
			Hint: "only ARG may come before FROM; start the stage with FROM IMAGE"}
	}
	if name == command.From && (n.Next == nil || strings.TrimSpace(n.Next.Value) == "") {
		return &ParseError{File: path, Line: n.StartLine, Instruction: written, Problem: "names no image",
			Hint: "write FROM IMAGE [AS NAME], or FROM scratch for an empty base"}
	}
	if name == command.Run {
		return checkRunMounts(path, n)
	}
	return nil
}

// instructionAsWritten returns the instruction word of n as the file
// spells it.
func instructionAsWritten(n *parser.Node) string {
	if f := strings.Fields(n.Original); len(f) > 0 {
		return f[0]
	}
	return strings.ToUpper(n.Value)
}

// heredocStart matches the opening of a heredoc: <<NAME, <<-NAME, <<"NAME".
var heredocStart = regexp.MustCompile(`<<-?["']?([A-Za-z_][A-Za-z0-9_]*)`)

// parserError turns an error of imagebuilder's parser into a ParseError,
// finding the line of an unterminated heredoc, which the parser omits.
func parserError(path string, err error) error {
	name, ok := strings.CutSuffix(err.Error(), ": unterminated heredoc")
	if !ok {
		return &ParseError{File: path, Problem: err.Error()}
	}
	line, instr := heredocLine(path, name)
	return &ParseError{File: path, Line: line, Instruction: instr,
		Problem: fmt.Sprintf("heredoc <<%s is never terminated", name),
		Hint:    fmt.Sprintf("end it with a line holding only %s", name)}
}

// heredocLine returns the last line of path that opens heredoc name, and
// its instruction word; 0 and "" if none is found.
func heredocLine(path, name string) (int, string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, ""
	}
	defer f.Close()
	line, found, instr := 0, 0, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line++
		for _, m := range heredocStart.FindAllStringSubmatch(sc.Text(), -1) {
			if m[1] == name {
				found = line
				if w := strings.Fields(sc.Text()); len(w) > 0 {
					instr = w[0]
				}
			}
		}
	}
	return found, instr
}
