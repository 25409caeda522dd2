// LRN's figures computed in the browser, from what lrn_app/compute/live.py packs.
//
//     y = x * (k + a·S) ** -β,   a = α · a_per_alpha(n)
//
// S sums the squares of x over a window: across channels, the channels c - before .. c + after
// at the same pixel (clipped at the ends, which gives the same sum as zero padding); within a
// channel the pack carries S itself, at its n. The sums are taken window by window in float64,
// never as differences of running sums, which would lose a small window next to a bright one.
// Where k = 0 and the whole window is zero, D = 0: the output, the gain and D ** β are 0
// there, as lrn_core has them.

/** The pack, prepared once: x as (C, H·W) float32 and its squares, and S where the pack has
 *  it. (``x`` and ``S`` arrive as float32 values, any array-like.) */
export function prepare(pack) {
  const x = Float32Array.from(pack.x);
  const squares = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) squares[i] = x[i] * x[i];
  return { ...pack, plane: pack.height * pack.width, xs: x, squares,
           S: pack.S === undefined || pack.S === null ? null : Float32Array.from(pack.S) };
}

/** The window of size n (its taps before and after the centre, a, and the k it uses). */
export function window(prepared, settings) {
  const n = prepared.n_live ? settings.n : prepared.n;
  const w = prepared.windows[String(n)];
  if (w === undefined) throw new Error(`no window of size ${n} in this pack`);
  return { before: w.before, after: w.after, a: settings.alpha * w.a_per_alpha,
           k: w.k === null ? settings.k : w.k, beta: settings.beta };
}

/** S of one channel at every pixel, as a Float64Array of H·W. */
export function windowSum(prepared, settings, channel) {
  const { plane, channels } = prepared;
  if (prepared.S !== null) {  // within a channel: computed at the pack's n
    return Float64Array.from(prepared.S.subarray(channel * plane, (channel + 1) * plane));
  }
  const w = window(prepared, settings);
  const first = Math.max(0, channel - w.before);
  const last = Math.min(channels - 1, channel + w.after);
  const S = new Float64Array(plane);
  for (let c = first; c <= last; c++) {
    const offset = c * plane;
    for (let i = 0; i < plane; i++) S[i] += prepared.squares[offset + i];
  }
  return S;
}

/** One channel's five figures: input x, window sum S, D ** β, output y and gain y / x. */
export function parts(prepared, settings, channel) {
  const { plane } = prepared;
  const w = window(prepared, settings);
  const S = windowSum(prepared, settings, channel);
  const out = { input: new Float64Array(plane), S, denominator: new Float64Array(plane),
                output: new Float64Array(plane), gain: new Float64Array(plane) };
  const offset = channel * plane;
  for (let i = 0; i < plane; i++) {
    const x = prepared.xs[offset + i];
    const D = w.k + w.a * S[i];
    out.input[i] = x;
    if (D === 0) continue;  // k = 0 and an all-zero window: 0, as lrn_core
    const gain = Math.pow(D, -w.beta);
    out.gain[i] = gain;
    out.denominator[i] = 1 / gain;
    out.output[i] = x * gain;
  }
  return out;
}

/** Every channel's ``name`` ("output", "gain", ...), as a Float64Array of C·H·W. */
export function allChannels(prepared, settings, name = "output") {
  const { plane, channels } = prepared;
  const out = new Float64Array(channels * plane);
  for (let c = 0; c < channels; c++) out.set(parts(prepared, settings, c)[name], c * plane);
  return out;
}

/** One output's row of LRN's Jacobian, d y[at] / d x, from a pack of the inputs around it
 *  (lrn_app.compute.live.jacobian_pack): across channels the pixel's channels, within a
 *  channel a patch of it. Over the window, ``margin`` positions more on each side (zeros:
 *  nothing outside the window moves y), clipped at the borders, as gradients.jacobian shows:
 *
 *      d y_c / d x_j = [j = c] · D ** -β  -  [j in c's window] · 2aβ · x_c · x_j · D ** (-β - 1)
 *
 *  Returns the values (row-major over the shown span), its first position (channel, or image
 *  row and column), its shape, the centre's value and index. */
export function jacobianRow(prepared, settings) {
  const w = window(prepared, settings);
  const across = prepared.mode === "across";
  const centre = across ? [prepared.at[0]] : prepared.at.slice(1);
  const sizes = across ? [prepared.channels] : [prepared.height, prepared.width];
  const span = (extra) => centre.map((p, axis) => [Math.max(0, p - w.before - extra),
                                                   Math.min(sizes[axis] - 1, p + w.after + extra)]);
  const inside = span(0), shown = span(prepared.margin);
  const at = (position) => (across ? position[0] * prepared.plane  // (C, 1, 1) or (1, H, W)
                                   : position[0] * prepared.width + position[1]);
  const positions = (spans) => spans.reduce((all, [first, last]) => all.flatMap((p) =>
    Array.from({ length: last - first + 1 }, (_, i) => [...p, first + i])), [[]]);
  let S = 0;
  for (const p of positions(inside)) S += prepared.squares[at(p)];
  const D = w.k + w.a * S;
  const shownPositions = positions(shown);
  const values = new Float64Array(shownPositions.length);
  const centreIndex = shownPositions.findIndex((p) => p.every((v, axis) => v === centre[axis]));
  if (D !== 0) {  // k = 0 and an all-zero window: 0, as lrn_core's closed form defines it
    const gain = Math.pow(D, -w.beta);
    const common = (2 * w.a * w.beta * prepared.xs[at(centre)] * gain) / D;
    shownPositions.forEach((p, i) => {
      const windowed = p.every((v, axis) => v >= inside[axis][0] && v <= inside[axis][1]);
      values[i] = (i === centreIndex ? gain : 0) - (windowed ? common * prepared.xs[at(p)] : 0);
    });
  }
  const origin = prepared.origin || [0, 0];
  return { values, centre: values[centreIndex], centreIndex,
           first: across ? [shown[0][0]] : [shown[0][0] + origin[0], shown[1][0] + origin[1]],
           shape: shown.map(([first, last]) => last - first + 1) };
}
