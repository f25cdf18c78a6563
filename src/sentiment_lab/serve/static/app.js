// sentiment-lab web page: plain JavaScript, no build step, nothing loaded from outside.
// It talks to the same versioned API as any client (/v1/predict, /v1/explain,
// /v1/predict/file, /v1/model, /v1/models: the model selector); the chart is inline SVG drawn here.
"use strict";

const EXAMPLES = [
  "This movie is absolutely fantastic and amazing",
  "I really enjoyed this film, the acting was great",
  "Terrible movie, waste of time",
  "The plot was boring and predictable",
  "It was okay, nothing special",
  "The acting was not good at all",
  "The first half was dull, but the ending was brilliant",
];
const MAX_BATCH = 256;        // texts per /v1/predict request (the API's limit)
const MAX_UPLOAD = 10 * 1024 * 1024;

const STRINGS = {
  en: {
    title: "Sentiment of a text", tabSingle: "One text", tabBatch: "Batch",
    textLabel: () => `Review (the model reads ${langName()})`, placeholder: "Type or paste a review, a sentence, a comment…",
    analyse: "Analyse", clear: "Clear", shortcut: "Ctrl+Enter", examples: "Examples:",
    confidence: "confidence", positiveShort: "positive", negativeWord: "negative", positiveWord: "positive",
    positive: "positive", negative: "negative",
    unknownWords: "Words the model does not know:", none: "none",
    whyTitle: "Which words pushed the prediction", towardsNegative: "towards negative",
    towardsPositive: "towards positive", unknownToken: "unknown word",
    chartTitle: "Running sentiment: P(positive) after each word",
    explainNote: "Colours: Integrated Gradients attribution of each word (relative to the strongest). " +
      "The chart re-reads the text word by word.",
    computing: "Computing the explanation…", truncated: "The text is longer than the model reads: only the words shown count.",
    batchLabel: "One text per line", batchPlaceholder: "Terrible movie, waste of time\nI really enjoyed this film",
    fileLabel: "…or a file (CSV with a text column, TSV, JSONL, TXT; at most 10 MB)", columnLabel: "Text column",
    chooseFile: "Choose a file", noFile: "no file chosen", runBatch: "Classify all", download: "Download CSV", colText: "Text", colLabel: "Label",
    colConfidence: "Confidence", colUnknown: "Unknown words",
    summary: (n, pos, neg) => `${n} text${n === 1 ? "" : "s"}: ${pos} positive, ${neg} negative`,
    running: (done, n) => `Classifying… ${done} / ${n}`,
    emptyText: "Type a review first.", emptyBatch: "Type some lines or choose a file first.",
    fileTooLarge: "The file is larger than 10 MB.", network: "The server did not answer",
    modelCard: "Model card", apiDocs: "API documentation",
    footer: "sentiment-lab: recurrent sentiment classifier, served locally.",
    model: (m) => `Model: ${m.name} · ${m.arch} · ${m.acc ? `test accuracy ${m.acc}` : "no test metrics"}`,
    modelLabel: "Model", answeredBy: "model", reads: () => `This model reads ${langName()}.`,
    languages: { en: "English", fr: "French", de: "German", es: "Spanish", it: "Italian", nl: "Dutch" },
    attrTitle: (tok, a, p) => `${tok}: attribution ${a}; P(positive) after this word ${p}`,
    unknownTitle: "not in the model's vocabulary", switchTo: "Français", switchLabel: "FR",
    chartAria: (n) => `Line chart of P(positive) over ${n} words`,
    barAria: (p) => `P(positive) ${p}`, yAxis: "P(positive)",
  },
  fr: {
    title: "Sentiment d’un texte", tabSingle: "Un texte", tabBatch: "Par lot",
    textLabel: () => `Critique (le modèle lit ${langName()})`, placeholder: "Tapez ou collez un avis, une phrase, un commentaire…",
    analyse: "Analyser", clear: "Effacer", shortcut: "Ctrl+Entrée", examples: "Exemples :",
    confidence: "confiance", positiveShort: "positif", negativeWord: "négatif", positiveWord: "positif",
    positive: "positif", negative: "négatif",
    unknownWords: "Mots inconnus du modèle :", none: "aucun",
    whyTitle: "Quels mots ont orienté la prédiction", towardsNegative: "vers négatif",
    towardsPositive: "vers positif", unknownToken: "mot inconnu",
    chartTitle: "Sentiment au fil du texte : P(positif) après chaque mot",
    explainNote: "Couleurs : attribution Integrated Gradients de chaque mot (relative à la plus forte). " +
      "La courbe relit le texte mot après mot.",
    computing: "Calcul de l’explication…", truncated: "Le texte dépasse ce que lit le modèle : seuls les mots affichés comptent.",
    batchLabel: "Un texte par ligne", batchPlaceholder: "Terrible movie, waste of time\nI really enjoyed this film",
    fileLabel: "…ou un fichier (CSV avec une colonne de texte, TSV, JSONL, TXT ; 10 Mo au plus)",
    columnLabel: "Colonne du texte", chooseFile: "Choisir un fichier", noFile: "aucun fichier choisi",
    runBatch: "Tout classer", download: "Télécharger le CSV", colText: "Texte",
    colLabel: "Étiquette", colConfidence: "Confiance", colUnknown: "Mots inconnus",
    summary: (n, pos, neg) => `${n} texte${n === 1 ? "" : "s"} : ${pos} positif${pos === 1 ? "" : "s"}, ` +
      `${neg} négatif${neg === 1 ? "" : "s"}`,
    running: (done, n) => `Classement… ${done} / ${n}`,
    emptyText: "Tapez d’abord une critique.", emptyBatch: "Tapez des lignes ou choisissez d’abord un fichier.",
    fileTooLarge: "Le fichier dépasse 10 Mo.", network: "Le serveur n’a pas répondu",
    modelCard: "Fiche du modèle", apiDocs: "Documentation de l’API",
    footer: "sentiment-lab : classifieur de sentiment récurrent, servi en local.",
    model: (m) => `Modèle : ${m.name} · ${m.arch} · ${m.acc ? `exactitude au test ${m.acc}` : "pas de mesure de test"}`,
    modelLabel: "Modèle", answeredBy: "modèle", reads: () => `Ce modèle lit ${langName()}.`,
    languages: { en: "l’anglais", fr: "le français", de: "l’allemand", es: "l’espagnol", it: "l’italien",
      nl: "le néerlandais" },
    attrTitle: (tok, a, p) => `${tok} : attribution ${a} ; P(positif) après ce mot ${p}`,
    unknownTitle: "absent du vocabulaire du modèle", switchTo: "English", switchLabel: "EN",
    chartAria: (n) => `Courbe de P(positif) sur ${n} mots`,
    barAria: (p) => `P(positif) ${p}`, yAxis: "P(positif)",
  },
};

