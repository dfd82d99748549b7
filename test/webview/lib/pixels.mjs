// Pixel statistics of a PNG screenshot, decoded by the browser itself (no image library needed).
export async function pixelStats(browser, png) {
  const page = await browser.newPage();
  try {
    return await page.evaluate(async (b64) => {
      const blob = await (await fetch(`data:image/png;base64,${b64}`)).blob();
      const bmp = await createImageBitmap(blob);
      const c = new OffscreenCanvas(bmp.width, bmp.height);
      const ctx = c.getContext('2d');
      ctx.drawImage(bmp, 0, 0);
      const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
      let red = 0, green = 0, yellow = 0, grey = 0, black = 0;
      for (let p = 0; p < d.length; p += 4) {
        const r = d[p], g = d[p + 1], b = d[p + 2];
        if (r < 12 && g < 12 && b < 12) black++;
        else if (Math.abs(r - g) < 12 && Math.abs(g - b) < 12) grey++;
        else if (r > 110 && r > g + 60 && r > b + 60) red++;
        else if (g > 110 && g > r + 60 && g > b + 60) green++;
        else if (r > 110 && g > 110 && b < Math.min(r, g) - 60) yellow++;
      }
      return { width: bmp.width, height: bmp.height, red, green, yellow, grey, black };
    }, png.toString('base64'));
  } finally {
    await page.close();
  }
}
