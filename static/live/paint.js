// Maps to images, as lrn_app/figures draws them, so that a live frame is the server's picture.
//
// The panel row (figures/maps.py, panels_row): each map on its own range, min to max, in 256
// levels through a colour scale's lookup table. The channel grid (channel_grid, mosaic): grey
// levels 0..255, each channel on its own range or all on one (symmetric: 0 at mid-grey), the
// tiles side by side, ``wrap`` to a row, 4 px of white between them.

/** Values to 0..levels-1 on [low, high] (figures.encode.quantised). */
export function quantise(values, low, high, levels = 256) {
  const codes = new Uint8Array(values.length);
  if (!(high > low)) return codes;
  const scale = (levels - 1) / (high - low);
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(Math.max(values[i], low), high);
    codes[i] = Math.floor((v - low) * scale + 0.5);
  }
  return codes;
}

/** The smallest and the largest value. */
export function range(values) {
  let low = Infinity, high = -Infinity;
  for (const v of values) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return [low, high];
}

/** (C, H·W) values to grey tiles of 0..255 (figures.maps.channel_grid's scaling). */
export function greyTiles(stack, channels, perChannel, symmetric = false) {
  const plane = stack.length / channels;
  const tiles = new Uint8Array(stack.length);
  const bounds = (from, to) => {
    const [low, high] = range(stack.subarray(from, to));
    if (symmetric) {
      const reach = Math.max(Math.abs(low), Math.abs(high));
      return [-reach, 2 * reach];
    }
    return [low, high - low];
  };
  const shared = perChannel ? null : bounds(0, stack.length);
  for (let c = 0; c < channels; c++) {
    const [low, span] = shared || bounds(c * plane, (c + 1) * plane);
    for (let i = c * plane; i < (c + 1) * plane; i++) {
      tiles[i] = Math.floor(((stack[i] - low) / (span > 0 ? span : 1)) * 255 + 0.5);
    }
  }
  return tiles;
}

/** Tiles side by side, ``wrap`` to a row, ``gap`` white pixels between (figures.maps.mosaic).
 *  Returns the grey canvas and its size. */
export function mosaic(tiles, count, height, width, wrap, gap = 4) {
  wrap = Math.min(wrap, count);
  const rows = Math.ceil(count / wrap);
  const canvasHeight = rows * (height + gap) - gap, canvasWidth = wrap * (width + gap) - gap;
  const canvas = new Uint8Array(canvasHeight * canvasWidth).fill(255);
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / wrap) * (height + gap), left = (i % wrap) * (width + gap);
    for (let r = 0; r < height; r++) {
      const from = (i * height + r) * width;
      canvas.set(tiles.subarray(from, from + width), (top + r) * canvasWidth + left);
    }
  }
  return { canvas, height: canvasHeight, width: canvasWidth };
}

/** A PNG data URL of (H, W) codes: grey, or through a lookup table of 256 RGB triples. */
export function png(codes, height, width, lut = null) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    image.data[4 * i] = lut ? lut[3 * c] : c;
    image.data[4 * i + 1] = lut ? lut[3 * c + 1] : c;
    image.data[4 * i + 2] = lut ? lut[3 * c + 2] : c;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  return canvas.toDataURL("image/png");
}
