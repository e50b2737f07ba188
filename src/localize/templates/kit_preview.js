/* The kit's offline preview (localize): reads the translator's .po or .xlf file in the
   browser and shows the course pages with the translations in place. No network: the
   page map (the engine's own segmentation) is embedded in preview.html. Translated text
   is always escaped; only a unit's own placeholder markup is put back. */
"use strict";
(function () {
  const MAP = JSON.parse(document.getElementById("lz-map").textContent);
  const PH = /<(\/?)([A-Za-z][A-Za-z-]*\d+)(\/?)>/g;
  const MARKUP = /<\/?[A-Za-z][^<>]*>/g;
  // the rule of partners/checks.py (_PRINTF|_BRACE; a test keeps them the same): no space flag and
  // no letter right after, so "75% Exam" is prose, not "% E"
  const PRINTF = /%(?:\(\w{1,64}\))?[-+#0]{0,8}(?:[1-9]\d{0,8}|\*)?(?:\.(?:\d{1,9}|\*))?[hlLqjzt]{0,2}[diouxXeEfFgGcrsan%](?![A-Za-z])|\{[A-Za-z_][\w.]{0,63}\}|\{\d{0,9}\}/g;
  let translations = null; // key -> {msgstr, fuzzy}
  let problems = []; // {key, severity, message, msgid}
  let byKey = new Map(); // key -> first problem of that entry (error)
  const $ = (id) => document.getElementById(id);

  function key(ctx, msgid) {
    return (ctx === null || ctx === undefined ? "\u0000" : ctx + "\u0004") + msgid;
  }

  function esc(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // -- reading a .po file ---------------------------------------------------------------
  function unquote(s, line) {
    if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') {
      throw new Error("line " + line + ": a string must be in double quotes");
    }
    const body = s.slice(1, -1);
    let out = "";
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c === '"') throw new Error("line " + line + ': a " inside a string must be written \\"');
      if (c !== "\\") { out += c; continue; }
      const n = body[++i];
      const simple = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", a: "\x07", b: "\b", f: "\f", v: "\v" };
      if (n in simple) { out += simple[n]; continue; }
      let m = /^[0-7]{1,3}/.exec(body.slice(i));
      if (m) { out += String.fromCharCode(parseInt(m[0], 8)); i += m[0].length - 1; continue; }
      m = /^x[0-9A-Fa-f]{1,2}/.exec(body.slice(i));
      if (m) { out += String.fromCharCode(parseInt(m[0].slice(1), 16)); i += m[0].length - 1; continue; }
      throw new Error("line " + line + ": unknown escape \\" + (n === undefined ? "" : n));
    }
    return out;
  }

  function parsePo(text) {
    const units = [];
    let cur = null;
    let field = null;
    const fresh = () => ({ ctx: null, msgid: null, plural: null, msgstr: [], fuzzy: false, obsolete: false, seenStr: false, line: 0, strLine: 0 });
    const flush = () => {
      if (cur && cur.msgid !== null && !cur.obsolete) units.push(cur);
      cur = fresh();
      field = null;
    };
    cur = fresh();
    const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
    lines.forEach((raw, i) => {
      const n = i + 1;
      const line = raw.trim();
      if (line === "") { flush(); return; }
      if (line.startsWith("#")) {
        if (cur.seenStr) flush();
        if (line.startsWith("#~")) cur.obsolete = true;
        else if (line.startsWith("#,")) {
          if (line.slice(2).split(",").map((f) => f.trim()).includes("fuzzy")) cur.fuzzy = true;
        }
        return;
      }
      const m = /^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s*(".*")$/.exec(line);
      if (m) {
        const kw = m[1];
        if ((kw === "msgctxt" || kw === "msgid") && cur.seenStr) flush();
        const value = unquote(m[3], n);
        if (kw === "msgctxt") { cur.ctx = value; field = ["ctx"]; }
        else if (kw === "msgid") { cur.msgid = value; cur.line = n; field = ["msgid"]; }
        else if (kw === "msgid_plural") { cur.plural = value; field = ["plural"]; }
        else {
          const idx = m[2] === undefined ? 0 : parseInt(m[2], 10);
          cur.msgstr[idx] = value; cur.seenStr = true; field = ["msgstr", idx];
          if (!cur.strLine) cur.strLine = n; // where the translator looks, as `localize check` says
        }
        return;
      }
      if (line.startsWith('"') && field) {
        const value = unquote(line, n);
        if (field[0] === "msgstr") cur.msgstr[field[1]] += value; else cur[field[0]] += value;
        return;
      }
      throw new Error("line " + n + ": cannot read " + JSON.stringify(line.slice(0, 40)));
    });
    flush();
    return units.filter((u) => u.msgid !== "").map((u) => ({
      ctx: u.ctx, msgid: u.msgid, fuzzy: u.fuzzy, plural: u.plural !== null,
      msgstr: u.msgstr[0] || "", forms: u.msgstr.length, where: "line " + (u.strLine || u.line),
    }));
  }

  // -- reading an XLIFF 1.2 file --------------------------------------------------------
  function codeText(el, issues) {
    let out = "";
    el.childNodes.forEach((node) => {
      if (node.nodeType === 3 || node.nodeType === 4) { out += node.data; return; }
      if (node.nodeType !== 1) return;
      const name = node.localName;
      const id = node.getAttribute("id") || "";
      if (name === "g") out += "<" + id + ">" + codeText(node, issues) + "</" + id + ">";
      else if (name === "x") out += "<" + id + "/>";
      else if (name === "mrk") out += codeText(node, issues);
      else issues.push("inline element <" + name + "> is not one of the kit's codes");
    });
    return out;
  }

  function parseXliff(text) {
    const doc = new DOMParser().parseFromString(text, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) throw new Error("not well-formed XML");
    const units = [];
    for (const tu of Array.from(doc.getElementsByTagNameNS("*", "trans-unit"))) {
      const source = tu.getElementsByTagNameNS("*", "source")[0];
      if (!source || source.parentNode !== tu) continue;
      const issues = [];
      const msgid = codeText(source, []);
      let ctx = null;
      for (const c of Array.from(tu.getElementsByTagNameNS("*", "context"))) {
        if (c.getAttribute("context-type") === "x-gettext-msgctxt") ctx = c.textContent;
      }
      const target = Array.from(tu.children).find((c) => c.localName === "target");
      let msgstr = target ? codeText(target, issues) : "";
      const state = target ? target.getAttribute("state") || "" : "";
      if (state === "needs-translation" && msgstr === msgid) msgstr = "";
      units.push({
        ctx, msgid, msgstr, plural: false, forms: 1, issues, where: "unit " + (tu.getAttribute("id") || "?"),
        fuzzy: msgstr !== "" && /^needs-(review-)?(translation|l10n|adaptation)$/.test(state) && state !== "needs-translation",
      });
    }
    return units;
  }

  // -- checks ---------------------------------------------------------------------------
  function placeholdersOf(msgid) {
    const out = new Map();
    for (const m of msgid.matchAll(PH)) {
      if (m[3]) out.set(m[2], "void");
      else if (!m[1] && !out.has(m[2])) out.set(m[2], "paired");
    }
    return out;
  }

  // Tokens of a translation (text and placeholders), or an Error naming the problem.
  function tokens(msgstr, names) {
    const out = [];
    const stack = [];
    const seen = new Set();
    let pos = 0;
    for (const m of msgstr.matchAll(PH)) {
      const kind = names.get(m[2]);
      if (kind === undefined) continue;
      const closing = m[1] === "/", selfclosing = m[3] === "/";
      let t;
      if (kind === "void") {
        if (closing || !selfclosing) throw new Error("placeholder <" + m[2] + "/> must stay a single <" + m[2] + "/>");
        t = "void";
      } else if (selfclosing) {
        throw new Error("placeholder <" + m[2] + "> needs its closing </" + m[2] + ">");
      } else if (closing) {
        if (stack[stack.length - 1] !== m[2]) throw new Error("</" + m[2] + "> closes a placeholder that is not open or is misnested");
        stack.pop(); t = "close";
      } else { stack.push(m[2]); t = "open"; }
      if (seen.has(m[0])) throw new Error("placeholder " + m[0] + " appears more than once");
      seen.add(m[0]);
      if (m.index > pos) out.push(msgstr.slice(pos, m.index));
      out.push([t, m[2]]);
      pos = m.index + m[0].length;
    }
    if (pos < msgstr.length) out.push(msgstr.slice(pos));
    if (stack.length) throw new Error("placeholder <" + stack[stack.length - 1] + "> is never closed");
    for (const [name, kind] of names) {
      const wanted = kind === "void" ? "<" + name + "/>" : "<" + name + ">";
      if (!seen.has(wanted)) throw new Error("placeholder " + wanted + " is missing");
    }
    return out;
  }

  function count(re, s) {
    const out = {};
    for (const m of s.matchAll(re)) out[m[0]] = (out[m[0]] || 0) + 1;
    return JSON.stringify(Object.entries(out).sort());
  }

  function check(u) {
    const found = [];
    const add = (severity, message) => found.push({ severity, message });
    (u.issues || []).forEach((m) => add("error", m));
    if (u.fuzzy && u.msgstr === "") add("warning", "marked fuzzy but empty: translate it or remove the mark");
    if (u.msgstr === "") return found;
    if (u.fuzzy) add("warning", "fuzzy: shown here, but not published until you remove the fuzzy mark");
    const names = placeholdersOf(u.msgid);
    try { tokens(u.msgstr, names); } catch (e) { add("error", e.message); }
    const strange = new Set();
    for (const m of u.msgstr.matchAll(PH)) {
      if (!names.has(m[2]) && !strange.has(m[2])) {
        strange.add(m[2]);
        add("error", "placeholder <" + m[2] + "> is not in the source (renamed or typed by hand?)");
      }
    }
    const real = Array.from(u.msgstr.matchAll(MARKUP)).map((m) => m[0])
      .filter((t) => !/^<\/?[A-Za-z][A-Za-z-]*\d+\/?>$/.test(t));
    if (real.length) add("error", "HTML in the translation will be rejected: " + real[0]);
    const lead = (s) => /^\s/.test(s), trail = (s) => /\s$/.test(s);
    if (lead(u.msgid) !== lead(u.msgstr)) add("warning", "leading whitespace differs from the source");
    if (trail(u.msgid) !== trail(u.msgstr)) add("warning", "trailing whitespace differs from the source");
    if (count(PRINTF, u.msgid) !== count(PRINTF, u.msgstr)) add("error", "variables (%s, {name}) differ from the source");
    if (u.plural && u.forms < 2) add("warning", "plural entry with a single form");
    return found;
  }

  // -- rendering --------------------------------------------------------------------------
  // An attribute unit's value: its translation (escaped for its quote), else the source.
  function attributeHtml(part) {
    const [ctx, msgid] = MAP.entries[part.e];
    const t = translations && translations.get(key(ctx, msgid));
    if (!t || t.msgstr === "" || byKey.has(key(ctx, msgid))) return part.src;
    return part.q ? esc(t.msgstr) : '"' + esc(t.msgstr) + '"';
  }

  // Markup as a string, or as strings and attribute units inside it.
  function pieces(p) {
    return typeof p === "string" ? p : p.map((x) => (typeof x === "string" ? x : attributeHtml(x))).join("");
  }

  function unitHtml(part, t) {
    const names = new Map(Object.entries(part.ph).map(([n, v]) => [n, v.length === 1 ? "void" : "paired"]));
    const out = [];
    for (const tok of tokens(t.msgstr, names)) {
      if (typeof tok === "string") out.push(esc(tok));
      else out.push(tok[0] === "close" ? part.ph[tok[1]][1] : pieces(part.ph[tok[1]][0]));
    }
    const text = out.join("");
    return part.t ? part.t + text + "</span>" : text;
  }

  function pageHtml(page) {
    const counts = { translated: 0, untranslated: 0, fuzzy: 0, problem: 0 };
    const out = page.parts.map((part) => {
      if (typeof part === "string") return part;
      const [ctx, msgid] = MAP.entries[part.e];
      const k = key(ctx, msgid);
      const t = translations && translations.get(k);
      let st = "source";
      if ("q" in part) return attributeHtml(part);
      let html = pieces(part.src);
      if (translations && (!t || t.msgstr === "")) st = "untranslated";
      else if (t) {
        st = t.fuzzy ? "fuzzy" : "translated";
        try { html = unitHtml(part, t); } catch (e) { st = "problem"; }
        if (byKey.has(k)) st = "problem";
      }
      if (st in counts) counts[st] += 1;
      if (!part.w || st === "source") return html;
      const ltr = MAP.dir === "rtl" && (st === "untranslated" || st === "problem") ? ' dir="ltr"' : "";
      return '<span class="lz-' + st + '"' + ltr + ' data-lz-entry="' + part.e + '">' + html + "</span>";
    }).join("");
    const head = '<base href="pages/' + esc(page.path.split("/").map(encodeURIComponent).join("/")) + '"><style>' +
      ".lz-untranslated{background:#fff1a8;outline:2px dashed #b8860b}" +
      ".lz-fuzzy{background:#ffd9b3;outline:2px dotted #c05000}" +
      ".lz-problem{background:#ffd6d6;outline:2px solid #c00000}</style>";
    const doctype = /^\s*<!doctype[^>]*>/i.exec(out);
    return [doctype ? doctype[0] + head + out.slice(doctype[0].length) : head + out, counts];
  }

  function show() {
    const page = MAP.pages[parseInt($("lz-page").value, 10)];
    const [html, counts] = pageHtml(page);
    const frame = $("lz-frame");
    frame.onload = () => {
      const root = frame.contentDocument && frame.contentDocument.documentElement;
      if (root && translations) { root.setAttribute("lang", MAP.lang); root.setAttribute("dir", MAP.dir); }
    };
    frame.srcdoc = html;
    $("lz-counts").textContent = translations
      ? "This page: " + counts.translated + " translated, " + counts.untranslated + " untranslated, " + counts.fuzzy +
        " fuzzy, " + counts.problem + " with problems."
      : "Showing the source text. Choose your translated file to see it in place.";
  }

  function listProblems() {
    const list = $("lz-problems");
    list.replaceChildren();
    $("lz-problem-count").textContent = String(problems.length);
    for (const p of problems) {
      const li = document.createElement("li");
      li.className = "lz-" + p.severity;
      const b = document.createElement("b");
      b.textContent = p.severity + ": ";
      const q = document.createElement("q");
      q.textContent = p.msgid.length > 80 ? p.msgid.slice(0, 80) + "…" : p.msgid;
      li.append(b, document.createTextNode(p.where + ", "), q, document.createTextNode(": " + p.message));
      list.append(li);
    }
  }

  function load(name, text) {
    let units;
    try {
      units = /\.(xlf|xliff)$/i.test(name) || /^\s*(<\?xml|<xliff)/.test(text) ? parseXliff(text) : parsePo(text);
    } catch (e) {
      $("lz-status").textContent = name + ": " + e.message;
      return;
    }
    translations = new Map();
    problems = [];
    byKey = new Map();
    for (const u of units) {
      const k = key(u.ctx, u.msgid);
      translations.set(k, u);
      for (const p of check(u)) {
        problems.push({ key: k, msgid: u.msgid, where: u.where, severity: p.severity, message: p.message });
        if (p.severity === "error" && !byKey.has(k)) byKey.set(k, p);
      }
    }
    const done = units.filter((u) => u.msgstr !== "" && !u.fuzzy).length;
    $("lz-status").textContent = name + ": " + units.length + " texts, " + done + " translated, " +
      problems.length + " problems.";
    listProblems();
    show();
  }

  function read(file) {
    const reader = new FileReader();
    reader.onload = () => load(file.name, String(reader.result));
    reader.readAsText(file, "utf-8");
  }

  MAP.pages.forEach((p, i) => {
    const o = document.createElement("option");
    o.value = String(i);
    o.textContent = p.title ? p.title + " (" + p.path + ")" : p.path;
    $("lz-page").append(o);
  });
  $("lz-page").addEventListener("change", show);
  $("lz-file").addEventListener("change", (e) => { if (e.target.files[0]) read(e.target.files[0]); });
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer.files[0]) read(e.dataTransfer.files[0]);
  });
  show();
})();