const $ = (id) => document.getElementById(id);
const state = { lang: "en", model: null, models: [], modelName: null, last: null, explanation: null, batch: [],
  batchSource: null };

// The language the active model reads, in the interface's language (GET /v1/models: "en", "fr", ...).
function langName() {
  const m = state.models.find((x) => x.name === state.modelName);
  const code = (m && m.language) || "en";
  return STRINGS[state.lang].languages[code] || code;
}

function t(key, ...args) {
  const v = STRINGS[state.lang][key];
  return typeof v === "function" ? v(...args) : v;
}

function pct(x, digits = 1) {
  return new Intl.NumberFormat(state.lang, { style: "percent", minimumFractionDigits: digits,
    maximumFractionDigits: digits }).format(x);
}

function num(x, digits = 2) {
  return new Intl.NumberFormat(state.lang, { minimumFractionDigits: digits, maximumFractionDigits: digits,
    signDisplay: "exceptZero" }).format(x);
}

// ---------- language ----------
function setLanguage(lang) {
  state.lang = STRINGS[lang] ? lang : "en";
  document.documentElement.lang = state.lang;
  try { localStorage.setItem("sentiment-lab-lang", state.lang); } catch (e) { /* private mode */ }
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  });
  const toggle = $("lang-toggle");
  toggle.textContent = t("switchLabel");
  toggle.setAttribute("aria-label", t("switchTo"));
  toggle.title = t("switchTo");
  $("bar-half").textContent = pct(0.5, 0);
  renderModelInfo();
  if (state.last) renderResult(state.last);
  if (state.explanation) renderExplanation(state.explanation);
  if (state.batch.length) renderBatch(state.batch);
}

