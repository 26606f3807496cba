// The login dialog (a modal <dialog>). DOM only.
import { t } from "./strings.js";

/**
 * @param {Document} doc
 * @param {{onLogin: (email: string, password: string) => Promise<void>}} handlers
 *   onLogin rejects with an Error whose message is shown
 */
export function createLoginDialog(doc, { onLogin }) {
  const dialog = doc.getElementById("login-dialog");
  const form = doc.getElementById("login-form");
  const email = doc.getElementById("login-email");
  const password = doc.getElementById("login-password");
  const error = doc.getElementById("login-error");
  const submit = doc.getElementById("login-submit");

  doc.getElementById("login-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await onLogin(email.value.trim(), password.value);
      password.value = "";
      dialog.close();
    } catch (err) {
      error.textContent = err?.message || String(err);
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
    }
  });

  return {
    open() {
      error.hidden = true;
      dialog.showModal();
      email.focus();
    },
    message(status, body) {
      if (status === 401 || status === 403) return t("auth.wrong");
      if (status === 429) return t("auth.tooMany");
      return t("auth.failed", { message: body?.message || `HTTP ${status}` });
    },
  };
}
