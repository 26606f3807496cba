// Editing the catalogue: log in and out, the project form, placing a project by clicking
// the map or the model, saving with the version it started from (409: someone else saved
// first), inline validation errors (422).
import { demoLabel } from "./catalogue-style.js";
import { createLoginDialog } from "./login-dialog.js";
import { positionAt } from "./placement.js";
import {
  emptyForm,
  errorsFromResponse,
  formToProjectIn,
  projectToForm,
} from "./project-form-model.js";
import { createProjectForm } from "./project-form.js";
import { pointOf, withPoint } from "./project-geometry.js";
import { localName, t } from "./strings.js";
import { canCreate } from "./user.js";

/**
 * @param {{viewer, api, layer, notice, state, setUser: (user) => void,
 *          afterSave: (project) => Promise<void>, afterAuthChange: () => Promise<void>}} options
 *   afterAuthChange: the user logged in or out (what they may see has changed)
 */
export function createCatalogueEditor(options) {
  const { viewer, api, layer, notice, state, setUser, afterSave, afterAuthChange } = options;
  const doc = document;
  const banner = doc.getElementById("place-banner");
  let editing = null; // {id, version} of the project being edited; null for a new one
  let placing = false;

  const loginDialog = createLoginDialog(doc, {
    onLogin: async (email, password) => {
      try {
        setUser(await api.login(email, password));
      } catch (err) {
        throw new Error(loginDialog.message(err?.status, err?.body));
      }
      notice.announce(t("auth.loggedInAs", { name: state.user?.name ?? email }));
      await afterAuthChange();
    },
  });

  const form = createProjectForm(doc, {
    onSubmit: (values) => save(values),
    onClose: () => closeForm(),
    onPlace: () => startPlacing(),
    onReload: () => reload(),
    onLocationChange: (geometries) => layer.setMarker(pointOf(geometries)),
  });
  doc.getElementById("place-cancel").addEventListener("click", () => cancelPlacing());

    function choices(editingProject) {
    const own = state.user?.isAdmin ? null : new Set(state.user?.editorOf ?? []);
    const keep = new Set(editingProject?.municipalities ?? []);
    return {
      editing: Boolean(editingProject),
      municipalities: state.municipalities
        .filter((m) => own === null || own.has(m.code) || keep.has(m.code) || !m.is_demo)
        .map((m) => ({ value: m.code, text: demoLabel(m) })),
      categories: state.categories.map((c) => ({ value: c.key, text: localName(c) })),
    };
  }

  function create() {
    editing = null;
    const own = state.user?.editorOf?.length ? state.user.editorOf : [];
    form.open(emptyForm({ municipalities: own }), choices(null));
  }

  function edit(project) {
    editing = { id: project.id, version: project.version };
    form.open(projectToForm(project), choices(project));
  }

  async function reload() {
    if (!editing) return;
    try {
      edit(await api.getProject(editing.id));
      notice.announce(t("form.reload"));
    } catch (err) {
      form.showErrors({}, t("form.error", { message: err?.message || err }));
    }
  }

  function closeForm() {
    cancelPlacing();
    form.close();
    layer.setMarker(null);
    editing = null;
  }

  function startPlacing() {
    placing = true;
    form.setPlacing(true);
    banner.hidden = false;
    viewer.canvas.style.cursor = "crosshair";
    notice.announce(t("form.placing"));
  }

  function cancelPlacing() {
    if (!placing) return;
    placing = false;
    form.setPlacing(false);
    banner.hidden = true;
    viewer.canvas.style.cursor = "";
  }

  function placeAt(position, picked) {
    const where = positionAt(viewer, position, picked);
    if (!where) return; // the sky: keep waiting for a click on the ground
    form.setGeometries(withPoint(form.geometries, where));
    cancelPlacing();
    doc.getElementById("f-place").focus({ preventScroll: true });
  }

  async function save(values) {
    cancelPlacing();
    const body = formToProjectIn(values);
    form.busy(true);
    try {
      const saved = editing
        ? await api.updateProject(editing.id, editing.version, body)
        : await api.createProject(body);
      form.close();
      layer.setMarker(null);
      editing = null;
      notice.announce(t("form.saved"));
      await afterSave(saved);
    } catch (err) {
      failed(err);
    } finally {
      form.busy(false);
    }
  }

  function failed(err) {
    const status = err?.status;
    if (status === 422 || status === 400) {
      const { fields, message } = errorsFromResponse(err.body);
      form.showErrors(fields, message || t("form.invalid"));
    } else if (status === 409) {
      const version = err.body?.current_version ?? null;
      form.showErrors({}, t("form.conflict", { version }), { conflict: Boolean(editing) });
    } else if (status === 401) {
      setUser(null);
      form.showErrors({}, t("form.loggedOut"));
    } else if (status === 403) {
      form.showErrors({}, err.body?.code === "csrf_failed" ? t("form.loggedOut") : t("form.forbidden"));
    } else {
      form.showErrors({}, t("form.error", { message: err?.message || err }));
    }
  }

  return {
    get placing() {
      return placing;
    },
    get open() {
      return form.isOpen;
    },
    canCreate: () => canCreate(state.user),
    async whoAmI() {
      try {
        return await api.me();
      } catch (err) {
        console.warn(`twin: could not ask who is logged in: ${err?.message || err}`);
        return null;
      }
    },
    login: () => loginDialog.open(),
    async logout() {
      closeForm();
      try {
        await api.logout();
      } catch (err) {
        console.warn(`twin: logout: ${err?.message || err}`);
      }
      setUser(null);
      await afterAuthChange();
    },
    create,
    edit,
    placeAt,
    cancelPlacing,
  };
}