function initialLanguage() {
  let saved = null;
  try { saved = localStorage.getItem("sentiment-lab-lang"); } catch (e) { /* private mode */ }
  if (saved && STRINGS[saved]) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
}

// ---------- API ----------
// The response if it is a 2xx; otherwise an Error whose message is the API's one-line reason.
async function fetchOk(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw new Error(`${t("network")} (${e.message})`);
  }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    const detail = body && (body.message || (typeof body.detail === "string" ? body.detail : null));
    throw new Error(`${response.status}: ${detail || response.statusText}`);
  }
  return response;
}

async function api(path, options) {
  const response = await fetchOk(path, options);
  try { return await response.json(); } catch (e) { return null; /* not JSON */ }
}

const postJSON = (path, payload) => api(path, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
});

function showError(id, err) {
  const el = $(id);
  el.textContent = err ? String(err.message || err) : "";
  el.hidden = !err;
}

// ---------- model info ----------
async function loadModels() {
  try {
    const list = await api("/v1/models");
    state.models = list.models;
    state.modelName = state.modelName || list.default;
    const select = $("model-select");
    select.textContent = "";
    list.models.forEach((m) => select.append(new Option(m.name, m.name, false, m.name === state.modelName)));
  } catch (e) {
    $("model-info").textContent = e.message;
    return;
  }
  await loadModel();
}

// The selected model's card and figures (GET /v1/model?model=NAME loads it on the server once).
async function loadModel() {
  const name = state.modelName;
  try {
    const info = await api(`/v1/model?model=${encodeURIComponent(name)}`);
    if (name !== state.modelName) return;  // switched again meanwhile
    state.model = info;
    $("model-card").textContent = state.model.card;
    renderModelInfo();
  } catch (e) {
    $("model-info").textContent = e.message;
  }
}

function renderModelInfo() {
  $("model-reads").textContent = state.models.length ? t("reads") : "";
  document.querySelectorAll('[data-i18n="textLabel"]').forEach((el) => { el.textContent = t("textLabel"); });
  const m = state.model;
  if (!m) return;
  const a = m.architecture;
  const arch = `${a.bidirectional ? "Bi" : ""}${a.arch.split(".")[0].toUpperCase()}(${a.hidden_size})` +
    (a.num_layers > 1 ? ` ×${a.num_layers}` : "") + `, ${a.pooling} pooling` +
    (m.config && m.config.model && m.config.model.bag_buckets ? " + bag of n-grams" : "");
  // a model trained on a mixture: one figure per test set (the pooled one is mostly IMDB's 25,000)
  const bySource = m.metrics && m.metrics.test_by_source;
  const acc = bySource && Object.keys(bySource).length > 1
    ? Object.entries(bySource).map(([name, r]) => `${name} ${pct(r.accuracy)}`).join(", ")
    : m.metrics && m.metrics.test && m.metrics.test.accuracy != null ? pct(m.metrics.test.accuracy) : null;
  $("model-info").textContent = t("model", { name: m.name, arch, acc });
}

// A disabled button drops the keyboard focus to <body>: give it back when the work is done.
function setBusy(id, busy) {
  const b = $(id);
  if (busy) {
    b.dataset.refocus = String(document.activeElement === b);
    b.disabled = true;
  } else {
    b.disabled = false;
    if (b.dataset.refocus === "true" && document.activeElement === document.body) b.focus();
  }
}

