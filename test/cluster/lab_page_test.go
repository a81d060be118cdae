package cluster

import (
	"strings"
	"testing"
)

// TestLabSection: TestLab's section of docs/behaviours.md is replaced in place, added at the end of a
// page that has none, and kept when TestBehaviours writes the page anew. No cluster needed.
func TestLabSection(t *testing.T) {
	figures := &figureLog{}
	figures.note("node loss: web Ready again on the other worker after %d s", 84)
	section := labPageSection(figures, "v1.35.4")
	if !strings.HasPrefix(section, labSectionBegin) || !strings.HasSuffix(section, labSectionEnd) ||
		!strings.Contains(section, "after 84 s") {
		t.Fatalf("the section is not marked or lacks the run's figures:\n%s", section)
	}

	page := "# Promises\n\n## 1. Rolling update\n\ntext\n"
	added := withLabSection(page, section)
	if added != page+"\n"+section || labSection(added) != section {
		t.Fatalf("a page without the section gets it at its end, after a blank line; got:\n%s", added)
	}

	newer := strings.Replace(section, "after 84 s", "after 90 s", 1)
	replaced := withLabSection(added, newer)
	if strings.Count(replaced, labSectionBegin) != 1 || !strings.Contains(replaced, "after 90 s") ||
		strings.Contains(replaced, "after 84 s") || !strings.HasPrefix(replaced, page) {
		t.Fatalf("the section is not replaced in place:\n%s", replaced)
	}

	if labSection("# Promises\n\n"+labSectionBegin+"no end marker\n") != "" {
		t.Fatal("a section without its end marker is not a section: nothing of the page may be taken for it")
	}

	// TestBehaviours writes the whole page; what TestLab wrote stays.
	rewritten := behavioursPage(nil, "v1.35.4")
	kept := withLabSection(rewritten, labSection(replaced))
	if labSection(kept) != labSection(replaced) || !strings.HasPrefix(kept, rewritten) {
		t.Fatalf("TestBehaviours' page dropped or moved TestLab's section:\n%s", kept)
	}
}
