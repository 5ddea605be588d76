package hitbox_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// notGo lists the code blocks of package docs that are not Go, by file and
// first line: tables and shell commands, which no compiler could check.
var notGo = map[string][]string{
	filepath.Join("otel", "doc.go"): {
		"import (",            // where the alias comes from: an example file's imports say the same
		"Name Kind",           // the instruments table
		"Attribute On Values", // the attributes table
	},
}

// TestDocSnippets checks that every Go code block of every package doc
// (doc.go) is a copy of lines of a compiled test file of the same package,
// normally an Example, so no package doc shows code that does not compile.
// Indentation and runs of spaces may differ (a doc snippet is one tab in, an
// example body two, and gofmt aligns comments within each), nothing else.
func TestDocSnippets(t *testing.T) {
	t.Parallel()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || exists(filepath.Join(path, "go.mod"))) {
				return filepath.SkipDir // another module (benchmarks) or a hidden folder
			}
			return nil
		}
		if d.Name() != "doc.go" {
			return nil
		}
		tests := testLines(t, filepath.Dir(path))
		for _, b := range docBlocks(t, path) {
			if skipped(path, b) {
				continue
			}
			if !contains(tests, b) {
				t.Errorf("%s: this code block is in no test file of its package, so nothing compiles it:\n\t%s",
					path, strings.Join(b, "\n\t"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadmeSnippets checks that the README's Go blocks are copies of
// compiled examples of the root package or of package cache, and its
// first one is the whole body of cache's Example_pipeline.
func TestReadmeSnippets(t *testing.T) {
	t.Parallel()
	blocks := readmeBlocks(t, "README.md")
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go block")
	}
	tests := append(testLines(t, "."), testLines(t, "cache")...)
	for i, b := range blocks {
		if !contains(tests, b) {
			t.Errorf("README.md Go block %d is in no test file of the root package or of cache:\n\t%s", i+1, strings.Join(b, "\n\t"))
		}
	}
	body := funcBody(t, filepath.Join("cache", "example_pipeline_test.go"), "func Example_pipeline() {")
	if strings.Join(blocks[0], "\n") != strings.Join(body, "\n") {
		t.Errorf("README.md's first Go block is not Example_pipeline's body:\nREADME:\n\t%s\nexample:\n\t%s",
			strings.Join(blocks[0], "\n\t"), strings.Join(body, "\n\t"))
	}
}

var spaces = regexp.MustCompile(`\s+`)

// normal is a line as the comparisons see it: no indentation, one space
// for every run of white space.
func normal(line string) string { return spaces.ReplaceAllString(strings.TrimSpace(line), " ") }

// docBlocks returns the code blocks of the doc comment in path, each as
// its normalised non-blank lines.
func docBlocks(t *testing.T, path string) [][]string {
	var blocks [][]string
	var cur []string
	for _, line := range readLines(t, path) {
		switch {
		case strings.HasPrefix(line, "//\t"):
			cur = append(cur, normal(line[3:]))
		case line == "//" && cur != nil:
			// A blank line may sit inside a block; the next text line ends it.
		default:
			if cur != nil {
				blocks = append(blocks, cur)
				cur = nil
			}
		}
	}
	return blocks
}

// readmeBlocks returns the ```go blocks of a Markdown file.
func readmeBlocks(t *testing.T, path string) [][]string {
	var blocks [][]string
	var cur []string
	in := false
	for _, line := range readLines(t, path) {
		switch {
		case !in && line == "```go":
			in, cur = true, []string{}
		case in && line == "```":
			in = false
			blocks = append(blocks, cur)
		case in && strings.TrimSpace(line) != "":
			cur = append(cur, normal(line))
		}
	}
	return blocks
}

// funcBody returns the normalised non-blank lines of the function that
// starts with the line head in path.
func funcBody(t *testing.T, path, head string) []string {
	var body []string
	in := false
	for _, line := range readLines(t, path) {
		switch {
		case line == head:
			in = true
		case in && line == "}":
			return body
		case in && strings.TrimSpace(line) != "":
			body = append(body, normal(line))
		}
	}
	t.Fatalf("%s: no %q", path, head)
	return nil
}

// testLines returns the normalised non-blank lines of each test file in
// dir.
func testLines(t *testing.T, dir string) [][]string {
	names, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files [][]string
	for _, name := range names {
		var lines []string
		for _, line := range readLines(t, name) {
			if strings.TrimSpace(line) != "" {
				lines = append(lines, normal(line))
			}
		}
		files = append(files, lines)
	}
	return files
}

// contains reports whether block is a run of lines of one of files.
func contains(files [][]string, block []string) bool {
	for _, lines := range files {
		for i := 0; i+len(block) <= len(lines); i++ {
			match := true
			for j := range block {
				if lines[i+j] != block[j] {
					match = false
					break
				}
			}
			if match {
				return true
			}
		}
	}
	return false
}

func skipped(path string, block []string) bool {
	for _, first := range notGo[path] {
		if strings.HasPrefix(block[0], normal(first)) {
			return true
		}
	}
	return false
}

func readLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