// ---------- one text ----------
async function analyse(text) {
  showError("single-error", null);
  if (!text.trim()) {  // and no earlier verdict left on screen as if it were this text's
    showError("single-error", t("emptyText"));
    $("result").hidden = $("explanation").hidden = true;
    return;
  }
  setBusy("analyse", true);
  state.explanation = null;
  $("explanation").hidden = false;
  $("tokens").textContent = "";
  $("chart").textContent = "";
  setStatus(t("computing"));
  try {
    const res = await postJSON("/v1/predict", { text, model: state.modelName });
    state.last = { ...res.predictions[0], model: res.model };
    renderResult(state.last);
  } catch (e) {
    showError("single-error", e);
    $("result").hidden = true;
    $("explanation").hidden = true;
    setBusy("analyse", false);
    return;
  }
  setBusy("analyse", false);
  try {
    const ex = await postJSON("/v1/explain", { text, model: state.modelName });
    if ($("text").value !== text) return;  // the user moved on; a newer request owns the view
    state.explanation = ex;
    renderExplanation(ex);
  } catch (e) {
    setStatus(e.message);
  }
}

function setStatus(message) {
  const el = $("explain-status");
  el.textContent = message || "";
  el.hidden = !message;
}

function renderResult(r) {
  $("result").hidden = false;
  const label = $("label");
  label.textContent = t(r.label);
  label.className = `label ${r.label}`;
  label.dataset.label = r.label;
  $("confidence").textContent = pct(r.score);
  $("p-positive").textContent = pct(r.p_positive);
  $("bar-fill").style.width = `${(r.p_positive * 100).toFixed(2)}%`;
  $("bar-fill").className = `bar-fill ${r.label}`;
  $("bar").setAttribute("aria-label", t("barAria", pct(r.p_positive)));
  $("unknown").textContent = r.unknown_words.length ? r.unknown_words.join(", ") : t("none");
  $("answered-by").textContent = r.model || "";
}

function attributionColor(a, maxAbs) {
  const strength = maxAbs > 0 ? Math.min(1, Math.abs(a) / maxAbs) : 0;
  const alpha = (0.08 + 0.72 * strength).toFixed(3);
  return a >= 0 ? `rgba(22, 163, 74, ${alpha})` : `rgba(220, 38, 38, ${alpha})`;
}

function renderExplanation(ex) {
  $("explanation").hidden = false;
  setStatus(ex.truncated ? t("truncated") : "");
  const tokens = $("tokens");
  tokens.textContent = "";
  const maxAbs = Math.max(...ex.attributions.map(Math.abs), 1e-9);
  ex.tokens.forEach((tok, i) => {
    const span = document.createElement("span");
    span.className = "tok" + (ex.unknown[i] ? " unk" : "");
    span.textContent = tok;
    span.style.backgroundColor = attributionColor(ex.attributions[i], maxAbs);
    span.dataset.attribution = ex.attributions[i];
    span.title = t("attrTitle", tok, num(ex.attributions[i]), pct(ex.trajectory[i])) +
      (ex.unknown[i] ? ` (${t("unknownTitle")})` : "");
    tokens.appendChild(span);
    tokens.appendChild(document.createTextNode(" "));
  });
  drawChart($("chart"), ex.tokens, ex.trajectory);
}

