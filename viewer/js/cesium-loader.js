// Loads CesiumJS's ES module build from the URL the server gives in /api/config.
//
// The module build (Build/Cesium/index.js) starts its web workers from <base>/Workers/*.js.
// The classic Cesium.js build instead embeds them and starts them from blob: URLs, which a
// Content-Security-Policy without `blob:` in script-src (twin's) refuses.

/**
 * Import CesiumJS and expose it as globalThis.Cesium for the modules that draw the map.
 * @param {string} baseUrl where Build/Cesium is served, e.g. "/cesium/"
 * @param {number} timeoutMs
 */
export async function loadCesium(baseUrl, timeoutMs = 60000) {
  const base = new URL(baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`, document.baseURI);
  window.CESIUM_BASE_URL = base.href;
  const css = new URL("Widgets/widgets.css", base).href;
  if (![...document.styleSheets].some((s) => s.href === css)) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = css;
    document.head.prepend(link);
  }
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
  });
  try {
    const Cesium = await Promise.race([import(new URL("index.js", base).href), timeout]);
    globalThis.Cesium = Cesium;
    return Cesium;
  } finally {
    clearTimeout(timer);
  }
}
