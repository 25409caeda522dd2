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

/** Base64 of little-endian float32 values (lrn_app.compute.live.encode) to a Float32Array. */
export function decode(base64) {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** The packed arrays, decoded once per pack: x as (C, H·W), and S where the pack has it. */
export function prepare(pack) {
  const x = decode(pack.x);
  const squares = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) squares[i] = x[i] * x[i];
  return { ...pack, plane: pack.height * pack.width, xs: x, squares,
           S: pack.S === undefined ? null : decode(pack.S) };
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
