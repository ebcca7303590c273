(function () {
  "use strict";
  // The archive's pages: search across every period (archive/search/, built by pipeline/archive/search.py) and
  // "new since your last visit". Every value shown comes from the corpus and is untrusted: it reaches the page
  // through textContent and setAttribute only. Runs before page.js, which reads window.summarizeVisit.

  // ---- New since your last visit: the newest first-seen day this reader was shown, kept in localStorage ----
  var VISIT_KEY = "summarize.visit.v1";
  var tag = document.getElementById("visit");
  var visit = { since: "", isNew: function () { return false; } };
  if (tag) {
    var latest = tag.getAttribute("data-latest") || "";
    var stored = {};
    try {
      stored = JSON.parse(window.localStorage.getItem(VISIT_KEY) || "{}");
      if (!stored || typeof stored !== "object" || typeof stored.current !== "string") stored = {};
    } catch (e) { stored = {}; }  // storage off (a private window): nothing is new
    if (!stored.current) stored = { current: latest, last: "" };
    else if (latest > stored.current) stored = { current: latest, last: stored.current };
    try { window.localStorage.setItem(VISIT_KEY, JSON.stringify(stored)); } catch (e) { /* this visit only */ }
    var since = typeof stored.last === "string" ? stored.last : "";
    var byDay = {};
    try { byDay = JSON.parse(tag.getAttribute("data-days") || "{}"); } catch (e) { byDay = {}; }
    var dayOf = {};
    Object.keys(byDay).forEach(function (day) {
      if (Array.isArray(byDay[day])) byDay[day].forEach(function (id) { dayOf[id] = day; });
    });
    var pageDay = tag.getAttribute("data-day") || "";
    visit = Object.freeze({
      since: since,
      isNew: function (id, day) { return !!since && (day || dayOf[id] || pageDay) > since; }
    });
    markPeriods(since);
  }
  window.summarizeVisit = visit;
  walkOn();

  // archive/index.html#after=<period> (a period page's "next" link): on to the first period after it, so that
  // adding a period rewrites no earlier page; the last one stays here and says so.
  function walkOn() {
    var found = /^#after=([\w-]{1,20})$/.exec(location.hash);
    var items = document.querySelectorAll("#periods li a:first-of-type");
    if (!found || !items.length) return;
    var after = found[1], next = null;
    items.forEach(function (a) { if (a.textContent > after && (!next || a.textContent < next.textContent)) next = a; });
    if (next) { location.replace(next.getAttribute("href")); return; }
    var note = document.createElement("p");
    note.id = "walk-end";
    note.textContent = after + " is the newest period: no later one yet.";
    document.getElementById("periods").before(note);
  }

  function markPeriods(since) {  // archive/index.html: the periods that end after the last visit's newest day
    var items = document.querySelectorAll("#periods li[data-end]");
    if (!since || !items.length) return;
    var count = 0;
    items.forEach(function (li) {
      if (li.getAttribute("data-end") > since) {
        count++;
        li.classList.add("new");
        var b = document.createElement("strong");
        b.textContent = "new · ";
        li.insertBefore(b, li.firstChild);
      }
    });
    var note = document.createElement("p");
    note.id = "new-periods";
    note.textContent = count + " period" + (count === 1 ? "" : "s") + " added since your last visit (newest then: " + since + ")";
    document.getElementById("periods").before(note);
  }

  // ---- Search across the archive ----
  var form = document.getElementById("site-search");
  if (!form) return;
  var input = document.getElementById("site-q");
  var note = document.getElementById("site-note");
  var results = document.getElementById("site-results");
  var indexUrl = form.getAttribute("data-index"), pages = form.getAttribute("data-pages");
  var SHOW = 20;
  var STOP = {};
  ("a an and are as at be by for from has have in into is it its of on or our that the their this to we which " +
    "with").split(" ").forEach(function (w) { STOP[w] = true; });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); run(input.value); });

  if (location.protocol === "file:") {
    input.disabled = true;
    input.placeholder = "Search every day: needs the site served";
    note.textContent = "Searching across days needs the site served over http(s), not opened as a file: run " +
      "python -m http.server -d SITE (SITE: the folder with comparison.html and archive/) and open " +
      "http://localhost:8000/ . The filter above searches this page.";
    return;
  }

  // The same words the index was built with (search.py: words): accents off, lower case, letters and digits.
  function words(text) {
    var folded = String(text).normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
    var seen = {};
    return (folded.match(/[\p{L}\p{N}]+/gu) || []).filter(function (w) {
      if (STOP[w] || w.length > 40 || seen[w]) return false;
      seen[w] = true;
      return true;
    });
  }

  function fnv1a(term) {
    var bytes = new TextEncoder().encode(term), h = 0x811c9dc5;
    for (var k = 0; k < bytes.length; k++) h = Math.imul(h ^ bytes[k], 0x01000193) >>> 0;
    return h;
  }

  var stats = { bytes: 0, requests: 0 };
  window.summarizeSearchStats = stats;
  var cache = {};
  function getJSON(url) {
    if (!cache[url]) {
      cache[url] = fetch(url, { cache: "no-cache", credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error(url + ": " + r.status);
        return r.text();
      }).then(function (text) {
        stats.bytes += text.length;
        stats.requests += 1;
        return JSON.parse(text);
      });
      cache[url].catch(function () { delete cache[url]; });
    }
    return cache[url];
  }

  // A term's papers in one segment: [doc, in title] steps, delta-coded in hexadecimal. A common term (in more
  // than 4,096 papers of the segment) is "#<count>" in its shard, its papers in a file of its own.
  function postings(code) {
    var out = {}, doc = -1, n = 0;
    code.split(",").forEach(function (step) {
      if (!step) return;
      var v = parseInt(step, 16);
      doc += Math.floor(v / 2);
      out[doc] = v % 2;
      n++;
    });
    return { docs: out, df: n };
  }

  function lookUp(seg, term) {
    return getJSON(indexUrl + seg.dir + "/t" + (fnv1a(term) % seg.shards) + ".json").then(function (shard) {
      if (!Object.prototype.hasOwnProperty.call(shard, term)) return null;
      var code = String(shard[term]);
      if (code.charAt(0) !== "#") return postings(code);
      return { common: true, df: +code.slice(1), url: indexUrl + seg.dir + "/w" + ("0000000" + fnv1a(term).toString(16)).slice(-8) + ".json", term: term };
    });
  }

  // Common terms' own files, rarest first across the segments, while the query has read under COMMON_BYTES; a
  // common term not fetched does not narrow its segment (the other words do) and the note says so.
  var COMMON_BYTES = 1200000;
  function fetchCommon(perSegment) {
    var wanted = [];
    perSegment.forEach(function (lists) { lists.forEach(function (l) { if (l && l.common) wanted.push(l); }); });
    wanted.sort(function (a, b) { return a.df - b.df; });
    var budget = COMMON_BYTES - stats.bytes, chosen = [];
    wanted.forEach(function (l) { var cost = l.df * 2.5; if (cost <= budget) { budget -= cost; chosen.push(l); } });
    return Promise.all(chosen.map(function (l) {
      return getJSON(l.url).then(function (file) { l.docs = postings(String(file[l.term] || "")).docs; });
    })).then(function () { return wanted.length - chosen.length; });
  }

  function matchSegment(seg, lists) {
    if (lists.some(function (l) { return !l; })) return [];  // a word this segment never saw
    var known = lists.filter(function (l) { return l.docs; });
    if (!known.length) return [];
    known.sort(function (a, b) { return a.df - b.df; });
    var found = [];
    Object.keys(known[0].docs).forEach(function (doc) {
      if (!known.every(function (l) { return doc in l.docs; })) return;
      var score = 0;  // rarer words weigh more; a word in the title three times more
      known.forEach(function (l) { score += (l.docs[doc] ? 3 : 1) * Math.log(1 + seg.docs / l.df); });
      found.push({ seg: seg, doc: +doc, score: score });
    });
    return found;
  }

  var runs = 0;
  function run(query) {
    var mine = ++runs, terms = words(query), started = performance.now();
    results.textContent = "";
    if (!terms.length) { note.textContent = ""; return; }
    note.textContent = "Searching…";
    getJSON(indexUrl + "search.json").then(function (manifest) {
      var segments = manifest.segments || [];
      return Promise.all(segments.map(function (seg) {
        return Promise.all(terms.map(function (term) { return lookUp(seg, term); }));
      })).then(function (perSegment) {
        return fetchCommon(perSegment).then(function (skipped) {
          var all = [].concat.apply([], perSegment.map(function (lists, k) { return matchSegment(segments[k], lists); }));
          all.sort(function (a, b) { return b.score - a.score || (a.seg.name < b.seg.name ? 1 : a.seg.name > b.seg.name ? -1 : b.doc - a.doc); });
          return show(mine, all, started, skipped);
        });
      });
    }).catch(function (e) {
      if (mine === runs) note.textContent = "Search failed: " + e.message;
    });
  }

  function show(mine, all, started, skipped) {
    var top = all.slice(0, SHOW);
    return Promise.all(top.map(function (hit) {
      return getJSON(indexUrl + hit.seg.dir + "/d" + Math.floor(hit.doc / hit.seg.chunk) + ".json").then(function (chunk) {
        return chunk[hit.doc % hit.seg.chunk];
      });
    })).then(function (docs) {
      if (mine !== runs) return;  // a newer query is on its way
      results.textContent = "";
      docs.forEach(function (d) { if (d) results.appendChild(result(d)); });
      note.textContent = all.length ? all.length + " paper" + (all.length === 1 ? "" : "s") + " across the archive" +
        (all.length > SHOW ? ", the best " + SHOW + " shown" : "") +
        (skipped ? " (some very common words were not checked everywhere)" : "") : "No paper of the archive has all these words";
      stats.ms = performance.now() - started;
      stats.found = all.length;
      form.setAttribute("data-done", String(runs));
    });
  }

  function result(d) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.textContent = String(d.t);
    a.setAttribute("href", pages + encodeURIComponent(String(d.p)) + ".html#f=" + encodeURIComponent("id:" + d.i));
    li.appendChild(a);
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = " · " + d.p + (d.a ? " · " + d.a : "") + (visit.isNew(d.i, d.d) ? " · new" : "");
    li.appendChild(meta);
    if (d.l) {
      var p = document.createElement("p");
      p.textContent = String(d.l);
      li.appendChild(p);
    }
    return li;
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { run(input.value); }, 250);
  });
  var asked = new URLSearchParams(location.search).get("search");
  if (asked) { input.value = asked; run(asked); }
})();
