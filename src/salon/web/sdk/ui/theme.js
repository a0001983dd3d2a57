// The preset's `ui.design_tokens` (RealtimeKit's shape) as CSS variables on an element.

const RADIUS = {"sharp": "0px", "rounded": "8px", "extra-rounded": "16px", "circular": "24px"};
const BORDER = {"none": "0px", "thin": "1px", "fat": "2px"};
const LIGHT_BACKGROUND = {"600": "#dcdcdc", "700": "#e6e6e6", "800": "#eeeeee", "900": "#f6f6f6", "1000": "#ffffff"};

export function applyDesignTokens(tokens, root = document.documentElement) {
  if (!tokens) return;
  const set = (name, value) => { if (value !== undefined && value !== null) root.style.setProperty(name, String(value)); };
  const colors = tokens.colors || {};
  for (const [shade, value] of Object.entries(colors.brand || {})) set(`--brand-${shade}`, value);
  const light = tokens.theme === "light";
  const background = light ? LIGHT_BACKGROUND : (colors.background || {});
  for (const [shade, value] of Object.entries(background)) set(`--bg-${shade}`, value);
  set("--danger", colors.danger);
  set("--success", colors.success);
  set("--warning", colors.warning);
  set("--text", light ? "#1b1b1b" : colors.text);
  set("--text-on-brand", colors.text_on_brand);
  set("--video-bg", light ? "#2a2a2a" : colors.video_bg);
  set("--radius", RADIUS[tokens.border_radius] || "8px");
  set("--border-width", BORDER[tokens.border_width] || "1px");
  if (typeof tokens.spacing_base === "number") set("--space", `${tokens.spacing_base}px`);
  if (tokens.font_family) set("--font", `"${tokens.font_family.replace(/"/g, "")}", system-ui, sans-serif`);
  root.dataset.theme = tokens.theme || "dark";
}
