// A page's live view: LRN's sliders (n, k, α, β) and the figures they drive, redrawn in the
// browser on every `input` event, exact at the slider's value (lrn.js), built as the server
// builds them (figures.js) and drawn with Plotly.react into the server's own figure
// (lrn_app/ui/live.py sends it, with what lrn_app/compute/live.py packs).
//
// The views of one page share its settings (their `page` key): "sliders" (the sliders, which
// bring the page's pack) and its figures: "panels" (a row of maps), "grid" (every channel)
// and "jacobian" (one output's Jacobian row). A slider's release hands the settings to
// Streamlit once (setTriggerValue), which then updates everything else on the page.
// Each painted figure carries data-live-frame (a counter) and data-live-value (its settings).

import * as figures from "./figures.js";
import * as lrn from "./lrn.js";

const FIGURES = { panels: figures.panels, grid: figures.grid, jacobian: figures.jacobian };
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

async function draw(page, view, settings) {
  if (view.kind === "sliders") return;
  const drawing = JSON.stringify([page.packId, settings]) + view.look;
  if (drawing === view.drawn) return;
  view.drawn = drawing;
  const Plotly = await loadPlotly(view.data.plotly);
  const figure = FIGURES[view.kind](page.prepared, view.data, settings);
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
    shown.textContent = spec.format ? figures.g3(v) : spec.digits ? v.toFixed(spec.digits) : String(v);
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
    // its arrays come beside it as Arrow tables (binary), of one column "v"
    const arrays = Object.fromEntries(data.pack.arrays.map(
      (name) => [name, data[`pack_${name}`].getChild("v").toArray()]));
    page.prepared = lrn.prepare({ ...data.pack, ...arrays });
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
  // What the figure looks like besides the settings, written once per rerun, not per move.
  // The server's data for it does not change with the settings (it leaves out what they
  // change): a rerun after a release sends what the browser already drew.
  const { settings: _, ...look } = data;
  view.look = JSON.stringify(look);
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
