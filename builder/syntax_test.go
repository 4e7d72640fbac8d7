package builder

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// writeContainerfile writes content to a Containerfile in a new directory
// and returns its path.
func writeContainerfile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Containerfile")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content, instruction, problem string
		line                                int
	}{
		{"unknown instruction", "FROM a\nRUNN echo hi\n", "RUNN", "unknown instruction", 2},
		{"lower-case unknown", "FROM a\n\n# comment\ncopyy a b\n", "copyy", "unknown instruction", 4},
		{"instruction before FROM", "ARG X=1\nENV A=b\nFROM a\n", "ENV", "instruction before the first FROM", 2},
		{"empty FROM", "FROM a\nRUN true\nFROM\n", "FROM", "names no image", 3},
		{"unterminated heredoc", "FROM a\nRUN true\nCOPY <<-\"END\" /x\nhello\n", "COPY", "heredoc <<END is never terminated", 3},
		{"no FROM", "ARG X=1\n", "", "no FROM instruction", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeContainerfile(t, tc.content)
			_, err := parseContainerfile(path)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *ParseError", err, err)
			}
			want := ParseError{File: path, Line: tc.line, Instruction: tc.instruction, Problem: tc.problem}
			if pe.File != want.File || pe.Line != want.Line || pe.Instruction != want.Instruction || pe.Problem != want.Problem {
				t.Errorf("got %+v, want %+v", *pe, want)
			}
			if pe.Hint == "" {
				t.Errorf("%v: no hint", pe)
			}
		})
	}
}

func TestParseAcceptsValid(t *testing.T) {
	path := writeContainerfile(t, "# syntax=docker/dockerfile:1\nARG B=a\nFROM $B AS one\nRUN <<EOF\necho hi\nEOF\nonbuild run true\nFROM scratch\nCOPY --from=one /x /x\n")
	cf, err := parseContainerfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Stages) != 2 || cf.Stages[0].Base != "$B" || !cf.Stages[0].HasRun {
		t.Errorf("stages = %+v", cf.Stages)
	}
}
