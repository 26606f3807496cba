// The import panel's code (imports*.js) loads only for GIS staff and administrators: for
// everyone else window.twin.imports stays {allowed: false} and nothing else is fetched.
import { canManageLayers } from "./user.js";

/**
 * @param {{viewer, config, notice, twin, refreshLayers}} options those of createImports
 * @returns {{setUser(user): Promise<void>}}
 */
export function lazyImports(options) {
  options.twin.imports = { allowed: false, open: false, job: null, preview: null, layers: [] };
  let loading = null;
  return {
    async setUser(user) {
      if (!loading && !canManageLayers(user)) return;
      loading ??= import("./imports.js").then(({ createImports }) => createImports(options));
      try {
        (await loading).setUser(user);
      } catch (err) {
        loading = null; // try again at the next login
        console.error("twin: the import panel did not load", err);
        options.notice.announce(String(err?.message || err));
      }
    },
  };
}
