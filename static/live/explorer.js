// The Explorer's live view: LRN's sliders (n, k, α, β) and the figures they drive, redrawn in
// the browser on every `input` event, exact at the slider's value (lrn.js), painted as the
// server paints them (paint.js) and drawn with Plotly.react into the server's own figure
// (lrn_app/ui/live.py sends it, with what lrn_app/compute/live.py packs).
//
// Three kinds of view share one set of settings on a page (their `page` key): "sliders" (the
// sliders), "panels" (the one-channel panel row) and "grid" (every channel). A slider's
// release hands the settings to Streamlit once (setTriggerValue), which then updates
// everything else on the page.
// Each painted figure carries data-live-frame (a counter) and data-live-value (its settings).

import * as lrn from "./lrn.js";
import * as paint from "./paint.js";

const pages = new Map();  // a page's key -> { settings, prepared, views: Set }
let plotly = null;

function loadPlotly(src) {
  plotly = plotly || new Promise((resolve, reject) => {
    if (window.Plotly) return resolve(window.Plotly);
    const script = Object.assign(document.createElement("script"), { src });
    script.onload = () => resolve(window.Plotly);
    script.onerror = () => reject(new Error(`plotly.js did not load from ${src}`));
    document.head.append(script);
  });
  return plotly;
}

