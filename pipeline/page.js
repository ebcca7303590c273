(function () {
  "use strict";
  // Every value below comes from the corpus and is untrusted: it reaches the page through textContent and
  // setAttribute only (never innerHTML), and links are http(s) URLs checked when the page was written.
  var data = JSON.parse(document.getElementById("data").textContent);
  var list = document.getElementById("papers");
  var shown = document.getElementById("shown");
  var filterBox = document.getElementById("filter");
  var sortBox = document.getElementById("sort");
  var facetBar = document.getElementById("facets");
  var compareButton = document.getElementById("compare");
  var panel = document.getElementById("comparison");
  var more = document.getElementById("more");
  var PAGE = 50, MAX_COMPARE = 4;
  var state = { q: "", f: [], sort: "date", cmp: [] };
  var byId = Object.create(null);  // ids are data: "__proto__" is a paper like any other
  var view = [], rendered = 0;

  data.forEach(function (p, n) {
    p.o = n;
    // A reader's ranking (run with --library/--keywords/--authors): score y (0-100) and reasons w; the band is
    // the relevance facet.
    if (typeof p.y === "number") p.band = p.y >= 75 ? "high" : p.y >= 50 ? "medium" : "low";
    p.hay = [p.i, p.t, p.l, p.p, p.m, p.r.join(" "), p.k.join(" "), p.s.join(" "), p.x.join(" "), p.a.join(" ")]
      .join(" ").toLowerCase();
    byId[p.i] = p;
  });
  markNewSinceLastVisit();

  // "New since your last visit" (page_search.js keeps the visits): rows first seen after the newest day this
  // reader was last shown are marked, and a facet shows only them.
  function markNewSinceLastVisit() {  // runs before the declarations below it: names nothing declared with var
    var visit = window.summarizeVisit;
    if (!visit || !visit.since) return;
    var count = 0;
    data.forEach(function (p) { p.nw = visit.isNew(p.i); if (p.nw) count++; });
    if (!count) return;
    var b = el("button", "chip new", "new since your last visit (" + count + ")");
    b.type = "button";
    b.id = "new-only";
    b.setAttribute("data-facet", "new:since your last visit");
    b.title = "Show only the papers first seen after " + visit.since;
    document.getElementById("bar").appendChild(b);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A number whole, with its unit or scale ("1.5B", "20x", "3.2%"); never a part of one: not the "1" of "1.5GB",
  // not the "2" of a name ("GPT-2", "ResNet-50", the "2B" of "VAR-d30-2B": after a hyphen that follows a word
  // with a letter), and not an enumeration's "(1)" or "1)".
  var NUMBER = /(?<![\w.])(?<!\p{L}[\w-]*-)\d+(?:[.,]\d+)*(?:\s?(?:%|×|x\b|times\b)|[KMBT](?!\w)|k(?!\w))?(?![.,]?\w)/gu;
  function withNumbers(parent, text) {
    text = String(text);
    var at = 0, m;
    NUMBER.lastIndex = 0;
    while ((m = NUMBER.exec(text)) !== null) {
      var end = m.index + m[0].length;
      if (/^\d{1,2}$/.test(m[0]) && text.charAt(end) === ")" && /^[(\s]?$/.test(text.charAt(m.index - 1))) continue;
      if (m.index > at) parent.appendChild(document.createTextNode(text.slice(at, m.index)));
      parent.appendChild(el("mark", null, m[0]));
      at = end;
    }
    if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
    return parent;
  }

  function link(url, cls, text) {
    var a = el("a", cls, text);
    a.setAttribute("href", url);
    a.setAttribute("rel", "noopener noreferrer");
    return a;
  }

  function facetChip(kind, name) {
    var key = kind + ":" + name;
    var b = el("button", "chip " + kind + (state.f.indexOf(key) >= 0 ? " on" : ""), name);
    b.type = "button";
    b.setAttribute("data-facet", key);
    b.setAttribute("aria-pressed", state.f.indexOf(key) >= 0 ? "true" : "false");
    b.title = "Show only papers with this " + kind;
    return b;
  }

  function row(p) {
    var art = el("article", "paper" + (state.cmp.indexOf(p.i) >= 0 ? " picked" : ""));
    art.setAttribute("data-id", p.i);
    if (p.nw) art.classList.add("new");
    var box = el("input");
    box.type = "checkbox";
    box.className = "pick";
    box.checked = state.cmp.indexOf(p.i) >= 0;
    box.setAttribute("aria-label", "Compare: " + p.t);
    var gutter = el("div", "gutter");  // the row's own controls: compare, more / less like this
    gutter.appendChild(box);
    gutter.appendChild(voteButtons(p));
    art.appendChild(gutter);
    var body = el("div", "body");
    var head = el("div", "head");
    head.appendChild(p.u ? link(p.u, "title", p.t) : el("span", "title", p.t));
    var meta = [p.d, p.v !== null && p.v !== undefined ? "▲ " + p.v : ""].filter(Boolean).join(" · ");
    if (p.band) {
      var score = el("span", "score", Math.round(p.y) + "/100");
      score.title = "How well this paper matches your interests, out of 100";
      head.appendChild(score);
    }
    if (meta) head.appendChild(el("span", "meta", meta));
    if (p.nw) head.appendChild(el("span", "new-mark", "new"));
    var chips = el("span", "chips");
    p.n.forEach(function (l) { chips.appendChild(link(l[1], "chip link", l[0])); });
    p.k.forEach(function (x) { chips.appendChild(facetChip("task", x)); });
    p.s.forEach(function (x) { chips.appendChild(facetChip("dataset", x)); });
    p.x.forEach(function (x) { chips.appendChild(facetChip("metric", x)); });
    if (p.band) chips.appendChild(facetChip("relevance", p.band));
    scoreChips(p, chips);
    head.appendChild(chips);
    // The fold: problem, method, every result and the abstract, built when first opened.
    var fold = el("button", "fold", "details");
    fold.type = "button";
    fold.setAttribute("aria-expanded", "false");
    fold.title = "problem · method · " + p.r.length + " result" + (p.r.length === 1 ? "" : "s") + " · abstract";
    head.appendChild(fold);
    body.appendChild(head);
    if (p.band && p.w && p.w.length) {
      var why = el("p", "why", "Why: " + p.w.join(" · "));
      why.title = p.w.join(" · ");  // the line is one line high; the whole of it here and in the fold
      body.appendChild(why);
    }
    body.appendChild(el("p", "tldr", p.l));
    if (p.r.length) {
      var key = el("p", "key");
      key.appendChild(el("b", null, "Key result: "));
      withNumbers(key, p.r[0]);
      body.appendChild(key);
    }
    var shelf = el("div", "fold-out");
    shelf.hidden = true;
    body.appendChild(shelf);
    fold.addEventListener("click", function () {
      if (!shelf.filled) { shelf.filled = true; fill(shelf, p); }
      shelf.hidden = !shelf.hidden;
      fold.setAttribute("aria-expanded", shelf.hidden ? "false" : "true");
    });
    art.appendChild(body);
    return art;
  }

  // "More / less like this": kept in this browser (localStorage), exported as a file summarize --library reads.
  var VOTES_KEY = "summarize.feedback.v1", MAX_VOTES = 2000, MAX_VOTE_ABSTRACT = 2000;
  var votes = loadVotes();
  var exportButton = document.getElementById("export-feedback");
  var exportLink = null;

  function loadVotes() {
    // No prototype: a paper whose id is "__proto__" or "constructor" is a key like any other. Only votes of our
    // shape are kept: another page of the site may have stored anything under this key (null, a number).
    var found = Object.create(null);
    try {
      var stored = JSON.parse(window.localStorage.getItem(VOTES_KEY) || "{}");
      if (stored && typeof stored === "object" && !Array.isArray(stored)) {
        Object.keys(stored).forEach(function (id) {
          var v = stored[id];
          if (v && typeof v === "object" && (v.vote === "more" || v.vote === "less")) found[id] = v;
        });
      }
    } catch (e) { /* storage off (private window) or a value that is not ours: start empty */ }
    return found;
  }

  function saveVotes() {
    var ids = Object.keys(votes);
    if (ids.length > MAX_VOTES) {
      ids.sort(function (a, b) { return String(votes[a].at).localeCompare(String(votes[b].at)); });
      ids.slice(0, ids.length - MAX_VOTES).forEach(function (id) { delete votes[id]; });
    }
    try { window.localStorage.setItem(VOTES_KEY, JSON.stringify(votes)); } catch (e) { /* kept for this visit */ }
    updateExport();
  }

  function voteButtons(p) {
    var box = el("div", "vote");
    [["more", "+", "More like this"], ["less", "\u2212", "Less like this"]].forEach(function (v) {
      var b = el("button", v[0], v[1]);
      b.type = "button";
      b.title = v[2];
      b.setAttribute("aria-label", v[2] + ": " + p.t);
      b.setAttribute("data-vote", v[0]);
      b.setAttribute("aria-pressed", votes[p.i] && votes[p.i].vote === v[0] ? "true" : "false");
      box.appendChild(b);
    });
    return box;
  }

  function vote(art, choice) {
    var id = art.getAttribute("data-id"), p = byId[id];
    if (!p) return;
    if (votes[id] && votes[id].vote === choice) delete votes[id];  // a second click takes the vote back
    // the abstract travels with the vote, so the export ranks without the corpus (cut to fit localStorage)
    else votes[id] = { title: p.t, abstract: p.a.join(" ").slice(0, MAX_VOTE_ABSTRACT), vote: choice, at: new Date().toISOString() };
    art.querySelectorAll("[data-vote]").forEach(function (b) {
      b.setAttribute("aria-pressed", votes[id] && votes[id].vote === b.getAttribute("data-vote") ? "true" : "false");
    });
    saveVotes();
  }

  function feedbackExport() {
    var items = Object.keys(votes).map(function (id) {
      return { id: id, title: String(votes[id].title || ""), abstract: String(votes[id].abstract || ""),
               vote: votes[id].vote, at: String(votes[id].at || "") };
    }).filter(function (item) { return item.vote === "more" || item.vote === "less"; });
    items.sort(function (a, b) { return a.at.localeCompare(b.at) || a.id.localeCompare(b.id); });
    return { format: "summarize-feedback", version: 1, items: items };
  }

  function updateExport() {
    if (exportButton) exportButton.textContent = "Export feedback (" + Object.keys(votes).length + ")";
  }

  if (exportButton) {
    exportButton.addEventListener("click", function () {
      var blob = new Blob([JSON.stringify(feedbackExport(), null, 1) + "\n"], { type: "application/json" });
      if (exportLink) URL.revokeObjectURL(exportLink.href);
      else { exportLink = el("a"); exportLink.id = "feedback-file"; exportLink.hidden = true; document.body.appendChild(exportLink); }
      exportLink.setAttribute("href", URL.createObjectURL(blob));
      exportLink.setAttribute("download", "summarize-feedback.json");
      exportLink.click();
    });
    updateExport();
  }

  function fill(details, p) {
    var dl = el("dl");
    function item(name, node) { dl.appendChild(el("dt", null, name)); var dd = el("dd"); dd.appendChild(node); dl.appendChild(dd); }
    if (p.band && p.w && p.w.length) {
      var reasons = el("ul");
      p.w.forEach(function (w) { reasons.appendChild(el("li", null, w)); });
      item("Why", reasons);
    }
    item("Problem", el("span", p.p ? null : "none", p.p || "not stated"));
    item("Method", el("span", null, p.m));
    var ul = el("ul");
    p.r.forEach(function (claim) { ul.appendChild(withNumbers(el("li"), claim)); });
    if (!p.r.length) ul.appendChild(el("li", null, "(the abstract states no finding)"));
    item("Results", ul);
    var abstract = el("span", "abstract");
    p.a.forEach(function (sentence, k) {
      var fields = Object.keys(p.e).filter(function (f) { return p.e[f].indexOf(k) >= 0; });
      var span = el("span", fields.length ? "ev" : null, sentence);
      if (fields.length) span.setAttribute("data-f", fields.join(", "));
      abstract.appendChild(span);
      abstract.appendChild(document.createTextNode(" "));
    });
    item("Abstract", abstract);
    details.appendChild(dl);
  }

  function matches(p, words) {
    for (var k = 0; k < words.length; k++) if (p.hay.indexOf(words[k]) < 0) return false;
    for (var j = 0; j < state.f.length; j++) {
      var cut = state.f[j].indexOf(":"), kind = state.f[j].slice(0, cut), name = state.f[j].slice(cut + 1);
      var names = kind === "new" ? (p.nw ? [name] : []) : kind === "id" ? [p.i] : kind === "relevance" ? [p.band] : kind === "bench" ? p.bk : kind === "task" ? p.k : kind === "dataset" ? p.s : p.x;
      if (names.indexOf(name) < 0) return false;
    }
    return true;
  }

  // The sorts offered, the default first; each only where some paper has what it sorts by. The data comes in
  // the source's order (a listing's trending rank), so the index o is that order.
  function known(v) { return v !== null && v !== undefined; }
  var SORTS = [
    { key: "foryou", label: "for you", has: function (p) { return typeof p.y === "number"; },
      order: function (a, b) { return (known(b.y) ? b.y : -1) - (known(a.y) ? a.y : -1) || a.o - b.o; } },
    { key: "source", label: "source order", has: function (p) { return known(p.q); },
      order: function (a, b) { return (known(a.q) && known(b.q) ? a.q - b.q : 0) || a.o - b.o; } },
    { key: "date", label: "newest first", has: function (p) { return !!p.d; },
      order: function (a, b) { return (b.d || "").localeCompare(a.d || "") || a.o - b.o; } },
    { key: "upvotes", label: "most upvotes", has: function (p) { return known(p.v); },
      order: function (a, b) { return (known(b.v) ? b.v : -1) - (known(a.v) ? a.v : -1) || a.o - b.o; } },
    { key: "title", label: "title", has: function () { return true; },
      order: function (a, b) { return a.t.localeCompare(b.t, undefined, { sensitivity: "base" }) || a.o - b.o; } }
  ].filter(function (s) { return data.some(s.has); });
  var ORDER = {};
  SORTS.forEach(function (s) {
    ORDER[s.key] = s.order;
    var option = el("option", null, s.label);
    option.value = s.key;
    sortBox.appendChild(option);
  });
  var DEFAULT_SORT = SORTS[0].key;

  function apply(write) {
    var words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    view = data.filter(function (p) { return matches(p, words); });
    view.sort(ORDER[state.sort] || ORDER[DEFAULT_SORT]);
    benchOrder(view);
    list.textContent = "";
    rendered = 0;
    renderMore();
    shown.textContent = view.length === data.length ? data.length + " papers" : view.length + " of " + data.length + " papers";
    facetBar.textContent = "";
    state.f.forEach(function (key) {
      var cut = key.indexOf(":"), name = key.slice(cut + 1);  // "id:…" is one paper (a feed entry's link)
      var label = key.slice(0, cut) === "id" ? "paper: " + (byId[name] ? byId[name].t : name) : benchLabel(key) || key.replace(":", " ");
      var b = el("button", "chip on", label + " ×");
      b.type = "button";
      b.setAttribute("data-facet", key);
      b.setAttribute("aria-label", "Remove filter " + key);
      facetBar.appendChild(b);
    });
    filterBox.value = state.q;
    sortBox.value = state.sort;
    updateCompare();
    markBoards();
    if (write) writeHash();
  }

  function renderMore() {
    var frag = document.createDocumentFragment();
    var end = Math.min(view.length, rendered + PAGE);
    for (var k = rendered; k < end; k++) frag.appendChild(row(view[k]));
    list.appendChild(frag);
    rendered = end;
  }

  // Rows are built as they scroll into view: a 10,000-paper page starts with 50 rows in the DOM.
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (entries) {
      if (entries[0].isIntersecting && rendered < view.length) renderMore();
    }, { rootMargin: "800px" }).observe(more);
  } else {
    PAGE = 1e9;
  }

  function toggleFacet(key) {
    var at = state.f.indexOf(key);
    if (at >= 0) state.f.splice(at, 1); else state.f.push(key);
    apply(true);
    window.scrollTo(0, 0);
  }

  document.addEventListener("click", function (ev) {
    var target = ev.target.closest ? ev.target.closest("[data-facet]") : null;
    if (target) { toggleFacet(target.getAttribute("data-facet")); }
    var voted = ev.target.closest ? ev.target.closest("[data-vote]") : null;
    if (voted) { vote(voted.closest("article"), voted.getAttribute("data-vote")); }
  });

  list.addEventListener("change", function (ev) {
    if (!ev.target.classList.contains("pick")) return;
    var id = ev.target.closest("article").getAttribute("data-id");
    var at = state.cmp.indexOf(id);
    if (ev.target.checked && at < 0) {
      if (state.cmp.length >= MAX_COMPARE) { ev.target.checked = false; return; }
      state.cmp.push(id);
    } else if (!ev.target.checked && at >= 0) {
      state.cmp.splice(at, 1);
    }
    ev.target.closest("article").classList.toggle("picked", ev.target.checked);
    updateCompare();
    writeHash();
  });

  function updateCompare() {
    compareButton.textContent = "Compare (" + state.cmp.length + ")";
    compareButton.disabled = state.cmp.length < 2;
    if (!panel.hidden) renderCompare();
  }

  compareButton.addEventListener("click", function () {
    panel.hidden = false;
    renderCompare();
    headerHeight();  // the header grows when filter chips wrap
    panel.scrollIntoView();  // below the sticky header: scroll-margin-top is its height (--head)
    writeHash();
  });

  // Whether a claim names a metric or dataset: as a whole word ("is" inside "This" is not IS), and a metric with
  // its case ("IS" is the Inception Score, "is" a verb).
  function mentions(claim, name, withCase) {
    var word = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp("(?<![\\p{L}\\p{N}])" + word + "(?![\\p{L}\\p{N}])", withCase ? "u" : "iu").test(claim);
  }

  // The sticky header's height, so that the comparison opens below it and scrolls inside its own box.
  var header = document.getElementById("top");
  function headerHeight() {
    var sticky = getComputedStyle(header).position === "sticky";
    document.documentElement.style.setProperty("--head", (sticky ? header.offsetHeight : 0) + "px");
  }
  window.addEventListener("resize", headerHeight);
  headerHeight();

  function renderCompare() {
    var papers = state.cmp.map(function (id) { return byId[id]; }).filter(Boolean);
    panel.textContent = "";
    if (papers.length < 2) { panel.hidden = true; return; }
    var close = el("button", "close", "Close");
    close.type = "button";
    close.setAttribute("aria-label", "Close comparison");
    close.addEventListener("click", function () { panel.hidden = true; writeHash(); });
    var table = el("table");
    var head = el("tr", "titles");  // sticks to the top of the comparison's box, the close button with it
    var corner = el("th");
    corner.appendChild(close);
    head.appendChild(corner);
    papers.forEach(function (p) {
      var th = el("th");
      th.setAttribute("scope", "col");
      th.appendChild(p.u ? link(p.u, "title", p.t) : el("span", "title", p.t));
      head.appendChild(th);
    });
    table.appendChild(head);
    function line(name, cell, cls) {
      var tr = el("tr", cls);
      var th = el("th", null, name);
      th.setAttribute("scope", "row");
      tr.appendChild(th);
      papers.forEach(function (p) { var td = el("td"); cell(p, td); tr.appendChild(td); });
      table.appendChild(tr);
    }
    line("tldr", function (p, td) { td.textContent = p.l; });
    line("Problem", function (p, td) { td.textContent = p.p; });
    line("Method", function (p, td) { td.textContent = p.m; });
    // Claims on the same metric or dataset, one line each, where at least two of the papers name it.
    var used = papers.map(function () { return {}; });
    var names = [], metric = Object.create(null);
    papers.forEach(function (p) {
      p.x.forEach(function (n) { metric[n] = true; });
      p.x.concat(p.s).forEach(function (n) { if (names.indexOf(n) < 0) names.push(n); });
    });
    var aligned = 0;
    names.forEach(function (name) {
      var having = papers.filter(function (p) {
        return p.r.some(function (c) { return mentions(c, name, metric[name]); });
      });
      if (having.length < 2) return;
      aligned++;
      line("on " + name, function (p, td) {
        var k = papers.indexOf(p);
        p.r.forEach(function (c, j) {
          if (mentions(c, name, metric[name])) { used[k][j] = true; td.appendChild(withNumbers(el("div"), c)); }
        });
      }, "same");
    });
    line(aligned ? "Other results" : "Results", function (p, td) {
      var k = papers.indexOf(p);
      var ul = el("ul");
      p.r.forEach(function (c, j) { if (!used[k][j]) ul.appendChild(withNumbers(el("li"), c)); });
      td.appendChild(ul);
    });
    line("Tasks", function (p, td) { td.textContent = p.k.join(", "); });
    line("Datasets", function (p, td) { td.textContent = p.s.join(", "); });
    line("Metrics", function (p, td) { td.textContent = p.x.join(", "); });
    line("Links", function (p, td) { p.n.forEach(function (l) { td.appendChild(link(l[1], "chip link", l[0])); td.appendChild(document.createTextNode(" ")); }); });
    panel.appendChild(table);
  }

  // The view lives in the URL hash (#q=…&f=…&sort=…&cmp=…&open=1): a filtered view can be shared.
  function writeHash() {
    var parts = [];
    if (state.q) parts.push("q=" + encodeURIComponent(state.q));
    if (state.f.length) parts.push("f=" + state.f.map(encodeURIComponent).join(","));
    if (state.sort !== DEFAULT_SORT) parts.push("sort=" + state.sort);
    if (state.cmp.length) parts.push("cmp=" + state.cmp.map(encodeURIComponent).join(","));
    if (!panel.hidden) parts.push("open=1");
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (location.hash !== hash) history.replaceState(null, "", hash || location.pathname + location.search);
  }

  function readHash() {
    state = { q: "", f: [], sort: DEFAULT_SORT, cmp: [] };
    var open = false;
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var cut = part.indexOf("="); if (cut < 0) return;
      var key = part.slice(0, cut), value = part.slice(cut + 1);
      function list(v) { return v.split(",").filter(Boolean).map(function (x) { try { return decodeURIComponent(x); } catch (e) { return ""; } }).filter(Boolean); }
      try {
        if (key === "q") state.q = decodeURIComponent(value);
        if (key === "f") state.f = list(value);
        if (key === "sort" && ORDER[value]) state.sort = value;
        if (key === "cmp") state.cmp = list(value).filter(function (id) { return byId[id]; }).slice(0, MAX_COMPARE);
        if (key === "open") open = value === "1";
      } catch (e) { /* a malformed hash is ignored */ }
    });
    panel.hidden = !(open && state.cmp.length >= 2);
    apply(false);
  }

  // The Scores view. p.sc holds a row's own scores, [value, metric, dataset, board key, better, number, kind];
  // a benchmark (board key) that at least two papers of this page report is a leaderboard: listed in the
  // "Leaderboards" panel, and a facet ("bench:<key>") that shows its papers, best first. Every key and name is
  // corpus text: kept in prototype-free maps, shown through textContent.
  var MIN_BOARD = 2, BOARD_ROWS = 5;
  var boards = Object.create(null), boardKeys = [], boardPanel = null;

  function buildBoards() {
    var found = Object.create(null);
    data.forEach(function (p) {
      p.sc = Array.isArray(p.sc) ? p.sc : [];
      p.sc.forEach(function (s) {
        if (!s[3] || typeof s[5] !== "number") return;
        var b = found[s[3]];
        if (!b) b = found[s[3]] = { lower: s[4] === "lower", best: Object.create(null) };
        var held = b.best[p.i];
        if (!held || (b.lower ? s[5] < held[5] : s[5] > held[5])) b.best[p.i] = s;
      });
    });
    Object.keys(found).forEach(function (key) {
      var b = found[key], ids = Object.keys(b.best);
      if (ids.length < MIN_BOARD) return;
      ids.sort(function (x, y) {
        var d = b.best[x][5] - b.best[y][5];
        return (b.lower ? d : -d) || (x < y ? -1 : x > y ? 1 : 0);
      });
      b.order = ids;
      b.rank = Object.create(null);
      ids.forEach(function (id, n) { b.rank[id] = n; });
      b.label = usual(ids.map(function (id) { return b.best[id][2]; })) + " · " +
        usual(ids.map(function (id) { return b.best[id][1]; }));
      boards[key] = b;
      boardKeys.push(key);
    });
    boardKeys.sort(function (x, y) { return boards[y].order.length - boards[x].order.length || (x < y ? -1 : 1); });
    data.forEach(function (p) {
      p.bk = p.sc.map(function (s) { return s[3]; }).filter(function (k) { return k && boards[k]; });
    });
  }

  // A board's name as most of its papers write it (ties: the shortest, then the first in order), as
  // `summarize leaderboard` names it.
  function usual(names) {
    var count = Object.create(null);
    names.forEach(function (n) { count[n] = (count[n] || 0) + 1; });
    return Object.keys(count).sort(function (x, y) {
      return count[y] - count[x] || x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
    })[0];
  }

  function scoreText(s) { return s[0] + (s[1] ? " " + s[1] : "") + (s[2] ? " · " + s[2] : ""); }

  function scoreChips(p, chips) {
    p.sc.forEach(function (s) {
      var board = s[3] ? boards[s[3]] : undefined;
      if (!board) {
        chips.appendChild(el("span", "chip result" + (s[6] === "delta" ? " delta" : ""), scoreText(s)));
        return;
      }
      var key = "bench:" + s[3], on = state.f.indexOf(key) >= 0;
      var b = el("button", "chip result bench" + (on ? " on" : ""), scoreText(s));
      b.type = "button";
      b.setAttribute("data-facet", key);
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.title = "Leaderboard " + board.label + ": #" + (board.rank[p.i] + 1) + " of " + board.order.length +
        " papers (" + (board.lower ? "lower" : "higher") + " is better); show them, best first";
      chips.appendChild(b);
    });
  }

  function benchOf(key) {
    return key.indexOf("bench:") === 0 ? boards[key.slice(6)] : undefined;
  }

  function benchLabel(key) {
    var b = benchOf(key);
    return b ? "benchmark " + b.label : "";
  }

  // With a benchmark chosen, its papers come in its order: best first.
  function benchOrder(rows) {
    var chosen = state.f.map(benchOf).filter(Boolean)[0];
    if (!chosen) return;
    rows.sort(function (x, y) {
      return (x.i in chosen.rank ? chosen.rank[x.i] : 1e9) - (y.i in chosen.rank ? chosen.rank[y.i] : 1e9);
    });
  }

  function renderBoards() {
    if (!boardKeys.length) return;
    boardPanel = el("details", "boards");
    boardPanel.id = "boards";
    boardPanel.appendChild(el("summary", null, "Leaderboards (" + boardKeys.length + " benchmark" +
      (boardKeys.length === 1 ? "" : "s") + " that two papers or more report)"));
    var ul = el("ul");
    boardKeys.forEach(function (key) {
      var b = boards[key], li = el("li", "board");
      var chip = el("button", "chip bench", b.label);
      chip.type = "button";
      chip.setAttribute("data-facet", "bench:" + key);
      chip.setAttribute("aria-pressed", "false");
      chip.title = "Show only the papers on this benchmark, best first";
      li.appendChild(chip);
      li.appendChild(el("span", "meta", b.order.length + " papers · " + (b.lower ? "lower" : "higher") + " is better"));
      var ol = el("ol");
      b.order.slice(0, BOARD_ROWS).forEach(function (id) {
        var item = el("li");
        item.appendChild(el("b", null, b.best[id][0]));
        item.appendChild(document.createTextNode(" " + (byId[id] ? byId[id].t : id)));
        ol.appendChild(item);
      });
      if (b.order.length > BOARD_ROWS) ol.appendChild(el("li", "meta", "… " + (b.order.length - BOARD_ROWS) + " more"));
      li.appendChild(ol);
      ul.appendChild(li);
    });
    boardPanel.appendChild(ul);
    list.parentNode.insertBefore(boardPanel, list);
  }

  function markBoards() {
    if (!boardPanel) return;
    var any = false;
    boardPanel.querySelectorAll("[data-facet]").forEach(function (b) {
      var on = state.f.indexOf(b.getAttribute("data-facet")) >= 0;
      any = any || on;
      b.classList.toggle("on", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    if (any) boardPanel.open = true;
  }

  buildBoards();
  renderBoards();

  filterBox.addEventListener("input", function () { state.q = filterBox.value; apply(true); });
  sortBox.addEventListener("change", function () { state.sort = sortBox.value; apply(true); });
  window.addEventListener("hashchange", readHash);
  readHash();
})();
