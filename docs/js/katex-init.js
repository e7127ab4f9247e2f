// Typeset the formulas on a page with the vendored KaTeX.
//
// pymdownx.arithmatex in generic mode leaves each formula as text in an
// element of class "arithmatex": inline ones wrapped in \( \), display ones in
// \[ \]. This replaces each such element's text with KaTeX's rendering.
(function () {
  function typeset(root) {
    root.querySelectorAll(".arithmatex").forEach(function (element) {
      var source = element.textContent.trim();
      var display = source.startsWith("\\[");
      if (display || source.startsWith("\\(")) {
        source = source.slice(2, -2);
      }
      katex.render(source, element, { displayMode: display, throwOnError: false });
    });
  }
  // Material for MkDocs announces every page load (instant navigation included) on document$.
  if (typeof document$ !== "undefined") {
    document$.subscribe(function () {
      typeset(document);
    });
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      typeset(document);
    });
  }
})();
