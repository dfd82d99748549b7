// Pixel statistics of a PNG screenshot, decoded by the browser itself (no image library needed).
// Classes: red (also the error map's orange FP), green, yellow (red and green blended), blue (the error map's FN),
// grey (the image), black; with `back` ([r, g, b], the theme background), pixels of that colour count as `back`.
// redX / blueX / greenX: mean x of the class's pixels (null when none), to check where an overlay is drawn.
export async function pixelStats(browser, png, { back } = {}) {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async ([b64, back]) => {
      const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
      const bmp = await createImageBitmap(blob);
      const c = new OffscreenCanvas(bmp.width, bmp.height);
      const ctx = c.getContext('2d');
      ctx.drawImage(bmp, 0, 0);
      const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
      const n = { red: 0, green: 0, yellow: 0, blue: 0, grey: 0, black: 0, back: 0 };
      const sx = { red: 0, green: 0, blue: 0 };
      for (let p = 0; p < d.length; p += 4) {
        const r = d[p], g = d[p + 1], b = d[p + 2];
        const x = (p / 4) % bmp.width;
        let cls;
        if (back && Math.abs(r - back[0]) < 4 && Math.abs(g - back[1]) < 4 && Math.abs(b - back[2]) < 4) cls = 'back';
        else if (r < 12 && g < 12 && b < 12) cls = 'black';
        else if (Math.abs(r - g) < 12 && Math.abs(g - b) < 12) cls = 'grey';
        else if (r > 110 && r > g + 60 && r > b + 60) cls = 'red';
        else if (g > 110 && g > r + 60 && g > b + 60) cls = 'green';
        else if (r > 110 && g > 110 && b < Math.min(r, g) - 60) cls = 'yellow';
        else if (b > 110 && b > r + 60 && b > g + 40) cls = 'blue';
        if (!cls) continue;
        n[cls]++;
        if (cls in sx) sx[cls] += x;
      }
      const mean = (k) => (n[k] ? sx[k] / n[k] : null);
      if (!back) delete n.back;
      return { width: bmp.width, height: bmp.height, ...n, redX: mean('red'), greenX: mean('green'), blueX: mean('blue') };
    }, [png.toString('base64'), back ?? null]);
  } finally {
    await page.close();
  }
}
