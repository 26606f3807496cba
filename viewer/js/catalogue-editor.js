// Editing the catalogue: log in and out, the project form, placing a project by clicking
// the map or the model, saving with the version it started from (409: someone else saved
// first), inline validation errors (422). The login dialog and the form's code load on
// first use (most visitors never log in): login-dialog.js, project-form*.js.
import { demoLabel } from "./catalogue-style.js";
import { positionAt } from "./placement.js";
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

  let loginDialog = null; // the dialog, once loaded
  let loadingLogin = null;
  function login() {
    loadingLogin ??= import("./login-dialog.js").then(({ createLoginDialog }) => {
      loginDialog = createLoginDialog(doc, {
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
      return loginDialog;
    });
    return loadingLogin.then(
      (dialog) => dialog.open(),
      (err) => {
        loadingLogin = null; // try again next time
        console.error("twin: the login dialog did not load", err);
        notice.announce(t("auth.failed", { message: err?.message || err }));
      },
    );
  }

  let form = null; // the project form, once loaded
  let model = null; // project-form-model.js, once loaded
  let loadingForm = null;
  function loadForm() {
    loadingForm ??= Promise.all([import("./project-form.js"), import("./project-form-model.js")])
      .then(([view, m]) => {
        model = m;
        form = view.createProjectForm(doc, {
          onSubmit: (values) => save(values),
          onClose: () => closeForm(),
          onPlace: () => startPlacing(),
          onReload: () => reload(),
          onLocationChange: (geometries) => layer.setMarker(pointOf(geometries)),
        });
        return form;
      })
      .catch((err) => {
        loadingForm = null; // try again next time
        console.error("twin: the project form did not load", err);
        notice.announce(t("form.error", { message: err?.message || err }));
        return null;
      });
    return loadingForm;
  }
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

  async function create() {
    if (!(await loadForm())) return;
    editing = null;
    const own = state.user?.editorOf?.length ? state.user.editorOf : [];
    form.open(model.emptyForm({ municipalities: own }), choices(null));
  }

  async function edit(project) {
    if (!(await loadForm())) return;
    editing = { id: project.id, version: project.version };
    form.open(model.projectToForm(project), choices(project));
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
    if (!form) return;
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
    const body = model.formToProjectIn(values);
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
      const { fields, message } = model.errorsFromResponse(err.body);
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
      return Boolean(form?.isOpen);
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
    login,
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
