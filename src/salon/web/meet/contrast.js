// Readable words on the brand colour, whatever the preset's design tokens say.
//
// A preset picks its brand colour and the text colour on it (`--brand-500`,
// `--text-on-brand`; sdk/ui/theme.js). Some pairs are too faint to read: RealtimeKit's
// default #eeeeee on #b56927 is 3.6:1, under the 4.5:1 WCAG AA asks of text (the
// accessibility scan, tests/e2e/test_accessibility.py, flags it). The brand colour stays
// the preset's; only when its text would be unreadable is the text made near-black or
// white (or black, when only black is readable enough).

function channels(color) {
  const probe = document.createElement("span");
  probe.style.color = color;
  document.body.append(probe);
  const rgb = getComputedStyle(probe).color.match(/[\d.]+/g) || ["0", "0", "0"];
  probe.remove();
  return rgb.slice(0, 3).map(Number);
}

function luminance([r, g, b]) {
  const lin = (c) => { const x = c / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** The contrast ratio of two CSS colours (1 to 21). */
export function contrast(a, b) {
  const [la, lb] = [luminance(channels(a)), luminance(channels(b))].sort((x, y) => y - x);
  return (la + 0.05) / (lb + 0.05);
}

/** After the design tokens are applied: make `--text-on-brand` readable on `--brand-500`. */
export function readableOnBrand(root = document.documentElement) {
  const css = getComputedStyle(root);
  const brand = css.getPropertyValue("--brand-500").trim();
  const text = css.getPropertyValue("--text-on-brand").trim();
  if (!brand || !text || contrast(text, brand) >= 4.5) return;
  const best = ["#141414", "#ffffff", "#000000"].map((c) => [contrast(c, brand), c]).sort((x, y) => y[0] - x[0]);
  const enough = ["#141414", "#ffffff"].find((c) => contrast(c, brand) >= 4.5);
  root.style.setProperty("--text-on-brand", enough || best[0][1]);
}