// ---------- running-sentiment chart (inline SVG) ----------
const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs, parent) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function drawChart(container, tokens, values) {
  container.textContent = "";
  const n = values.length;
  const W = Math.max(280, container.clientWidth || 600);
  const longest = Math.min(14, Math.max(...tokens.map((s) => s.length)));
  const pad = { left: 62, right: 14, top: 12, bottom: 18 + longest * 5.2 };
  const H = 190 + pad.bottom;
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const x = (i) => pad.left + (n === 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (p) => pad.top + (1 - p) * plotH;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
    "aria-label": t("chartAria", n), class: "chart-svg" }, container);
  const defs = svg("defs", {}, root);
  const grad = svg("linearGradient", { id: "pn", gradientUnits: "userSpaceOnUse", x1: 0, x2: 0, y1: y(1), y2: y(0) }, defs);
  svg("stop", { offset: "0.5", "stop-color": "#16a34a", "stop-opacity": "0.35" }, grad);
  svg("stop", { offset: "0.5", "stop-color": "#dc2626", "stop-opacity": "0.35" }, grad);
  for (const p of [0, 0.25, 0.5, 0.75, 1]) {
    svg("line", { x1: pad.left, x2: W - pad.right, y1: y(p), y2: y(p),
      class: p === 0.5 ? "grid mid" : "grid" }, root);
    const label = svg("text", { x: pad.left - 6, y: y(p) + 4, class: "axis", "text-anchor": "end" }, root);
    label.textContent = pct(p, 0);
  }
  const yTitle = svg("text", { x: 13, y: pad.top + plotH / 2, class: "axis", "text-anchor": "middle",
    transform: `rotate(-90 13 ${pad.top + plotH / 2})` }, root);
  yTitle.textContent = t("yAxis");
  const pts = values.map((p, i) => `${x(i).toFixed(1)},${y(p).toFixed(1)}`);
  svg("polygon", { points: `${x(0)},${y(0.5)} ${pts.join(" ")} ${x(n - 1)},${y(0.5)}`, fill: "url(#pn)" }, root);
  svg("polyline", { points: pts.join(" "), class: "line" }, root);
  // Label every k-th token so that rotated labels never overlap (about 13 px apart).
  const step = Math.max(1, Math.ceil(13 / (n > 1 ? plotW / (n - 1) : plotW)));
  values.forEach((p, i) => {
    const dot = svg("circle", { cx: x(i), cy: y(p), r: n > 60 ? 2 : 3.5, class: p >= 0.5 ? "dot pos" : "dot neg" }, root);
    const title = svg("title", {}, dot);
    title.textContent = `${tokens[i]}: ${pct(p)}`;
    if (i % step === 0 || i === n - 1 && (n - 1) % step >= step / 2) {
      const word = tokens[i].length > 14 ? `${tokens[i].slice(0, 13)}…` : tokens[i];
      const tx = x(i), ty = H - pad.bottom + 12;
      const label = svg("text", { x: tx, y: ty, class: "tok-label", "text-anchor": "end",
        transform: `rotate(-45 ${tx} ${ty})` }, root);
      label.textContent = word;
    }
  });
}

// ---------- batch ----------
async function runBatch() {
  showError("batch-error", null);
  const file = $("file").files[0];
  const lines = $("batch-text").value.split(/\r?\n/).filter((s) => s.trim());
  if (!file && !lines.length) { showError("batch-error", t("emptyBatch")); return; }
  setBusy("run-batch", true);
  $("download").disabled = true;
  try {
    let rows;
    state.batchSource = null;
    if (file) {
      if (file.size > MAX_UPLOAD) throw new Error(t("fileTooLarge"));
      const source = { file, column: $("column").value.trim() || "text", model: state.modelName };
      const form = uploadForm(source);
      form.append("include_text", "true");  // the table shows each row's text
      $("batch-summary").textContent = t("running", 0, "?");
      rows = (await api("/v1/predict/file", { method: "POST", body: form })).predictions;
      state.batchSource = source;
    } else {
      rows = [];
      for (let i = 0; i < lines.length; i += MAX_BATCH) {
        $("batch-summary").textContent = t("running", i, lines.length);
        const chunk = lines.slice(i, i + MAX_BATCH);
        const res = await postJSON("/v1/predict", { text: chunk, model: state.modelName });
        res.predictions.forEach((p, j) => rows.push({ text: chunk[j], ...p }));
      }
      state.batchSource = { lines, model: state.modelName };
    }
    state.batch = rows;
    renderBatch(rows);
    $("download").disabled = false;
  } catch (e) {
    $("batch-summary").textContent = "";
    showError("batch-error", e);
  } finally {
    setBusy("run-batch", false);
  }
}

function renderBatch(rows) {
  const pos = rows.filter((r) => r.label === "positive").length;
  $("batch-summary").textContent = t("summary", rows.length, pos, rows.length - pos);
  const body = $("batch-table").querySelector("tbody");
  body.textContent = "";
  rows.forEach((r, i) => {
    const tr = document.createElement("tr");
    const cells = [String(i + 1), r.text, t(r.label), pct(r.score), pct(r.p_positive), r.unknown_words.join(", ")];
    const classes = ["", "text-cell", `label-cell ${r.label}`, "num", "num ppos-col", "unk-col"];
    cells.forEach((c, j) => {
      const td = document.createElement("td");
      td.textContent = c;
      td.className = classes[j];
      if (j === 1 && r.unknown_words.length) {  // shown instead of the last column on phones
        const unk = document.createElement("div");
        unk.className = "unk-inline";
        unk.textContent = `${t("colUnknown")}: ${r.unknown_words.join(", ")}`;
        td.appendChild(unk);
      }
      tr.appendChild(td);
    });
    body.appendChild(tr);
  });
  $("batch-table").hidden = false;
}

