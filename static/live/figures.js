// The live views' figures at a setting, built as lrn_app/figures builds them, from the page's
// pack (lrn.js computes, paint.js paints). Each takes the prepared pack, the view's data (its
// figure as the server drew it, without what the settings change) and the settings, and
// returns the figure for Plotly.react.

import * as lrn from "./lrn.js";
import * as paint from "./paint.js";

/** Python's f"{v:.3g}", for labels and titles. */
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

/** A row of maps (figures.maps.panels_row). ``data.live`` names the panels computed here and
 *  the part of LRN each shows (the Explorer: all five; LRN vs BatchNorm: "after LRN" is the
 *  output); the others keep the server's picture, labelled with ``data.fixed`` (low, high). */
export function panels(prepared, data, settings) {
  const h = prepared.height, w = prepared.width;
  const parts = lrn.parts(prepared, settings, data.channel);
  const figure = structuredClone(data.figure);
  const room = 0.34 * w, bar = 0.05 * w;
  const text = [], x = [], y = [], position = [], size = [];
  data.panel_names.forEach((name, i) => {
    let low, high;
    if (name in data.live) {
      const z = parts[data.live[name]];
      [low, high] = paint.range(z);
      const lut = data.luts[name === "gain" ? "Magma" : "Viridis"];
      figure.layout.images[2 * i].source = paint.png(paint.quantise(z, low, high, 256), h, w, lut);
    } else {
      [low, high] = data.fixed[name];
    }
    const x0 = i * (w + room), barX = x0 + w + 0.04 * w;
    const ticks = high > low ? [[0, low], [0.5, (low + high) / 2], [1, high]] : [[0.5, low]];
    for (const [frac, value] of ticks) {
      text.push(g3(value)); x.push(barX + bar); y.push(0.05 * h + (1 - frac) * 0.9 * h);
      position.push("middle right"); size.push(data.label_size);
    }
    text.push(data.titles[name] ?? name); x.push(x0 + w / 2); y.push(data.titles_at * h);
    position.push("top center"); size.push(data.title_size);
  });
  Object.assign(figure.data[0], { text, x, y, textposition: position });
  figure.data[0].textfont = { ...figure.data[0].textfont, size };
  return figure;
}

/** Every channel's map (figures.maps.channel_grid through mosaic). */
export function grid(prepared, data, settings) {
  const stack = lrn.allChannels(prepared, settings, data.map);
  const tiles = paint.greyTiles(stack, prepared.channels, data.per_channel);
  const canvas = paint.mosaic(tiles, prepared.channels, prepared.height, prepared.width, data.wrap);
  const figure = structuredClone(data.figure);
  figure.layout.images[0].source = paint.png(canvas.canvas, canvas.height, canvas.width);
  return figure;
}

/** One output's Jacobian row: bars over the channels (figures.charts.jacobian_bars), or a
 *  heatmap over the pixels around it (figures.maps.jacobian_heatmap), its title giving the
 *  centre, which the colour scale leaves out. */
export function jacobian(prepared, data, settings) {
  const row = lrn.jacobianRow(prepared, settings);
  const figure = structuredClone(data.figure);
  const trace = figure.data[0];
  if (prepared.mode === "across") {
    trace.x = Array.from({ length: row.values.length }, (_, i) => `ch ${row.first[0] + i}`);
    trace.y = Array.from(row.values);
    trace.marker = { ...trace.marker, color: Array.from(row.values, (v) =>
      (v > 0 ? "#d62728" : v < 0 ? "#1f77b4" : "#7f7f7f")) };
    return figure;
  }
  const [rows, cols] = row.shape;
  trace.z = Array.from({ length: rows }, (_, r) => Array.from(row.values.subarray(r * cols, (r + 1) * cols)));
  trace.x = Array.from({ length: cols }, (_, i) => row.first[1] + i);
  trace.y = Array.from({ length: rows }, (_, i) => row.first[0] + i);
  let bound = 0, all = 0;
  row.values.forEach((v, i) => {
    all = Math.max(all, Math.abs(v));
    if (i !== row.centreIndex) bound = Math.max(bound, Math.abs(v));
  });
  bound = bound || all || 1;
  Object.assign(trace, { zmin: -bound, zmax: bound });
  const title = figure.layout.title;  // the server's, with "{centre}" where the value goes
  figure.layout.title = { ...title, text: title.text.replace("{centre}", g3(row.centre)) };
  return figure;
}
