// Client-side search over the index written by `ekb report` (assets/search-index.js).
// No server and no network: the index is a global set by that file.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var box = document.getElementById("search-box");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var docs = window.EKB_SEARCH;
  if (!form || !box || !list || !status || !Array.isArray(docs)) {
    return;
  }
  form.hidden = false;
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  function render(query) {
    var words = query.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; });
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (words.length === 0) { status.textContent = ""; return; }
    var hits = docs.filter(function (doc) {
      var text = doc.text + " " + doc.title.toLowerCase();
      return words.every(function (w) { return text.indexOf(w) !== -1; });
    });
    status.textContent = hits.length + (hits.length === 1 ? " match" : " matches");
    hits.slice(0, 50).forEach(function (doc) {
      var item = document.createElement("li");
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = doc.kind;
      item.appendChild(kind);
      item.appendChild(document.createTextNode(" " + doc.title + ": "));
      doc.links.forEach(function (link, i) {
        if (i > 0) { item.appendChild(document.createTextNode(", ")); }
        var a = document.createElement("a");
        a.href = link[1];
        a.textContent = link[0];
        item.appendChild(a);
      });
      list.appendChild(item);
    });
  }
  box.addEventListener("input", function () { render(box.value); });
  render(box.value);
})();
