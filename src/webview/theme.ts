/**
 * NiiVue draws into WebGL, outside CSS: its background follows the VS Code theme (light, dark, high contrast) by
 * reading the editor background variable VS Code sets on the webview's <html>, again whenever the theme changes
 * (VS Code swaps the `vscode-light` / `vscode-dark` / `vscode-high-contrast` class of <body>).
 */
export type Rgba = [number, number, number, number];

const FALLBACK: Rgba = [0, 0, 0, 1];

export function themeBackColor(): Rgba {
  const value = getComputedStyle(document.documentElement).getPropertyValue('--vscode-editor-background').trim();
  if (!value) return FALLBACK;
  // the browser normalises any CSS colour to rgb()/rgba()
  const probe = document.createElement('span');
  probe.style.color = value;
  document.body.appendChild(probe);
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(getComputedStyle(probe).color);
  probe.remove();
  const rgba: Rgba = m ? [Number(m[1]) / 255, Number(m[2]) / 255, Number(m[3]) / 255, 1] : FALLBACK;
  // exposed for pixel checks: canvas pixels of this colour are background, not image
  document.body.dataset.backColor = rgba.slice(0, 3).map((c) => Math.round(c * 255)).join(',');
  return rgba;
}

export function watchTheme(onChange: (rgba: Rgba) => void): void {
  const obs = new MutationObserver(() => onChange(themeBackColor()));
  obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
}