/** Python's f"{v:.3g}", for the colour bars' labels. */
export function g3(v) {
  if (v === 0 || !Number.isFinite(v)) return v === 0 ? "0" : String(v);
  const [mantissa, power] = v.toExponential(2).split("e");
  const exp = Number(power);
  if (exp < -4 || exp >= 3) {
    const digits = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
    return `${digits}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(Number(v.toPrecision(3)));
}

/** The panel row (figures.maps.panels_row) at ``settings``: its images and labels anew. */
function panelFigure(page, view, settings) {
  const { data } = view;
  const { prepared } = page;
  const h = prepared.height, w = prepared.width;
  const parts = lrn.parts(prepared, settings, data.channel);
  const figure = structuredClone(data.panels);
  const room = 0.34 * w, bar = 0.05 * w;
  const text = [], x = [], y = [], position = [], size = [];
  data.panel_names.forEach((name, i) => {
    const z = parts[name];
    const [low, high] = paint.range(z);
    const lut = data.luts[name === "gain" ? "Magma" : "Viridis"];
    figure.layout.images[2 * i].source = paint.png(paint.quantise(z, low, high, 256), h, w, lut);
    const x0 = i * (w + room), barX = x0 + w + 0.04 * w;
    const ticks = high > low ? [[0, low], [0.5, (low + high) / 2], [1, high]] : [[0.5, low]];
    for (const [frac, value] of ticks) {
      text.push(g3(value)); x.push(barX + bar); y.push(0.05 * h + (1 - frac) * 0.9 * h);
      position.push("middle right"); size.push(data.label_size);
    }
    text.push(data.titles[name]); x.push(x0 + w / 2); y.push(data.titles_at * h);
    position.push("top center"); size.push(data.title_size);
  });
  Object.assign(figure.data[0], { text, x, y, textposition: position });
  figure.data[0].textfont = { ...figure.data[0].textfont, size };
  return figure;
}

/** Every channel's map (figures.maps.channel_grid through mosaic) at ``settings``. */
function gridFigure(page, view, settings) {
  const { data } = view;
  const { prepared } = page;
  const stack = lrn.allChannels(prepared, settings, data.map);
  const tiles = paint.greyTiles(stack, prepared.channels, data.per_channel);
  const grid = paint.mosaic(tiles, prepared.channels, prepared.height, prepared.width, data.wrap);
  const figure = structuredClone(data.grid);
  figure.layout.images[0].source = paint.png(grid.canvas, grid.height, grid.width);
  return figure;
}

async function draw(page, view, settings) {
  if (view.kind === "sliders") return;
  // A rerun after a release sends the settings the browser already drew: nothing to draw.
  const { channel, map, per_channel, label_size, title_size } = view.data;
  // (its look: the layout without its pictures and its revision, which a move changes)
  const { images, datarevision, ...layout } = (view.data.panels || view.data.grid).layout;
  const drawing = JSON.stringify([page.packId, settings, channel, map, per_channel, label_size,
                                  title_size, layout]);
  if (drawing === view.drawn) return;
  view.drawn = drawing;
  const Plotly = await loadPlotly(view.data.plotly);
  const figure = view.kind === "grid" ? gridFigure(page, view, settings)
                                      : panelFigure(page, view, settings);
  figure.layout.datarevision = drawing;  // new data: plotly.react compares this, not the data
  await Plotly.react(view.plot, figure.data, figure.layout, view.data.config);
  view.frame += 1;
  view.plot.dataset.liveFrame = String(view.frame);
  view.plot.dataset.liveValue = JSON.stringify(settings);
}

function drawAll(page) {
  for (const view of page.views) {
    if (view.root.isConnected) draw(page, view, page.settings);
    else page.views.delete(view);  // its element left the page (another look, another page)
  }
}

function slider(root, spec, value, onInput, onChange) {
  const label = Object.assign(document.createElement("label"), { className: "live-slider" });
  const name = Object.assign(document.createElement("span"), { textContent: spec.label });
  const shown = Object.assign(document.createElement("span"), { className: "live-value" });
  const input = Object.assign(document.createElement("input"), { type: "range" });
  const values = spec.values;  // a list of stops (α), or a range with a step
  Object.assign(input, values ? { min: 0, max: values.length - 1, step: 1 }
                              : { min: spec.min, max: spec.max, step: spec.step });
  input.setAttribute("aria-label", spec.label);
  const read = () => (values ? values[Number(input.value)] : Number(input.value));
  const show = (v) => {  // the value above the slider, and the track filled up to it
    shown.textContent = spec.format ? g3(v) : spec.digits ? v.toFixed(spec.digits) : String(v);
    const fill = (Number(input.value) - Number(input.min)) / (Number(input.max) - Number(input.min));
    input.style.setProperty("--fill", `${100 * fill}%`);
  };
  const set = (v) => {
    input.value = values ? String(values.indexOf(v)) : String(v);
    show(v);
  };
  set(value);
  input.addEventListener("input", () => { show(read()); onInput(); });
  input.addEventListener("change", onChange);
  label.append(name, shown, input);
  root.append(label);
  return { read, set };
}

/** The component's entry (lrn_app/ui/live.py mounts it): called again on every rerun. */
export function render({ data, parentElement, setTriggerValue }) {
  const page = pages.get(data.page) || { settings: null, prepared: null, packId: null,
                                         views: new Set() };
  pages.set(data.page, page);
  const newPack = page.packId !== data.pack_id && data.pack;
  if (newPack) {  // sent once per image and mode; later reruns name it by its id
    page.prepared = lrn.prepare(data.pack);
    page.packId = data.pack_id;
  }
  const root = parentElement.querySelector(".live-view");
  let view = root.liveView;
  if (!view) {
    view = { kind: data.kind, frame: 0, root, sliders: null, specs: null };
    if (data.kind === "sliders") {
      view.row = Object.assign(document.createElement("div"), { className: "live-sliders" });
      root.append(view.row);
    } else {
      view.plot = Object.assign(document.createElement("div"), { className: "live-plot" });
      root.append(view.plot);
    }
    root.liveView = view;
  }
  page.views.add(view);
  view.data = data;
  const specs = JSON.stringify(data.sliders || null);
  if (data.kind === "sliders" && specs !== view.specs) {  // a convention's own ranges
    view.specs = specs;
    view.row.replaceChildren();
    const settings = () => Object.fromEntries(
      Object.entries(view.sliders).map(([name, s]) => [name, s.read()]));
    const onInput = () => { page.settings = settings(); drawAll(page); };
    const onChange = () => setTriggerValue("released", settings());
    view.sliders = {};
    for (const name of ["n", "k", "alpha", "beta"]) {
      view.sliders[name] = slider(view.row, data.sliders[name], data.settings[name], onInput,
                                  onChange);
    }
  }
  if (view.sliders) {  // the server's settings: the address, a preset, a lesson's step
    for (const [name, s] of Object.entries(view.sliders)) s.set(data.settings[name]);
  }
  page.settings = { ...data.settings };
  if (newPack) drawAll(page);
  else if (page.prepared && page.packId === data.pack_id) draw(page, view, page.settings);
}
