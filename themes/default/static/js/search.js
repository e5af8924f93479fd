/* The search page: query this language's Pagefind index (built by `sitegen build`) and list the results.
   The query and the filters live in the address (?q=…&year=…), so the header box of every page, the
   back button and shared links all work. Every text shown comes from the page's data-* attributes
   (the theme's i18n files); result titles and labels are inserted as text, excerpts as Pagefind's
   escaped HTML with the matches in <mark>.
   Chinese: the index has one entry per CJK character (see sitegen/search.py), so a term with Chinese
   characters is looked up as an exact phrase of its characters; several terms must all match. */
(function () {
  "use strict";
  var root = document.getElementById("search");
  if (!root) return;
  var form = root.querySelector("form");
  var input = root.querySelector("#search-q");
  var selects = Array.prototype.slice.call(root.querySelectorAll("select"));
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var text = root.dataset;
  var PAGE = 10;
  var pagefind = null;
  var results = [];
  var shown = 0;
  var generation = 0;
  var timer = null;

  var CJK = /([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])/;
  var ZWSP = /\u200b/g;

  function say(message) { status.textContent = message; }

  /* "机器人 焊接 digital twin" → phrases ["机 器 人", "焊 接"] and words "digital twin". */
  function parse(query) {
    var phrases = [];
    var words = [];
    query.replace(/["“”]/g, " ").split(/\s+/).forEach(function (term) {
      if (!term) return;
      if (CJK.test(term)) phrases.push(term.split(CJK).filter(Boolean).join(" "));
      else words.push(term);
    });
    return { phrases: phrases, words: words.join(" ") };
  }

  /* One ranked search for every word and character (Pagefind's relevance, titles weighing most), kept
     only where each Chinese term also matches as an exact phrase (so 机器人 never matches 机器…人). */
  function find(query, chosen) {
    var parts = parse(query);
    var ranking = [parts.words].concat(parts.phrases).join(" ").trim() || null;
    var exact = parts.phrases.filter(function (phrase) { return phrase.indexOf(" ") > 0; });
    return Promise.all([ranking].map(function (term) { return pagefind.search(term, { filters: chosen }); })
      .concat(exact.map(function (phrase) { return pagefind.search('"' + phrase + '"', { filters: chosen }); })))
      .then(function (found) {
        var ranked = found[0].results;
        var shown = {};  // the first phrase's own results: their excerpts mark the phrase, not stray characters
        found.slice(1).forEach(function (other, index) {
          var ids = {};
          other.results.forEach(function (r) { ids[r.id] = r; });
          ranked = ranked.filter(function (r) { return ids[r.id]; });
          if (index === 0) shown = ids;
        });
        return ranked.map(function (r) { return shown[r.id] || r; });
      });
  }

  function readAddress() {
    var params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    selects.forEach(function (select) {
      var value = params.get(select.name) || "";
      select.value = Array.prototype.some.call(select.options, function (o) { return o.value === value; }) ? value : "";
    });
  }

  function writeAddress() {
    var params = new URLSearchParams();
    if (input.value.trim()) params.set("q", input.value.trim());
    selects.forEach(function (select) { if (select.value) params.set(select.name, select.value); });
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  }

  function filters() {
    var out = {};
    selects.forEach(function (select) { if (select.value) out[select.name] = select.value; });
    return out;
  }

  function render(data) {
    var item = document.createElement("li");
    item.className = "search-result";
    var heading = document.createElement("h2");
    heading.className = "search-result-title";
    var link = document.createElement("a");
    link.href = data.url;
    link.textContent = ((data.meta && data.meta.title) || data.url).replace(ZWSP, "");
    heading.appendChild(link);
    item.appendChild(heading);
    if (data.meta && data.meta.kicker) {
      var kicker = document.createElement("p");
      kicker.className = "meta";
      kicker.textContent = data.meta.kicker.replace(ZWSP, "");
      item.appendChild(kicker);
    }
    var excerpt = document.createElement("p");
    excerpt.className = "search-excerpt";
    // Pagefind escapes the page text, so <mark> is the only markup; the characters of a Chinese match are
    // marked one by one, and become one mark again here.
    excerpt.innerHTML = data.excerpt.replace(ZWSP, "").replace(/<\/mark>(\s*)<mark>/g, "$1")
      .replace(/(\s+)<\/mark>/g, "</mark>$1");
    item.appendChild(excerpt);
    return item;
  }

  function showMore(mine) {
    var next = results.slice(shown, shown + PAGE);
    shown += next.length;
    more.hidden = true;
    return Promise.all(next.map(function (r) { return r.data(); })).then(function (all) {
      if (mine !== generation) return;
      all.forEach(function (data) { list.appendChild(render(data)); });
      more.hidden = shown >= results.length;
    });
  }

  function finish(mine) { if (mine === generation) root.dataset.state = "done"; }

  function run() {
    var mine = ++generation;
    var query = input.value.trim();
    var chosen = filters();
    clearTimeout(timer);
    writeAddress();
    root.dataset.state = "loading";
    list.textContent = "";
    more.hidden = true;
    results = [];
    shown = 0;
    if (!query && !Object.keys(chosen).length) { say(text.prompt); finish(mine); return Promise.resolve(); }
    say(text.searching);
    return find(query, chosen).then(function (found) {
      if (mine !== generation) return;
      results = found;
      if (!results.length) { say(text.none.replace("{q}", query)); return; }
      say(results.length === 1 ? text.countOne : text.count.replace("{n}", results.length));
      return showMore(mine);
    }).then(function () { finish(mine); });
  }

  readAddress();
  import(text.bundle).then(function (module) {
    pagefind = module;
    // Excerpts are counted in indexed words, and every Chinese character is one.
    var excerptLength = /^zh/i.test(document.documentElement.lang) ? 60 : 30;
    return pagefind.options({ baseUrl: text.base, excerptLength: excerptLength })
      .then(function () { return pagefind.init(); })
      .then(function () {
        // A large site's index comes in parts (sitegen/search.py): merge the others into the first.
        return Promise.all((text.merge || "").split(" ").filter(Boolean).map(function (part) {
          return pagefind.mergeIndex(part, { baseUrl: text.base, excerptLength: excerptLength });
        }));
      });
  }).then(function () {
    form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 250); });
    selects.forEach(function (select) { select.addEventListener("change", run); });
    more.addEventListener("click", function () {
      var mine = generation;
      root.dataset.state = "loading";
      showMore(mine).then(function () { finish(mine); });
    });
    root.dataset.ready = "true";
    return run();
  }).catch(function () {
    say(text.failed);
    status.classList.add("notice");
    root.dataset.ready = "failed";
  });
})();
