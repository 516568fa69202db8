// blocks-rx explorer: the behaviour of the page that blocks_rx/explore/page.py builds.
//
// Bokeh draws the figures, tools and widgets; this file turns the stored 8-bit matrix into
// pixels for the chosen ordering, colour scale and cut-off, and answers the controls: brush,
// search, dendrogram cut, confusion view. It runs once, on Bokeh's document_ready event,
// and leaves `window.blocksRx`; every other callback of the page is one line calling
// `blocksRx.handle(name, cb_obj)`. Class names and other texts reach the page only as text:
// `escapeHtml` on everything written into HTML.
(function (models, data) {
  "use strict";

  const S = {                 // the page's state
    m: data.m,
    layer: 0,                 // which of data.layers is shown
    levels: null,             // its Uint8Array m*m, input order (after inflating)
    confusion: null,          // Uint32Array m*m counts, input order, or null
    ordering: 0,
    perm: null,               // position -> class index
    inverse: null,            // class index -> position
    cutK: 0,
    rows: [],                 // selected classes (indices), by row range
    columns: [],              // ... and by column range
    found: -1,                // class found by search
    ready: false,
    lastDrawSeconds: 0,       // how long the last full redraw took
  };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  async function inflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  // A typed array as the 2-D array Bokeh's image glyphs take.
  const ndarray = Bokeh.require("core/util/ndarray").ndarray;
  function image2d(values, rows, columns) { return ndarray(values, { shape: [rows, columns] }); }

  function asArray(value, Type) {   // Bokeh hands numpy arrays over as typed arrays
    if (value == null) return null;
    return Array.isArray(value) ? Type.from(value) : new Type(value.buffer, value.byteOffset, value.length);
  }

  // ------------------------------------------------------------------ colours

  function rgba(palette, k) {      // little-endian RGBA bytes as one uint32
    const p = palette;
    return ((p[4 * k + 3] << 24) | (p[4 * k + 2] << 16) | (p[4 * k + 1] << 8) | p[4 * k]) >>> 0;
  }

  function layer() { return data.layers[S.layer]; }
  function value(level) { return layer().low + (level - 1) * layer().step; }

  // Level -> colour: the static heatmap's palette on [vmin, vmax] (linear; beyond them its
  // darker end colours, as heatmap.png draws the diagonal) or by the level's rank among the
  // off-diagonal cells (rank); levels below the cut-off fade towards the background.
  function levelColours() {
    const L = layer(), palette = L.palette, lut = new Uint32Array(256);
    const rank = models.scale.active === 1, cutoff = models.cutoff.value;
    const cdf = rank ? rankOfLevels() : null;
    const background = rgba(data.background, 0);
    for (let q = 1; q < 256; q++) {
      const v = value(q);
      const t = rank ? cdf[q] : (v - L.vmin) / (L.vmax - L.vmin);
      const colour = !rank && v > L.vmax + L.step / 2 ? rgba(L.over, 0)
        : !rank && v < L.vmin - L.step / 2 ? rgba(L.under, 0)
        : rgba(palette, Math.min(255, Math.max(0, Math.floor(t * 256))));
      lut[q] = v < cutoff - L.step / 2 ? fade(colour, background, 0.85) : colour;
    }
    lut[0] = rgba(data.missing, 0);
    return lut;
  }

  function rankOfLevels() {        // the fraction of off-diagonal cells at or below each level
    const counts = new Float64Array(256);
    const L = S.levels, m = S.m;
    for (let i = 0; i < L.length; i++) counts[L[i]] += 1;
    for (let i = 0; i < m; i++) counts[L[i * m + i]] -= 1;
    const cdf = new Float64Array(256);
    let total = 0, seen = 0;
    for (let q = 1; q < 256; q++) total += counts[q];
    for (let q = 1; q < 256; q++) { seen += counts[q]; cdf[q] = total > 0 ? (seen - counts[q] / 2) / total : 0.5; }
    return cdf;
  }

  function fade(colour, background, amount) {
    let out = 0xff000000;
    for (const shift of [0, 8, 16]) {
      const a = (colour >>> shift) & 255, b = (background >>> shift) & 255;
      out |= Math.round(a + (b - a) * amount) << shift;
    }
    return out >>> 0;
  }

  // ------------------------------------------------------------------ drawing

  function drawMatrix() {
    const m = S.m, perm = S.perm, L = S.levels, lut = levelColours();
    const image = new Uint32Array(m * m);
    for (let i = 0; i < m; i++) {
      const row = perm[i] * m, out = i * m;
      for (let j = 0; j < m; j++) image[out + j] = lut[L[row + perm[j]]];
    }
    models.matrix_source.data = { image: [image2d(image, m, m)] };
  }

  function drawConfusion() {
    if (!S.confusion) return;
    const m = S.m, perm = S.perm, C = S.confusion, palette = data.confusion_palette;
    const image = new Uint32Array(m * m);
    for (let i = 0; i < m; i++) {
      const row = perm[i] * m;
      let total = 0;
      for (let j = 0; j < m; j++) total += C[row + j];
      for (let j = 0; j < m; j++) {       // the square root of the row's rate shows rare errors
        const rate = total > 0 ? C[row + perm[j]] / total : 0;
        image[i * m + j] = rgba(palette, Math.min(255, Math.floor(Math.sqrt(rate) * 256)));
      }
    }
    models.confusion_source.data = { image: [image2d(image, m, m)] };
  }

  function drawTracks() {
    const m = S.m, perm = S.perm;
    if (models.memberships_source) {
      const c = data.n_groups, U = data.memberships, image = new Uint32Array(m * c);
      for (let i = 0; i < m; i++)
        for (let g = 0; g < c; g++)
          image[i * c + g] = rgba(data.memberships_palette, Math.min(255, Math.floor(U[perm[i] * c + g] * 256)));
      models.memberships_source.data = { image: [image2d(image, m, c)] };
    }
    if (models.frequency_source) {
      const y = [], count = [];
      for (let i = 0; i < m; i++) { y.push(i + 0.5); count.push(data.frequency[perm[i]]); }
      models.frequency_source.data = { y: y, count: count };
    }
    if (models.taxonomy_source) {
      const depth = data.taxonomy_depth, image = new Uint32Array(m * depth);
      for (let i = 0; i < m; i++)
        for (let d = 0; d < depth; d++)
          image[i * depth + d] = rgba(data.taxonomy_palette, data.taxonomy_codes[perm[i] * depth + d]);
      models.taxonomy_source.data = { image: [image2d(image, m, depth)] };
    }
  }

  function runs(positions) {       // sorted positions -> [start, end) runs
    const out = [];
    for (const p of positions) {
      const last = out[out.length - 1];
      if (last && last[1] === p) last[1] = p + 1; else out.push([p, p + 1]);
    }
    return out;
  }

  function boxes(pairs) {          // [[x0, x1, y0, y1]] -> quad columns
    return { left: pairs.map((b) => b[0]), right: pairs.map((b) => b[1]),
             top: pairs.map((b) => b[2]), bottom: pairs.map((b) => b[3]) };
  }

  function positionsOf(classes) {
    return classes.map((c) => S.inverse[c]).sort((a, b) => a - b);
  }

  function drawOutlines() {        // the k clusters of the ordering's tree, as rect.hclust
    const cuts = data.orderings[S.ordering].cuts, k = models.cut.value;
    let pairs = [];
    if (cuts && k > 1) {
      const labels = cuts.subarray((k - 1) * S.m, k * S.m);
      let start = 0;
      for (let i = 1; i <= S.m; i++)
        if (i === S.m || labels[S.perm[i]] !== labels[S.perm[start]]) { pairs.push([start, i, start, i]); start = i; }
    }
    models.outline_source.data = boxes(pairs);
  }

  function drawSelection() {
    const rows = runs(positionsOf(S.rows)), columns = runs(positionsOf(S.columns));
    const pairs = [];
    for (const r of rows) for (const c of columns) pairs.push([c[0], c[1], r[0], r[1]]);
    models.selection_source.data = boxes(pairs.length <= 4000 ? pairs : []);
    const splits = [];
    for (const s of data.split) {
      const a = positionsOf(s.first), b = positionsOf(s.second);
      if (!a.length || !b.length) continue;
      const A = [a[0], a[a.length - 1] + 1], B = [b[0], b[b.length - 1] + 1];
      splits.push([B[0], B[1], A[0], A[1]], [A[0], A[1], B[0], B[1]]);
    }
    models.split_source.data = boxes(splits);
  }

  function drawFound() {
    const p = S.found >= 0 ? S.inverse[S.found] : -1;
    models.found_source.data = p < 0 ? boxes([]) : boxes([[0, S.m, p, p + 1], [p, p + 1, 0, S.m]]);
  }

  function drawAll() {
    const started = performance.now();
    drawMatrix(); drawConfusion(); drawTracks(); drawOutlines(); drawSelection(); drawFound();
    S.lastDrawSeconds = (performance.now() - started) / 1000;  // read by the benchmark
  }

  // ------------------------------------------------------------------ the side panel

  function classItem(c) {
    const name = escapeHtml(data.classes[c]);
    const parts = [`<li data-class="${c}"><b>${name}</b>`];
    const about = [];
    if (data.taxonomy) about.push(escapeHtml(data.taxonomy[c].join(" / ")));
    if (data.memberships) {
      const groups = [];
      for (let g = 0; g < data.n_groups; g++) {
        const u = data.memberships[c * data.n_groups + g];
        if (u >= data.threshold) groups.push(`${escapeHtml(data.group_names[g])} ${u.toFixed(2)}`);
      }
      about.push("groups: " + groups.join(", "));
    }
    if (data.frequency) about.push(`${data.frequency[c]} samples`);
    if (about.length) parts.push(`<div class="brx-about">${about.join(" · ")}</div>`);
    for (const [kind, item] of (data.examples ? data.examples[c] : [])) {
      parts.push(kind === "image" && /^data:image\/png;base64,[A-Za-z0-9+/=]+$/.test(item)
        ? `<img class="brx-thumb" src="${item}" alt="">`
        : `<div class="brx-example">${escapeHtml(item)}</div>`);
    }
    parts.push("</li>");
    return parts.join("");
  }

  function classList(title, classes) {
    const ordered = positionsOf(classes).map((p) => S.perm[p]);
    const shown = ordered.slice(0, 500).map(classItem).join("");
    const more = ordered.length > 500 ? `<p>… and ${ordered.length - 500} more (all in the box below)</p>` : "";
    return `<h4>${escapeHtml(title)} (${ordered.length})</h4><ol class="brx-list">${shown}</ol>${more}`;
  }

  function showSelection() {
    const same = S.rows.length === S.columns.length && S.rows.every((c, i) => c === S.columns[i]);
    let html = same ? classList("Selected classes", S.rows)
                    : classList("Rows", S.rows) + classList("Columns", S.columns);
    if (!S.rows.length && !S.columns.length)
      html = "<p>Drag a box on the matrix (box select tool) to list its classes.</p>";
    models.panel.text = html;
    const names = [...new Set([...positionsOf(S.rows), ...positionsOf(S.columns)])]
      .sort((a, b) => a - b).map((p) => data.classes[S.perm[p]]);
    models.names.value = names.join("\n");
  }

  // ------------------------------------------------------------------ controls

  function setOrdering(index) {
    S.ordering = index;
    S.perm = data.orderings[index].order;
    S.inverse = new Int32Array(S.m);
    for (let p = 0; p < S.m; p++) S.inverse[S.perm[p]] = p;
    models.cut.disabled = !data.orderings[index].cuts;
    if (models.named_axes.length) {   // few classes: every row and column named
      const labels = new Map();
      for (let p = 0; p < S.m; p++) labels.set(p + 0.5, data.classes[S.perm[p]]);
      for (const axis of models.named_axes) axis.major_label_overrides = labels;
    }
  }

  function rangeOf(a, b) {         // positions covered by [a, b] in data units
    const lo = Math.max(0, Math.floor(Math.min(a, b))), hi = Math.min(S.m, Math.ceil(Math.max(a, b)));
    const out = [];
    for (let p = lo; p < hi; p++) out.push(S.perm[p]);
    return out.sort((x, y) => x - y);
  }

  function select(geometry) {
    S.rows = rangeOf(geometry.y0, geometry.y1);
    S.columns = rangeOf(geometry.x0, geometry.x1);
    drawSelection(); showSelection();
  }

  function find(name) {
    const c = data.classes.indexOf(name);
    S.found = c;
    drawFound();
    models.status.text = c < 0 ? `<span class="brx-missing">No class named ${escapeHtml(name)}</span>`
                               : `Found ${escapeHtml(name)} at position ${S.inverse[c] + 1} of ${S.m}`;
    if (c < 0) return;
    const p = S.inverse[c], x = models.x_range, y = models.y_range;
    const width = Math.min(S.m, Math.max(20, Math.abs(x.end - x.start) < S.m ? Math.abs(x.end - x.start) : 40));
    const start = Math.max(0, Math.min(S.m - width, p + 0.5 - width / 2));
    x.setv({ start: start, end: start + width });
    y.setv({ start: start + width, end: start });
  }

  // Above the full-resolution limit: switch between the pooled overview and a block of the
  // order at full resolution (another set of classes, one matrix, the order as stored).
  const overview = { m: data.m, classes: data.classes, layers: data.layers,
                     orderings: data.orderings, ordering_names: data.ordering_names };

  async function useDataset(name) {
    const detail = data.details.find((d) => d.name === name);
    const set = detail ? { m: detail.m, classes: detail.classes, layers: detail.layers,
                           orderings: [{ name: `stored order, positions ${detail.start + 1}-${detail.start + detail.m}`,
                                         order: Int32Array.from({ length: detail.m }, (_, i) => i), cuts: null }] }
                       : overview;
    if (!set.ordering_names) set.ordering_names = set.orderings.map((o) => o.name);
    for (const L of set.layers) if (!L.inflated) L.inflated = await inflate(L.levels);
    Object.assign(data, set);
    S.m = set.m; S.layer = 0; S.levels = set.layers[0].inflated;
    S.rows = []; S.columns = []; S.found = -1;
    setOrdering(0);
    const m = S.m, centres = Array.from({ length: m }, (_, i) => i + 0.5);
    models.image.glyph.setv({ dw: m, dh: m });
    models.diagonal_source.data = { x: centres, y: centres };
    models.x_range.setv({ bounds: [0, m], start: 0, end: m });
    models.y_range.setv({ bounds: [0, m], start: m, end: 0 });
    models.search.completions = set.classes;
    models.ordering.setv({ options: set.ordering_names, value: set.ordering_names[0] });
    const L = set.layers[0];
    models.cutoff.setv({ start: L.low, end: L.low + 254 * L.step, value: L.low });
    drawAll(); showSelection();
    models.status.text = detail ? `${m.toLocaleString("en")} classes at full resolution.`
                                : `The overview: ${m.toLocaleString("en")} tiles.`;
  }

  function hover(vars, format) {   // the hover tooltip's lines (plain text)
    if (!S.ready) return "";
    const i = Math.floor(vars.y), j = Math.floor(vars.x);
    if (i < 0 || j < 0 || i >= S.m || j >= S.m) return "";
    const a = S.perm[i], b = S.perm[j];
    if (format === "row") return `${data.classes[a]} (position ${i + 1})`;
    if (format === "column") return `${data.classes[b]} (position ${j + 1})`;
    if (format === "confusion") {
      if (!S.confusion) return "";
      let total = 0;
      for (let k = 0; k < S.m; k++) total += S.confusion[a * S.m + k];
      const n = S.confusion[a * S.m + b];
      return `${n} of ${total} samples of ${data.classes[a]} predicted as ${data.classes[b]}`;
    }
    const level = S.levels[a * S.m + b];
    return level === 0 ? "missing"
      : `${value(level).toFixed(3)} (±${(layer().step / 2).toFixed(3)}), ${layer().name}`;
  }

  function handle(name, obj) {
    if (!S.ready) return;
    if (name === "ordering") {
      if (data.ordering_names.indexOf(obj.value) < 0) return;  // options being replaced
      setOrdering(data.ordering_names.indexOf(obj.value));
      drawAll();
    } else if (name === "scale" || name === "cutoff") {
      drawMatrix();
    } else if (name === "layer") {
      S.layer = obj.active;
      S.levels = layer().inflated;
      const L = layer(), top = L.low + 254 * L.step;   // the cut-off spans this matrix
      models.cutoff.setv({ start: L.low, end: top, value: L.low, step: Math.max(L.step, 1e-3) });
      drawMatrix();
    } else if (name === "cut") {
      drawOutlines();
    } else if (name === "select") {
      if (obj.geometry && obj.geometry.type === "rect") select(obj.geometry);
    } else if (name === "search") {
      if (obj.value) find(obj.value);
    } else if (name === "detail") {
      useDataset(obj.value).catch((error) => { models.status.text = escapeHtml(error); });
    } else if (name === "view") {
      models.matrix_figure.visible = obj.active !== 1;
      models.confusion_figure.visible = obj.active !== 0;
    } else if (name === "copy") {
      models.names.value && navigator.clipboard && navigator.clipboard.writeText(models.names.value)
        .then(() => { models.status.text = "Copied the selected class names."; },
              () => { models.status.text = "The browser refused the clipboard: copy them from the box."; });
    }
  }

  // Screen coordinates of a data point of the matrix (for tests and for people scripting it).
  function screenPoint(x, y, figure) {
    const target = figure || "matrix";
    const walk = (view) => {
      if (!view) return null;
      if (view.model && view.model.name === target && view.frame) return view;
      for (const child of view.child_views || []) { const hit = walk(child); if (hit) return hit; }
      return null;
    };
    for (const root of Bokeh.index.values ? Bokeh.index.values() : Object.values(Bokeh.index)) {
      const view = walk(root);
      if (view) {
        const box = view.canvas_view.el.getBoundingClientRect();
        return [box.left + view.frame.x_scale.compute(x), box.top + view.frame.y_scale.compute(y)];
      }
    }
    return null;
  }

  // explorer.html#class=NAME (the report's links): find that class on arrival.
  function findFromAddress() {
    const match = /^#class=(.*)$/.exec(window.location.hash);
    if (!match) return;
    let name;
    try { name = decodeURIComponent(match[1]); } catch (error) { return; }
    find(name);
  }

  async function start() {
    for (const L of data.layers) L.inflated = await inflate(L.levels);
    S.levels = data.layers[0].inflated;
    if (data.confusion) S.confusion = new Uint32Array((await inflate(data.confusion)).buffer);
    for (const o of data.orderings) {
      o.order = asArray(o.order, Int32Array);
      o.cuts = asArray(o.cuts, Int16Array);
    }
    data.memberships = asArray(data.memberships, Float32Array);
    setOrdering(0);
    S.ready = true;
    drawAll();
    showSelection();
    const what = data.details.length ? "tiles (pooled overview)" : "classes";
    models.status.text = `${S.m.toLocaleString("en")} ${what}. Box select: drag on the matrix; wheel: zoom.`;
    findFromAddress();
    window.addEventListener("hashchange", findFromAddress);
    document.body.dataset.blocksRx = "ready";
  }

  window.blocksRx = { handle, hover, screenPoint, state: S, data, escapeHtml,
                      ready: start().catch((error) => {
                        models.status.text = `<b>The explorer could not start:</b> ${escapeHtml(error)}`;
                        console.error(error);
                        throw error;
                      }) };
})(models, data);
