"""The page's CSS and script, passed to Gradio's launch()."""

CSS = """
.sources-panel { display: flex; flex-direction: column; gap: .5rem; }
.sources-turn > summary { cursor: pointer; font-weight: 600; margin: .25rem 0; }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .8rem;
  margin: .5rem 0; background: var(--background-fill-primary); transition: box-shadow .2s, border-color .2s; }
.source-card.active { border-color: #d97706; box-shadow: 0 0 0 3px rgba(217, 119, 6, .35); }
.source-number { font-weight: 700; color: #b45309; }
.source-title { font-weight: 600; }
.source-facts { color: var(--body-text-color-subdued); font-size: .85em; margin: .2rem 0; }
.source-quote { margin: .4rem 0; padding-left: .6rem; border-left: 3px solid var(--border-color-primary);
  white-space: pre-wrap; font-size: .9em; }
.source-quote mark { background: #fde68a; color: inherit; padding: 0 .1em; }
.source-open { font-size: .85em; }
.sources-empty { color: var(--body-text-color-subdued); }
#documents-table table, #documents-table td, #documents-table th, #documents-table span {
  font-family: var(--font) !important; font-size: var(--text-sm); }
"""

# Clicking a [n] marker in an answer opens the group of that answer's sources and highlights the card.
CLICK_JS = """
() => {
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#source-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const card = document.getElementById(link.getAttribute("href").slice(1));
    if (!card) return;
    const group = card.closest("details");
    if (group) group.open = true;
    document.querySelectorAll(".source-card.active").forEach((c) => c.classList.remove("active"));
    card.classList.add("active");
    card.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }, true);
}
"""