// The table being classified, as an upload: the file itself, or the pasted lines as a .txt
// file (one text per line, split at \n like the lines above).
function uploadForm(source) {
  const form = new FormData();
  if (source.model) form.append("model", source.model);  // the model that classified the table
  if (source.file) {
    form.append("file", source.file);
    form.append("text_column", source.column);
  } else {
    form.append("file", new Blob([source.lines.join("\n") + "\n"], { type: "text/plain" }), "lines.txt");
  }
  return form;
}

// The CSV is written by the server (/v1/predict/file?format=csv), which neutralises cells a
// spreadsheet would run as formulas (=, +, -, @ ...; docs/security.md): not built here.
async function downloadCsv() {
  if (!state.batchSource) return;
  showError("batch-error", null);
  setBusy("download", true);
  try {
    const response = await fetchOk("/v1/predict/file?format=csv", { method: "POST", body: uploadForm(state.batchSource) });
    const blob = await response.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = "sentiment-predictions.csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  } catch (e) {
    showError("batch-error", e);
  } finally {
    setBusy("download", false);
  }
}

function showFileName() {
  const file = $("file").files[0];
  const name = $("file-name");
  if (file) {
    delete name.dataset.i18n;  // a file name is not translated
    name.textContent = file.name;
  } else {
    name.dataset.i18n = "noFile";
    name.textContent = t("noFile");
  }
  $("file-clear").hidden = !file;
}

// ---------- wiring ----------
const TABS = ["single", "batch"];

function selectTab(which, focus = false) {
  for (const name of TABS) {
    const tab = $(`tab-${name}`);
    tab.setAttribute("aria-selected", String(name === which));
    tab.tabIndex = name === which ? 0 : -1;  // roving tabindex: Tab reaches the selected tab only
    $(`panel-${name}`).hidden = name !== which;
  }
  if (focus) $(`tab-${which}`).focus();
}

// WAI-ARIA tabs: arrow keys move between tabs, Home/End go to the first/last.
function tabKeys(e) {
  const i = TABS.findIndex((name) => $(`tab-${name}`).getAttribute("aria-selected") === "true");
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
  if (next === undefined) return;
  e.preventDefault();
  selectTab(TABS[(next + TABS.length) % TABS.length], true);
}

function init() {
  const chips = $("examples");
  EXAMPLES.forEach((ex) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "chip";
    b.textContent = ex;
    b.addEventListener("click", () => { $("text").value = ex; analyse(ex); });
    chips.appendChild(b);
  });
  $("single-form").addEventListener("submit", (e) => { e.preventDefault(); analyse($("text").value); });
  $("text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); analyse($("text").value); }
  });
  $("clear").addEventListener("click", () => {
    $("text").value = "";
    state.last = state.explanation = null;
    $("result").hidden = $("explanation").hidden = true;
    showError("single-error", null);
    $("text").focus();
  });
  $("batch-form").addEventListener("submit", (e) => { e.preventDefault(); runBatch(); });
  $("download").addEventListener("click", downloadCsv);
  $("file").addEventListener("change", showFileName);
  $("file-clear").addEventListener("click", () => { $("file").value = ""; showFileName(); });
  $("tab-single").addEventListener("click", () => selectTab("single"));
  $("tab-batch").addEventListener("click", () => selectTab("batch"));
  document.querySelector('[role="tablist"]').addEventListener("keydown", tabKeys);
  selectTab("single");
  $("lang-toggle").addEventListener("click", () => setLanguage(state.lang === "en" ? "fr" : "en"));
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (state.explanation) drawChart($("chart"), state.explanation.tokens,
      state.explanation.trajectory); }, 150);
  });
  $("model-select").addEventListener("change", (e) => { state.modelName = e.target.value; loadModel(); });
  setLanguage(initialLanguage());
  loadModels();
}

document.addEventListener("DOMContentLoaded", init);
